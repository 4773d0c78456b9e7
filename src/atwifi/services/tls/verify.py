"""Certificate checks against the MODULE's clock, with the module's own error numbers.

Python's ``ssl`` can only check dates against the host's clock, and a module whose clock was
never set lives in 1970. So the TLS layer runs the handshake without verification and this
module checks the peer's leaf certificate itself, with ``cryptography``:

  parse (2, 3) -> find the issuing CA among the trust anchors (23, 13-15, 7/18)
  -> signature (10, 11, 19) -> validity window at ``now`` (21, also for "not yet valid")
  -> key usage of the leaf (6) and of the CA (16), CA basic constraints (17)
  -> name against SAN DNS/IP entries, else the CN (5, or 4 when a wildcard was tried).

Every loaded CA is a trust anchor (a small module store: an intermediate loaded as ``Ca``
anchors the chain too). Numbers are those of the manual's Table 13 (AT-S.Certificate Error).
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.x509 import Certificate


class CertError(Exception):
    """A Table 13 failure: printed as ``AT-S.Certificate Error:<number>``."""

    def __init__(self, number: int, detail: str = "") -> None:
        super().__init__(number, detail)
        self.number = number
        self.detail = detail

    def __str__(self) -> str:
        return f"certificate error {self.number}" + (f" ({self.detail})" if self.detail else "")

    @property
    def line(self) -> str:
        return f"AT-S.Certificate Error:{self.number}"


# Table 13 numbers used here, named.
NULL_CERT = 2
PARSE = 3
NAME_WILDCARD = 4
NAME = 5
KEY_USAGE = 6
AKI_PARSE = 7
BAD_SIGNATURE = 10
SIG_PARSE = 11
NO_SKI = 13
SKI_MISMATCH = 15
CA_KEY_USAGE = 16
BASIC_CONSTRAINTS = 17
UNSUPPORTED = 19
EXPIRED = 21
UNSPECIFIED = 22
UNKNOWN_CA = 23


def parse_cert(data: bytes) -> Certificate:
    """A certificate from PEM or DER bytes; CertError(2) if empty, CertError(3) if unreadable."""
    from cryptography import x509

    if not data:
        raise CertError(NULL_CERT, "empty certificate")
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as e:
        raise CertError(PARSE, str(e)) from None


def key_id(cert: Certificate) -> bytes | None:
    """The SubjectKeyIdentifier, None if the certificate has none."""
    from cryptography import x509

    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None
    except ValueError:
        return None


def authority_key_id(cert: Certificate) -> bytes | None:
    """The AuthorityKeyIdentifier's key id; CertError(7) if the extension is malformed."""
    from cryptography import x509

    try:
        ext = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound:
        return None
    except ValueError as e:
        raise CertError(AKI_PARSE, str(e)) from None
    return ext.value.key_identifier


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _validity(cert: Certificate) -> tuple[datetime, datetime]:
    try:
        return cert.not_valid_before_utc, cert.not_valid_after_utc
    except AttributeError:  # cryptography < 42
        return _utc(cert.not_valid_before), _utc(cert.not_valid_after)


def check_dates(cert: Certificate, now: datetime, what: str) -> None:
    start, end = _validity(cert)
    if now < start:
        # Table 13 has no "not yet valid": the module reports 21 for both, which is what a
        # module with an unset clock (1970) shows.
        raise CertError(
            EXPIRED, f"{what} not valid before {start:%Y-%m-%d}, module time {now:%Y-%m-%d}"
        )
    if now > end:
        raise CertError(EXPIRED, f"{what} expired {end:%Y-%m-%d}, module time {now:%Y-%m-%d}")


