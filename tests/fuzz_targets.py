"""Fuzz targets shared by ``tests/test_fuzz.py`` (a few seconds in the suite) and
``bench/fuzz.py`` (minutes, from the command line).

Each target takes bytes and must not raise, except the documented ``UsageError`` of the config
and baseline parsers. Inputs are random bytes or mutations of realistic seeds; no key-shaped
literal is stored: seeds get fresh random keys at start-up.
"""

from __future__ import annotations

import random
import string
try:
    import tomllib  # novermin
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]
from collections.abc import Callable

from keytrap import baseline, config
from keytrap.candidates.prefilter import decode_run, find_runs
from keytrap.engine import scan_bytes
from keytrap.errors import UsageError
from keytrap.findings import ScanResult, ScanStats
from keytrap.sources.files import decode_for_scan
from keytrap.sources.staged import parse_raw

ALNUM = string.ascii_letters + string.digits


def _key(rnd: random.Random) -> str:
    return "".join(rnd.choices(ALNUM, k=64))


def seeds(rnd: random.Random) -> dict[str, list[bytes]]:
    """Realistic starting points per target family, with fresh random keys."""
    k1, k2 = _key(rnd), _key(rnd)
    import base64

    b64 = base64.b64encode(f"BINANCE_API_KEY={k1}\nBINANCE_API_SECRET={k2}\n".encode()).decode()
    text = [
        f"BINANCE_API_KEY={k1}\nBINANCE_API_SECRET={k2}\n".encode(),
        f'{{"binance": {{"apiKey": "{k1}", "secret": "{k2}"}}}}'.encode(),
        f'client = Client("{k1}", "{k2}")\n'.encode(),
        f"apiVersion: v1\nkind: Secret\ndata:\n  env: {b64}\n".encode(),
        f'curl -H "X-MBX-APIKEY: {k1}" https://api.binance.com\n'.encode(),
        f"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI{k1[:43]}\n-----END PRIVATE KEY-----\napi_key={k1}\n".encode(),
        f"eyJhbGciOiJIUzI1NiJ9.{k1}.{k2[:43]}\n".encode(),
        f"{k1}\n{k2}\n".encode(),
        ("x" * 500 + f" secret={k1} " + "é" * 200).encode(),
        f"\ufeffbinance_secret: '{k2}' # keytrap: allow\n".encode("utf-16"),
    ]
    toml = [
        b'min_confidence = "high"\nmax_file_size = 1000\nexclude = ["a/**", "*.min.js"]\n',
        b'[tool.keytrap]\nallow_fingerprints = ["abc"]\nexample_keys = []\n',
        b"[tool]\nname = 'x'\n",
    ]
    base = [
        baseline.render([]).encode(),
        b'{"version": 1, "fingerprints": [{"fingerprint": "0123abcd"}, "ffff"]}',
    ]
    raw = [
        b":000000 100644 0000000000000000000000000000000000000000 " + b"a" * 40 + b" A\0new.env\0"
        b":100644 100644 " + b"b" * 40 + b" " + b"c" * 40 + b" R087\0old.py\0new.py\0"
        b":100644 160000 " + b"d" * 40 + b" " + b"e" * 40 + b" T\0sub\0",
    ]
    return {"text": text, "toml": toml, "baseline": base, "raw": raw}


# --- targets: each takes bytes; returns nothing; raises only on a bug -----------------------


def t_scan_bytes(data: bytes) -> None:
    findings = scan_bytes(data, "fuzz/input.env")
    for f in findings:
        assert f.kind in ("api_key", "secret_key", "private_key")
        assert f.line >= 1 and f.column >= 1
        assert f.secret and len(f.secret_redacted) <= len(f.secret)
    if findings:  # the reporters must cope with whatever the engine returns
        from keytrap.reporters import github, json_, sarif

        result = ScanResult("/fuzz", tuple(findings), ScanStats())
        json_.render(result), sarif.render(result), github.render(result)


def t_decode_for_scan(data: bytes) -> None:
    out = decode_for_scan(data)
    if out is not None:
        scan_bytes(out, "fuzz/decoded.txt")


