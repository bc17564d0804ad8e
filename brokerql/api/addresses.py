"""The caller's address: the peer, or the X-Forwarded-For entry a trusted proxy vouches for.

X-Forwarded-For is read only when the peer is one of `trusted_proxies` (addresses or CIDR networks),
from the right: each proxy appends the address it saw, so the right-most entry that is not itself a
trusted proxy is the client. Anything a client writes into the header itself sits further left and
is never read, so it cannot pick its own rate-limit bucket.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class AddressResolver:
    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self.trusted = parse_networks(trusted_proxies)

    def is_trusted(self, text: str) -> bool:
        address = _address(text)
        return address is not None and any(address in network for network in self.trusted)

    def resolve(self, scope: Any) -> str:
        client = scope.get("client") or ("unknown", 0)
        peer = str(client[0])
        if not self.trusted or not self.is_trusted(peer):
            return peer
        forwarded = [
            value.decode("latin-1") for name, value in scope.get("headers") or [] if name == b"x-forwarded-for"
        ]
        hops = [hop.strip() for line in forwarded for hop in line.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.is_trusted(hop):
                return hop if _address(hop) is not None else peer
        return peer
