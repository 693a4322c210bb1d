"""Which hosts and addresses Kasse may send a notification to: the webhook target policy (docs/security.md).

Pure: the caller resolves names and hands the addresses in; the same decision is taken when a URL is
registered and again, on the addresses actually connected to, when each notification is sent.

- Never: link-local (169.254.0.0/16, fe80::/10), cloud metadata services (by address and by name),
  unspecified (0.0.0.0/8, ``::``), multicast and broadcast addresses — also when spelled as an
  IPv4-mapped, NAT64, 6to4 or Teredo IPv6 address, or as an odd IPv4 form a resolver accepts
  (``2852039166``, ``0xa9.0376.43518``).
- ``any`` (the default, for the local sandbox: shops run at 127.0.0.1): everything else.
- ``public``: only public (globally routable) addresses.
- a comma-separated allow-list (``127.0.0.1,10.0.0.0/8,shop.internal``): public addresses, plus
  addresses in the listed networks, plus whatever the listed host names resolve to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

__all__ = ["METADATA_NAMES", "IPAddress", "TargetPolicy", "address_refusal", "literal_address", "refusal"]

IPAddress = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# Cloud instance metadata services: they hand out credentials to whoever asks from inside.
METADATA_ADDRESSES = frozenset(
    ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "168.63.129.16",  # Azure WireServer
    )
)
METADATA_NAMES = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
    "metadata.azure.com", "metadata.azure.internal", "metadata.tencentyun.com", "metadata.platformequinix.com",
})  # fmt: skip
_NEVER: tuple[tuple[Network, str], ...] = (
    (ip_network("0.0.0.0/8"), "an unspecified address"),
    (ip_network("::/128"), "an unspecified address"),
    (ip_network("169.254.0.0/16"), "link-local"),
    (ip_network("fe80::/10"), "link-local"),
    (ip_network("224.0.0.0/4"), "a multicast address"),
    (ip_network("ff00::/8"), "a multicast address"),
    (ip_network("255.255.255.255/32"), "a broadcast address"),
)
_NAT64 = ip_network("64:ff9b::/96")
_PROTOCOL_ASSIGNMENTS = ip_network("192.0.0.0/24")  # not routable; Python 3.11 calls parts of it global
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$"
)
_ATON_PART = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


@dataclass(frozen=True)
class TargetPolicy:
    """``mode`` is ``any``, ``public`` or ``list`` (public plus ``networks`` and ``hosts``)."""

    mode: str = "any"
    networks: tuple[Network, ...] = ()
    hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, text: str | None) -> TargetPolicy:
        """``KASSE_WEBHOOK_TARGETS``; a ValueError names what it cannot read."""
        items = [i.strip().lower() for i in (text or "").split(",") if i.strip()]
        if items in ([], ["any"]):
            return cls("any")
        if items == ["public"]:
            return cls("public")
        networks, hosts = [], set()
        for item in items:
            try:
                network = ip_network(item, strict=False)
            except ValueError:
                if not _HOST_NAME.match(item.rstrip(".")):
                    raise ValueError(
                        f"KASSE_WEBHOOK_TARGETS: {item!r} is not a host, an address or a network"
                    ) from None
                hosts.add(item.rstrip("."))
                continue
            why = _never(network.network_address) if network.num_addresses == 1 else None
            if why is not None:
                raise ValueError(f"KASSE_WEBHOOK_TARGETS: {item} is {why}, which is never allowed")
            networks.append(network)
        return cls("list", tuple(networks), frozenset(hosts))

    def describe(self) -> str:
        return self.mode if self.mode != "list" else "an allow-list"


def literal_address(host: str) -> IPAddress | None:
    """The address a host that is an IP literal stands for, in any spelling the system resolver
    accepts for IPv4 (``inet_aton``: 1 to 4 parts, each decimal, octal with a leading 0 or hex with 0x;
    the last part fills the remaining bytes); None for a name."""
    host = host.strip("[]").lower()
    try:
        return ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_ATON_PART.match(p) for p in parts):
        return None
    numbers = [_aton_number(p) for p in parts]
    if None in numbers:
        return None
    *front, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in front) or last >= 256 ** (4 - len(front)):
        return None
    value = last
    for index, n in enumerate(front):
        value |= n << (8 * (3 - index))
    return IPv4Address(value)


def _aton_number(part: str) -> int | None:
    if part.startswith("0x"):
        return int(part[2:], 16) if len(part) > 2 else None
    if len(part) > 1 and part.startswith("0"):  # octal; 08 and 09 make the resolver take it for a name
        return int(part, 8) if set(part) <= set("01234567") else None
    return int(part)


def _embedded_v4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 address carries traffic to (mapped, NAT64, 6to4, Teredo client)."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    return address.teredo[1] if address.teredo is not None else None


def _never(address: IPAddress) -> str | None:
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    return next((why for network, why in _NEVER if address.version == network.version and address in network), None)


def _public(address: IPAddress) -> bool:
    return address.is_global and not (isinstance(address, IPv4Address) and address in _PROTOCOL_ASSIGNMENTS)


def address_refusal(address: IPAddress, policy: TargetPolicy, *, listed_host: bool = False) -> str | None:
    """Why ``address`` may not be sent to, or None. ``listed_host``: it is what an allow-listed name
    resolved to (still never a link-local or metadata address)."""
    effective = _embedded_v4(address) or address
    for candidate in (address, effective):
        why = _never(candidate)
        if why is not None:
            return f"{address} is {why} (always refused)"
    if policy.mode == "any" or listed_host or _public(effective):
        return None
    if policy.mode == "list" and any(effective in n or address in n for n in policy.networks):
        return None
    return f"{address} is not a public address (KASSE_WEBHOOK_TARGETS is {policy.describe()})"


def refusal(host: str, addresses: Iterable[IPAddress], policy: TargetPolicy) -> str | None:
    """Why a URL with this host, resolving to these addresses, may not be sent to; None if it may."""
    name = host.strip("[]").lower().rstrip(".")
    if name in METADATA_NAMES or any(name.endswith("." + n) for n in METADATA_NAMES if "." in n):
        return f"{host} is a cloud metadata service (always refused)"
    listed = name in policy.hosts
    return next((why for a in addresses if (why := address_refusal(a, policy, listed_host=listed))), None)
