"""WebSocket clients (RFC 6455) for the module: dialect-free, wsproto on our own transport.

The module has two WebSocket client slots, shared with MQTT (manual 6.61: a connected MQTT
broker takes one). This service owns the slots, the connections and their bounded receive
buffers; the SPWF04 dialect (``spwf04/commands/websocket.py``) words its kinds and turns its
events into WINDs; MQTT uses the same service for its broker connection.

API (stable: MQTT builds on it)::

    from atwifi.services.websocket import WebSockets, WsClient, WsFault, close_code

    ws = WebSockets(events, capacity=lambda: 1500, threshold=lambda: 0,
                    resolve=resolve, check=check, tls=tls_service)
    # resolve(host) -> ip        raises ServiceError (WsFault.RESOLVE) when it cannot
    # check(ip, port) -> None    raises ServiceError (WsFault.BLOCKED) when not allowed
    # published as device.websockets by spwf04/parts/websocket.py, which wires these to
    # device.net (policy + resolver) and device.tls (certificates at the MODULE's clock)

    # The host's clients (AT+S.WSOCK*): a free slot each, listed in ws.clients[id]
    c = await ws.open(host, port=None, path="/", tls=0, username=None, password=None,
                      origin=None, protocols=(), extensions=())
    #   port None/0: 80 (tls 0) or 443; tls 0 plain, 1 autodetect (TLS, plain if the
    #   server does not speak TLS), 2 TLS. protocols: Sec-WebSocket-Protocol offers;
    #   extensions: Sec-WebSocket-Extensions offers ("permessage-deflate" is implemented)
    ws.read(id, n=0) -> (bytes, unread_before)   # CLOSED once gone and drained
    await ws.close(id, code=1000)                # PENDING while unread bytes remain
    ws.client(id) -> WsClient                    # BAD_ID
    ws.close_all()                               # reset: abort everything, free all slots

    # MQTT (or any other owner): take a slot, then (for MQTT over WebSocket) connect on it
    slot = ws.reserve("mqtt")          # TOO_MANY when both slots are in use
    slot = ws.reserve("mqtt", server=(ip, port))   # connecting by its own means: no
                                       # WSOCKON to that server then (SAME_SERVER)
    c = await ws.open(host, 8080, "/mqtt", protocols=["mqtt"], slot=slot, events=mine)
    await c.send(packet, binary=True)  # one binary frame
    data = await c.recv()              # waits; any bytes (frame boundaries are not kept);
                                       # b"" once the server has gone and all is read, or
                                       # once we closed
    await c.wait_closed()              # until TCP has ended, whoever ended it
    await c.close(1000)                # Close frame, waits <= 2 s for the server's
    ws.release(slot)                   # frees the slot (aborts a connection still on it)

    # WsClient
    c.id, c.connected, c.gone, c.local_port, c.subprotocol, c.extensions,
    c.close_code, c.close_reason, c.unread(), c.read(n=0) -> (bytes, unread_before)
    await c.send(data, binary=False, fin=True)   # fin=False starts/continues a fragmented
        # message; later frames are continuation frames until one has fin (the message's
        # type is its first frame's). NOT_CONNECTED, WRITE_FAILED, BAD_TEXT (text not UTF-8)
    c.sending_fragments                          # a fragmented message is open
    await c.ping(payload)                        # pings FROM the server are answered alone

    # Events (faults.Events): per connection, the service's or the one given to open()
    events.data(cid, last_frame, last_frag, received, unread)
        # last_frag: these bytes complete a frame; last_frame: they complete a message
    events.closed(cid, code, reason)   # the server closed (its code) or the link was lost
                                       # (code None); never after our own close()
    events.note(text)                  # trace line

Errors are ``ServiceError(WsFault.<kind>, detail, **info)`` (``HANDSHAKE`` carries
``status=<HTTP status>`` when the server answered). A server certificate the module must
not trust raises the TLS service's own error (``CertError`` today) unchanged.

Buffers: ``capacity()`` bytes per connection (the SPWF04 uses ``ip_sock_memsize`` x 1500);
when it is full the connection stops reading from the server (TCP backpressure), and
resumes when the owner reads. ``threshold()`` percent of it must be unread before a data
report (``ip_sock_threshold``). Choices: docs/behaviour.md, "WebSocket clients".
"""

from __future__ import annotations

from atwifi.services.websocket.client import WsClient
from atwifi.services.websocket.faults import Events, WsFault
from atwifi.services.websocket.service import (
    SLOTS,
    TLS_AUTO,
    TLS_OFF,
    TLS_ON,
    WebSockets,
    close_code,
    split_extensions,
    split_list,
)

__all__ = [
    "SLOTS",
    "TLS_AUTO",
    "TLS_OFF",
    "TLS_ON",
    "Events",
    "WebSockets",
    "WsClient",
    "WsFault",
    "close_code",
    "split_extensions",
    "split_list",
]
