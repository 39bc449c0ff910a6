"""Signing with HMAC, Ed25519 and RSA keys as Binance documents it; keys generated here."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from urllib.parse import unquote

import pytest
from fakebinance import new_ed25519_key, new_rsa_key
from helpers import random_secret

from keytrap.verify_signing import (
    ENCRYPTED,
    NEEDS_CRYPTOGRAPHY,
    SigningError,
    hmac_signer,
    is_encrypted,
    private_key_signer,
    rebuild_pem,
)

PAYLOAD = "omitZeroBalances=true&timestamp=1700000000000&recvWindow=5000"


def engine_form(pem: str) -> tuple[str, str]:
    """What the engine keeps of a PEM: the header name and the body with the junk removed."""
    name = re.search(r"-----BEGIN ([A-Z ]+)-----", pem).group(1)  # type: ignore[union-attr]
    body = "".join(ln for ln in pem.splitlines() if not ln.startswith("-----"))
    return name, re.sub(r"[^A-Za-z0-9+/=]", "", body)


def test_hmac_signature_is_the_hex_digest() -> None:
    import hashlib
    import hmac

    secret = random_secret()
    assert hmac_signer(secret).sign(PAYLOAD) == hmac.new(secret.encode(), PAYLOAD.encode(), hashlib.sha256).hexdigest()


def test_ed25519_signature_verifies_and_is_url_encoded() -> None:
    public, pem = new_ed25519_key()
    signer = private_key_signer(*engine_form(pem))
    assert signer.kind == "ed25519"
    sig = signer.sign(PAYLOAD)
    assert re.fullmatch(r"[A-Za-z0-9%]+", sig)  # + / = are percent-encoded
    public.verify(base64.b64decode(unquote(sig)), PAYLOAD.encode())  # type: ignore[attr-defined]


@pytest.mark.parametrize("pkcs1", [False, True])
def test_rsa_pkcs1v15_sha256_signature_verifies(pkcs1: bool) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    public, pem = new_rsa_key(pkcs1)
    name, body = engine_form(pem)
    assert name == ("RSA PRIVATE KEY" if pkcs1 else "PRIVATE KEY")
    signer = private_key_signer(name, body)
    assert signer.kind == "rsa"
    raw = base64.b64decode(unquote(signer.sign(PAYLOAD)))
    public.verify(raw, PAYLOAD.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[attr-defined]


def test_json_escaped_pem_body_is_rebuilt() -> None:
    """freqtrade/ccxt keep the PEM in ``secret`` with ``\\n`` escapes: the engine strips them."""
    from keytrap.engine import scan_bytes

    _public, pem = new_ed25519_key()
    key = random_secret()
    text = '{"exchange": {"name": "binance", "key": "%s", "secret": "%s"}}\n' % (key, pem.replace("\n", "\\n"))
    (pk,) = [f for f in scan_bytes(text.encode(), "config.json") if f.kind == "private_key"]
    assert rebuild_pem(pk.name, pk.secret).decode().strip() == pem.strip()
    assert private_key_signer(pk.name, pk.secret).kind == "ed25519"


def test_encrypted_keys_are_never_guessed() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"correct horse"),
    ).decode()
    name, body = engine_form(pem)
    assert name == "ENCRYPTED PRIVATE KEY" and is_encrypted(name, body)
    with pytest.raises(SigningError, match="encrypted private key"):
        private_key_signer(name, body)
    legacy = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"x"),
    ).decode()
    assert "Proc-Type: 4,ENCRYPTED" in legacy
    with pytest.raises(SigningError) as exc:
        private_key_signer(*engine_form(legacy))
    assert str(exc.value) == ENCRYPTED


def test_unusable_keys_give_a_reason() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(SigningError, match="not an Ed25519 or RSA"):
        private_key_signer(*engine_form(ec_pem))
    with pytest.raises(SigningError, match="could not be read"):
        private_key_signer("PRIVATE KEY", random_secret(120, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789+/"))


def test_missing_cryptography_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for mod in [m for m in sys.modules if m == "cryptography" or m.startswith("cryptography.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "cryptography", None)  # import fails
    with pytest.raises(SigningError) as exc:
        private_key_signer("PRIVATE KEY", "MC4CAQAwBQYDK2VwBCIEI" + "A" * 43)
    assert str(exc.value) == NEEDS_CRYPTOGRAPHY
    assert "pip install 'keytrap[verify]'" in NEEDS_CRYPTOGRAPHY and "\n" not in NEEDS_CRYPTOGRAPHY


def test_signer_repr_hides_the_key() -> None:
    secret = random_secret()
    signer = hmac_signer(secret)
    assert secret not in repr(signer) and repr(signer) == "Signer(hmac)"


def test_hmac_verification_never_imports_cryptography() -> None:
    code = (
        "import sys; from keytrap.verify import verify_pairs;"
        "verify_pairs([('p', 'k' * 64, 's' * 64)], 'http://127.0.0.1:9', timeout=0.5);"
        "print('cryptography' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "False", proc.stderr
