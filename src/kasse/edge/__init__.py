"""The edge kit: what every dialect's HTTP layer shares, below ``web`` (``kasse.web`` assembles the app
and may import dialects; nothing here imports ``web`` or a dialect).

- ``errors``: ``dialect_route`` — a route class that answers every error of a dialect's routes in the
  dialect's own shape and adds the dialect's headers to every answer.
- ``auth``: credentials by where they are carried (bearer header, Basic user, custom header, query
  parameter, form body) and ``Authenticator``, a dependency with one bounded positive cache
  (``KeyCache``, held once on ``app.state.key_cache``).
- the idempotent operation is a unit of work, so it lives in the engine (``kasse.engine.idempotency``:
  ``run_idempotent``, ``fingerprint``).
- ``request``: the accessors of what the app holds (``kasse_of``, ``settings_of``, ``base_url``, …).
- ``json``: ``JSONResponse``, Starlette's with orjson's encoder and Starlette's bytes; every dialect
  answers JSON with it.

Concurrency convention for handlers: route handlers are plain ``def`` — FastAPI runs them in its
thread pool, where they call the engine (blocking database I/O) directly. Dependencies that only read
the request are ``async def``: authentication serves a cache hit on the event loop with no thread hop
and sends only a miss to the thread pool; body decoding awaits ``request.body()``. Only streaming
handlers (Server-Sent Events) are ``async def`` handlers, and they send each engine call to the thread
pool with ``run_in_threadpool``.
"""