def find_issuer(leaf: Certificate, anchors: list[Certificate]) -> Certificate:
    """The anchor that issued ``leaf``: same name as the leaf's issuer and, when the leaf says
    which key signed it (AuthorityKeyId), the same SubjectKeyId."""
    aki = authority_key_id(leaf)
    by_name = [ca for ca in anchors if ca.subject == leaf.issuer]
    if not by_name:
        if aki is not None and any(key_id(ca) == aki for ca in anchors):
            # Right key, different name: not the issuer the leaf claims.
            raise CertError(UNKNOWN_CA, "issuer name does not match the CA with that key id")
        raise CertError(UNKNOWN_CA, f"no loaded CA named {leaf.issuer.rfc4514_string()}")
    if aki is None:
        # No key id to tell same-named CAs apart: the one whose key verifies the signature.
        for ca in by_name[1:]:
            try:
                check_signature(leaf, ca)
            except CertError:
                continue
            return ca
        return by_name[0]
    for ca in by_name:
        if key_id(ca) == aki:
            return ca
    if all(key_id(ca) is None for ca in by_name):
        raise CertError(NO_SKI, "CA has no SubjectKeyId extension")
    raise CertError(SKI_MISMATCH, "SubjectKeyId of the CA does not match the AuthorityKeyId")


def check_signature(leaf: Certificate, ca: Certificate) -> None:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

    try:
        leaf.verify_directly_issued_by(ca)
    except InvalidSignature:
        raise CertError(BAD_SIGNATURE, "signature does not verify with the CA key") from None
    except UnsupportedAlgorithm as e:
        raise CertError(UNSUPPORTED, str(e)) from None
    except TypeError as e:  # a CA key type that cannot sign certificates
        raise CertError(UNSUPPORTED, str(e)) from None
    except ValueError as e:  # issuer/subject or signature algorithm mismatch
        raise CertError(SIG_PARSE, str(e)) from None


def check_ca(ca: Certificate) -> None:
    from cryptography import x509

    try:
        bc = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
        if not bc.ca:
            raise CertError(BASIC_CONSTRAINTS, "anchor is not a CA (basicConstraints)")
    except x509.ExtensionNotFound:
        pass  # v1 roots carry no extensions; a module accepts them
    try:
        ku = ca.extensions.get_extension_for_class(x509.KeyUsage).value
        if not ku.key_cert_sign:
            raise CertError(CA_KEY_USAGE, "CA key usage lacks keyCertSign")
    except x509.ExtensionNotFound:
        pass


def check_leaf_usage(leaf: Certificate, server: bool) -> None:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    try:
        ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        if not (ku.digital_signature or ku.key_encipherment or ku.key_agreement):
            raise CertError(KEY_USAGE, "key usage permits no TLS key exchange")
    except x509.ExtensionNotFound:
        pass
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    want = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    if want not in eku and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku:
        raise CertError(KEY_USAGE, f"extended key usage lacks {want._name}")


def _dns_match(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        # A wildcard covers exactly one left-most label.
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name


def check_name(leaf: Certificate, name: str) -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        ip = None
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = san.get_values_for_type(x509.DNSName)
        ips = san.get_values_for_type(x509.IPAddress)
    except x509.ExtensionNotFound:
        dns = [a.value for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        dns = [d if isinstance(d, str) else d.decode("latin-1") for d in dns]
        ips = []
    if ip is not None:
        if ip in ips or str(ip) in dns:
            return
        raise CertError(NAME, f"{name} is not in the certificate")
    if any(_dns_match(p, name) for p in dns):
        return
    wildcard = any(p.startswith("*") for p in dns)
    raise CertError(
        NAME_WILDCARD if wildcard else NAME,
        f"{name} does not match {', '.join(dns) or 'no name'}",
    )


def to_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def verify_peer(
    leaf_data: bytes | None,
    anchors: list[Certificate],
    now: datetime,
    name: str | None = None,
    server: bool = True,
) -> Certificate:
    """Check a peer's leaf certificate; returns it parsed, raises CertError with Table 13's number.

    ``name`` is the expected server name (None for a client certificate); ``server`` picks the
    extended key usage wanted (serverAuth or clientAuth).
    """
    leaf = parse_cert(leaf_data or b"")
    ca = find_issuer(leaf, anchors)
    check_signature(leaf, ca)
    check_dates(leaf, now, "certificate")
    check_dates(ca, now, "CA certificate")
    check_ca(ca)
    check_leaf_usage(leaf, server)
    if name is not None:
        check_name(leaf, name)
    return leaf
