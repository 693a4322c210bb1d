"""The dashboard's payments: the list (filters, search by any id or reference, pages, charts) and one
payment's page (its history and the actions its state allows). Every action calls the engine service
the API's route calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kasse.domain.errors import DomainError
from kasse.domain.models import Method
from kasse.domain.money import major_to_minor
from kasse.domain.states import PaymentState
from kasse.edge.request import deliverer_of, kasse_of
from kasse.engine import captures, payments, refunds, timers, webhooks
from kasse.storage.store import PaymentFilter
from kasse.web.dashboard import charts
from kasse.web.dashboard.guard import SignedIn, checked, done
from kasse.web.dashboard.render import page
from kasse.web.dashboard.timeline import history_of, legal_actions

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)
PAGE_SIZE = 25
Text = Annotated[str | None, Query(max_length=200)]


def _minor(value: str | None, param: str) -> int | None:
    if not value:
        return None
    try:
        return major_to_minor(value.strip(), "EUR", param=param)
    except DomainError:
        return None


def _day(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


def _charts(request: Request, merchant_id: str) -> dict[str, Any]:
    kasse = kasse_of(request)
    now = timers.read_clock(kasse, merchant_id=merchant_id).now
    days = [(now - timedelta(days=13 - i)).date().isoformat() for i in range(14)]
    with kasse.read() as store:
        volume = store.daily_volume(merchant_id=merchant_id, since=datetime.fromisoformat(days[0]).replace(tzinfo=UTC))
        states = store.payment_status_counts(merchant_id=merchant_id)
        deliveries = store.delivery_status_counts(merchant_id=merchant_id)
    currencies = sorted({c for _, c in volume}) or ["EUR"]
    main = max(currencies, key=lambda c: sum(v for (_, cur), v in volume.items() if cur == c))
    points = [(d, volume.get((d, main), 0), f"{volume.get((d, main), 0) / 100:.2f} {main}") for d in days]
    return {
        "volume_chart": charts.columns(points, title=f"Volume per day ({main}), last 14 days"),
        "states_chart": charts.bars(
            [(s.value, states.get(s.value, 0)) for s in PaymentState if states.get(s.value)], title="Payments per state"
        ),
        "deliveries_chart": charts.bars(sorted(deliveries.items()), title="Webhook deliveries per outcome"),
    }


@router.get("")
@router.get("/payments")
# Size rule exception: one parameter per filter of the form.
def payments_list(  # noqa: PLR0913
    request: Request, session: SignedIn, provider: Text = None, status: Text = None, method: Text = None,
    amount_min: Text = None, amount_max: Text = None, created_from: Text = None, created_to: Text = None,
    q: Text = None, page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:  # fmt: skip
    if isinstance(session, Response):
        return session
    merchant_id = session.merchant_id
    to_day = _day(created_to)
    where = PaymentFilter(
        origin=provider or None, status=status or None, method=method or None,
        amount_gte=_minor(amount_min, "amount_min"), amount_lte=_minor(amount_max, "amount_max"),
        created_gte=_day(created_from), created_lt=to_day + timedelta(days=1) if to_day else None,
        search=(q or "").strip() or None,
    )  # fmt: skip
    with kasse_of(request).read() as store:
        items, total = store.search_payments(
            merchant_id=merchant_id, where=where, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        origins = store.payment_origins(merchant_id=merchant_id)
    form = {k: v for k, v in request.query_params.items() if k != "page" and v}
    link = {n: "?" + urlencode({**form, "page": n}) for n in (page_no - 1, page_no + 1)}
    return page(
        request, "payments.html", session=session, items=items, total=total, page_no=page_no,
        pages=max(1, -(-total // PAGE_SIZE)), link=link, form=form,
        providers=sorted(set(origins) | set(request.app.state.dialects)), states=[s.value for s in PaymentState],
        methods=[m.value for m in Method], **_charts(request, merchant_id),
    )  # fmt: skip


@router.get("/payments/{payment_id}")
def payment_page(request: Request, payment_id: str, session: SignedIn) -> Response:
    if isinstance(session, Response):
        return session
    with kasse_of(request).read() as store:
        payment = store.get_payment(merchant_id=session.merchant_id, payment_id=payment_id)
        if payment is None:
            return page(request, "message.html", 404, session=session, title="No such payment",
                        message=f"There is no payment {payment_id} for this merchant.")  # fmt: skip
        history = history_of(store, merchant_id=session.merchant_id, payment=payment)
    return page(
        request, "payment.html", session=session, p=payment, history=history, actions=legal_actions(payment),
        notice=request.query_params.get("notice"), error=request.query_params.get("error"),
    )  # fmt: skip


Csrf = Annotated[str, Form(max_length=200)]
Amount = Annotated[str, Form(max_length=30)]


@router.post("/payments/{payment_id}/{action}")
def payment_action(
    request: Request, payment_id: str, action: str, session: SignedIn, csrf: Csrf = "", amount: Amount = ""
) -> Response:
    refused = checked(request, session, csrf)
    if refused is not None:
        return refused
    assert not isinstance(session, Response)
    kasse, back = kasse_of(request), f"/dashboard/payments/{payment_id}"
    with kasse.read() as store:
        found = store.get_payment(merchant_id=session.merchant_id, payment_id=payment_id)
    try:  # an amount that is given must be one: a typo must not become "all of it"
        minor = major_to_minor(amount.strip(), found.currency) if amount.strip() and found else None
    except DomainError as exc:
        return RedirectResponse(f"{back}?" + urlencode({"error": f"{exc.message} (e.g. 5.00)"}), status_code=303)
    services = {
        "approve": lambda: kasse.run(session.merchant_id, payments.authorize, payment_id),
        "decline": lambda: kasse.run(session.merchant_id, payments.decline, payment_id),
        "cancel": lambda: kasse.run(session.merchant_id, payments.cancel, payment_id, reason="requested_by_merchant"),
        "capture": lambda: kasse.run(session.merchant_id, captures.capture, payment_id, amount_minor=minor),
        "refund": lambda: kasse.run(session.merchant_id, refunds.create_refund, payment_id, amount_minor=minor),
    }
    if action not in services:
        return RedirectResponse(f"{back}?" + urlencode({"error": f"Unknown action {action}"}), status_code=303)
    return done(back, action, services[action])


@router.post("/deliveries/{delivery_id}/resend")
def resend_delivery(
    request: Request, delivery_id: str, session: SignedIn, csrf: Csrf = "",
    back: Annotated[str, Form(max_length=300, pattern=r"^/dashboard(/[A-Za-z0-9_/-]*)?$")] = "/dashboard/webhooks",
) -> Response:  # fmt: skip
    refused = checked(request, session, csrf)
    if refused is not None:
        return refused
    assert not isinstance(session, Response)
    kasse = kasse_of(request)

    def resend() -> object:
        delivery = kasse.run(session.merchant_id, webhooks.get_delivery, delivery_id)
        return deliverer_of(request).attempt(delivery, trigger="manual")

    return done(back, "resend", resend)
