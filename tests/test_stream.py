"""The window scanner (sources.stream) gives the whole-file findings, and the content helpers
(sources.content) read what has no BOM and what is binary."""

from __future__ import annotations

import random

import pytest
from helpers import random_secret

from keytrap.candidates.prefilter import MAX_ENCODED
from keytrap.config import DEFAULT
from keytrap.engine import BODY_LIMIT, CONTEXT_BYTES, PEM_LINK_WINDOW, scan_bytes
from keytrap.sources import stream
from keytrap.sources.content import printable_strings, utf16_codec, utf32_codec
from keytrap.sources.files import decode_for_scan
from keytrap.sources.stream import CORE as CORE_DEFAULT
from keytrap.sources.stream import OVERLAP as OVERLAP_DEFAULT
from keytrap.sources.stream import scan_stream


def opener(data: bytes, size: int):
    return lambda: (data[i : i + size] for i in range(0, len(data), size))


def shape(findings) -> list[tuple]:
    return [(f.line, f.column, f.kind, f.secret, f.confidence, f.name, f.pair) for f in findings]


def test_overlap_covers_every_context_the_engine_reads() -> None:
    one_side = BODY_LIMIT * (CONTEXT_BYTES + 1)
    assert stream.OVERLAP > one_side and stream.OVERLAP > MAX_ENCODED
    assert stream.OVERLAP > PEM_LINK_WINDOW * (CONTEXT_BYTES + 1) + 16384


@pytest.mark.parametrize("seed", range(6))
def test_windows_give_the_whole_file_findings(seed: int) -> None:
    """Random text with keys near and across every cut, read in small windows and odd chunks:
    the same findings, lines, columns, confidences and pairs as one whole-file scan."""
    rng = random.Random(seed)
    lines = []
    for _ in range(2500):
        r = rng.random()
        if r < 0.01:
            lines.append(f"BINANCE_API_KEY = '{random_secret()}'")
            if rng.random() < 0.5:
                lines.append(f"BINANCE_API_SECRET = '{random_secret()}'")
        elif r < 0.02:  # a long line, a key deep inside it
            lines.append("x" * rng.randint(0, 1500) + f" secret={random_secret()} " + "é" * rng.randint(0, 300))
        elif r < 0.025:
            lines.append(random_secret())  # bare: low confidence
        else:
            lines.append("".join(rng.choice("abc def,;:=é\t") for _ in range(rng.randint(0, 120))))
    data = "\n".join(lines).encode()
    whole = scan_bytes(data, "bot/config.txt")
    assert len(whole) > 20
    # the overlap must hold the 8 lines a key pairs across (here up to ~2 KB each)
    for core, overlap in ((30000, 25000), (60000, 40000)):
        got, nbytes = scan_stream(opener(data, rng.randint(700, 40000)), "bot/config.txt", DEFAULT,
                                  core=core, overlap=overlap)
        assert shape(got) == shape(whole)
        assert nbytes == len(data)


def test_a_one_line_file_keeps_exact_columns() -> None:
    key = random_secret()
    data = b"word " * 200_000 + f'"binance_secret": "{key}" '.encode() + b"tail " * 50_000
    whole = scan_bytes(data, "one.json")
    got, _ = scan_stream(opener(data, 65536), "one.json", DEFAULT, core=100_000, overlap=30_000)
    assert shape(got) == shape(whole) and [(f.line, f.column) for f in got] == [(1, 1_000_000 + 20)]


def test_binance_named_far_away_still_raises_confidence() -> None:
    """The file-level Binance context: one window names Binance, another holds the key."""
    key = random_secret()
    data = b"# binance bot\n" + b"filler line\n" * 50_000 + f"api_key = '{key}'\n".encode()
    whole = scan_bytes(data, "cfg.txt")
    assert [f.confidence for f in whole] == ["high"]
    got, _ = scan_stream(opener(data, 8192), "cfg.txt", DEFAULT, core=50_000, overlap=10_000)
    assert shape(got) == shape(whole)


def test_csv_header_names_columns_in_every_window() -> None:
    rows = ["id,sha256,note"] + [f"{i},{'ab' * 8},row" for i in range(20_000)]
    key = random_secret()
    rows.append(f"20001,{key},row")  # named by the header as a digest: not a key
    data = ("\n".join(rows) + "\n").encode()
    assert scan_bytes(data, "data.csv") == []
    got, _ = scan_stream(opener(data, 4096), "data.csv", DEFAULT, core=60_000, overlap=8_000)
    assert got == []


def test_streamed_utf16_and_binary_match_the_whole_reading() -> None:
    key = random_secret()
    text = "x = 1\n" * 30_000 + f"BINANCE_API_KEY={key}\n"
    for raw in (text.encode("utf-16"), text.encode("utf-16-le"), text.encode("utf-16-be")):
        got, _ = scan_stream(opener(raw, 5000), "k.env", DEFAULT, core=40_000, overlap=10_000)
        assert [(f.line, f.secret) for f in got] == [(30_001, key)]
    blob = b"\x00\x01\x02" * 40_000 + b"\n\x00" + f"BINANCE_API_KEY={key}".encode() + b"\x00" * 10
    got, _ = scan_stream(opener(blob, 7000), "k.bin", DEFAULT, core=40_000, overlap=10_000)
    assert [(f.line, f.secret) for f in got] == [(2, key)]


