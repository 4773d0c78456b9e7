"""The module's certificate store in flash: peer CAs, its own certificate and key, Auth.

Saved as one file per item in a folder (``<state>/certs/tls``), each written atomically
(temporary file, then ``os.replace``), so a kill leaves the old item or the new one:

  ca-<SubjectKeyId hex>.der   a peer CA (DER), named by its key id like the module's files
  cert.der                    the module's certificate (DER)
  key.der                     the module's private key (PKCS#8 DER, unencrypted)
  auth.bin                    the Auth item as the host sent it

PEM or DER is accepted on upload; both are stored as DER. Loading an item that is already
there is refused (the store must be cleared with ``content,2`` first), which is what hosts
hit in the field; a second CA with a different key id is added (up to ``MAX_CAS``).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

from atwifi.services.errors import ServiceError
from atwifi.services.tls.verify import CertError, CertReason, TlsFault, key_id, parse_cert
from atwifi.statedir import FILE_MODE, private_folder

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

MAX_CAS = 8
KINDS = ("ca", "cert", "key", "auth")


def ski_hex(cert: Certificate) -> str:
    """The CA's key id as the module names it: upper-case hex of SubjectKeyId, or of the id
    computed from its public key when the certificate carries none (RFC 5280 method 1)."""
    kid = key_id(cert)
    if kid is None:
        from cryptography import x509

        kid = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    return kid.hex().upper()


def parse_key(data: bytes) -> bytes:
    """A private key (PEM or DER, unencrypted) as PKCS#8 DER; CertError PARSE if unreadable."""
    from cryptography.hazmat.primitives import serialization

    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_der_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise CertError(CertReason.PARSE, f"key: {e}") from None
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # 0600 from the start: these are private keys and certificates, whatever the umask.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class CertStore:
    """One store (TLS or WPA-Enterprise). ``folder`` None keeps it in RAM only (tests)."""

    def __init__(self, folder: Path | None, kinds: tuple[str, ...] = KINDS) -> None:
        self.folder = folder
        self.kinds = kinds
        self.cas: dict[str, bytes] = {}  # key id hex -> DER
        self.cert: bytes | None = None  # DER
        self.key: bytes | None = None  # PKCS#8 DER
        self.auth: bytes | None = None
        self.generation = 0  # bumped on every change: TLS contexts are rebuilt when it moves

    # -- reading -------------------------------------------------------------------------
    def empty(self) -> bool:
        return not (self.cas or self.cert or self.key or self.auth)

    def ca_certs(self) -> list[Certificate]:
        return [parse_cert(der) for der in self.cas.values()]

    def load_saved(self) -> None:
        """Read the folder (small files; called from a thread at boot)."""
        self.cas, self.cert, self.key, self.auth = {}, None, None, None
        if self.folder is None or not self.folder.is_dir():
            return
        for p in sorted(self.folder.iterdir()):
            if p.name.startswith("."):
                continue
            data = p.read_bytes()
            if p.name.startswith("ca-") and p.suffix == ".der":
                self.cas[p.stem[3:]] = data
            elif p.name == "cert.der":
                self.cert = data
            elif p.name == "key.der":
                self.key = data
            elif p.name == "auth.bin":
                self.auth = data
        self.generation += 1

    def listing(self) -> list[str]:
        """Information lines for ``content,1``, as the dialect prints them after its prefix."""
        out = []
        for kid, der in self.cas.items():
            out.append(f"List:Ca:{kid}:{parse_cert(der).subject.rfc4514_string()}")
        if self.cert is not None:
            c = parse_cert(self.cert)
            out.append(f"List:Cert:{ski_hex(c)}:{c.subject.rfc4514_string()}")
        if self.key is not None:
            from cryptography.hazmat.primitives import serialization

            k = serialization.load_der_private_key(self.key, password=None)
            name = type(k).__name__.lstrip("_").replace("PrivateKey", "")
            out.append(f"List:Key:{name}:{getattr(k, 'key_size', 0)}")
        if self.auth is not None:
            out.append(f"List:Auth:{self.auth.decode('latin-1').strip()}")
        return out

    # -- changing ------------------------------------------------------------------------
    async def add(self, kind: str, data: bytes) -> str:
        """Load one item; returns a short description. Raises CertError (bad data) or ServiceError(TlsFault)."""
        kind = kind.lower()
        if kind not in self.kinds:
            raise ServiceError(TlsFault.BAD_KIND, f"unknown certificate kind {kind!r}")
        if not data:
            raise CertError(CertReason.NULL_CERT, "no data")
        name: str
        if kind == "ca":
            cert = parse_cert(data)
            kid = ski_hex(cert)
            if kid in self.cas:
                raise ServiceError(
                    TlsFault.ALREADY_LOADED, f"CA {kid} already loaded: clear with content,2"
                )
            if len(self.cas) >= MAX_CAS:
                raise ServiceError(TlsFault.STORE_FULL, f"CA store full ({MAX_CAS})")
            value, name = cert_der(cert), f"ca-{kid}.der"
        else:
            if getattr(self, kind) is not None:
                raise ServiceError(
                    TlsFault.ALREADY_LOADED, f"{kind} already loaded: clear with content,2"
                )
            if kind == "cert":
                value, name = cert_der(parse_cert(data)), "cert.der"
            elif kind == "key":
                value, name = parse_key(data), "key.der"
            else:
                value, name = bytes(data), "auth.bin"
        if self.folder is not None:
            await asyncio.to_thread(self._save, name, value)
        if kind == "ca":
            self.cas[name[3:-4]] = value
        else:
            setattr(self, kind, value)
        self.generation += 1
        return name

    def _save(self, name: str, value: bytes) -> None:
        assert self.folder is not None
        try:
            private_folder(self.folder)
            _write_atomic(self.folder / name, value)
        except OSError as e:
            raise ServiceError(TlsFault.FLASH_WRITE, str(e)) from None

    async def clear(self) -> None:
        if self.folder is not None:
            await asyncio.to_thread(self._clear_files)
        self.cas, self.cert, self.key, self.auth = {}, None, None, None
        self.generation += 1

    def _clear_files(self) -> None:
        assert self.folder is not None
        if not self.folder.is_dir():
            return
        for p in self.folder.iterdir():
            try:
                p.unlink()
            except OSError as e:
                raise ServiceError(TlsFault.FLASH_WRITE, str(e)) from None


def cert_der(cert: Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER)
