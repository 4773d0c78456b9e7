"""Certificate checks against a given module time; reasons read as the SPWF04's Table 13."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import trustme
from cryptography import x509

from atwifi.services.errors import ServiceError
from atwifi.services.tls import CertError, CertReason, CertStore, TlsFault, TlsService, verify_peer
from atwifi.services.tls.verify import parse_cert
from atwifi.spwf04.commands.tls import TABLE13
from harness import spwf04_number

NOW = datetime.now(UTC)


def _der(leaf: trustme.LeafCert) -> bytes:
    pem = leaf.cert_chain_pems[0].bytes()
    return parse_cert(pem).public_bytes(
        __import__("cryptography").hazmat.primitives.serialization.Encoding.DER
    )


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def anchors(*cas: trustme.CA) -> list[x509.Certificate]:
    return [parse_cert(c.cert_pem.bytes()) for c in cas]


def code(fn, *a, **kw) -> int:
    with pytest.raises(CertError) as e:
        fn(*a, **kw)
    return TABLE13[e.value.reason]


def test_good_server_cert(ca):
    leaf = ca.issue_cert("example.test")
    verify_peer(_der(leaf), anchors(ca), NOW, name="example.test")


def test_ip_name(ca):
    leaf = ca.issue_cert("127.0.0.1")
    verify_peer(_der(leaf), anchors(ca), NOW, name="127.0.0.1")
    assert code(verify_peer, _der(leaf), anchors(ca), NOW, name="127.0.0.2") == 5


def test_unknown_ca(ca):
    other = trustme.CA()
    leaf = other.issue_cert("example.test")
    assert code(verify_peer, _der(leaf), anchors(ca), NOW, name="example.test") == 23
    assert code(verify_peer, _der(leaf), [], NOW, name="example.test") == 23


def test_name_mismatch(ca):
    leaf = ca.issue_cert("example.test")
    assert code(verify_peer, _der(leaf), anchors(ca), NOW, name="other.test") == 5


def test_wildcard_mismatch(ca):
    leaf = ca.issue_cert("*.example.test")
    verify_peer(_der(leaf), anchors(ca), NOW, name="a.example.test")
    assert code(verify_peer, _der(leaf), anchors(ca), NOW, name="a.b.example.test") == 4
    assert code(verify_peer, _der(leaf), anchors(ca), NOW, name="example.test") == 4


def test_expired_and_not_yet_valid(ca):
    old = ca.issue_cert(
        "example.test", not_before=NOW - timedelta(days=30), not_after=NOW - timedelta(days=1)
    )
    assert code(verify_peer, _der(old), anchors(ca), NOW, name="example.test") == 21
    # The same certificate is fine for a module whose clock says it is still valid.
    verify_peer(_der(old), anchors(ca), NOW - timedelta(days=10), name="example.test")


def test_unset_clock_1970(ca):
    leaf = ca.issue_cert("example.test")
    epoch = datetime.fromtimestamp(0, UTC)
    assert code(verify_peer, _der(leaf), anchors(ca), epoch, name="example.test") == 21


def test_empty_and_garbage():
    assert code(verify_peer, b"", [], NOW, name="x") == 2
    assert code(verify_peer, b"\x30\x03abc", [], NOW, name="x") == 3


def test_same_name_different_key(ca):
    # A CA with the same subject name but another key: key ids differ -> 15.
    leaf = ca.issue_cert("example.test")
    impostor = trustme.CA()
    real = parse_cert(ca.cert_pem.bytes())
    fake = _reissue_with_name(impostor, real.subject)
    assert code(verify_peer, _der(leaf), [fake], NOW, name="example.test") == 15


def _reissue_with_name(ca: trustme.CA, name: x509.Name) -> x509.Certificate:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(ca.private_key_pem.bytes(), None)
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    return b.sign(key, hashes.SHA256())


def test_client_usage(ca):
    leaf = ca.issue_cert("client.test")
    # trustme leaves carry serverAuth and clientAuth: good as both.
    verify_peer(_der(leaf), anchors(ca), NOW, name=None, server=False)


async def test_store_roundtrip(tmp_path, ca):
    store = CertStore(tmp_path / "tls")
    leaf = ca.issue_cert("device.test")
    await store.add("Ca", ca.cert_pem.bytes())
    await store.add("cert", leaf.cert_chain_pems[0].bytes())
    await store.add("KEY", leaf.private_key_pem.bytes())
    await store.add("Auth", b"C07A98688D89FBAB05640C117DAA7D65B8CACC4E")
    lines = store.listing()
    assert [ln.split(":")[1] for ln in lines] == ["Ca", "Cert", "Key", "Auth"]
    again = CertStore(tmp_path / "tls")
    again.load_saved()
    assert again.cas == store.cas and again.cert == store.cert and again.key == store.key
    with pytest.raises(ServiceError) as e:
        await store.add("cert", leaf.cert_chain_pems[0].bytes())
    assert e.value.kind is TlsFault.ALREADY_LOADED and spwf04_number(e.value) == 101
    with pytest.raises(CertError) as ce:
        await store.add("ca", b"not a certificate")
    assert ce.value.reason is CertReason.PARSE and TABLE13[ce.value.reason] == 3
    await store.clear()
    assert store.empty()
    again.load_saved()
    assert again.empty()


async def test_fs_fallback_by_authority_key_id(ca):
    files: dict[str, bytes] = {}

    async def read(name: str) -> bytes:
        return files[name]

    svc = TlsService(None, now=lambda: NOW.timestamp(), read_file=read)
    leaf = ca.issue_cert("example.test")
    with pytest.raises(CertError) as e:
        await svc.verify_server(_der(leaf), "example.test")
    assert TABLE13[e.value.reason] == 23
    real = parse_cert(ca.cert_pem.bytes())
    ski = real.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    files[f"{ski.hex().upper()}.ca"] = ca.cert_pem.bytes()
    await svc.verify_server(_der(leaf), "example.test")
    # the module's own certificate from tls.cert / tls.key
    assert await svc.own_cert() is None
    files["tls.cert"] = leaf.cert_chain_pems[0].bytes()
    files["tls.key"] = leaf.private_key_pem.bytes()
    assert await svc.own_cert() is not None
