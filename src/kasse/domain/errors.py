"""Domain errors: data with a stable code until a dialect turns them into HTTP."""

from __future__ import annotations

__all__ = [
    "Conflict",
    "DomainError",
    "IdempotencyMismatch",
    "InvalidRequest",
    "InvalidTransition",
    "NotFound",
    "Unauthenticated",
]


class DomainError(Exception):
    """Base of every error the engine raises on purpose.

    ``code`` is stable and machine-readable; ``param`` names the offending field when there is one.
    """

    kind = "invalid_request_error"

    def __init__(self, code: str, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param


class InvalidRequest(DomainError):
    """The request is malformed or violates a rule; nothing was changed."""


class NotFound(DomainError):
    """The object does not exist for this merchant (another merchant's object looks the same)."""

    def __init__(self, object_name: str, object_id: str, *, param: str | None = None) -> None:
        super().__init__("resource_missing", f"No such {object_name}: '{object_id}'", param=param)


class InvalidTransition(DomainError):
    """A trigger that the state table does not allow in the current state."""

    kind = "invalid_state_error"

    def __init__(self, machine: str, state: str, trigger: str) -> None:
        super().__init__(
            "invalid_state",
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
            "idempotency_key_reused",
            f"Keys for idempotent requests can only be used with the same parameters they were first "
            f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
        )


class Unauthenticated(DomainError):
    kind = "authentication_error"

    def __init__(self, message: str = "Invalid API key provided") -> None:
        super().__init__("invalid_api_key", message)
