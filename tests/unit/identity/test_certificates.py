"""A6 certificate / USB-Key login: challenge signing with Ed25519 and ECDSA P-256."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from brokerql.domain.common import Rejection
from brokerql.domain.identity.certificates import (
    challenge_message,
    load_public_key,
    new_challenge,
    verify_challenge_signature,
)

from .conftest import T0


def _pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(private_key, nonce: str) -> bytes:
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(challenge_message(nonce))
    return private_key.sign(challenge_message(nonce), ec.ECDSA(hashes.SHA256()))


KEYS = {
    "ed25519": ed25519.Ed25519PrivateKey.generate(),
    "p256": ec.generate_private_key(ec.SECP256R1()),
}


def test_new_challenge() -> None:
    a, b = new_challenge(T0), new_challenge(T0)
    assert a.nonce != b.nonce
    assert len(base64.urlsafe_b64decode(a.nonce + "=")) == 32
    assert a.expires_at == T0 + timedelta(minutes=2)


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_signature_verifies(kind: str) -> None:
    key = KEYS[kind]
    challenge = new_challenge(T0)
    signature = _b64(_sign(key, challenge.nonce))
    assert verify_challenge_signature(_pem(key), challenge.nonce, signature, T0, challenge.expires_at)
    # Standard (padded) base64 is accepted too.
    padded = base64.b64encode(_sign(key, challenge.nonce)).decode()
    assert verify_challenge_signature(_pem(key), challenge.nonce, padded, T0, challenge.expires_at)


def test_p256_raw_r_s_signature_from_webcrypto() -> None:
    key = KEYS["p256"]
    challenge = new_challenge(T0)
    r, s = decode_dss_signature(_sign(key, challenge.nonce))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert verify_challenge_signature(_pem(key), challenge.nonce, _b64(raw), T0, challenge.expires_at)


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_wrong_nonce_expired_wrong_key_rejected(kind: str) -> None:
    key = KEYS[kind]
    challenge, other = new_challenge(T0), new_challenge(T0)
    signature = _b64(_sign(key, challenge.nonce))
    pem = _pem(key)
    assert not verify_challenge_signature(pem, other.nonce, signature, T0, challenge.expires_at)
    assert not verify_challenge_signature(pem, challenge.nonce, signature, challenge.expires_at, challenge.expires_at)
    other_key = ed25519.Ed25519PrivateKey.generate() if kind == "p256" else ec.generate_private_key(ec.SECP256R1())
    assert not verify_challenge_signature(_pem(other_key), challenge.nonce, signature, T0, challenge.expires_at)
    assert not verify_challenge_signature(pem, challenge.nonce, "%%%not base64", T0, challenge.expires_at)
    assert not verify_challenge_signature(pem, challenge.nonce, "", T0, challenge.expires_at)


def test_signature_over_bare_nonce_is_rejected() -> None:
    key = KEYS["ed25519"]
    challenge = new_challenge(T0)
    bare = _b64(key.sign(challenge.nonce.encode()))  # no domain-separation prefix
    assert not verify_challenge_signature(_pem(key), challenge.nonce, bare, T0, challenge.expires_at)


def test_load_public_key_accepts_only_ed25519_and_p256() -> None:
    assert isinstance(load_public_key(_pem(KEYS["ed25519"])), ed25519.Ed25519PublicKey)
    assert isinstance(load_public_key(_pem(KEYS["p256"]).encode()), ec.EllipticCurvePublicKey)
    for other in (ec.generate_private_key(ec.SECP384R1()), rsa.generate_private_key(65537, 2048)):
        rejected = load_public_key(_pem(other))
        assert isinstance(rejected, Rejection) and rejected.code == "BAD_CERTIFICATE"
    garbage = load_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    assert isinstance(garbage, Rejection) and garbage.code == "BAD_CERTIFICATE"
    assert isinstance(load_public_key("hello"), Rejection)


def test_rsa_key_cannot_log_in() -> None:
    rsa_key = rsa.generate_private_key(65537, 2048)
    challenge = new_challenge(T0)
    assert not verify_challenge_signature(_pem(rsa_key), challenge.nonce, _b64(b"x" * 256), T0, challenge.expires_at)


def _certificate(key, not_before, not_after) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gold001")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_x509_certificate_key_and_validity() -> None:
    key = KEYS["ed25519"]
    pem = _certificate(key, T0 - timedelta(days=1), T0 + timedelta(days=365))
    assert isinstance(load_public_key(pem, now=T0), ed25519.Ed25519PublicKey)
    expired = load_public_key(pem, now=T0 + timedelta(days=400))
    assert isinstance(expired, Rejection) and expired.code == "BAD_CERTIFICATE"
    challenge = new_challenge(T0)
    signature = _b64(_sign(key, challenge.nonce))
    assert verify_challenge_signature(pem, challenge.nonce, signature, T0, challenge.expires_at)
