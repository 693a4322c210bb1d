"""The dashboard's other pages: signing in and out, the merchant's test clock, webhooks with their
delivery logs, the credentials of every mounted dialect, and the balance with its ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kasse.domain.errors import DomainError
from kasse.edge.request import base_url, kasse_of
from kasse.engine import balances, merchants, timers
from kasse.engine.idempotency import fingerprint
from kasse.engine.merchants import SANDBOX
from kasse.web.advances import AdvanceRequest
from kasse.web.dashboard.guard import SignedIn, checked
from kasse.web.dashboard.render import page
from kasse.web.dashboard.session import sign_in, sign_out

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)
Csrf = Annotated[str, Form(max_length=200)]
NEXT = r"^/dashboard(/[A-Za-z0-9_/-]*)?$"


@router.get("/login")
def login_form(request: Request, next: Annotated[str, Query(max_length=300, pattern=NEXT)] = "/dashboard") -> Response:
    return page(request, "login.html", session=None, next=next, error=None)


@router.post("/login")
def login(
    request: Request, secret_key: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=300, pattern=NEXT)] = "/dashboard",
) -> Response:  # fmt: skip
    # SameSite=Lax plus the key itself: a cross-site form cannot sign a browser in without the key.
    with kasse_of(request).read() as store:
        merchant_id = merchants.merchant_for_secret_key(store, secret_key.strip())
    if merchant_id is None:
        return page(request, "login.html", 401, session=None, next=next, error="No merchant has this secret key.")
    response = RedirectResponse(next, status_code=303)
    sign_in(request, response, merchant_id)
    return response


@router.post("/logout")
def logout(request: Request, session: SignedIn, csrf: Csrf = "") -> Response:
    refused = checked(request, session, csrf)
    if refused is not None:
        return refused
    response = RedirectResponse("/dashboard/login", status_code=303)
    sign_out(response)
    return response


# --- the clock -----------------------------------------------------------------------------------------

STEPS = {"1h": 3600, "1d": 86_400, "14d": 14 * 86_400}


def _clock_page(request: Request, merchant_id: str, session: Any, status: int = 200, **more: Any) -> Response:
    kasse = kasse_of(request)
    reading = timers.read_clock(kasse, merchant_id=merchant_id)
    with kasse.read() as store:
        pending = store.pending_timers(merchant_id=merchant_id)[:20]
    return page(request, "clock.html", status, session=session, clock=reading, pending=pending, steps=STEPS, **more)


@router.get("/clock")
def clock(request: Request, session: SignedIn) -> Response:
    if isinstance(session, Response):
        return session
    return _clock_page(request, session.merchant_id, session)


def _seconds_to(request: Request, merchant_id: str, step: str, until: str) -> float:
    if step in STEPS:
        return STEPS[step]
    try:
        target = datetime.fromisoformat(until).replace(tzinfo=UTC)
    except ValueError:
        return 0
    return (target - timers.read_clock(kasse_of(request), merchant_id=merchant_id).now).total_seconds()


@router.post("/clock/advance")
def advance(
    request: Request, session: SignedIn, csrf: Csrf = "", step: Annotated[str, Form(max_length=10)] = "",
    until: Annotated[str, Form(max_length=40)] = "",
) -> Response:  # fmt: skip
    refused = checked(request, session, csrf)
    if refused is not None:
        return refused
    assert not isinstance(session, Response)
    seconds = _seconds_to(request, session.merchant_id, step, until)
    if not 0 < seconds <= 10 * 365 * 86_400:
        return _clock_page(request, session.merchant_id, session, 400, error="Choose a step, or a date after now.")
    run = AdvanceRequest(session.merchant_id, seconds, None, fingerprint("POST", "/dashboard/clock/advance", {}))
    try:
        outcome = request.app.state.advances.start(run)
    except DomainError as exc:
        return _clock_page(request, session.merchant_id, session, 409, error=exc.message)
    result = outcome.body if outcome.status == 200 else None
    return _clock_page(request, session.merchant_id, session, result=result, moved_s=seconds)


@router.post("/clock/{mode}")
def freeze_or_resume(request: Request, mode: str, session: SignedIn, csrf: Csrf = "") -> Response:
    refused = checked(request, session, csrf)
    if refused is not None:
        return refused
    assert not isinstance(session, Response)
    change = {"freeze": timers.freeze_clock, "resume": timers.resume_clock}.get(mode)
    if change is not None:
        change(kasse_of(request), merchant_id=session.merchant_id)
    return RedirectResponse("/dashboard/clock", status_code=303)


# --- webhooks, credentials, balance ----------------------------------------------------------------------


@router.get("/webhooks")
def webhooks_page(request: Request, session: SignedIn) -> Response:
    if isinstance(session, Response):
        return session
    merchant_id = session.merchant_id
    with kasse_of(request).read() as store:
        endpoints = store.list_endpoints(merchant_id=merchant_id, limit=100).items
        logs = {e.id: store.deliveries_of_endpoint(merchant_id=merchant_id, endpoint_id=e.id) for e in endpoints}
        ids = [d.id for found in logs.values() for d in found]
        attempts = store.attempts_of_deliveries(merchant_id=merchant_id, delivery_ids=ids)
        events = store.get_events(merchant_id=merchant_id, event_ids=[d.event_id for f in logs.values() for d in f])
    return page(
        request, "webhooks.html", session=session, endpoints=endpoints, logs=logs, attempts=attempts, events=events,
        notice=request.query_params.get("notice"), error=request.query_params.get("error"),
    )  # fmt: skip


def known_credentials(store: Any, merchant_id: str) -> dict[str, Any]:
    """The merchant's credentials in ``Credentials.as_dict()``'s shape. Hashed secrets cannot be shown
    again (they were shown once, at creation); the sandbox merchant's are well known."""
    if merchant_id == SANDBOX.id:
        return SANDBOX.as_dict()
    hidden = "(shown once, at creation)"
    rows = {row["kind"]: row for row in store.credentials_of(merchant_id=merchant_id)}

    def row(kind: str) -> dict[str, Any]:
        return dict(rows.get(kind) or {"lookup": "", "secret": None, "data": {}})

    payone = row("payone")
    return {
        "id": merchant_id, "secret_key": "sk_test_… " + hidden, "publishable_key": row("publishable_key")["lookup"],
        "multisafepay": {"api_key": row("multisafepay")["secret"] or hidden},
        "secuconnect": {"client_id": row("secuconnect")["lookup"], "client_secret": hidden},
        "payone": {"mid": payone["data"].get("mid", ""), "aid": payone["data"].get("aid", ""),
                   "portalid": payone["lookup"], "key": payone["secret"] or hidden},
        "klarna": {"partner_account_id": row("klarna")["lookup"], "api_key": hidden},
    }  # fmt: skip


@router.get("/credentials")
def credentials(request: Request, session: SignedIn) -> Response:
    if isinstance(session, Response):
        return session
    with kasse_of(request).read() as store:
        creds = known_credentials(store, session.merchant_id)
    base = base_url(request)
    doors = [
        (d.name, d.front_door, d.front_door.values(creds), d.front_door.render_snippet(base, creds))
        for d in request.app.state.dialects.values() if d.front_door is not None
    ]  # fmt: skip
    return page(request, "credentials.html", session=session, doors=doors, base=base)


@router.get("/balance")
def balance(request: Request, session: SignedIn, page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> Response:
    if isinstance(session, Response):
        return session
    found = balances.balances(kasse_of(request), merchant_id=session.merchant_id)
    with kasse_of(request).read() as store:
        transfers = store.list_transfers(merchant_id=session.merchant_id, limit=50).items
    return page(request, "balance.html", session=session, balances=found, transfers=transfers)
