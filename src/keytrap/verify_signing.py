"""Signing the verification request: HMAC-SHA256, Ed25519, or RSA (PKCS#1 v1.5 with SHA-256).

Binance signs the exact query string (``totalParams``):

* HMAC key + secret: the lower-case hex HMAC-SHA256 of the query, keyed by the secret;
* Ed25519 private key: the Ed25519 signature of the query, base64-encoded, then
  percent-encoded as the ``signature`` value;
* RSA private key: RSASSA-PKCS1-v1_5 with SHA-256 over the query, base64, percent-encoded.

Only the signature leaves the process; a ``Signer`` keeps its key out of ``repr``.

The engine stores a private key as its PEM *body* (base64 with line breaks, ``\\n`` escapes and
other junk removed) and its header name (``PRIVATE KEY``, ``RSA PRIVATE KEY``,
``ENCRYPTED PRIVATE KEY``). ``rebuild_pem`` turns that back into a loadable PEM.

``cryptography`` is imported here only, and only when an Ed25519/RSA pair is verified: it is an
optional extra (``pip install 'keytrap[verify]'``). HMAC pairs need nothing but the stdlib.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote

#: What a missing ``cryptography`` package is reported as (one line, with the fix).
NEEDS_CRYPTOGRAPHY = (
    "signing with an Ed25519/RSA private key needs the 'cryptography' package: "
    "pip install 'keytrap[verify]'"
)
ENCRYPTED = "encrypted private key (keytrap never guesses passwords)"


class SigningError(Exception):
    """The request cannot be signed; ``str(exc)`` is a short, secret-free reason."""


class Signer:
    """Signs query strings with one credential. Holds key material: never printed."""

    __slots__ = ("kind", "_sign")

    def __init__(self, kind: str, sign) -> None:  # sign: Callable[[bytes], str]
        self.kind = kind  # hmac | ed25519 | rsa
        self._sign = sign

    def sign(self, payload: str) -> str:
        """The ``signature`` parameter value for ``payload``, ready to put in a URL."""
        return self._sign(payload.encode("ascii"))

    def __repr__(self) -> str:
        return f"Signer({self.kind})"


def hmac_hex(payload: str, secret: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def hmac_signer(secret: str) -> Signer:
    key = secret.encode()
    return Signer("hmac", lambda data: hmac.new(key, data, hashlib.sha256).hexdigest())


def rebuild_pem(name: str, body: str) -> bytes:
    """A PEM block from a header name and a base64 body, wrapped at 64 columns."""
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (f"-----BEGIN {name}-----\n" + "\n".join(lines) + f"\n-----END {name}-----\n").encode("ascii")


def is_encrypted(name: str, body: str) -> bool:
    """PKCS#8 ``ENCRYPTED PRIVATE KEY``, or a legacy OpenSSL PEM with ``Proc-Type: 4,ENCRYPTED``
    (the engine keeps the header's letters and digits at the start of the body)."""
    return "ENCRYPTED" in name.upper() or body.startswith(("ProcType4ENCRYPTED", "DEKInfo"))


def _url_b64(raw: bytes) -> str:
    return quote(base64.b64encode(raw).decode("ascii"), safe="")


def private_key_signer(name: str, body: str) -> Signer:
    """A signer for an Ed25519 or RSA private key (PKCS#8 or PKCS#1). Raises SigningError."""
    if is_encrypted(name, body):
        raise SigningError(ENCRYPTED)
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
    except ImportError:
        raise SigningError(NEEDS_CRYPTOGRAPHY) from None
    try:
        key = serialization.load_pem_private_key(rebuild_pem(name, body), password=None)
    except TypeError:  # "password was not given but private key is encrypted"
        raise SigningError(ENCRYPTED) from None
    except (ValueError, UnicodeError):
        raise SigningError("the private key could not be read (truncated or not a key)") from None
    except Exception as exc:  # cryptography's UnsupportedAlgorithm and friends
        raise SigningError(f"the private key could not be read ({type(exc).__name__})") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Signer("ed25519", lambda data: _url_b64(key.sign(data)))
    if isinstance(key, rsa.RSAPrivateKey):
        return Signer(
            "rsa", lambda data: _url_b64(key.sign(data, padding.PKCS1v15(), hashes.SHA256()))
        )
    raise SigningError("not an Ed25519 or RSA private key: Binance accepts no other kind")
