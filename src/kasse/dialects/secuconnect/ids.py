"""secuconnect's ids of Kasse's objects, derived losslessly from the engine's: a Smart Transaction
``STX_`` and a payment transaction ``PCI_`` are 30 upper-case characters after the prefix, as
secuconnect's are: the 26 characters of the engine id (``pay_…``, ``rfd_…``) and a four-character tag
that says which engine object it is. So no lookup table is needed (``external_ids`` stays unused): an id
is turned back into the engine id and looked up within the merchant, and anything malformed is simply
not found."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["Parsed", "customer_id", "parse", "pci_of_payment", "pci_of_refund", "stx_of", "trans_id"]

_STX_TAG = "0SMT"
_PAY_TAG = "0PAY"
_RFD_TAG = "0RFD"
_SHAPE = re.compile(r"(STX|PCI)_([0-9A-HJKMNP-TV-Z]{26})(0SMT|0PAY|0RFD)")


def _body(engine_id: str) -> str:
    return engine_id.partition("_")[2]


def stx_of(payment_id: str) -> str:
    return f"STX_{_body(payment_id)}{_STX_TAG}"


def pci_of_payment(payment_id: str) -> str:
    return f"PCI_{_body(payment_id)}{_PAY_TAG}"


def pci_of_refund(refund_id: str) -> str:
    return f"PCI_{_body(refund_id)}{_RFD_TAG}"


def customer_id(payment_id: str) -> str:
    return f"PCU_{_body(payment_id)}0CUS"


@dataclass(frozen=True, slots=True)
class Parsed:
    kind: str  # "smart" (a Smart Transaction), "payment" or "refund" (a payment transaction)
    engine_id: str


def parse(secuconnect_id: str, *, prefix: str) -> Parsed | None:
    """The engine object behind ``STX_…`` (prefix ``STX``) or ``PCI_…`` (prefix ``PCI``); None if the id
    is not one Kasse gives out."""
    match = _SHAPE.fullmatch(secuconnect_id)
    if match is None or match.group(1) != prefix:
        return None
    tag = match.group(3)
    if prefix == "STX" and tag == _STX_TAG:
        return Parsed("smart", f"pay_{match.group(2)}")
    if prefix == "PCI" and tag == _PAY_TAG:
        return Parsed("payment", f"pay_{match.group(2)}")
    if prefix == "PCI" and tag == _RFD_TAG:
        return Parsed("refund", f"rfd_{match.group(2)}")
    return None


def trans_id(engine_id: str) -> int:
    """secuconnect's ``trans_id`` (the "TA-Code") is an eight-digit integer; Kasse derives one from its id.
    Shown only, never looked up, so a collision would be harmless."""
    return int(hashlib.sha256(engine_id.encode()).hexdigest()[:12], 16) % 90_000_000 + 10_000_000
