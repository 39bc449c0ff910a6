"""How raw bytes become text the engine can read: encodings that carry no BOM, and binary files.

Pure functions, no I/O. ``files.decode_for_scan`` (every source) uses :func:`utf16_codec`; the
staged source (the hook), which must skip nothing, also reads binary files through
:func:`printable_strings`, as ``strings(1)`` does.

Extending: a format with structure worth more than its printable runs (``.pyc`` constants, zip
members) gets its own pure function here, chosen by the caller before the generic fallback.
"""

from __future__ import annotations

import re

#: Shortest printable run kept from a binary file: shorter than any key (64), long enough that
#: a run is rarely noise, and it keeps ``NAME=`` context in front of a key.
MIN_STRING = 20

_PRINTABLE = rb"[\t\x20-\x7e]"
_RUNS: dict[int, re.Pattern[bytes]] = {}
_PRINTABLE_BYTES = bytes([9, *range(0x20, 0x7F)])


def utf16_codec(head: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` when ``head`` (a file's first bytes, no BOM) looks like
    UTF-16: NUL bytes in alternate positions, as ASCII text in UTF-16 has. None otherwise.

    One parity must be mostly NUL (>= 40 %) and the other nearly never (<= 5 %): a binary
    file has NULs at both parities, UTF-8 text has none.
    """
    n = len(head) - len(head) % 2
    if n < 16:
        return None
    even, odd = head[0:n:2], head[1:n:2]
    half = n // 2
    nul_even, nul_odd = even.count(0), odd.count(0)
    if nul_odd >= 0.4 * half and nul_even <= 0.05 * half:
        return "utf-16-le"
    if nul_even >= 0.4 * half and nul_odd <= 0.05 * half:
        return "utf-16-be"
    return None


def _runs(min_len: int) -> re.Pattern[bytes]:
    pattern = _RUNS.get(min_len)
    if pattern is None:
        pattern = _RUNS[min_len] = re.compile(_PRINTABLE + b"{%d,}" % min_len)
    return pattern


def printable_strings(data: bytes, min_len: int = MIN_STRING) -> bytes:
    """The printable ASCII runs of ``data`` (at least ``min_len`` bytes), in order.

    What lies between two runs becomes the newlines it holds (so a finding keeps the file's
    line number) or, when it holds none, one space (so two runs never merge into one token).
    """
    out: list[bytes] = []
    pos = 0
    for m in _runs(min_len).finditer(data):
        start = m.start()
        newlines = data.count(b"\n", pos, start)
        if newlines:
            out.append(b"\n" * newlines)
        elif out:
            out.append(b" ")
        out.append(m.group())
        pos = m.end()
    newlines = data.count(b"\n", pos)
    if newlines:
        out.append(b"\n" * newlines)
    return b"".join(out)


def trailing_printable(data: bytes) -> int:
    """Where the printable run that ends ``data`` starts (``len(data)`` if it ends otherwise):
    a stream cuts there, so that no run is split between two calls of :func:`printable_strings`."""
    return len(data.rstrip(_PRINTABLE_BYTES))


def leading_printable(data: bytes) -> int:
    """Length of the printable run that starts ``data``."""
    return len(data) - len(data.lstrip(_PRINTABLE_BYTES))
