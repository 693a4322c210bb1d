"""Sending one rendered notification: the target checked again (DNS may have changed since the
endpoint was registered), the request pinned to the checked address, the answer read and judged by the
dialect's acknowledgement rule."""

from __future__ import annotations

import threading

import httpx

from kasse.delivery.outcome import Answered, Failed, Outcome
from kasse.delivery.pinned import send_pinned
from kasse.delivery.render import DeliveryPolicy, Rendered
from kasse.domain.clock import monotonic_s
from kasse.engine.targets import TargetError, TargetGuard

__all__ = ["EXCERPT_CHARS", "Sender"]

EXCERPT_CHARS = 2_000


class Sender:
    def __init__(self, targets: TargetGuard, *, client: httpx.Client | None = None, timeout_s: float = 10.0) -> None:
        self.targets = targets
        # Made on first use: building its TLS context costs a fifth of a second at start.
        self._client = client
        self._client_lock = threading.Lock()
        self._timeout_s = timeout_s

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    # No proxy from the environment: it would connect to the name, not the checked address.
                    self._client = httpx.Client(timeout=self._timeout_s, follow_redirects=False, trust_env=False)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def send(
        self, delivery_id: str, rendered: Rendered, timeout_s: float, policy: DeliveryPolicy | None = None
    ) -> Outcome:
        started = monotonic_s()
        try:
            target = self.targets.resolve(rendered.url)  # again at each send: DNS may have changed
            response = send_pinned(
                self.client, target, rendered.method, rendered.url, content=rendered.body or None,
                headers=rendered.headers, timeout=timeout_s,
            )  # fmt: skip
        except TargetError as exc:
            return Failed(delivery_id, None, str(exc)[:500], int((monotonic_s() - started) * 1000))
        except httpx.HTTPError as exc:
            latency = int((monotonic_s() - started) * 1000)
            return Failed(delivery_id, None, f"{type(exc).__name__}: {exc}"[:500], latency)
        latency = int((monotonic_s() - started) * 1000)
        excerpt = response.text[:EXCERPT_CHARS]
        error = None
        check = policy.acknowledged if policy is not None else None
        if check is not None and 200 <= response.status_code < 300 and not check(response.status_code, excerpt):
            error = "the answer did not acknowledge the notification"
        return Answered(delivery_id, response.status_code, error, latency, excerpt)