def t_prefilter(data: bytes) -> None:
    last = -1
    for run in find_runs(data):
        assert 0 <= run.start < run.end <= len(data) and run.start >= last
        last = run.end
        if run.kind == "b64":
            out = decode_run(data, run)
            assert out is None or isinstance(out, bytes)


def t_parse_raw(data: bytes) -> None:
    for f in parse_raw(data):
        assert isinstance(f.path, str)


def t_config(data: bytes) -> None:
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return
    for candidate in (table, table.get("tool", {}).get("keytrap") if isinstance(table.get("tool"), dict) else None):
        if isinstance(candidate, dict):
            try:
                conf = config.parse(candidate, "fuzz.toml")
            except UsageError:
                continue
            conf.is_excluded("a/b/c.txt")


def t_baseline(data: bytes) -> None:
    try:
        baseline.parse(data.decode("utf-8", "replace"), "fuzz.json")
    except UsageError:
        pass


#: target name -> (function, seed family)
TARGETS: dict[str, tuple[Callable[[bytes], None], str]] = {
    "scan_bytes": (t_scan_bytes, "text"),
    "decode_for_scan": (t_decode_for_scan, "text"),
    "prefilter": (t_prefilter, "text"),
    "parse_raw": (t_parse_raw, "raw"),
    "config": (t_config, "toml"),
    "baseline": (t_baseline, "baseline"),
}

# --- inputs -----------------------------------------------------------------------------------

_INTERESTING = [
    b"\x00", b"\n", b"\r\n", b"=", b"==", b"+", b"/", b"-", b"_", b".", b"\\n", b'"', b"'", b"\xff\xfe",
    b"\xfe\xff", b"\xef\xbb\xbf", b"\xff\xfe\x00\x00", b"-----BEGIN ", b"PRIVATE KEY-----", b"-----END ",
    b"keytrap: allow", b"binance", b"api_key=", b"secret: ", b"Client(", b"eyJ", b"\x80", b"\xc3",
    b"\xed\xa0\x80", b"[", b"]", b"{", b"}", b":", b"\t", b" " * 70, b"A" * 64, b"a1B2" * 16,
]


def mutate(rnd: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    """A few random edits: flip, insert, delete, duplicate, splice, interesting tokens."""
    buf = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        op = rnd.randrange(8)
        pos = rnd.randint(0, len(buf))
        if op == 0 and buf:
            i = rnd.randrange(len(buf))
            buf[i] ^= 1 << rnd.randrange(8)
        elif op == 1:
            buf[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 16)))
        elif op == 2 and buf:
            del buf[pos : pos + rnd.randint(1, 32)]
        elif op == 3 and buf:
            a = rnd.randrange(len(buf))
            buf[pos:pos] = buf[a : a + rnd.randint(1, 128)]
        elif op == 4:
            buf[pos:pos] = rnd.choice(_INTERESTING)
        elif op == 5 and pool:
            other = rnd.choice(pool)
            buf = buf[:pos] + other[rnd.randint(0, len(other)) :]
        elif op == 6:
            buf[pos:pos] = "".join(rnd.choices(ALNUM + "+/=", k=rnd.choice([63, 64, 65, 86, 88, 120]))).encode()
        elif op == 7 and buf:
            buf = buf * rnd.randint(2, 4)
    return bytes(buf[: 1 << 20])


def random_input(rnd: random.Random, pool: list[bytes]) -> bytes:
    r = rnd.random()
    if r < 0.15:
        return rnd.randbytes(rnd.randint(0, 4096))
    if r < 0.25:  # random printable text
        return "".join(rnd.choices(string.printable, k=rnd.randint(0, 4096))).encode()
    return mutate(rnd, rnd.choice(pool), pool)


def run_one(name: str, data: bytes) -> BaseException | None:
    func, _family = TARGETS[name]
    try:
        func(data)
    except Exception as exc:  # noqa: BLE001 - a fuzz failure is any exception
        return exc
    return None
