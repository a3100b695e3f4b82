"""Which network addresses a URL input may reach (SSRF protection).

A URL is only fetched from an address that is public: not loopback, private,
link-local (where cloud metadata lives), multicast, reserved, unspecified or
shared (CGNAT, which hosts Alibaba Cloud's metadata at 100.100.100.200). Names
are resolved here and the connection is then made to the address that was
checked, so a DNS answer cannot change between check and use. IPv4 written
oddly (2130706433, 0177.0.0.1, 127.1) is normalised by the resolver before the
check; IPv6 forms that embed IPv4 (::ffff:a.b.c.d, 6to4, Teredo, NAT64) are
checked on the embedded address too.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InvalidURL

__all__ = ["AllowList", "IPAddress", "blocked_reason", "resolve_allowed"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# Cloud metadata endpoints named explicitly, although the rules above already cover them.
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("100.100.100.200"),
    ipaddress.ip_address("fd00:ec2::254"),
}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def blocked_reason(address: IPAddress) -> str | None:
    """Why `address` may not be fetched from, or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return blocked_reason(embedded)
    if address in _METADATA:
        return "a cloud metadata address"
    for reason, hit in (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    ):
        if hit:
            return reason
    return None


@dataclass(frozen=True)
class AllowList:
    """Hosts and networks an operator opens although they are not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AllowList:
        hosts: set[str] = set()
        networks = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, host: str, address: IPAddress) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        return any(address in net for net in self.networks if net.version == address.version)


def system_resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise InvalidURL(f"cannot resolve host {host!r}: {error}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve_allowed(
    host: str, port: int, allow: AllowList, resolve: Resolver = system_resolve
) -> IPAddress:
    """The address to connect to for `host`; InvalidURL if any answer is not allowed.

    Every answer must pass, not just the first: otherwise a name with one public
    and one private record could be steered to the private one.
    """
    addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
    if not addresses:
        raise InvalidURL(f"cannot resolve host {host!r}")
    for address in addresses:
        reason = blocked_reason(address)
        if reason and not allow.allows(host, address):
            raise InvalidURL(
                f"URL host {host!r} resolves to {address}, which is {reason}; only public "
                "addresses may be fetched (an operator can open hosts with "
                "VIDEORETALK_SERVICE_URL_ALLOW_LIST)"
            )
    return addresses[0]
