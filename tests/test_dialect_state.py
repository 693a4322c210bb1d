"""Typed dialect state on both databases: external ids (unique per merchant, dialect and kind, written
through the unit of work), the dialects' typed provider data, and timer kinds a dialect registers."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta

import pytest

from kasse.dialects.multisafepay.data import MspOrderData
from kasse.dialects.registry import hooks
from kasse.dialects.stripe.data import StripeChargeData, StripeSourceData
from kasse.domain.models import Merchant, Method
from kasse.engine import payments, timers
from kasse.engine.merchants import SANDBOX, ensure_sandbox_merchant
from kasse.engine.unit import Kasse, Tx
from kasse.storage.db import Database
from kasse.storage.store import ExternalIdTaken
from tests.helpers import FakeWall, advance_clock, new_payment

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _link(tx: Tx, external_id: str, object_id: str, *, kind: str = "order_id") -> bool:
    return tx.link(dialect="multisafepay", kind=kind, external_id=external_id, object_type="payment",
                   object_id=object_id)  # fmt: skip


# --- external ids ----------------------------------------------------------------------------------


def test_an_external_id_is_unique_per_merchant_dialect_and_kind(kasse: Kasse, merchant_id: str) -> None:
    with kasse.unit(merchant_id=merchant_id) as tx:
        tx.store.insert_merchant(Merchant(id="mer_other", name="other", created_at=T0))
        assert _link(tx, "ord-1", "pay_1")
        assert _link(tx, "ord-1", "pay_2", kind="transaction_id")  # another kind
        assert tx.link(dialect="payone", kind="order_id", external_id="ord-1", object_type="payment",
                       object_id="pay_3")  # another dialect  # fmt: skip
    with kasse.unit(merchant_id="mer_other") as tx:
        assert _link(tx, "ord-1", "pay_4")  # another merchant
    with pytest.raises(ExternalIdTaken), kasse.unit(merchant_id=merchant_id) as tx:
        _link(tx, "ord-1", "pay_5")
    with kasse.read() as store:
        found = store.find_external_id(merchant_id=merchant_id, dialect="multisafepay", kind="order_id",
                                       external_id="ord-1")  # fmt: skip
        assert found is not None and (found.object_type, found.object_id) == ("payment", "pay_1")
        assert found.created_at.tzinfo is not None
        assert [x.kind for x in store.external_ids_of(merchant_id=merchant_id, object_id="pay_2")] == ["transaction_id"]
        assert store.external_ids_of(merchant_id=merchant_id, object_id="pay_5") == []


def test_a_taken_external_id_rolls_the_unit_back(kasse: Kasse, merchant_id: str) -> None:
    with kasse.unit(merchant_id=merchant_id) as tx:
        _link(tx, "ord-1", "pay_1")
    with pytest.raises(ExternalIdTaken), kasse.unit(merchant_id=merchant_id) as tx:
        made = payments.create_payment(
            tx, payments.CreatePayment(origin="native", amount_minor=1000, currency="EUR", method=Method.SOFORT)
        )
        _link(tx, "ord-1", made.id)
    with kasse.read() as store:
        assert store.get_payment(merchant_id=merchant_id, payment_id=made.id) is None
        assert store.external_ids_of(merchant_id=merchant_id, object_id=made.id) == []


def test_keep_first_leaves_a_taken_id_where_it_is(kasse: Kasse, merchant_id: str) -> None:
    with kasse.unit(merchant_id=merchant_id) as tx:
        assert tx.link(dialect="multisafepay", kind="transaction_id", external_id="1", object_type="payment",
                       object_id="pay_1", keep_first=True)  # fmt: skip
        assert not tx.link(dialect="multisafepay", kind="transaction_id", external_id="1", object_type="refund",
                           object_id="rfd_1", keep_first=True)  # fmt: skip
    with kasse.read() as store:
        found = store.find_external_id(merchant_id=merchant_id, dialect="multisafepay", kind="transaction_id",
                                       external_id="1")  # fmt: skip
        assert found is not None and found.object_id == "pay_1"


# --- typed provider data -----------------------------------------------------------------------------

# Rows as the dialects wrote them before the records existed.
OLD_STRIPE = {"client_secret": "src_client_secret_x", "preferred_language": None, "statement_descriptor": "SHOP",
              "charge": {"description": "Order 7", "metadata": {"order": "7"}}}  # fmt: skip
OLD_MSP = {"type": "direct", "gateway": "DIRECTBANK", "notification_method": "GET", "var1": "a",
           "gateway_info": {"account_holder_name": "K"}, "custom_info": {"custom_1": "x"},
           "notify_endpoint_id": "we_1"}  # fmt: skip


@pytest.mark.parametrize("old", [OLD_STRIPE, {"client_secret": "s", "preferred_language": "de",
                                              "statement_descriptor": None}])  # fmt: skip
def test_stripe_source_data_reads_old_rows_and_writes_them_back_unchanged(old: dict[str, object]) -> None:
    data = StripeSourceData.from_dict(old)
    assert data.as_dict() == old
    assert StripeSourceData.from_dict(data.as_dict()) == data


def test_stripe_source_data_fields_and_an_empty_row() -> None:
    data = StripeSourceData.from_dict(OLD_STRIPE)
    assert (data.client_secret, data.statement_descriptor) == ("src_client_secret_x", "SHOP")
    assert data.charge == StripeChargeData("Order 7", {"order": "7"})
    assert StripeSourceData.from_dict({}) == StripeSourceData()
    charged = StripeSourceData.from_dict({}).with_charge(StripeChargeData(None, {}))
    assert charged.as_dict()["charge"] == {"description": None, "metadata": {}}


@pytest.mark.parametrize("old", [OLD_MSP, {"type": "redirect", "gateway": "DIRECTBANK", "notification_method": "POST"}])
def test_msp_order_data_reads_old_rows_and_writes_them_back_unchanged(old: dict[str, object]) -> None:
    data = MspOrderData.from_dict(old)
    assert data.as_dict() == old
    assert MspOrderData.from_dict(data.as_dict()) == data


def test_msp_order_data_fields_and_an_empty_row() -> None:
    data = MspOrderData.from_dict(OLD_MSP)
    assert (data.type, data.notification_method, data.var1, data.var2) == ("direct", "GET", "a", None)
    assert data.notify_endpoint_id == "we_1" and data.gateway_info == {"account_holder_name": "K"}
    assert MspOrderData.from_dict({}) == MspOrderData()
    assert MspOrderData().with_endpoint("we_2").as_dict()["notify_endpoint_id"] == "we_2"


def test_typed_data_round_trips_through_the_database(kasse: Kasse, merchant_id: str) -> None:
    payment = new_payment(kasse, merchant_id, provider_data=OLD_MSP)
    with kasse.read() as store:
        loaded = store.get_payment(merchant_id=merchant_id, payment_id=payment.id)
    assert loaded is not None and MspOrderData.of(loaded) == MspOrderData.from_dict(OLD_MSP)


# --- timer kinds a dialect registers -------------------------------------------------------------------


def test_a_registered_timer_kind_fires_on_the_merchants_clock(database: Database, wall: FakeWall) -> None:
    seen: list[tuple[str, datetime]] = []

    def expire_token(tx: Tx, subject_id: str) -> None:
        seen.append((subject_id, tx.now))

    kasse = Kasse(
        database, hooks=dataclasses.replace(hooks(), timer_handlers={"test_token_expiry": expire_token}), wall=wall
    )
    ensure_sandbox_merchant(kasse)
    merchant_id = SANDBOX.id
    start = kasse.merchant_now(merchant_id=merchant_id)
    with kasse.unit(merchant_id=merchant_id) as tx:
        tx.schedule("test_token_expiry", "tok_1", after_s=600)
    assert advance_clock(kasse, merchant_id=merchant_id, seconds=599).fired == []
    reading = advance_clock(kasse, merchant_id=merchant_id, seconds=60)
    assert [(f.kind, f.subject_id) for f in reading.fired] == [("test_token_expiry", "tok_1")]
    assert seen == [("tok_1", start + timedelta(seconds=600))]
    with kasse.read() as store:
        assert store.pending_timers(merchant_id=merchant_id) == []


def test_an_unknown_timer_kind_is_logged_and_left_unfired(
    database: Database, wall: FakeWall, caplog: pytest.LogCaptureFixture
) -> None:
    kasse = Kasse(database, hooks=hooks(), wall=wall)  # served without the dialect that brought the kind
    ensure_sandbox_merchant(kasse)
    merchant_id = SANDBOX.id
    with kasse.unit(merchant_id=merchant_id) as tx:
        tx.schedule("gone_dialect_expiry", "tok_1", after_s=60)
    payment = new_payment(kasse, merchant_id, expires_in_s=120)
    with caplog.at_level(logging.WARNING, logger="kasse.engine.timers"):
        reading = advance_clock(kasse, merchant_id=merchant_id, seconds=3600)
    assert [f.subject_id for f in reading.fired] == [payment.id]  # the known kind behind it still fires
    assert "gone_dialect_expiry" in caplog.text
    with kasse.read() as store:
        (left,) = store.pending_timers(merchant_id=merchant_id)
    assert (left.kind, left.subject_id, left.fired_at) == ("gone_dialect_expiry", "tok_1", None)
    assert timers.next_timer_due(kasse, merchant_id=merchant_id) is None


def test_a_dialect_cannot_take_an_engine_timer_kind(database: Database) -> None:
    with pytest.raises(ValueError, match="payment_expiry"):
        Kasse(
            database, hooks=dataclasses.replace(hooks(), timer_handlers={"payment_expiry": lambda tx, subject_id: None})
        )


def test_an_engine_without_a_dialect_has_no_rules_for_its_payments(database: Database, wall: FakeWall) -> None:
    served = hooks()
    kasse = Kasse(database, hooks=dataclasses.replace(served, rules={"native": served.rules["native"]}), wall=wall)
    ensure_sandbox_merchant(kasse)
    with kasse.unit(merchant_id=SANDBOX.id) as tx:
        assert tx.rules_of("native") is served.rules["native"]
        with pytest.raises(LookupError, match="stripe"):
            tx.rules_of("stripe")
