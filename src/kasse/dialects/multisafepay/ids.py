"""MultiSafepay's ids of Kasse's objects, kept in ``external_ids``: an order's ``order_id`` (unique per
merchant: the database refuses a second order with it) and the transaction ids of its payment and refunds,
so that an object can be found by the id MultiSafepay shows for it. The ids on the wire stay derived from
Kasse's own (``translate.transaction_id``); the table only makes them findable."""

from __future__ import annotations

import logging

from kasse.dialects.multisafepay.translate import transaction_id
from kasse.domain.models import Payment, Refund
from kasse.engine.unit import Tx
from kasse.storage.store import Store

__all__ = ["DIALECT", "ORDER_ID", "TRANSACTION_ID", "find_transaction", "record_order", "record_refund"]

log = logging.getLogger(__name__)
DIALECT = "multisafepay"
ORDER_ID = "order_id"
TRANSACTION_ID = "transaction_id"


def record_order(tx: Tx, payment: Payment, order_id: str) -> None:
    """Raises ``ExternalIdTaken`` when this merchant already has an order with ``order_id``."""
    tx.link(dialect=DIALECT, kind=ORDER_ID, external_id=order_id, object_type="payment", object_id=payment.id)
    _record_transaction(tx, "payment", payment.id)


def record_refund(tx: Tx, refund: Refund) -> None:
    _record_transaction(tx, "refund", refund.id)


def _record_transaction(tx: Tx, object_type: str, object_id: str) -> None:
    tid = str(transaction_id(object_id))
    # A derived id may collide (1 in 9·10⁹ per pair): the first object keeps it, as findable as before.
    if not tx.link(dialect=DIALECT, kind=TRANSACTION_ID, external_id=tid, object_type=object_type,
                   object_id=object_id, keep_first=True):  # fmt: skip
        log.warning("MultiSafepay transaction id %s of %s is already taken; it finds the first object", tid, object_id)


def find_transaction(store: Store, *, merchant_id: str, transaction_id: int | str) -> Payment | Refund | None:
    """The payment or refund MultiSafepay knows as ``transaction_id``, of this merchant."""
    found = store.find_external_id(
        merchant_id=merchant_id, dialect=DIALECT, kind=TRANSACTION_ID, external_id=str(transaction_id)
    )
    if found is None:
        return None
    if found.object_type == "refund":
        return store.get_refund(merchant_id=merchant_id, refund_id=found.object_id)
    return store.get_payment(merchant_id=merchant_id, payment_id=found.object_id)
