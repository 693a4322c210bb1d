"""``/``: the home page a new user lands on. Links the dashboard, the API reference and every mounted
front door (from the dialect registry, as the banner), with the sandbox merchant's credentials."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from kasse.edge.request import base_url, kasse_of
from kasse.engine.merchants import SANDBOX
from kasse.web.dashboard.render import page
from kasse.web.dashboard.session import current_session

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    with kasse_of(request).read() as store:
        sandbox = store.get_merchant(merchant_id=SANDBOX.id) is not None
    creds = SANDBOX.as_dict() if sandbox else {}
    base = base_url(request)
    doors = [
        (d.name, d.front_door, d.front_door.values(creds) if sandbox else [])
        for d in request.app.state.dialects.values() if d.front_door is not None
    ]  # fmt: skip
    return page(request, "home.html", session=current_session(request), doors=doors, base=base, sandbox=sandbox)
