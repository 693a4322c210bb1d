"""Domain errors: data with a stable code until a dialect turns them into HTTP.

Every code the engine raises is an ``ErrorCode``; each dialect maps every member to its own status and
words (``tests/test_dialect_maps.py`` fails on a gap). Codes a dialect answers with on its own (Stripe's
``invalid_source_usage``, MultiSafepay's numbers) stay in that dialect.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Conflict",
    "DomainError",
    "ErrorCode",
    "IdempotencyMismatch",
    "InvalidRequest",
    "InvalidTransition",
    "NotFound",
    "Unauthenticated",
]


class ErrorCode(StrEnum):
    """The engine's error codes; the value is what the native API answers with."""

    # The request: parameters, encodings, keys (InvalidRequest, Unauthenticated).
    PARAMETER_INVALID = "parameter_invalid"
    PARAMETER_MISSING = "parameter_missing"
    PARAMETER_UNKNOWN = "parameter_unknown"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    INVALID_API_KEY = "invalid_api_key"
    URL_INVALID = "url_invalid"
    URL_REFUSED = "url_refused"  # a webhook target the policy refuses (docs/security.md)
    # Money and the provider's rules (InvalidRequest).
    INVALID_AMOUNT = "invalid_amount"
    INVALID_CURRENCY = "invalid_currency"
    INVALID_EXPIRES_IN = "invalid_expires_in"
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
    AMOUNT_TOO_LARGE = "amount_too_large"
    CURRENCY_NOT_SUPPORTED = "currency_not_supported"
    COUNTRY_NOT_SUPPORTED = "country_not_supported"
    CURRENCY_COUNTRY_MISMATCH = "currency_country_mismatch"
    CAPTURE_METHOD_NOT_SUPPORTED = "capture_method_not_supported"
    # Objects and their state (NotFound, InvalidTransition, Conflict, IdempotencyMismatch).
    RESOURCE_MISSING = "resource_missing"
    INVALID_STATE = "invalid_state"
    PAYMENT_NOT_OPEN = "payment_not_open"
    PAYMENT_EXPIRED = "payment_expired"
    NOTHING_TO_CAPTURE = "nothing_to_capture"
    PAYMENT_NOT_REFUNDABLE = "payment_not_refundable"
    ALREADY_REFUNDED = "already_refunded"
    REFUND_WINDOW_EXPIRED = "refund_window_expired"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    # Concurrency (Conflict): the client may retry.
    CONCURRENT_UPDATE = "concurrent_update"
    DATABASE_CONFLICT = "database_conflict"
    CLOCK_ADVANCE_RUNNING = "clock_advance_running"
    EXTERNAL_ID_TAKEN = "external_id_taken"


class DomainError(Exception):
    """Base of every error the engine raises on purpose.

    ``code`` is stable and machine-readable; ``param`` names the offending field when there is one.
    """

    kind = "invalid_request_error"

    def __init__(self, code: ErrorCode, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param


class InvalidRequest(DomainError):
    """The request is malformed or violates a rule; nothing was changed."""


class NotFound(DomainError):
    """The object does not exist for this merchant (another merchant's object looks the same)."""

    def __init__(self, object_name: str, object_id: str, *, param: str | None = None) -> None:
        super().__init__(ErrorCode.RESOURCE_MISSING, f"No such {object_name}: '{object_id}'", param=param)


class InvalidTransition(DomainError):
    """A trigger that the state table does not allow in the current state."""

    kind = "invalid_state_error"

    def __init__(self, machine: str, state: str, trigger: str) -> None:
        super().__init__(
            ErrorCode.INVALID_STATE,
            f"Cannot {trigger} a {machine} in state '{state}'",
        )
        self.machine = machine
        self.state = state
        self.trigger = trigger


class Conflict(DomainError):
    """The request conflicts with the current state (e.g. amount exceeds what is left)."""

    kind = "invalid_state_error"


class IdempotencyMismatch(DomainError):
    """An idempotency key was reused with a different request."""

    kind = "idempotency_error"

    def __init__(self, key: str) -> None:
        super().__init__(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            f"Keys for idempotent requests can only be used with the same parameters they were first "
            f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
        )


class Unauthenticated(DomainError):
    kind = "authentication_error"

    def __init__(self, message: str = "Invalid API key provided") -> None:
        super().__init__(ErrorCode.INVALID_API_KEY, message)
