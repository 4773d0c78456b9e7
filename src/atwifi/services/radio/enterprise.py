"""WPA2-Enterprise: what the simulated RADIUS server behind an access point accepts.

The module presents its ``wifi_eap_*`` settings and its WPAECERT certificates
(``EapCredentials``); ``authenticate(ap, creds)`` says whether the AP's RADIUS server lets it
in, and if not, why (for the trace; the dialect prints the 802.1X failure as a WIND). The
server's certificate is checked against the module's own clock, like every TLS peer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atwifi.services.radio.world import AccessPoint

METHODS = {0: "EAP-TLS", 1: "TTLS-MD5", 2: "TTLS-MSCHAPv2", 3: "PEAP-MD5", 4: "PEAP-MSCHAPv2"}


@dataclass(frozen=True)
class EapCredentials:
    identity: str = "identity"
    password: str = "password"
    method: int = 0  # wifi_eap_type
    cert: bytes | None = None  # WPAECERT Cert (DER): EAP-TLS's client certificate
    key: bytes | None = None  # WPAECERT Key (PKCS#8 DER)
    cas: tuple[bytes, ...] = ()  # WPAECERT Ca (DER): who may sign the RADIUS server's
    check_dates: bool = True  # not wifi_eap_skip_datechecks
    now: float = 0.0  # the module's clock (seconds since 1970)


def authenticate(ap: AccessPoint, c: EapCredentials) -> str | None:
    """None when the RADIUS server accepts ``c``; otherwise the reason."""
    method = METHODS.get(c.method, f"EAP method {c.method}")
    if c.method not in ap.eap_methods:
        return f"{ap.ssid}: the RADIUS server does not offer {method}"
    if c.identity not in ap.identities:
        return f"{ap.ssid}: identity {c.identity!r} not accepted"
    why = _server_cert(ap, c)
    if why is not None:
        return why
    if c.method == 0:
        return _client_cert(ap, c)
    want = ap.eap_passwords.get(c.identity)
    if want is not None and want != c.password:
        return f"{ap.ssid}: wrong password for {c.identity!r} ({method})"
    return None


def _server_cert(ap: AccessPoint, c: EapCredentials) -> str | None:
    """The module checks the RADIUS server's certificate when it has a CA to check it with
    (without one it trusts any server, as the firmware does with no WPAECERT Ca)."""
    if not c.cas or not ap.radius_cert:
        return None
    from atwifi.services.tls.verify import parse_cert, to_datetime, verify_peer

    try:
        anchors = [parse_cert(der) for der in c.cas]
        leaf = parse_cert(ap.radius_cert)
        now = to_datetime(c.now) if c.check_dates else leaf.not_valid_before_utc
        verify_peer(ap.radius_cert, anchors, now, name=None, server=True)
    except Exception as e:  # a certificate failure of any kind: the server is not trusted
        return f"{ap.ssid}: the RADIUS server's certificate is not trusted: {e}"
    return None


def _client_cert(ap: AccessPoint, c: EapCredentials) -> str | None:
    if c.cert is None or c.key is None:
        return f"{ap.ssid}: EAP-TLS needs a WPAECERT Cert and Key"
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    from atwifi.services.tls.verify import parse_cert, to_datetime, verify_peer

    try:
        cert = parse_cert(c.cert)
        key = load_der_private_key(c.key, password=None)
    except Exception as e:
        return f"{ap.ssid}: the WPAECERT Cert or Key does not parse: {e}"
    if cert.public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
        return f"{ap.ssid}: the WPAECERT Key does not match its Cert"
    if ap.client_ca:
        try:
            # The RADIUS server checks dates on its own clock: the host's (the world's) time.
            import time

            verify_peer(c.cert, [parse_cert(ap.client_ca)], to_datetime(time.time()), server=False)
        except Exception as e:
            return f"{ap.ssid}: the RADIUS server refuses the module's certificate: {e}"
    return None
