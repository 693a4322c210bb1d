"""The webhook target policy (``kasse.domain.targets``) applied to URLs: the host resolved, every address
checked, when a URL is registered and again right before each send. The sender then connects only to
the addresses checked here (``kasse.delivery.pinned``), so a second DNS answer cannot point elsewhere
(DNS rebinding).

Resolution is the one external seam: ``TargetGuard(resolver=...)`` takes any function from a host and
a port to addresses (tests give a fake DNS)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_address
from typing import NewType
from urllib.parse import urlsplit

from kasse.domain.errors import ErrorCode, InvalidRequest
from kasse.domain.targets import IPAddress, TargetPolicy, literal_address, refusal
from kasse.domain.urls import http_url_problem

__all__ = [
    "CheckedUrl",
    "Resolver",
    "Target",
    "TargetError",
    "TargetGuard",
    "TargetRefused",
    "TargetUnresolved",
    "system_resolver",
]

Resolver = Callable[[str, int], list[IPAddress]]
# A URL that passed the policy at registration; the engine's webhook functions take only these.
CheckedUrl = NewType("CheckedUrl", str)


class TargetError(Exception):
    """A notification URL that must not be sent to now; the message says why."""


class TargetRefused(TargetError):
    pass


class TargetUnresolved(TargetError):
    pass


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for ``host``, in its order, each once."""
    found: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ip_address(str(sockaddr[0]))
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL may be sent: its host as written, and the checked addresses to connect to."""

    host: str
    port: int
    addresses: tuple[IPAddress, ...]
    literal: bool  # the host is an address itself: nothing to pin


class TargetGuard:
    def __init__(self, policy: TargetPolicy | None = None, resolver: Resolver = system_resolver) -> None:
        self.policy = policy or TargetPolicy()
        self.resolver = resolver

    def resolve(self, url: str) -> Target:
        """The checked addresses of ``url``'s host; raises TargetRefused or TargetUnresolved."""
        parts = urlsplit(url)
        host = parts.hostname
        if not host:
            raise TargetRefused(f"target refused: {url!r} has no host")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        literal = literal_address(host)
        why = refusal(host, [] if literal is None else [literal], self.policy)
        if why is None and literal is None:
            try:
                addresses = self.resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise TargetUnresolved(f"could not resolve {host}: {exc}") from None
            why = refusal(host, addresses, self.policy)
        if why is not None:
            raise TargetRefused(f"target refused: {why}")
        return Target(host, port, (literal,) if literal is not None else tuple(addresses), literal is not None)

    def vet(self, url: str, *, param: str) -> CheckedUrl:
        """At registration: the URL as given if it may be sent to, else the engine's InvalidRequest for
        ``param`` (each dialect answers it in its own shape). A name that does not resolve (yet) is let
        through only where the policy is ``any`` or lists that name: it is checked again at each send."""
        problem = http_url_problem(url)
        if problem is not None:
            raise InvalidRequest(ErrorCode.URL_INVALID, f"Invalid {param}: {problem}", param=param)
        try:
            self.resolve(url)
        except TargetRefused as exc:
            raise InvalidRequest(ErrorCode.URL_REFUSED, f"Invalid {param}: {exc}", param=param) from None
        except TargetUnresolved as exc:
            host = (urlsplit(url).hostname or "").rstrip(".")
            if self.policy.mode != "any" and host not in self.policy.hosts:
                message = f"Invalid {param}: {exc}; KASSE_WEBHOOK_TARGETS is {self.policy.describe()}"
                raise InvalidRequest(ErrorCode.URL_REFUSED, message, param=param) from None
        return CheckedUrl(url)
