"""The hot path's shape (issue 17): a unit's writes leave together through the driver, stored exactly as
SQLAlchemy would store them; reads answered with the merchant; deliveries set-based."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event, insert, text
from sqlalchemy.exc import IntegrityError

from kasse.config import Settings
from kasse.delivery.batch import Job, Renderings, send_all
from kasse.delivery.outcome import Outcome
from kasse.delivery.render import DeliveryPolicy, Outbound, Rendered
from kasse.delivery.worker import Deliverer
from kasse.dialects.native import notifications
from kasse.dialects.registry import outbound
from kasse.domain.errors import Conflict
from kasse.domain.ids import new_id
from kasse.domain.models import CaptureMethod, Event, Merchant, Method, Payment, Scenario, snapshot
from kasse.domain.states import PaymentState
from kasse.domain.webhooks import Delivery, DeliverySettings, DeliveryStatus, EndpointStatus, WebhookEndpoint
from kasse.engine import payments, webhooks
from kasse.engine.idempotency import fingerprint, run_idempotent
from kasse.engine.targets import CheckedUrl
from kasse.engine.unit import Kasse
from kasse.storage import _direct, schema
from kasse.storage._direct import Batch, joinable
from kasse.storage.db import Database
from kasse.storage.rows import to_row
from kasse.storage.store import Store
from tests.helpers import new_payment

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(database: Database) -> Iterator[Store]:
    conn = database.engine.connect()
    trans = conn.begin()
    s = Store(conn)
    s.insert_merchant(Merchant(id="mer_a", name="a", created_at=T0))
    yield s
    trans.rollback()
    conn.close()


def _payment(at: datetime = T0) -> Payment:
    return Payment(
        id=new_id("pay", at), merchant_id="mer_a", origin="native", amount_minor=1000, currency="EUR",
        method=Method.SOFORT, country="DE", status=PaymentState.REQUIRES_ACTION,
        capture_method=CaptureMethod.AUTOMATIC, redirect_token=new_id("tok", at), created_at=at, updated_at=at,
        expires_at=at + timedelta(days=1), customer={"email": "a@example.com"}, metadata={"order": "7"},
        scenario=Scenario(),
    )  # fmt: skip


def _raw(conn: Connection, table: str, row_id: str) -> tuple[Any, ...]:
    """A row as the database driver returns it: what was stored, not what SQLAlchemy makes of it."""
    return tuple(conn.exec_driver_sql(f"SELECT * FROM {table} WHERE id = '{row_id}'").one())


def test_driver_writes_store_exactly_what_sqlalchemy_would(store: Store) -> None:
    """The same payment and event written through SQLAlchemy and through the driver (``_direct``) are
    stored alike, byte for byte: datetimes, JSON, enums, NULLs."""
    by_sqlalchemy, by_driver = _payment(), _payment(T0 + timedelta(seconds=1))
    by_driver.id, by_driver.redirect_token = by_sqlalchemy.id + "x", by_sqlalchemy.redirect_token + "x"
    by_driver.created_at = by_driver.updated_at = by_sqlalchemy.created_at
    by_driver.expires_at = by_sqlalchemy.expires_at
    conn = store.conn
    conn.execute(insert(schema.payments), [to_row(by_sqlalchemy)])
    _direct.send(conn, [Batch(insert(schema.payments), [to_row(by_driver)])])
    a, b = _raw(conn, "payments", by_sqlalchemy.id), _raw(conn, "payments", by_driver.id)
    assert [x for x in a if x not in (by_sqlalchemy.id, by_sqlalchemy.redirect_token)] == [
        x for x in b if x not in (by_driver.id, by_driver.redirect_token)
    ]
    events = [
        Event(id=new_id("evt", T0) + n, merchant_id="mer_a", type="payment.created", object_type="payment",
              object_id=by_sqlalchemy.id, payment_id=None, data={"object": {"n": [1, "ü", None]}}, created_at=T0)
        for n in "ab"
    ]  # fmt: skip
    conn.execute(insert(schema.events), [to_row(events[0])])
    _direct.send(conn, [Batch(insert(schema.events), [to_row(events[1])])])
    assert _raw(conn, "events", events[0].id)[1:] == _raw(conn, "events", events[1].id)[1:]


def test_a_create_reads_twice_and_sends_its_writes_in_one_round_trip(kasse: Kasse, merchant_id: str) -> None:
    """Merchant with its endpoints, idempotency lookup; then the payment, its event, its timer, its
    delivery and the idempotency record together (PostgreSQL: one pipeline), and the commit."""
    with kasse.unit(merchant_id=merchant_id) as tx:
        webhooks.create_endpoint(
            tx, url=CheckedUrl("http://127.0.0.1:9/h"), enabled_events=["*"], description=None, dialect="native"
        )
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    cmd = payments.CreatePayment(amount_minor=1000, currency="EUR", method=Method.SOFORT, origin="native", country="DE")
    event.listen(kasse.db.engine, "before_cursor_execute", count)
    pipelines, fetches = _direct.PIPELINES[0], _direct.FETCHES[0]
    try:
        outcome = run_idempotent(
            kasse, merchant_id=merchant_id, scope="native", key="k1", fingerprint=fingerprint("POST", "/p", {}),
            operation=lambda tx: (201, {"id": payments.create_payment(tx, cmd).id}),
        )  # fmt: skip
    finally:
        event.remove(kasse.db.engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1  # the idempotency key
    assert _direct.FETCHES[0] - fetches == 1  # the merchant with its endpoints, through the driver
    assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert _direct.PIPELINES[0] - pipelines == (0 if kasse.db.is_sqlite else 1)
    with kasse.read() as store:
        payment = store.get_payment(merchant_id=merchant_id, payment_id=outcome.body["id"])
        assert payment is not None and payment.status is PaymentState.REQUIRES_ACTION
        (created,) = store.list_events(merchant_id=merchant_id, limit=10, payment_id=payment.id).items
        assert [d.status for d in store.deliveries_of_event(merchant_id=merchant_id, event_id=created.id)] == [
            DeliveryStatus.PENDING
        ]
        assert [t.subject_id for t in store.pending_timers(merchant_id=merchant_id)] == [payment.id]
        assert store.get_idempotency(merchant_id=merchant_id, scope="native", key="k1") is not None


def test_a_taken_key_at_the_flush_is_still_sqlalchemys_integrity_error(kasse: Kasse, merchant_id: str) -> None:
    record = {"scope": "native", "key": "k", "fingerprint": "f", "response_status": 200, "response_body": "{}",
              "response_headers": {}, "created_at": T0}  # fmt: skip
    with kasse.unit(merchant_id=merchant_id) as tx:
        tx.store.insert_idempotency(merchant_id=merchant_id, **record)
    with pytest.raises(IntegrityError), kasse.unit(merchant_id=merchant_id) as tx:
        new_payment_id = payments.create_payment(
            tx, payments.CreatePayment(amount_minor=100, currency="EUR", method=Method.SOFORT, origin="native")
        ).id
        tx.store.insert_idempotency(merchant_id=merchant_id, **record)
    with kasse.read() as store:  # the unit rolled back whole
        assert store.get_payment(merchant_id=merchant_id, payment_id=new_payment_id) is None


def test_a_deferred_update_whose_version_moved_is_a_conflict_at_the_flush(store: Store) -> None:
    payment = _payment()
    store.insert_payment(payment)
    store.write_behind = store.defer_writes = True
    store.conn.execute(schema.payments.update().values(version=7))  # another writer got there first
    payment.status = PaymentState.CANCELED
    store.update_payment(payment)
    store.insert_events([])
    with pytest.raises(Conflict):
        store.send_writes()


def test_the_endpoints_read_with_the_merchant_follow_a_change_in_the_same_unit(kasse: Kasse, merchant_id: str) -> None:
    with kasse.unit(merchant_id=merchant_id) as tx:
        first = webhooks.create_endpoint(
            tx, url=CheckedUrl("http://127.0.0.1:9/a"), enabled_events=["*"], description=None, dialect="native"
        )
    with kasse.unit(merchant_id=merchant_id) as tx:
        second = webhooks.create_endpoint(
            tx, url=CheckedUrl("http://127.0.0.1:9/b"), enabled_events=["*"], description=None, dialect="native"
        )
        webhooks.update_endpoint(tx, first.id, webhooks.EndpointChange(disabled=True))
        made = payments.create_payment(
            tx, payments.CreatePayment(amount_minor=100, currency="EUR", method=Method.SOFORT, origin="native")
        )
    with kasse.read() as store:
        (created,) = store.list_events(merchant_id=merchant_id, limit=10, payment_id=made.id).items
        deliveries = store.deliveries_of_event(merchant_id=merchant_id, event_id=created.id)
        assert [d.endpoint_id for d in deliveries] == [second.id]


def test_a_waiting_row_joins_its_statements_batch_only_past_writes_it_cannot_depend_on() -> None:
    events, deliveries, payments_ = insert(schema.events), insert(schema.deliveries), insert(schema.payments)
    pending = [Batch(events, [{"id": "e1"}]), Batch(deliveries, [{"id": "d1"}])]
    assert joinable(pending, events, {"id": 0}.keys()) is pending[0]  # an event may move before a delivery
    assert joinable(pending, deliveries, {"id": 0}.keys()) is pending[1]
    pending = [Batch(deliveries, [{"id": "d1"}]), Batch(events, [{"id": "e2"}])]
    assert joinable(pending, deliveries, {"id": 0}.keys()) is None  # never before the event it refers to
    pending = [Batch(payments_, [{"id": "p1"}]), Batch(schema.payments.update(), [{"id": "p1"}])]
    assert joinable(pending, payments_, {"id": 0}.keys()) is None  # same table: order kept
    assert joinable([Batch(events, [{"id": "e1", "x": 1}])], events, {"id": 0}.keys()) is None  # other columns


def _endpoint(n: int) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=f"we_{n}", merchant_id="mer_a", dialect="native", url=f"http://127.0.0.1:9/{n}", secret="whsec_" + "A" * 32,
        status=EndpointStatus.ENABLED, created_at=T0, updated_at=T0,
    )  # fmt: skip


def _job(endpoint: WebhookEndpoint, n: int) -> Job:
    delivery = Delivery(
        id=f"dlv_{endpoint.id}_{n}", merchant_id="mer_a", event_id=f"evt_{n}", endpoint_id=endpoint.id,
        status=DeliveryStatus.PENDING, attempts=0, created_at=T0, updated_at=T0, next_attempt_at=T0,
    )  # fmt: skip
    return Job(delivery, endpoint, Rendered(endpoint.url, {}, b""), DeliveryPolicy(), DeliverySettings())


def test_requests_in_flight_are_bounded_per_endpoint_and_in_all() -> None:
    from concurrent.futures import ThreadPoolExecutor

    endpoints = [_endpoint(n) for n in range(3)]
    chains = [[_job(e, n), _job(e, n + 100)] for e in endpoints for n in range(6)]
    lock = threading.Lock()
    busy: dict[str, int] = dict.fromkeys((e.id for e in endpoints), 0)
    peaks = {"total": 0, **busy}
    order: list[str] = []

    def send_chain(chain: list[Job]) -> list[tuple[Job, Outcome]]:
        endpoint_id = chain[0].endpoint.id
        with lock:
            busy[endpoint_id] += 1
            peaks[endpoint_id] = max(peaks[endpoint_id], busy[endpoint_id])
            peaks["total"] = max(peaks["total"], sum(busy.values()))
        time.sleep(0.01)
        with lock:
            busy[endpoint_id] -= 1
            order.extend(job.delivery.id for job in chain)
        return [(job, Outcome(job.delivery.id, 200, None, 1)) for job in chain]

    recorded: list[str] = []
    with ThreadPoolExecutor(8) as pool:
        sent = send_all(pool, 2, chains, send_chain, lambda done: recorded.extend(j.delivery.id for j, _ in done),
                        total=5)  # fmt: skip
    assert sent == len(recorded) == 36
    assert all(peaks[e.id] <= 2 for e in endpoints) and peaks["total"] <= 5
    assert max(peaks[e.id] for e in endpoints) == 2  # the bound is reached, not only kept
    for e in endpoints:  # a chain's deliveries in order
        for n in range(6):
            assert order.index(f"dlv_{e.id}_{n}") < order.index(f"dlv_{e.id}_{n + 100}")


def test_an_event_for_several_endpoints_is_rendered_once_and_signed_for_each() -> None:
    calls: list[str] = []

    def body(event: Event, *, base_url: str) -> bytes:
        calls.append(event.id)
        return notifications.body(event, base_url=base_url)

    native = outbound()["native"]
    counting = Outbound(native.renderer, native.policy, body=body, signer=native.signer)
    payment = _payment()
    evt = Event(id="evt_1", merchant_id="mer_a", type="payment.created", object_type="payment", object_id=payment.id,
                payment_id=payment.id, data={"object": snapshot(payment)}, created_at=T0)  # fmt: skip
    render = Renderings("http://kasse.test", 1_700_000_000)
    a, b = render(counting, evt, _endpoint(1)), render(counting, evt, _endpoint(2))
    assert calls == ["evt_1"]
    assert a.body == b.body and a.url != b.url
    for endpoint, rendered in ((_endpoint(1), a), (_endpoint(2), b)):  # what the one-piece renderer makes
        assert rendered == native.renderer(evt, endpoint, base_url="http://kasse.test", wall_s=1_700_000_000)


def test_delivery_concurrency_is_a_setting(monkeypatch: pytest.MonkeyPatch, sqlite_database: Database) -> None:
    monkeypatch.setenv("KASSE_DELIVERY_CONCURRENCY", "3")
    assert Settings.from_env().delivery_concurrency == 3
    from kasse.dialects.registry import hooks

    kasse = Kasse(sqlite_database, hooks=hooks())
    with pytest.raises(ValueError, match="at least 1"):
        Deliverer(kasse, outbound=outbound(), base_url="http://kasse.test", concurrency=0)


def test_units_keep_reading_their_own_waiting_writes(kasse: Kasse, merchant_id: str) -> None:
    """A read of a table with writes waiting sends them first (a list of payments sees the new one)."""
    with kasse.unit(merchant_id=merchant_id) as tx:
        made = payments.create_payment(
            tx, payments.CreatePayment(amount_minor=100, currency="EUR", method=Method.SOFORT, origin="native")
        )
        assert tx.store.pending  # waiting
        tx.store.merchant_settings(merchant_id=merchant_id)
        assert tx.store.pending  # a read of another table leaves them waiting
        listed = tx.store.list_payments(merchant_id=merchant_id, limit=10).items
        assert [p.id for p in listed] == [made.id]
    payment = new_payment(kasse, merchant_id)
    with kasse.read() as store:
        assert store.get_payment(merchant_id=merchant_id, payment_id=payment.id) is not None
    with kasse.db.transaction() as conn:
        assert conn.execute(text("SELECT count(*) FROM payments")).scalar_one() == 2


def test_a_query_through_the_driver_reads_what_sqlalchemy_reads(kasse: Kasse, merchant_id: str) -> None:
    """The merchant with its endpoints (every unit's first query) read through the driver and through
    SQLAlchemy: the same values, aware UTC datetimes and parsed JSON included."""
    from kasse.storage._payments import _MERCHANT_AND_ENDPOINTS

    with kasse.unit(merchant_id=merchant_id) as tx:
        webhooks.create_endpoint(
            tx, url=CheckedUrl("http://127.0.0.1:9/a"), enabled_events=["payment.*"], description="d", dialect="native"
        )
        tx.store.set_clock(merchant_id=merchant_id, offset_us=5, frozen_at=T0 + timedelta(hours=2))
    with kasse.db.transaction() as conn:
        direct = _direct.fetch(conn, _MERCHANT_AND_ENDPOINTS, {"merchant_id": merchant_id})
        through = [dict(r) for r in conn.execute(_MERCHANT_AND_ENDPOINTS, {"merchant_id": merchant_id}).mappings()]
    assert direct == through
    assert direct[0]["clock_frozen_at"] == T0 + timedelta(hours=2) and direct[0]["ep_enabled_events"] == ["payment.*"]
    assert direct[0]["clock_frozen_at"].tzinfo is not None
