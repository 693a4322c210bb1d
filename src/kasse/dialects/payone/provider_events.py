"""TxStatus notifications as derived events: each engine event of a PAYONE transaction that PAYONE
reports (translate.event_txaction) becomes one ``payone:order.<endpoint id>`` event carrying the form
fields, addressed to the endpoint behind the merchant's TransactionStatus URL (the one set when the
transaction was made). They leave through the outbox in order, one chain per transaction.

``price`` is the order amount, ``receivable`` what the merchant may claim (captured less given back),
``balance`` what is still to be paid of it (zero once the money arrived; negative while a debit is on its
way back to the customer). Amounts are decimals with a point, ``txtime`` a Unix time on the merchant's
clock.
"""

from __future__ import annotations

from kasse.dialects.payone.data import PayoneData
from kasse.dialects.payone.translate import event_txaction, major
from kasse.domain.events import EventType
from kasse.domain.models import Capture, Event, Payment, Refund
from kasse.domain.states import RefundState
from kasse.engine.unit import Tx

__all__ = ["derive"]

PREFIX = "payone:"


def _fields(tx: Tx, payment: Payment, data: PayoneData, txaction: str) -> dict[str, str]:
    given_back = sum(
        r.amount_minor for r in tx.store.refunds_of(merchant_id=tx.merchant_id, payment_id=payment.id)
        if r.status is RefundState.SUCCEEDED
    )  # fmt: skip
    receivable = payment.amount_captured_minor - payment.amount_refunded_minor
    balance = receivable - (payment.amount_settled_minor - given_back)
    fields = {
        "txaction": txaction, "transaction_status": "completed", "notify_version": "7.5", "mode": "test",
        "portalid": data.portalid or "", "aid": data.aid or "", "clearingtype": data.clearingtype,
        "txtime": str(int(tx.now.timestamp())), "currency": payment.currency, "userid": data.userid,
        "txid": data.txid, "sequencenumber": str(data.sequence),
        "price": major(data.amount_minor, payment.currency), "receivable": major(receivable, payment.currency),
        "balance": major(balance, payment.currency),
    }  # fmt: skip
    optional = {"reference": payment.reference, "param": data.param, "customerid": data.customerid,
                "financingtype": data.financingtype}  # fmt: skip
    fields.update({k: v for k, v in optional.items() if v})
    if txaction == "failed" and payment.failure_code:
        fields["failedcause"] = payment.failure_code
    return fields


def derive(tx: Tx, event: Event, obj: Payment | Capture | Refund) -> list[Event]:
    if event.payment_id is None:
        return []
    payment = obj if isinstance(obj, Payment) else tx.store.get_payment(
        merchant_id=tx.merchant_id, payment_id=event.payment_id
    )  # fmt: skip
    if payment is None:
        return []
    data = PayoneData.of(payment)
    txaction = event_txaction(EventType(event.type), preauthorized=data.request == "preauthorization")
    if txaction is None or data.notify_endpoint_id is None:
        return []
    notification = Event(
        id=tx.new_id("event"), merchant_id=tx.merchant_id, type=f"{PREFIX}order.{data.notify_endpoint_id}",
        object_type="payment", object_id=payment.id, payment_id=payment.id,
        data={"fields": _fields(tx, payment, data, txaction), "cause": event.type}, created_at=tx.now,
    )  # fmt: skip
    return [notification]
