"""Klarna's sample customers, as Klarna's test environment treats them — shared by the Klarna dialect's
approval page and PAYONE's Klarna widget, so one test person behaves the same behind both front doors.

Klarna's sample-data page: ``customer+<cc>@klarna.com`` is approved, ``customer+<cc>+denied@klarna.com``
is denied, and any six-digit one-time code but ``999999`` is accepted. Kasse extends the denial to any
e-mail address or last name containing ``denied`` (PAYONE's shop plugins pass the last name, not always
the address), case-insensitively. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["DENIED_OTP", "Verdict", "otp_accepted", "verdict_for"]

DENIED_OTP = "999999"
_OTP = re.compile(r"\d{6}")


class Verdict(StrEnum):
    APPROVED = "approved"
    DENIED = "denied"


def verdict_for(*, email: str | None = None, last_name: str | None = None) -> Verdict:
    """What Klarna decides for this customer when the customer approves: denied for Klarna's denied
    sample persons (``customer+de+denied@klarna.com``) and for any address or last name with ``denied``."""
    for value in (email, last_name):
        if value and "denied" in value.casefold():
            return Verdict.DENIED
    return Verdict.APPROVED


def otp_accepted(otp: str) -> bool:
    """Klarna's test one-time code: any six digits except ``999999``."""
    return bool(_OTP.fullmatch(otp)) and otp != DENIED_OTP
