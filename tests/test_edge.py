"""The edge kit on a tiny app: the route class, each credential source, and the one bounded cache."""

from __future__ import annotations

import base64
import threading

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kasse.domain.errors import DomainError, NotFound, Unauthenticated
from kasse.edge.auth import Authenticator, KeyCache, Presented, basic_user, bearer, body_fields, header, query
from kasse.edge.errors import dialect_route
from kasse.engine.unit import Kasse

ACCOUNTS = {("sk_1",): "m_1", ("k_2",): "m_2", ("100", "7", "portal-key"): "m_3", ("tok",): "m_4"}


class Lookups:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, _kasse: Kasse, presented: Presented) -> str | None:
        self.calls.append(presented.parts)
        return ACCOUNTS.get(presented.parts)


def _missing() -> Exception:
    return Unauthenticated("no key")


def _invalid(presented: Presented) -> Exception:
    return Unauthenticated(f"bad key {presented.secret[:2]}")


def _render(exc: Exception) -> Response:
    if isinstance(exc, DomainError):
        status = 401 if isinstance(exc, Unauthenticated) else 404
        return JSONResponse({"shape": "tiny", "code": exc.code}, status_code=status)
    return JSONResponse({"shape": "tiny", "code": "bug"}, status_code=500)


def _app(lookups: Lookups, cache_size: int = 10) -> FastAPI:
    auths = {
        "secret": Authenticator[str]("secret", (bearer, basic_user), lookups, _missing, _invalid),
        "api": Authenticator[str]("api", (header("api_key"), query("api_key")), lookups, _missing, _invalid),
        "portal": Authenticator[str]("portal", (body_fields("mid", "portalid", "key"),), lookups, _missing, _invalid),
        "oauth": Authenticator[str]("oauth", (bearer,), lookups, _missing, _invalid, cache=False),
    }
    router = APIRouter(route_class=dialect_route(_render, headers=lambda: {"X-Dialect": "tiny"}))
    for name, auth in auths.items():
        # A default, not Annotated: the annotation is a string here and ``auth`` is a local.
        def whoami(request: Request, merchant_id: str = Depends(auth)) -> dict[str, str]:
            return {"merchant": merchant_id}

        router.add_api_route(f"/{name}", whoami, methods=["GET", "POST"])

    @router.get("/missing")
    def missing() -> None:
        raise NotFound("payment", "pay_x")

    @router.get("/bug")
    def bug() -> None:
        raise RuntimeError("boom")

    app = FastAPI()
    app.include_router(router)
    app.state.kasse = object()
    app.state.key_cache = KeyCache(cache_size)
    return app


def _basic(user: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:".encode()).decode()


@pytest.fixture
def lookups() -> Lookups:
    return Lookups()


def test_every_source_finds_its_credential(lookups: Lookups) -> None:
    client = TestClient(_app(lookups))
    assert client.get("/secret", headers={"Authorization": "Bearer sk_1"}).json() == {"merchant": "m_1"}
    assert client.get("/secret", headers={"Authorization": _basic("sk_1")}).json() == {"merchant": "m_1"}
    assert client.get("/api", headers={"api_key": "k_2"}).json() == {"merchant": "m_2"}
    assert client.get("/api", params={"api_key": "k_2"}).json() == {"merchant": "m_2"}
    form = {"mid": "100", "portalid": "7", "key": "portal-key", "request": "preauthorization"}
    assert client.post("/portal", data=form).json() == {"merchant": "m_3"}
    assert client.get("/oauth", headers={"Authorization": "Bearer tok"}).json() == {"merchant": "m_4"}


def test_missing_and_wrong_credentials_are_the_dialects_errors(lookups: Lookups) -> None:
    client = TestClient(_app(lookups))
    missing = client.get("/secret")
    assert (missing.status_code, missing.json()["code"]) == (401, "invalid_api_key")
    assert missing.headers["X-Dialect"] == "tiny"
    assert client.get("/secret", headers={"Authorization": "Basic !!"}).status_code == 401
    assert client.post("/portal", data={"mid": "100", "portalid": "7"}).status_code == 401  # key missing
    assert client.post("/portal", data={"mid": "100", "portalid": "7", "key": "wrong"}).status_code == 401
    assert client.get("/api", headers={"api_key": "nope"}).status_code == 401


def test_the_route_class_renders_every_error_and_stamps_every_answer(lookups: Lookups) -> None:
    client = TestClient(_app(lookups), raise_server_exceptions=False)
    found = client.get("/missing")
    assert (found.status_code, found.json(), found.headers["X-Dialect"]) == (
        404,
        {"shape": "tiny", "code": "resource_missing"},
        "tiny",
    )
    bug = client.get("/bug")
    assert (bug.status_code, bug.json()["code"], bug.headers["X-Dialect"]) == (500, "bug", "tiny")
    ok = client.get("/secret", headers={"Authorization": "Bearer sk_1"})
    assert ok.headers["X-Dialect"] == "tiny"


def test_positive_answers_are_cached_and_misses_are_not(lookups: Lookups) -> None:
    client = TestClient(_app(lookups))
    for _ in range(3):
        client.get("/secret", headers={"Authorization": "Bearer sk_1"})
        client.get("/secret", headers={"Authorization": "Bearer sk_wrong"})
    assert lookups.calls.count(("sk_1",)) == 1
    assert lookups.calls.count(("sk_wrong",)) == 3


def test_answers_that_can_lapse_are_never_cached(lookups: Lookups) -> None:
    client = TestClient(_app(lookups))
    for _ in range(3):
        client.get("/oauth", headers={"Authorization": "Bearer tok"})
    assert lookups.calls.count(("tok",)) == 3


def test_the_cache_is_keyed_by_kind(lookups: Lookups) -> None:
    client = TestClient(_app(lookups))
    client.get("/secret", headers={"Authorization": "Bearer k_2"})  # not a secret key
    assert client.get("/api", headers={"api_key": "k_2"}).json() == {"merchant": "m_2"}
    assert lookups.calls.count(("k_2",)) == 2


def test_the_cache_keeps_the_most_recently_used_entries() -> None:
    cache = KeyCache(2)
    cache.put("a", "1", "m_1")
    cache.put("a", "2", "m_2")
    assert cache.get("a", "1") == "m_1"  # now the most recent
    cache.put("a", "3", "m_3")
    assert (cache.get("a", "1"), cache.get("a", "2"), cache.get("a", "3")) == ("m_1", None, "m_3")
    assert len(cache) == 2
    with pytest.raises(ValueError, match="at least one"):
        KeyCache(0)


def test_the_cache_stays_bounded_under_threads() -> None:
    cache = KeyCache(50)

    def fill(worker: int) -> None:
        for i in range(500):
            cache.put("k", f"{worker}-{i}", i)
            cache.get("k", f"{worker}-{i // 2}")

    threads = [threading.Thread(target=fill, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 50


def test_a_request_over_the_bound_still_authenticates(lookups: Lookups) -> None:
    client = TestClient(_app(lookups, cache_size=1))
    for _ in range(2):
        assert client.get("/secret", headers={"Authorization": "Bearer sk_1"}).json() == {"merchant": "m_1"}
        assert client.get("/api", headers={"api_key": "k_2"}).json() == {"merchant": "m_2"}
    assert lookups.calls == [("sk_1",), ("k_2",), ("sk_1",), ("k_2",)]
