"""TLS for the module's sockets: contexts built from the store, checks against the module clock.

Client side: the handshake runs with ``CERT_NONE`` (so Python never looks at the host's
clock), then ``verify_server`` checks the leaf with ``verify.verify_peer`` at the module's
time. Mutual TLS: the context presents the module's certificate and key.

Server side (``s2``): Python can only ask for a client certificate while also verifying it,
so the context loads the module's CAs with OpenSSL's NO_CHECK_TIME flag (chain and signature
checked by OpenSSL, dates skipped), then ``verify_client`` checks dates and usage at the
module's time after the handshake.

Fallback (manual 6.32): when the store has no CA, the CA is read from the file system as
``<AuthorityKeyId of the peer, hex>.ca``; when it has no certificate or key, from
``tls.cert`` and ``tls.key``. ``read_file`` is that file system (None: no fallback).
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from atwifi.services.tls.store import KINDS, CertStore, cert_der, parse_key
from atwifi.services.tls.verify import (
    CertError,
    CertReason,
    authority_key_id,
    parse_cert,
    to_datetime,
    verify_peer,
)

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

ReadFile = Callable[[str], Awaitable[bytes]]

# OpenSSL's X509_V_FLAG_NO_CHECK_TIME: dates are the module clock's business, not the host's.
_NO_CHECK_TIME = 0x200000

# OpenSSL verify codes (server side, s2) -> the reason.
_OPENSSL_REASONS = {
    2: CertReason.UNKNOWN_CA,  # unable to get issuer certificate
    7: CertReason.BAD_SIGNATURE,  # certificate signature failure
    9: CertReason.NOT_YET_VALID,
    10: CertReason.EXPIRED,
    18: CertReason.UNKNOWN_CA,  # self-signed
    19: CertReason.UNKNOWN_CA,  # self-signed in chain
    20: CertReason.UNKNOWN_CA,  # unable to get local issuer
    21: CertReason.UNKNOWN_CA,  # unable to verify the first certificate
    24: CertReason.BASIC_CONSTRAINTS,  # invalid CA
    26: CertReason.KEY_USAGE,  # invalid purpose
}


def reason_from_ssl(exc: BaseException) -> CertReason | None:
    """The reason of an ssl verification failure, None if it is not one."""
    code = getattr(exc, "verify_code", None)
    if code is None:
        return None
    return _OPENSSL_REASONS.get(code, CertReason.UNSPECIFIED)


class TlsService:
    def __init__(
        self,
        folder: Path | None,
        now: Callable[[], float],
        read_file: ReadFile | None = None,
    ) -> None:
        self.store = CertStore(folder / "tls" if folder else None, KINDS)
        # WPA-Enterprise (AT+S.WPAECERT): the radio reads it; no Auth item there.
        self.wpae = CertStore(folder / "wpae" if folder else None, ("ca", "cert", "key"))
        self.now = now
        self.read_file = read_file
        self._client_ctx: tuple[object, ssl.SSLContext] | None = None
        self._server_ctx: dict[bool, tuple[object, ssl.SSLContext]] = {}

    def load_saved(self) -> None:
        self.store.load_saved()
        self.wpae.load_saved()

    def module_time(self):
        return to_datetime(self.now())

    # -- the module's own certificate ----------------------------------------------------
    async def _fallback(self, name: str) -> bytes | None:
        if self.read_file is None:
            return None
        try:
            return await self.read_file(name)
        except Exception:  # missing or unreadable: as if absent
            return None

    async def own_cert(self) -> tuple[bytes, bytes] | None:
        """(certificate DER, key PKCS#8 DER), from the store or the fallback files."""
        cert, key = self.store.cert, self.store.key
        if cert is None:
            raw = await self._fallback("tls.cert")
            cert = cert_der(parse_cert(raw)) if raw else None
        if key is None:
            raw = await self._fallback("tls.key")
            key = parse_key(raw) if raw else None
        if cert is None or key is None:
            return None
        return cert, key

    # -- trust anchors -------------------------------------------------------------------
    async def anchors_for(self, leaf_der: bytes | None) -> list[Certificate]:
        if self.store.cas:
            return self.store.ca_certs()
        if not leaf_der:
            return []
        try:
            aki = authority_key_id(parse_cert(leaf_der))
        except CertError:
            return []
        if aki is None:
            return []
        raw = await self._fallback(f"{aki.hex().upper()}.ca")
        if not raw:
            return []
        try:
            return [parse_cert(raw)]
        except CertError:
            return []

    async def verify_server(self, leaf_der: bytes | None, name: str, when=None) -> None:
        """Raises CertError (with its reason) when the server must not be trusted.
        ``when``: check at that time instead of the module's (a fault on demand)."""
        anchors = await self.anchors_for(leaf_der)
        verify_peer(leaf_der, anchors, when or self.module_time(), name=name, server=True)

    def verify_client(self, leaf_der: bytes | None) -> None:
        verify_peer(leaf_der, self.store.ca_certs(), self.module_time(), name=None, server=False)

    # -- contexts --------------------------------------------------------------------------
    async def client_context(self) -> ssl.SSLContext:
        own = await self.own_cert()
        key = (self.store.generation, own)
        if self._client_ctx is not None and self._client_ctx[0] == key:
            return self._client_ctx[1]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if own is not None:
            await asyncio.to_thread(_load_chain, ctx, *own)
        self._client_ctx = (key, ctx)
        return ctx

    async def server_context(self, mutual: bool) -> ssl.SSLContext:
        """Raises CertError NULL_CERT without a certificate and key, UNKNOWN_CA for ``s2``
        without a CA to check clients against."""
        own = await self.own_cert()
        if own is None:
            raise CertError(CertReason.NULL_CERT, "no certificate and key loaded for a TLS server")
        cas = self.store.ca_certs() if mutual else []
        if mutual and not cas:
            raise CertError(CertReason.UNKNOWN_CA, "no CA loaded to check clients (s2)")
        key = (self.store.generation, own)
        cached = self._server_ctx.get(mutual)
        if cached is not None and cached[0] == key:
            return cached[1]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        await asyncio.to_thread(_load_chain, ctx, *own)
        if mutual:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.verify_flags |= _NO_CHECK_TIME  # type: ignore[assignment]
            for ca in cas:
                ctx.load_verify_locations(cadata=cert_der(ca))
        self._server_ctx[mutual] = (key, ctx)
        return ctx


def _load_chain(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """ssl loads a certificate and key only from files: write them to a private temporary
    folder, load, delete (runs in a thread)."""
    import ssl as _ssl
    import tempfile  # at first use, not at boot

    with tempfile.TemporaryDirectory(prefix="atwifi-tls-") as d:
        cpath, kpath = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        with open(cpath, "w") as f:
            f.write(_ssl.DER_cert_to_PEM_cert(cert))
        fd = os.open(kpath, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(_pem("PRIVATE KEY", key))
        ctx.load_cert_chain(cpath, kpath)


def _pem(label: str, der: bytes) -> bytes:
    import base64

    b64 = base64.encodebytes(der).replace(b"\n", b"")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return (
        b"-----BEGIN "
        + label.encode()
        + b"-----\n"
        + b"\n".join(lines)
        + b"\n-----END "
        + label.encode()
        + b"-----\n"
    )
