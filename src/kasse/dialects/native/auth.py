"""The merchant's secret key on the native API and ``/_sandbox``: ``Authorization: Bearer sk_test_…``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection, Request

from kasse.domain.errors import Unauthenticated
from kasse.edge.auth import Authenticator, Presented, bearer, merchant_of_secret_key

__all__ = ["SECRET_KEY", "merchant_from_bearer"]


def _missing() -> Exception:
    return Unauthenticated("You did not provide an API key. Send your secret key as 'Authorization: Bearer sk_test_…'")


def _invalid(presented: Presented) -> Exception:
    token = presented.secret
    return Unauthenticated(f"Invalid API key provided: {token[:12]}{'…' if len(token) > 12 else ''}")


SECRET_KEY = Authenticator[str]("secret_key", (bearer,), merchant_of_secret_key, _missing, _invalid)


class _Declared(HTTPBearer):
    """Declared for the OpenAPI document only: the authenticator reads the header itself (for exact
    errors), so this one does not parse it a second time on every request."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        return None


_DECLARED = _Declared(auto_error=False, scheme_name="secret_key", description="The merchant's secret key")


async def merchant_from_bearer(
    request: Request, _declared: Annotated[HTTPAuthorizationCredentials | None, Security(_DECLARED)] = None
) -> str:
    """The merchant whose secret key is presented as ``Authorization: Bearer sk_test_…``."""
    return await SECRET_KEY(request)
