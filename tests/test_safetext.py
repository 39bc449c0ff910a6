"""keytrap.safetext: repository text made safe to show (escapes, workflow commands, encodings)."""

from __future__ import annotations

import io
import json

import pytest

from keytrap.safetext import ascii_fallback, guard_lines, json_safe, show


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain/path.py", "plain/path.py"),
        ("\x1b[2J\x1b[HNo Binance secrets found.", "\\x1b[2J\\x1b[HNo Binance secrets found."),
        ("a\nb\rc\td\x00", "a\\x0ab\\x0dc\\x09d\\x00"),
        ("del\x7f c1\x9b nel\x85", "del\\x7f c1\\x9b nel\\x85"),
        ("\u202egnp.exe \u2066x\u2069 \u200f", "\\u202egnp.exe \\u2066x\\u2069 \\u200f"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("bad\udcff byte", "bad\\udcff byte"),
        ("ユニ/ключ é", "ユニ/ключ é"),
        ("::set-output name=clean::true.py", "\\x3a:set-output name=clean::true.py"),
        ("  ::error::x", "  \\x3a:error::x"),
        ("\u00a0::warning::x", "\\xa0::warning::x"),
        ("a::b", "a::b"),
        ("x ##[set-output name=a;]b", "x ##\\x5bset-output name=a;]b"),
        (":warning: [bold]", ":warning: [bold]"),
    ],
)
def test_show(raw: str, shown: str) -> None:
    assert show(raw) == shown


def test_show_keeps_what_the_format_encodes() -> None:
    assert show("a\nb\x1b", keep="\r\n") == "a\nb\\x1b"


def test_guard_lines_defuses_every_line() -> None:
    text = "ok\n  ::set-output name=a::b\nx ##[add-mask]y\n\u3000::error::z\n"
    assert guard_lines(text) == "ok\n  \\x3a:set-output name=a::b\nx ##\\x5badd-mask]y\n\u3000\\x3a:error::z\n"


def test_json_safe_escapes_but_parses_back_to_the_same_values() -> None:
    value = {"path": "a\u202eb\u2028c\x85d\x7fe##[f\ufeff\udcff", "n": "ключ"}
    text = json_safe(json.dumps(value, ensure_ascii=False))
    assert text.isascii() is False  # only what a terminal acts on is escaped
    for ch in "\u202e\u2028\x85\x7f\ufeff\udcff":
        assert ch not in text
    assert "##[" not in text
    assert json.loads(text) == value


def _stream(encoding: str) -> tuple[io.BytesIO, io.TextIOWrapper]:
    raw = io.BytesIO()
    return raw, io.TextIOWrapper(raw, encoding=encoding, write_through=True)


@pytest.mark.parametrize("encoding", ["latin-1", "ascii", "cp1252"])
def test_ascii_fallback_degrades_instead_of_failing(encoding: str) -> None:
    raw, stream = _stream(encoding)
    ascii_fallback(stream)
    stream.write("AbCd\u2026wXyZ \u2192 \u4e2d \U0001f600\n")
    dots = "\u2026" if encoding == "cp1252" else "..."  # cp1252 has "…" itself, not "→"
    assert raw.getvalue().decode(encoding) == f"AbCd{dots}wXyZ -> \\u4e2d \\ud83d\\ude00\n"


def test_ascii_fallback_leaves_utf8_alone() -> None:
    raw, stream = _stream("utf-8")
    ascii_fallback(stream)
    assert stream.errors == "strict"
    stream.write("\u2026")
    assert raw.getvalue() == "\u2026".encode()
