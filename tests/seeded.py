"""What the red-team holdout generators (tests/holdout*.py) share: seeded random material,
the file and truth records, the context registry and the assembly loop.

Each generator subclasses ``SeededGen`` with its own seed salt, so the holdouts never draw the
same keys for the same seed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


class SeededGen:
    SALT = (1, 0)  # seed * SALT[0] + SALT[1]

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed * self.SALT[0] + self.SALT[1])

    def choice(self, seq):  # type: ignore[no-untyped-def]
        return self.rng.choice(seq)

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def alnum(self, n: int) -> str:
        return self.chars(ALNUM, n)

    def hex(self, n: int) -> str:
        return self.chars(HEX, n)

    def raw(self, n: int) -> bytes:
        return self.rng.randbytes(n)

    def b64(self, n: int) -> str:
        return base64.b64encode(self.raw(n)).decode()

    def b64url(self, n: int) -> str:
        return base64.urlsafe_b64encode(self.raw(n)).decode().rstrip("=")

    def uuid(self) -> str:
        return str(uuid.UUID(bytes=self.raw(16), version=4))

    def int(self, a: int, b: int) -> int:
        return self.rng.randrange(a, b)

    def ts(self) -> int:
        return 1_700_000_000_000 + self.rng.randrange(40_000_000_000)

    def key(self) -> str:
        """A Binance HMAC key or secret as the exchange issues them: 64 random [A-Za-z0-9]."""
        while True:
            k = self.alnum(64)
            if any(c.isupper() for c in k) and any(c.islower() for c in k) and any(
                c.isdigit() for c in k
            ):
                return k

    def pair(self) -> tuple[str, str]:
        return self.key(), self.key()

    # -- real key material and signed artefacts, deterministic from the seed
    def ed25519_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519

        key = ed25519.Ed25519PrivateKey.from_private_bytes(self.raw(32))
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def rsa_like_pem(self) -> str:
        """A PKCS#8 RSA-2048 PEM: real DER header, seeded body (the engine never parses DER)."""
        head = bytes.fromhex(
            "308204bd020100300d06092a864886f70d0101010500048204a7308204a302010002820101" "00"
        )
        der = head + self.raw(1217 - len(head))
        body = base64.b64encode(der).decode()
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"

    def jwt(self, payload: dict) -> str:
        def enc(d: dict) -> str:
            return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).decode().rstrip("=")

        return enc({"alg": "RS256", "kid": self.b64url(32)}) + "." + enc(payload) + "." + self.b64url(256)

    def signature(self, secret: str, query: str) -> str:
        return hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------
# what every holdout is made of

DOC_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET_KEY = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

A, S, P = "api_key", "secret_key", "private_key"


@dataclass(frozen=True)
class Truth:
    path: str
    line: int
    kind: str


@dataclass
class HoldoutFile:
    context: str
    path: str
    data: bytes
    positive: bool
    truths: list[Truth] = field(default_factory=list)
    hardness: str = ""  # negatives only: "shape" or "context"
    needles: list[str] = field(default_factory=list, repr=False)


@dataclass
class Spec:
    path: str
    text: str
    marks: list[tuple[str, str]] = field(default_factory=list)  # (needle, kind)


class Registry:
    """The contexts of one holdout: ``@positive(name)`` / ``@negative(name, hardness)``."""

    def __init__(self) -> None:
        self.positives: dict[str, Callable] = {}
        self.negatives: dict[str, tuple[str, Callable]] = {}
        self.needs_crypto: set[str] = set()

    def positive(self, name: str, crypto: bool = False):  # type: ignore[no-untyped-def]
        def deco(fn):  # type: ignore[no-untyped-def]
            assert name not in self.positives
            self.positives[name] = fn
            if crypto:
                self.needs_crypto.add(name)
            return fn

        return deco

    def negative(self, name: str, hardness: str, crypto: bool = False):  # type: ignore[no-untyped-def]
        assert hardness in ("shape", "context")

        def deco(fn):  # type: ignore[no-untyped-def]
            assert name not in self.negatives
            self.negatives[name] = (hardness, fn)
            if crypto:
                self.needs_crypto.add(name)
            return fn

        return deco

    def build(self, g: SeededGen, prefix: str, use_crypto: bool) -> list[HoldoutFile]:
        """Every context once, with fresh secrets drawn from ``g``; paths ``<prefix>NNN/…``."""
        items: list[tuple[str, Callable, bool, str]] = [
            (n, f, True, "") for n, f in self.positives.items()
        ] + [(n, f, False, h) for n, (h, f) in self.negatives.items()]
        files: list[HoldoutFile] = []
        for i, (name, fn, is_pos, hardness) in enumerate(items):
            if name in self.needs_crypto and not use_crypto:
                continue
            spec = fn(g)
            path = f"{prefix}{i:03d}/{spec.path}"
            truths, needles = [], []
            for needle, kind in spec.marks:
                truths.append(Truth(path, line_of(spec.text, needle), kind))
                needles.append(needle)
            files.append(
                HoldoutFile(name, path, spec.text.encode("utf-8"), is_pos, truths, hardness, needles)
            )
        return files


def line_of(text: str, needle: str) -> int:
    idx = text.find(needle)
    if idx < 0:
        raise AssertionError(f"needle not found ({needle[:6]}…)")
    if not needle.startswith("-----BEGIN") and text.find(needle, idx + 1) != -1:
        raise AssertionError("needle occurs more than once")
    return text.count("\n", 0, idx) + 1
