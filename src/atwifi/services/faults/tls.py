"""What a TLS verification sees under a ``tls_cert`` fault.

* ``unknown``: a freshly made self-signed certificate for the server's name (valid at the
  module's time) instead of the server's own: the verification finds no CA that issued it;
* ``expired``: the server's own certificate, checked one day after its notAfter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
from collections.abc import Callable


def _self_signed(name: str, now: dt.datetime) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name or "atwifi-fault")])
    try:
        san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        san = x509.DNSName(name or "atwifi-fault")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([san]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


async def bad_view(
    fault: tuple[int, str],
    der: bytes | None,
    name: str,
    now: dt.datetime,
    note: Callable[[str], None],
) -> tuple[bytes | None, dt.datetime | None]:
    """(certificate DER, time to check at) for the verification to see."""
    rule_id, kind = fault
    if kind == "unknown":
        note(f"fault #{rule_id} tls_cert: {name} presents a self-signed certificate")
        return await asyncio.to_thread(_self_signed, name, now), None
    from cryptography import x509

    if not der:
        return der, None
    cert = x509.load_der_x509_certificate(der)
    when = cert.not_valid_after_utc + dt.timedelta(days=1)
    note(f"fault #{rule_id} tls_cert: {name}'s certificate checked at {when:%Y-%m-%d} (expired)")
    return der, when
