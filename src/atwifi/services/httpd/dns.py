"""The MiniAP's DNS server, as the captive portal needs it: every A query for any name is
answered with the module's own address while the module runs a MiniAP (the portal's domain,
``ip_apdomainname``, first of all); without a MiniAP it refuses. A UDP server on the host's
loopback, so stations (``station.fetch``) and tools (``dig @127.0.0.1 -p PORT``) ask it for
real. Messages are parsed and built by dnspython.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

TTL = 60
MAX_QUERY = 512  # classic DNS over UDP


class CaptiveDns(asyncio.DatagramProtocol):
    def __init__(self, address: Callable[[str], str | None]) -> None:
        self._address = address  # name -> the module's address, or None (no MiniAP)
        self.transport: asyncio.DatagramTransport | None = None
        self.port: int | None = None
        self.answered = 0

    async def start(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        self.port = int(transport.get_extra_info("sockname")[1])
        return self.port

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def stop(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        self.port = None

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = self.answer(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def answer(self, data: bytes) -> bytes | None:
        """The reply to one query (None: not a query worth answering, dropped)."""
        import dns.exception
        import dns.flags
        import dns.message
        import dns.rcode
        import dns.rdataclass
        import dns.rdatatype
        import dns.rrset

        if len(data) > MAX_QUERY:
            return None
        try:
            query = dns.message.from_wire(data)
        except (dns.exception.DNSException, ValueError):
            return None
        if query.flags & dns.flags.QR or len(query.question) != 1:
            return None
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        q = query.question[0]
        name = q.name.to_text(omit_final_dot=True).lower()
        address = self._address(name)
        if address is None:
            reply.set_rcode(dns.rcode.REFUSED)
        elif q.rdclass == dns.rdataclass.IN and q.rdtype in (dns.rdatatype.A, dns.rdatatype.ANY):
            reply.answer.append(
                dns.rrset.from_text(q.name, TTL, dns.rdataclass.IN, dns.rdatatype.A, address)
            )
            self.answered += 1
        # Any other type (AAAA...): no data, no error (the MiniAP is IPv4 only).
        return reply.to_wire()


async def lookup(port: int, name: str, timeout: float = 5.0) -> str | None:
    """Ask the module's DNS (on the loopback ``port``) for ``name``'s A record."""
    import dns.asyncquery
    import dns.message
    import dns.rcode
    import dns.rdatatype

    query = dns.message.make_query(name, dns.rdatatype.A)
    reply = await dns.asyncquery.udp(query, "127.0.0.1", port=port, timeout=timeout)
    if reply.rcode() != dns.rcode.NOERROR:
        return None
    for rrset in reply.answer:
        if rrset.rdtype == dns.rdatatype.A:
            for rd in rrset:
                return str(rd.address)  # type: ignore[attr-defined]
    return None
