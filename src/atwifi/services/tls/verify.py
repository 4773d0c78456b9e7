"""Certificate checks against the MODULE's clock, each failure with its reason.

Python's ``ssl`` can only check dates against the host's clock, and a module whose clock was
never set lives in 1970. So the TLS layer runs the handshake without verification and this
module checks the peer's leaf certificate itself, with ``cryptography``:

  parse (NULL_CERT, PARSE) -> find the issuing CA among the trust anchors (UNKNOWN_CA,
  NO_SKI, SKI_MISMATCH, AKI_PARSE) -> signature (BAD_SIGNATURE, SIG_PARSE, UNSUPPORTED)
  -> validity window at ``now`` (EXPIRED, NOT_YET_VALID) -> key usage of the leaf
  (KEY_USAGE) and of the CA (CA_KEY_USAGE), CA basic constraints (BASIC_CONSTRAINTS)
  -> name against SAN DNS/IP entries, else the CN (NAME, or NAME_WILDCARD when a wildcard
  was tried).

Every loaded CA is a trust anchor (a small module store: an intermediate loaded as ``Ca``
anchors the chain too). A dialect words the reasons (the SPWF04: Table 13, in
spwf04/commands/tls.py).
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING

from atwifi.services.errors import ServiceError

if TYPE_CHECKING:
    from cryptography.x509 import Certificate


class TlsFault(Enum):
    CERTIFICATE = "certificate"  # a certificate failed a check: info["reason"] says which
    BAD_KIND = "bad kind"  # a store item kind that does not exist
    ALREADY_LOADED = "already loaded"  # the store holds that item (clear it first)
    STORE_FULL = "store full"  # no room for another CA
    FLASH_WRITE = "flash write"  # saving the store failed


class CertReason(Enum):
    """Why a certificate is refused."""

    NULL_CERT = "null"  # no certificate, or zero bytes
    PARSE = "parse"  # unreadable certificate (or key)
    NAME_WILDCARD = "name wildcard"  # the name matches no entry; a wildcard was tried
    NAME = "name"  # the name is not in the certificate
    KEY_USAGE = "key usage"  # the leaf's (extended) key usage forbids this use
    AKI_PARSE = "aki parse"  # a malformed AuthorityKeyIdentifier
    BAD_SIGNATURE = "bad signature"
    SIG_PARSE = "signature parse"
    NO_SKI = "no ski"  # the CA has no SubjectKeyIdentifier
    SKI_MISMATCH = "ski mismatch"  # the CA's SubjectKeyId is not the leaf's AuthorityKeyId
    CA_KEY_USAGE = "ca key usage"  # the CA may not sign certificates
    BASIC_CONSTRAINTS = "basic constraints"  # the anchor is no CA
    UNSUPPORTED = "unsupported"  # an algorithm the checks do not know
    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"
    UNSPECIFIED = "unspecified"
    UNKNOWN_CA = "unknown ca"  # no loaded CA issued it


class CertError(ServiceError):
    """A certificate failure: ``ServiceError(TlsFault.CERTIFICATE, detail, reason=...)``."""

    def __init__(self, reason: CertReason, detail: str = "") -> None:
        super().__init__(TlsFault.CERTIFICATE, detail, reason=reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"certificate {self.reason.value}" + (f" ({self.detail})" if self.detail else "")


def parse_cert(data: bytes) -> Certificate:
    """A certificate from PEM or DER bytes; CertError NULL_CERT if empty, PARSE if unreadable."""
    from cryptography import x509

    if not data:
        raise CertError(CertReason.NULL_CERT, "empty certificate")
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as e:
        raise CertError(CertReason.PARSE, str(e)) from None


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
    """The AuthorityKeyIdentifier's key id; CertError AKI_PARSE if the extension is malformed."""
    from cryptography import x509

    try:
        ext = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound:
        return None
    except ValueError as e:
        raise CertError(CertReason.AKI_PARSE, str(e)) from None
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
        # Its own reason: the SPWF04 words it as EXPIRED (Table 13 has no "not yet
        # valid"), which is what a module with an unset clock (1970) shows.
        raise CertError(
            CertReason.NOT_YET_VALID,
            f"{what} not valid before {start:%Y-%m-%d}, module time {now:%Y-%m-%d}",
        )
    if now > end:
        raise CertError(
            CertReason.EXPIRED, f"{what} expired {end:%Y-%m-%d}, module time {now:%Y-%m-%d}"
        )


def find_issuer(leaf: Certificate, anchors: list[Certificate]) -> Certificate:
    """The anchor that issued ``leaf``: same name as the leaf's issuer and, when the leaf says
    which key signed it (AuthorityKeyId), the same SubjectKeyId."""
    aki = authority_key_id(leaf)
    by_name = [ca for ca in anchors if ca.subject == leaf.issuer]
    if not by_name:
        if aki is not None and any(key_id(ca) == aki for ca in anchors):
            # Right key, different name: not the issuer the leaf claims.
            raise CertError(
                CertReason.UNKNOWN_CA, "issuer name does not match the CA with that key id"
            )
        raise CertError(CertReason.UNKNOWN_CA, f"no loaded CA named {leaf.issuer.rfc4514_string()}")
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
        raise CertError(CertReason.NO_SKI, "CA has no SubjectKeyId extension")
    raise CertError(
        CertReason.SKI_MISMATCH, "SubjectKeyId of the CA does not match the AuthorityKeyId"
    )


def check_signature(leaf: Certificate, ca: Certificate) -> None:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

    try:
        leaf.verify_directly_issued_by(ca)
    except InvalidSignature:
        raise CertError(
            CertReason.BAD_SIGNATURE, "signature does not verify with the CA key"
        ) from None
    except UnsupportedAlgorithm as e:
        raise CertError(CertReason.UNSUPPORTED, str(e)) from None
    except TypeError as e:  # a CA key type that cannot sign certificates
        raise CertError(CertReason.UNSUPPORTED, str(e)) from None
    except ValueError as e:  # issuer/subject or signature algorithm mismatch
        raise CertError(CertReason.SIG_PARSE, str(e)) from None


def check_ca(ca: Certificate) -> None:
    from cryptography import x509

    try:
        bc = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
        if not bc.ca:
            raise CertError(CertReason.BASIC_CONSTRAINTS, "anchor is not a CA (basicConstraints)")
    except x509.ExtensionNotFound:
        pass  # v1 roots carry no extensions; a module accepts them
    try:
        ku = ca.extensions.get_extension_for_class(x509.KeyUsage).value
        if not ku.key_cert_sign:
            raise CertError(CertReason.CA_KEY_USAGE, "CA key usage lacks keyCertSign")
    except x509.ExtensionNotFound:
        pass


def check_leaf_usage(leaf: Certificate, server: bool) -> None:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    try:
        ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        if not (ku.digital_signature or ku.key_encipherment or ku.key_agreement):
            raise CertError(CertReason.KEY_USAGE, "key usage permits no TLS key exchange")
    except x509.ExtensionNotFound:
        pass
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    want = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    if want not in eku and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku:
        raise CertError(CertReason.KEY_USAGE, f"extended key usage lacks {want._name}")


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
        raise CertError(CertReason.NAME, f"{name} is not in the certificate")
    if any(_dns_match(p, name) for p in dns):
        return
    wildcard = any(p.startswith("*") for p in dns)
    raise CertError(
        CertReason.NAME_WILDCARD if wildcard else CertReason.NAME,
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
    """Check a peer's leaf certificate; returns it parsed, raises CertError with the reason.

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
