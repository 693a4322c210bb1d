"""Authentication by credential kind, for every dialect.

A credential is found where the protocol carries it (a *source*): the bearer token of the
``Authorization`` header (a secret key, or an OAuth access token), the user of HTTP Basic (Stripe),
a custom header or query parameter (MultiSafepay's ``api_key``), or fields of a form body (PAYONE's
``mid``/``portalid``/``key``). An ``Authenticator`` tries its sources in order, looks the credential up
in the database on a miss, and raises the dialect's own errors for a missing or unknown credential.

One ``KeyCache`` per app (``app.state.key_cache``) holds positive answers of every authenticator, keyed
by the credential's kind and a hash of its parts: issued keys never change their merchant, so a hit
stays true, and a miss always asks the database (a key created a moment ago works at once). Answers
that can lapse (OAuth tokens expire on the merchant's clock) are not cached (``cache=False``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from kasse.edge.request import kasse_of, key_cache_of
from kasse.engine.merchants import merchant_for_secret_key
from kasse.engine.unit import Kasse

__all__ = [
    "Authenticator",
    "KeyCache",
    "Presented",
    "Source",
    "basic_user",
    "bearer",
    "bearer_token",
    "body_fields",
    "header",
    "merchant_of_secret_key",
    "query",
]

T = TypeVar("T")
DEFAULT_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Presented:
    """A credential as the request presents it: one secret, or several fields (PAYONE's portal)."""

    parts: tuple[str, ...]

    @property
    def secret(self) -> str:
        return self.parts[0]

    def digest(self) -> str:
        # "\x1f" (unit separator) cannot occur in a header value or a decoded form field that matters.
        return hashlib.sha256("\x1f".join(self.parts).encode()).hexdigest()


Source = Callable[[Request], Awaitable[Presented | None]]


class KeyCache:
    """A thread-safe LRU of at most ``size`` positive answers, keyed by (kind, digest)."""

    def __init__(self, size: int = DEFAULT_CACHE_SIZE) -> None:
        if size < 1:
            raise ValueError("a key cache holds at least one entry")
        self.size = size
        self._entries: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, kind: str, digest: str) -> object | None:
        with self._lock:
            found = self._entries.get((kind, digest))
            if found is not None:
                self._entries.move_to_end((kind, digest))
            return found

    def put(self, kind: str, digest: str, value: object) -> None:
        with self._lock:
            self._entries[(kind, digest)] = value
            self._entries.move_to_end((kind, digest))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


# --- sources ---------------------------------------------------------------------------------------


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def bearer(request: Request) -> Presented | None:
    """``Authorization: Bearer <secret>`` — a secret key, or an OAuth access token (secuconnect)."""
    token = bearer_token(request)
    return Presented((token,)) if token else None


async def basic_user(request: Request) -> Presented | None:
    """The user name of ``Authorization: Basic`` (Stripe: the secret key, with an empty password)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return None
    return Presented((user,)) if user else None


def header(name: str) -> Source:
    async def source(request: Request) -> Presented | None:
        value = request.headers.get(name)
        return Presented((value,)) if value else None

    return source


def query(name: str) -> Source:
    async def source(request: Request) -> Presented | None:
        value = request.query_params.get(name)
        return Presented((value,)) if value else None

    return source


def body_fields(*names: str, encoding: str = "utf-8") -> Source:
    """Credentials inside a form-encoded body, all of ``names`` present (PAYONE: mid, portalid, key).
    The body stays readable: Starlette keeps it on the request for the handler's own decoding."""

    async def source(request: Request) -> Presented | None:
        fields = dict(parse_qsl((await request.body()).decode(encoding, errors="replace"), keep_blank_values=True))
        values = tuple(fields.get(name, "") for name in names)
        return Presented(values) if all(values) else None

    return source


# --- the authenticator -----------------------------------------------------------------------------


# eq=False: hashed by identity, as FastAPI's dependency cache needs.
@dataclass(frozen=True, eq=False)
class Authenticator(Generic[T]):
    """A FastAPI dependency: the account (``T``) a request's credential belongs to.

    ``kind`` names the credential (the cache's namespace: two authenticators of one kind must look it
    up alike); ``lookup`` runs in the thread pool on a cache miss and answers ``None`` for an unknown
    credential; ``missing()`` and ``invalid(presented)`` are the dialect's errors."""

    kind: str
    sources: tuple[Source, ...]
    lookup: Callable[[Kasse, Presented], T | None]
    missing: Callable[[], Exception]
    invalid: Callable[[Presented], Exception]
    cache: bool = True

    async def present(self, request: Request) -> Presented | None:
        for source in self.sources:
            found = await source(request)
            if found is not None:
                return found
        return None

    async def __call__(self, request: Request) -> T:
        presented = await self.present(request)
        if presented is None:
            raise self.missing()
        cache, digest = key_cache_of(request), presented.digest()
        hit = cache.get(self.kind, digest) if self.cache else None
        if hit is not None:
            return cast(T, hit)
        account = await run_in_threadpool(self.lookup, kasse_of(request), presented)
        if account is None:
            raise self.invalid(presented)
        if self.cache:
            cache.put(self.kind, digest, account)
        return account


def merchant_of_secret_key(kasse: Kasse, presented: Presented) -> str | None:
    """The lookup of Kasse's own secret key ``sk_test_…`` (native API, ``/_sandbox``, Stripe)."""
    with kasse.read() as store:
        return merchant_for_secret_key(store, presented.secret)
