"""WPA2-Enterprise checks the password, the EAP method and the WPAECERT certificates against
the world's RADIUS server, the server's certificate against the module's clock."""

from __future__ import annotations

import time

import pytest
import trustme
from radio_helpers import boot, ok, ssid_config, wind, winds_until  # noqa: F401

DEAUTH_8021X = b"+WIND:40:WiFi Deauthentication:23"


def world(**ap: str) -> str:
    lines = [
        "[[ap]]",
        'ssid = "CorpNet"',
        'security = "wpa2-enterprise"',
        'identities = ["alice"]',
        'eap_passwords = { alice = "s3cret" }',
    ]
    for key, value in ap.items():
        lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def pem(text: bytes) -> str:
    return '"""\n' + text.decode() + '"""'


def join_config(**extra: object) -> dict[str, object]:
    return {
        **ssid_config("CorpNet"),
        "wifi_priv_mode": 3,
        "wifi_eap_identity": "alice",
        "wifi_eap_passwd": "s3cret",
        "wifi_eap_type": 2,
        **extra,
    }


async def refused(m) -> None:
    """Two failed joins in a row: the second surely began after the last change (the first
    may be the attempt that was under way), and neither reached an address."""
    for _ in range(2):
        lines = await winds_until(m, b"+WIND:40:")
        assert lines[-1] == DEAUTH_8021X, lines
        assert not any(line.startswith(b"+WIND:24:") for line in lines), lines


async def upload(m, kind: str, data: bytes) -> None:
    out = await m.cmd(f"AT+S.WPAECERT={kind},{len(data)}", data, echo=False)
    assert out.endswith(b"AT-S.OK\r\n"), out  # the radio's retries may print WINDs before it


async def test_password_checked(boot) -> None:  # noqa: F811
    m = await boot(world(), **join_config())
    await wind(m, b"+WIND:24:WiFi Up:0:")
    bad = await boot(world(), **join_config(wifi_eap_passwd="guess"))
    await refused(bad)


async def test_method_not_offered(boot) -> None:  # noqa: F811
    m = await boot(world(eap_methods="[4]"), **join_config(wifi_eap_type=2))
    await refused(m)
    await ok(m, "AT+S.SCFG=wifi_eap_type,4")  # PEAP-MSCHAPv2: offered; the retry joins
    await wind(m, b"+WIND:24:WiFi Up:0:")


@pytest.fixture
def cas() -> tuple[trustme.CA, trustme.CA]:
    return trustme.CA(), trustme.CA()


async def test_eap_tls_needs_a_certificate_the_server_trusts(boot, cas) -> None:  # noqa: F811
    client_ca, other = cas
    w = world(client_ca=pem(client_ca.cert_pem.bytes()))
    m = await boot(w, **join_config(wifi_eap_type=0))
    await refused(m)  # no WPAECERT Cert and Key yet
    stranger = other.issue_cert("alice")
    await upload(m, "Cert", stranger.cert_chain_pems[0].bytes())
    await upload(m, "Key", stranger.private_key_pem.bytes())
    await refused(m)  # signed by a CA the RADIUS server does not know
    await ok(m, "AT+S.WPAECERT=content,2")
    mine = client_ca.issue_cert("alice")
    await upload(m, "Cert", mine.cert_chain_pems[0].bytes())
    await upload(m, "Key", client_ca.issue_cert("bob").private_key_pem.bytes())
    await refused(m)  # a key that is not the certificate's
    await ok(m, "AT+S.WPAECERT=content,2")
    await upload(m, "Cert", mine.cert_chain_pems[0].bytes())
    await upload(m, "Key", mine.private_key_pem.bytes())
    await wind(m, b"+WIND:24:WiFi Up:0:")


async def station_on(m) -> None:
    """Start joining now that the certificates are in (the module booted idle)."""
    await ok(m, "AT+S.SCFG=wifi_mode,1")
    await ok(m, "AT+S.WIFI=0")
    await ok(m, "AT+S.WIFI=1")


async def test_the_radius_certificate_is_checked_at_the_module_clock(boot, cas) -> None:  # noqa: F811
    radius_ca, _ = cas
    w = world(radius_cert=pem(radius_ca.issue_cert("radius.corp").cert_chain_pems[0].bytes()))
    m = await boot(w, **join_config(wifi_mode=0))
    await upload(m, "Ca", radius_ca.cert_pem.bytes())
    await station_on(m)
    await refused(m)  # the module's clock is 1970: the certificate is not valid yet
    await ok(m, f"AT+S.TIME={int(time.time())}")
    await wind(m, b"+WIND:24:WiFi Up:0:")


async def test_a_radius_certificate_of_another_ca_is_refused(boot, cas) -> None:  # noqa: F811
    radius_ca, other = cas
    w = world(radius_cert=pem(other.issue_cert("radius.corp").cert_chain_pems[0].bytes()))
    m = await boot(w, **join_config(wifi_mode=0))
    await upload(m, "Ca", radius_ca.cert_pem.bytes())
    await ok(m, f"AT+S.TIME={int(time.time())}")
    await station_on(m)
    await refused(m)
    await ok(m, "AT+S.WPAECERT=content,2")  # no CA: the module trusts any RADIUS server
    await wind(m, b"+WIND:24:WiFi Up:0:")


async def test_skip_datechecks_trusts_an_unset_clock(boot, cas) -> None:  # noqa: F811
    radius_ca, _ = cas
    w = world(radius_cert=pem(radius_ca.issue_cert("radius.corp").cert_chain_pems[0].bytes()))
    m = await boot(w, **join_config(wifi_mode=0, wifi_eap_skip_datechecks=1))
    await upload(m, "Ca", radius_ca.cert_pem.bytes())
    await station_on(m)  # the clock is 1970, the certificate's dates are not looked at
    await wind(m, b"+WIND:24:WiFi Up:0:")
