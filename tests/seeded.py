"""Seeded random material shared by the red-team holdout generators (tests/holdout*.py).

Each generator subclasses ``SeededGen`` with its own seed salt, so the holdouts never draw the
same keys for the same seed.
"""

from __future__ import annotations

import base64
import random
import string
import uuid

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
