"""Adversarial inputs for the engine: each one drives a stage that was once superlinear.

``CASES[name](n, rng)`` returns ``(path, data)`` of about ``n`` bytes. Shared by the linearity
tests (tests/test_linear.py) and the timed table (bench/bench_adversarial.py). Every token is
drawn at run time from ``rng``: no key-shaped literal is stored.
"""

from __future__ import annotations

import base64
import random
import string
from collections.abc import Callable

ALNUM = string.ascii_letters + string.digits
ED25519_PREFIX = "MC4CAQAwBQYDK2VwBCIEI"


def token(rng: random.Random) -> str:
    """A key-shaped 64-character token that passes the value filters (mixed, no repeats)."""
    while True:
        t = "".join(rng.choice(ALNUM) for _ in range(64))
        if any(c.isdigit() for c in t) and any(c.isupper() for c in t) and any(c.islower() for c in t):
            return t


def _tokens(n: int, rng: random.Random, per: int) -> list[str]:
    return [token(rng) for _ in range(max(1, n // per))]


def _pem(rng: random.Random) -> str:
    body = base64.b64encode(bytes.fromhex("302e020100300506032b657004220420") + rng.randbytes(32)).decode()
    return f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"


def _nest(text: str, depth: int) -> str:
    """base64 of base64 of … ``text``: up to ``engine.MAX_NESTING`` levels are decoded."""
    for _ in range(depth):
        text = base64.b64encode(text.encode()).decode()
    return text


Case = Callable[[int, random.Random], "tuple[str, bytes]"]

CASES: dict[str, Case] = {
    # PEM: a lazy 16 KB window per BEGIN with no END; many ENDs; many keys to link
    "pem_begins_no_end": lambda n, rng: ("k.pem", b"-----BEGIN PRIVATE KEY-----\n" * (n // 28)),
    "pem_begins_mixed_labels": lambda n, rng: ("k.pem", b"-----BEGIN RSA PRIVATE KEY-----\n-----BEGIN PRIVATE KEY-----\n"
                                               b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" * (n // 100)),
    "pem_ends": lambda n, rng: ("k.pem", b"-----END PRIVATE KEY-----\n" * (n // 26)),
    "pem_blocks_and_keys": lambda n, rng: ("binance.txt", "".join(
        f"api_key={token(rng)}\n{_pem(rng)}" for _ in range(max(1, n // 200))).encode()),
    # tokens: one a line (body_block looked 128 lines around each), after blank lines, one line
    "tokens_one_per_line": lambda n, rng: ("t.txt", "\n".join(_tokens(n, rng, 65)).encode()),
    "tokens_blank_lines": lambda n, rng: ("t.txt", "\n\n\n\n".join(_tokens(n, rng, 68)).encode()),
    "tokens_one_line": lambda n, rng: ("t.txt", " ".join(_tokens(n, rng, 65)).encode()),
    "tokens_cr_only": lambda n, rng: ("t.txt", "\r".join(_tokens(n, rng, 65)).encode()),
    "base64_body_lines": lambda n, rng: ("t.txt", "\n".join(
        base64.b64encode(rng.randbytes(48)).decode() for _ in range(n // 65)).encode()),
    "tokens_between_body_lines": lambda n, rng: ("t.txt", "\n".join(
        f"{token(rng)}\n{base64.b64encode(rng.randbytes(48)).decode()}" for _ in range(n // 130)).encode()),
    # pairing: many values of one kind on one line (each looked at every later one)
    "json_line_same_kind": lambda n, rng: ("c.json", ("{" + ",".join(
        f'"secret":"{t}"' for t in _tokens(n, rng, 76)) + "}").encode()),
    "json_line_named": lambda n, rng: ("c.json", ("{" + ",".join(
        f'"k{i}":"{t}"' for i, t in enumerate(_tokens(n, rng, 76))) + "}").encode()),
    "yaml_nested": lambda n, rng: ("c.yaml", "\n".join(
        " " * (i % 40) + f"k{i}: {t}" for i, t in enumerate(_tokens(n, rng, 90))).encode()),
    # SQL: a 30-line look-back per tuple line for the INSERT header
    "sql_insert_tuples": lambda n, rng: ("d.sql", ("INSERT INTO t (id, secret) VALUES\n" + "\n".join(
        f"({i}, '{t}')," for i, t in enumerate(_tokens(n, rng, 76)))).encode()),
    "sql_tuples_no_header": lambda n, rng: ("d.sql", "\n".join(
        f"({i}, '{t}')," for i, t in enumerate(_tokens(n, rng, 76))).encode()),
    # CSV: the header parsed again for every cell; a wide header; a long record
    "csv_many_columns": lambda n, rng: ("d.csv", (",".join(f"c{i}" for i in range(600)) + "\n" + "\n".join(
        ",".join(["x"] * (i % 8 * 40) + [t]) for i, t in enumerate(_tokens(n, rng, 350)))).encode()),
    "csv_long_record": lambda n, rng: ("d.csv", ("id,secret\n" + ",".join(_tokens(n, rng, 65))).encode()),
    # allow markers: one a line, and many on one long line
    "allow_markers_per_line": lambda n, rng: ("a.py", "\n".join(
        f"k = '{t}'  # keytrap: allow" for t in _tokens(n, rng, 90)).encode()),
    "allow_markers_one_line": lambda n, rng: ("a.js", " ".join(
        f"'{t}' /* keytrap: allow */" for t in _tokens(n, rng, 90)).encode()),
    "allow_marker_in_unclosed_quotes": lambda n, rng: ("a.txt", ('"\\' * (n // 2)
                                                                 + " # keytrap: allow " + token(rng)).encode()),
    # base64: many encoded keys, one big encoded env file
    "base64_runs": lambda n, rng: ("t.txt", "\n".join(
        base64.b64encode(f"K={token(rng)}".encode()).decode() for _ in range(n // 93)).encode()),
    "base64_one_big_run": lambda n, rng: ("t.txt", base64.b64encode("\n".join(
        f"BINANCE_API_KEY={t}" for t in _tokens(min(n, 190_000), rng, 82)).encode())),
    "base64_nested": lambda n, rng: ("t.txt", "\n".join(_nest(f"BINANCE_API_KEY={token(rng)}", 6)
                                                        for _ in range(max(1, n // 470))).encode()),
    # names: long prefixes before values
    "long_names": lambda n, rng: ("c.py", "\n".join(
        f"{'a' * 200}_secret = '{t}'" for t in _tokens(n, rng, 280)).encode()),
    # comment-prefixed lines: each token's block is followed behind its comment marker
    "commented_tokens": lambda n, rng: ("a.ps1", "\n".join(f"# {t}" for t in _tokens(n, rng, 67)).encode()),
    "commented_base64_block": lambda n, rng: ("a.ps1", "\n".join(
        f"# {t if i % 4 else base64.b64encode(rng.randbytes(48)).decode()}"
        for i, t in enumerate(_tokens(n, rng, 67))).encode()),
    # hex values named as keys: each looks at its neighbours
    "hex_named": lambda n, rng: ("binance.env", "\n".join(
        f"BINANCE_API_KEY_{i}={rng.randbytes(32).hex()}" for i in range(n // 90)).encode()),
    # example contexts: a doc full of signed requests, a test full of mocked responses,
    # names handed to another service's client
    "doc_signed_requests": lambda n, rng: ("docs/api.md", "\n".join(
        f'"apiKey": "{t}", "signature": "{rng.randbytes(32).hex()}",' for t in _tokens(n, rng, 150)).encode()),
    "test_mocked_responses": lambda n, rng: ("tests/test_api.py", ("expected_response = {\n" + "\n".join(
        f'    "apiKey": "{t}",' for t in _tokens(n, rng, 80)) + "\n}\n").encode()),
    "names_used_by_other_clients": lambda n, rng: ("bot.py", "\n".join(
        f"API_KEY = '{t}'\nc = KucoinClient(API_KEY, API_KEY, API_KEY)" for t in _tokens(n, rng, 120)).encode()),
}


def make(name: str, n: int, seed: int = 0) -> tuple[str, bytes]:
    return CASES[name](n, random.Random(seed))