@pytest.mark.parametrize("seed", range(4))
def test_streamed_strings_equal_one_call(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    monkeypatch.setattr(stream, "_MAX_CARRY", rng.choice([20, 64, 1 << 20]))
    for _ in range(100):
        blob = bytes(
            rng.choice([0, 10, 9, 200, 32]) if rng.random() < 0.3 else rng.randint(0x20, 0x7E)
            for _ in range(rng.randint(0, 3000))
        )
        n = rng.randint(1, 400)
        assert b"".join(stream._strings(blob[i : i + n] for i in range(0, len(blob), n))) == printable_strings(blob)


def test_printable_strings_keeps_line_numbers_and_separates_runs() -> None:
    data = b"\x00\x01short\x00" + b"A" * 20 + b"\x00\x02" + b"B" * 25 + b"\n\x00\n" + b"C" * 30 + b"\xff"
    assert printable_strings(data) == b"A" * 20 + b" " + b"B" * 25 + b"\n\n" + b"C" * 30


def test_utf16_without_bom_is_recognised() -> None:
    text = "BINANCE_API_KEY=abc\n" * 5
    assert utf16_codec(text.encode("utf-16-le")) == "utf-16-le"
    assert utf16_codec(text.encode("utf-16-be")) == "utf-16-be"
    assert utf16_codec(bytes(range(256)) * 4) is None  # binary: NULs nowhere in particular
    assert utf16_codec(b"\x00" * 64) is None
    key = random_secret()
    assert decode_for_scan(f"api_key={key}\n".encode("utf-16-le")) == f"api_key={key}\n".encode()


def test_utf32_without_bom_is_recognised_whole_and_streamed() -> None:
    text = "BINANCE_API_KEY=abc\n" * 5
    assert utf32_codec(text.encode("utf-32-le")) == "utf-32-le"
    assert utf32_codec(text.encode("utf-32-be")) == "utf-32-be"
    assert utf16_codec(text.encode("utf-32-le")) is None  # not the UTF-16 pattern
    assert utf32_codec(text.encode("utf-16-le")) is None
    assert utf32_codec(bytes(range(256)) * 4) is None
    assert utf32_codec(b"\x00" * 64) is None
    # a table of small integers is binary, not UTF-32 text
    assert utf32_codec(b"".join(i.to_bytes(4, "little") for i in range(1, 30)) * 8) is None
    key = random_secret()
    for codec in ("utf-32-le", "utf-32-be"):
        assert decode_for_scan(f"api_key={key}\n".encode(codec)) == f"api_key={key}\n".encode()
        raw = ("x = 1\n" * 3000 + f"BINANCE_API_KEY={key}\n").encode(codec)
        got, _ = scan_stream(opener(raw, 5001), "k.env", DEFAULT, core=40_000, overlap=10_000)
        assert [(f.line, f.secret) for f in got] == [(3001, key)]


@pytest.mark.parametrize("chunk", [777, 5001, 1 << 20])
def test_key_deep_in_a_base64_run_longer_than_a_window_is_found(chunk: int) -> None:
    """A whole key file base64-encoded on one line, megabytes long: past every window's reach,
    followed as it streams by, with the place a whole-file scan gives."""
    import base64

    key, secret = random_secret(), random_secret()
    filler = "".join(f"setting_{i} = value number {i}\n" for i in range(40_000))
    text = filler + f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n" + filler[:5000]
    data = ("# notes é\n" * 3 + "  ENV: " + base64.b64encode(text.encode()).decode() + "\nx = 1\n").encode()
    whole = [(f.kind, f.secret, f.line, f.column, f.encoding) for f in scan_bytes(data, "ci.yml")]
    assert sorted(whole) == sorted([("api_key", key, 4, 8, "base64"), ("secret_key", secret, 4, 8, "base64")])
    for core, overlap in ((40_000, 10_000), (CORE_DEFAULT, OVERLAP_DEFAULT)):
        got, _ = scan_stream(opener(data, chunk), "ci.yml", DEFAULT, core=core, overlap=overlap)
        assert sorted((f.kind, f.secret, f.line, f.column, f.encoding) for f in got) == sorted(whole), (chunk, core)


def test_memory_stays_bounded_whatever_the_size() -> None:
    """64 MB streamed: Python's own peak allocation stays near one window (~5 MB), not the size."""
    import tracemalloc

    key = random_secret()
    line = b"filler text, nothing to see = 12345\n"
    chunk = line * ((1 << 20) // len(line))
    last = f"BINANCE_API_KEY={key}\n".encode()

    def chunks():
        for _ in range(64):
            yield chunk
        yield last

    tracemalloc.start()
    try:
        got, nbytes = scan_stream(chunks, "big.env", DEFAULT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(f.line, f.secret) for f in got] == [(64 * chunk.count(b"\n") + 1, key)]
    assert nbytes == 64 * len(chunk) + len(last)
    assert peak < 24 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"

