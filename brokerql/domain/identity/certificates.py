"""A6 personal certificate / USB-Key login: the client signs a fresh server challenge.

Registration stores a public key (Ed25519 or ECDSA P-256) as PEM — a bare public key or an X.509
certificate, whose key is used. Login: the server issues a :class:`Challenge`, the client's key
signs :func:`challenge_message` of its nonce, and :func:`verify_challenge_signature` checks it.
Single use of a challenge is the caller's job: delete it when it is verified or expires.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from brokerql.domain.common import Rejection
from brokerql.domain.identity._time import require_aware

SupportedPublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey

CHALLENGE_TTL = timedelta(minutes=2)
# Domain separation: the key signs "this is a BrokerQL login", never bare bytes that some other
# protocol could trick the same USB-Key into signing for a different purpose.
_MESSAGE_PREFIX = b"brokerql-login-v1:"
_P256_RAW_SIGNATURE_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Challenge:
    """A login challenge: 32 random bytes as unpadded base64url, and when it stops being accepted."""

    nonce: str
    expires_at: datetime


def _bad(message: str) -> Rejection:
    return Rejection("BAD_CERTIFICATE", message, "certificate")


def load_public_key(pem: str | bytes, now: datetime | None = None) -> SupportedPublicKey | Rejection:
    """Parse a PEM public key or certificate; anything but Ed25519 or P-256 is BAD_CERTIFICATE.

    With ``now`` given, a certificate outside its validity period is refused as well.
    """
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            cert = x509.load_pem_x509_certificate(data)
            valid_from, valid_to = cert.not_valid_before_utc, cert.not_valid_after_utc
            if now is not None and not (valid_from <= require_aware(now) <= valid_to):
                return _bad("the certificate is not valid at this time")
            key = cert.public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return _bad("not a PEM public key or certificate")
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    return _bad("only Ed25519 and ECDSA P-256 keys are accepted")


def new_challenge(now: datetime, ttl: timedelta = CHALLENGE_TTL) -> Challenge:
    """A fresh challenge that expires ``ttl`` after ``now``."""
    nonce = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return Challenge(nonce=nonce, expires_at=require_aware(now) + ttl)


def challenge_message(nonce: str) -> bytes:
    """The exact bytes a client signs: ``b"brokerql-login-v1:" + nonce`` (nonce as ASCII text)."""
    return _MESSAGE_PREFIX + nonce.encode("ascii")


def _decode_b64(value: str) -> bytes | None:
    """Decode standard or url-safe base64, padded or not; None if it is not base64."""
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def verify_challenge_signature(
    public_key_pem: str | bytes, challenge_nonce: str, signature_b64: str, now: datetime, expires_at: datetime
) -> bool:
    """Whether ``signature_b64`` is the registered key's signature of the challenge, before expiry.

    Ed25519 signatures are the raw 64 bytes. ECDSA P-256 signatures are over SHA-256, DER-encoded
    (what OpenSSL and ``cryptography`` produce) or raw ``r || s`` (what WebCrypto produces).
    Returns False for anything wrong — expired, malformed, wrong key or wrong nonce — never raises.
    """
    if require_aware(now) >= expires_at:
        return False
    key = load_public_key(public_key_pem)
    signature = _decode_b64(signature_b64)
    if isinstance(key, Rejection) or signature is None:
        return False
    try:
        message = challenge_message(challenge_nonce)
    except UnicodeEncodeError:
        return False
    try:
        if isinstance(key, Ed25519PublicKey):
            key.verify(signature, message)
        else:
            if len(signature) == _P256_RAW_SIGNATURE_LENGTH:
                half = _P256_RAW_SIGNATURE_LENGTH // 2
                r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
                signature = encode_dss_signature(r, s)
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True
