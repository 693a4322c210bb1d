"""The pieces of one concurrent pass over a claimed batch (``Deliverer._deliver_batch``): chains of a
payment's events to one endpoint, jobs rendered for the chains whose leases are still ours, and the
send loop that records answers a few to a transaction as they come in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime

from kasse.delivery.faults import Profile
from kasse.delivery.outcome import Outcome
from kasse.delivery.render import DeliveryPolicy, Outbound, Rendered
from kasse.domain.models import Event
from kasse.domain.webhooks import Delivery, DeliverySettings, WebhookEndpoint

__all__ = ["MAX_CHAIN", "RECORD_EVERY", "Job", "Renderings", "chains_of", "due_order", "jobs_of", "send_all"]

MAX_CHAIN = 4  # a payment's events sent one after another in one pass; later ones wait for the next
RECORD_EVERY = 16  # answers recorded per transaction
Result = tuple["Job", Outcome]


@dataclass(frozen=True, slots=True)
class Job:
    """One delivery of a batch, ready to send."""

    delivery: Delivery
    endpoint: WebhookEndpoint
    rendered: Rendered
    policy: DeliveryPolicy
    settings: DeliverySettings


def chains_of(
    claimed: list[Delivery], events: Mapping[str, Event | None], endpoints: Mapping[str, WebhookEndpoint | None]
) -> tuple[list[list[Delivery]], list[str]]:
    """The batch as chains (one payment's events to one endpoint, in due order, at most ``MAX_CHAIN``),
    and the ids left for a later pass."""
    chains: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
    later: list[str] = []
    for d in claimed:
        event = events[d.event_id]
        if event is None or endpoints[d.endpoint_id] is None:
            continue
        chain = chains[(d.endpoint_id, event.payment_id or event.id)]
        if len(chain) < MAX_CHAIN:
            chain.append(d)
        else:
            later.append(d.id)
    return list(chains.values()), later


def jobs_of(
    chains: list[list[Delivery]], owned: set[str], events: Mapping[str, Event | None],
    endpoints: Mapping[str, WebhookEndpoint | None], outbound: Mapping[str, Outbound], profile: Profile,
    render: Callable[[Outbound, Event, WebhookEndpoint], Rendered],
) -> list[list[Job]]:  # fmt: skip
    """Each chain's deliveries still leased to us, rendered in their dialect's format."""
    jobs: list[list[Job]] = []
    for chain in chains:
        chain_jobs = []
        for d in chain:
            endpoint, event = endpoints[d.endpoint_id], events[d.event_id]
            if d.id not in owned or endpoint is None or event is None:
                continue  # another worker holds it now
            dialect = outbound[endpoint.dialect]
            settings = profile.settings
            if dialect.policy.retry_schedule_s is not None:
                settings = replace(settings, retry_schedule_s=dialect.policy.retry_schedule_s)
            chain_jobs.append(Job(d, endpoint, render(dialect, event, endpoint), dialect.policy, settings))
        if chain_jobs:
            jobs.append(chain_jobs)
    return jobs


class Renderings:
    """Renders a pass's jobs: an event going to several endpoints of one dialect has its body rendered
    once (``Outbound.body``), then signed per endpoint (``Outbound.signer``)."""

    def __init__(self, base_url: str, wall_s: int) -> None:
        self.base_url = base_url
        self.wall_s = wall_s
        self.bodies: dict[tuple[str, int], bytes] = {}  # (event id, id of its dialect's Outbound) → body

    def __call__(self, dialect: Outbound, event: Event, endpoint: WebhookEndpoint) -> Rendered:
        if dialect.body is None or dialect.signer is None:
            return dialect.renderer(event, endpoint, base_url=self.base_url, wall_s=self.wall_s)
        key = (event.id, id(dialect))
        body = self.bodies.get(key)
        if body is None:
            body = self.bodies[key] = dialect.body(event, base_url=self.base_url)
        return dialect.signer(event, endpoint, body, wall_s=self.wall_s)


def send_all(
    pool: ThreadPoolExecutor, per_endpoint: int, jobs: Iterable[list[Job]],
    send_chain: Callable[[list[Job]], list[Result]], record: Callable[[list[Result]], None],
    *, total: int | None = None,
) -> int:  # fmt: skip
    """Up to ``per_endpoint`` chains in flight to each endpoint (and ``total`` in all, default
    ``per_endpoint``). The threads only send; answers are recorded here as they come in,
    ``RECORD_EVERY`` to a transaction: a worker that dies leaves at most those and the requests in
    flight unrecorded (sent again when their lease runs out). New chains are handed out only as answers
    are recorded, so that bound holds however fast the receiver answers."""
    total = per_endpoint if total is None else total
    done: list[Result] = []
    sent = 0
    waiting: dict[Future[list[Result]], str] = {}
    busy: dict[str, int] = defaultdict(int)  # endpoint id → chains in flight to it
    todo = list(jobs)
    while True:
        if todo and len(waiting) < total:
            held: list[list[Job]] = []
            for chain in todo:
                endpoint_id = chain[0].endpoint.id
                if len(waiting) < total and busy[endpoint_id] < per_endpoint:
                    waiting[pool.submit(send_chain, chain)] = endpoint_id
                    busy[endpoint_id] += 1
                else:
                    held.append(chain)
            todo = held
        if not waiting:
            return sent
        finished, _ = wait(waiting, return_when=FIRST_COMPLETED)
        for future in finished:
            busy[waiting.pop(future)] -= 1
            done += future.result()
        if len(done) >= RECORD_EVERY or not waiting:
            record(done)
            sent, done = sent + len(done), []


def due_order(result: Result) -> tuple[datetime, str]:
    delivery = result[0].delivery
    return (delivery.next_attempt_at or delivery.created_at, delivery.id)
