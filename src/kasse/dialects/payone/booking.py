"""``request=capture``, ``debit`` and ``refund`` on a transaction (``txid``), each answered
``status=APPROVED``, ``txid``, ``settleaccount`` (seed 003).

Sequence numbers (seed 003: "PreAuthorization: 0, 1. Capture: 1, 2. Capture: 2"): every capture, debit
and refund of a transaction takes the next number; the first capture may leave it out, every later
request must send it, and any other number is refused. A capture's total stays within the order amount
(plus 10% when the preauthorization asked for ``add_paydata[over_capture]=yes``); ``capturemode=completed``
releases the rest of the reservation, ``notcompleted`` keeps it for more captures (without
``capturemode`` — the seed's example sends none — a capture of everything left completes, any less keeps
the rest). A debit gives money back: its ``amount`` is negative, and never more than was captured.
"""

from __future__ import annotations

from kasse.dialects.payone import errors as e
from kasse.dialects.payone import ids, schemas
from kasse.dialects.payone.auth import Account
from kasse.dialects.payone.data import PayoneData
from kasse.dialects.payone.schemas import Form, optional, required
from kasse.domain.models import Payment
from kasse.engine import captures, payments, refunds
from kasse.engine.unit import Kasse, Tx

__all__ = ["capture", "debit"]


def _transaction(tx: Tx, form: Form) -> tuple[Payment, PayoneData]:
    txid = required(form, "txid")
    payment = ids.find_payment(tx.store, merchant_id=tx.merchant_id, txid=txid)
    if payment is None:
        raise e.parameter("txid", "no such transaction")
    currency = required(form, "currency")
    if currency != payment.currency:
        raise e.parameter("currency", f"the transaction is in {payment.currency}")
    return payment, PayoneData.of(payment)


def _sequence(form: Form, data: PayoneData, *, optional_first: bool) -> PayoneData:
    expected = data.sequence + 1
    given = optional(form, "sequencenumber")
    if given is None and not (optional_first and data.sequence == 0):
        raise e.parameter("sequencenumber", f"required; the next one is {expected}")
    if given is not None and int(given) != expected:
        raise e.parameter("sequencenumber", f"expected {expected}")
    return data.next_sequence()


def _answer(data: PayoneData, form: Form) -> dict[str, str]:
    return {"status": "APPROVED", "txid": data.txid, "settleaccount": optional(form, "settleaccount") or "no"}


def _capture(tx: Tx, form: Form) -> PayoneData:
    payment, data = _transaction(tx, form)
    if data.request != "preauthorization":
        raise e.PayoneError(e.TRANSACTION_STATE, "This transaction was captured with its authorization", "failed")
    amount = schemas.integer(form, "amount")
    if amount <= 0:
        raise e.parameter("amount", "a capture amount is positive")
    limit = data.amount_minor + (data.amount_minor // 10 if data.over_capture else 0)
    left = min(limit - payment.amount_captured_minor, payment.amount_capturable_minor)
    if amount > left:
        raise e.PayoneError(e.AMOUNT_TOO_HIGH, f"Amount too high: at most {max(left, 0)} can be captured", "failed")
    new = _sequence(form, data, optional_first=True)
    mode = optional(form, "capturemode")
    final = mode == "completed" if mode is not None else amount >= data.amount_minor - payment.amount_captured_minor
    captures.capture(tx, payment.id, amount_minor=amount, final=final)
    payments.update_details(tx, payment.id, provider_data=new.as_dict())
    return new


def capture(kasse: Kasse, who: Account, form: Form) -> dict[str, str]:
    return _answer(kasse.run(who.merchant_id, _capture, form), form)


def _debit(tx: Tx, form: Form) -> PayoneData:
    payment, data = _transaction(tx, form)
    amount = schemas.integer(form, "amount")
    if amount >= 0:
        raise e.parameter("amount", "Kasse books debits that give money back: the amount is negative")
    new = _sequence(form, data, optional_first=False)
    refunds.create_refund(tx, payment.id, amount_minor=-amount, reason=optional(form, "narrative_text"),
                          metadata={"sequencenumber": str(new.sequence)})  # fmt: skip
    payments.update_details(tx, payment.id, provider_data=new.as_dict())
    return new


def debit(kasse: Kasse, who: Account, form: Form) -> dict[str, str]:
    """``debit`` (shopware-6) and ``refund`` (pretix-payone) alike."""
    return _answer(kasse.run(who.merchant_id, _debit, form), form)
