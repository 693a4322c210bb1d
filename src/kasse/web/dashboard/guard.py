"""What every dashboard route shares: who is signed in (else to the sign-in page), the CSRF check of
every POST, and running an action then going back with what happened."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from kasse.domain.errors import DomainError
from kasse.web.dashboard.session import Session, csrf_ok, current_session

__all__ = ["SignedIn", "checked", "done"]


def _signed_in(request: Request) -> Session | Response:
    session = current_session(request)
    if session is not None:
        return session
    target = (
        "/dashboard/login?" + urlencode({"next": request.url.path}) if request.method == "GET" else "/dashboard/login"
    )
    return RedirectResponse(target, status_code=303)


# A handler gets the session, or the redirect to sign in that it returns as is.
SignedIn = Annotated[Session | Response, Depends(_signed_in)]


def checked(request: Request, session: Session | Response, csrf: str) -> Response | None:
    """None when the POST may go ahead; else the answer: sign in first, or 403 for a missing or wrong
    CSRF token (a form posted from another site)."""
    if isinstance(session, Response):
        return session
    if not csrf_ok(session, csrf):
        return PlainTextResponse("Refused: the form's CSRF token is missing or wrong. Reload the page.", 403)
    return None


def done(back: str, action: str, run: Callable[[], object]) -> Response:
    """Run an action, then back to ``back`` with a notice, or the engine's refusal as the error."""
    try:
        run()
    except DomainError as exc:
        return RedirectResponse(f"{back}?" + urlencode({"error": exc.message}), status_code=303)
    return RedirectResponse(f"{back}?" + urlencode({"notice": f"{action}: done"}), status_code=303)
