"""The hot path: find runs of base64-alphabet bytes long enough to hold a key.

No regex touches every byte. ``bytes.translate`` maps ``[A-Za-z0-9+/]`` to ``A`` and every other
byte to a space (about 1 GB/s), then ``bytes.find`` looks for 64 ``A`` in a row. Only the rare
runs it finds go on to the expensive checks.
"""

from __future__ import annotations

import binascii
from collections import namedtuple
from collections.abc import Iterator

KEY_LEN = 64
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TABLE = bytes(ord("A") if b in _B64 else ord(" ") for b in range(256))
_NEEDLE = b"A" * KEY_LEN
_SPACE = b" "
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r") + b"\x7f"
try:  # strict_mode is Python 3.11+; 3.10 checks the same rules by hand (decode_b64)
    binascii.a2b_base64(b"", strict_mode=True)  # novermin
    _STRICT = True
except TypeError:  # pragma: no cover - Python 3.10
    _STRICT = False

#: After a key: these continue a longer token (base64 padding, url-safe base64, identifiers,
#: percent-encoding).
_BAD_AFTER = frozenset(b"=_-%")
#: Before a key: these continue a longer token (``=`` is fine: ``KEY=value``; ``%2F…`` is a
#: percent-encoded token whose escape digits the run swallowed).
_BAD_BEFORE = frozenset(b"_-%")

#: Shortest base64 run that can hold an encoded 64-character key (64 bytes -> 86 chars + "==").
MIN_ENCODED = 86
#: Longest base64 run decoded in one piece (a Kubernetes Secret value, a CI variable). A longer
#: run (a whole file base64-encoded) is decoded in windows of this size (:func:`decode_windows`),
#: so memory stays bounded however long the run.
MAX_ENCODED = 256 * 1024
#: Encoded bytes two neighbouring windows share: a key and the line it sits on, cut by one
#: window's edge, lie whole in the next one (a multiple of 4: windows stay aligned).
WINDOW_OVERLAP = 64 * 1024


class Run(namedtuple("Run", "start end kind")):
    __slots__ = ()
    start: int
    end: int
    kind: str  # "raw": a 64-char alnum token; "b64": a base64 run worth decoding


def find_runs(data: bytes) -> Iterator[Run]:
    """Yield candidate runs in order. Pure; never raises on any input."""
    tr = data.translate(_TABLE)
    n = len(tr)
    pos = tr.find(_NEEDLE)
    while pos != -1:
        end = tr.find(_SPACE, pos + KEY_LEN)
        if end == -1:
            end = n
        length = end - pos
        start = pos
        # JSON / C escapes: "\nKEY" reads as a 65-char run starting with "n"
        if length == KEY_LEN + 1 and start > 0 and data[start - 1] == 0x5C and data[start] in b"nrt":
            start += 1
            length -= 1
        if length == KEY_LEN:
            token = data[start:end]
            if (
                token.isalnum()
                and not (start > 0 and data[start - 1] in _BAD_BEFORE)
                and not (end < n and data[end] in _BAD_AFTER)
            ):
                yield Run(start, end, "raw")
        elif length >= MIN_ENCODED:
            yield Run(start, end, "b64")
        pos = tr.find(_NEEDLE, end)


def decode_run(data: bytes, run: Run) -> bytes | None:
    """Decode a base64 run (with its ``=`` padding) if it yields printable text, else None."""
    # Most long runs are hashes and binary data (lockfile integrity hashes, embedded images):
    # their first bytes already decode to non-ASCII. A run is at least MIN_ENCODED alphabet
    # characters, so its first 16 decode alone; if those 12 bytes are not ASCII, neither is
    # the whole (None either way, as below).
    if not binascii.a2b_base64(data[run.start : run.start + 16]).isascii():
        return None
    end = run.end
    while end < len(data) and end - run.end < 2 and data[end] == 0x3D:  # '='
        end += 1
    chunk = data[run.start : end]
    if len(chunk) % 4:
        return None
    try:
        decoded = binascii.a2b_base64(chunk, strict_mode=True) if _STRICT else decode_b64(chunk)  # novermin
    except (binascii.Error, ValueError):
        return None
    if not decoded.isascii():
        return None
    # printable text only: tabs/newlines allowed, other control bytes mean binary
    if len(decoded.translate(None, _CONTROL)) != len(decoded):
        return None
    return decoded


def decode_windows(data: bytes, run: Run) -> Iterator[tuple[bool, bool, bytes]]:
    """A base64 run longer than ``MAX_ENCODED``, decoded window by window: (first, last, text)
    for each window of ``MAX_ENCODED`` encoded bytes that decodes to printable text (windows
    overlap by ``WINDOW_OVERLAP``; one that decodes to binary is passed over, not the whole
    run). Only one window is held at a time. A run shorter than that is one window
    (:func:`decode_run`). A last window cut short of a multiple of 4 (a run cut at the edge of
    a streamed window) is decoded up to its last whole quantum.
    """
    if run.end - run.start <= MAX_ENCODED:
        decoded = decode_run(data, run)
        if decoded is not None:
            yield True, True, decoded
        return
    step = MAX_ENCODED - WINDOW_OVERLAP
    off = run.start
    while True:
        last = off + MAX_ENCODED >= run.end
        if last:
            decoded = decode_run(data, Run(off, run.end, "b64"))  # with its "=" padding
            whole = off + (run.end - off) // 4 * 4
            if decoded is None and whole != run.end and whole - off >= 16:
                decoded = decode_run(data, Run(off, whole, "b64"))  # cut short: whole quanta
        else:
            decoded = decode_run(data, Run(off, off + MAX_ENCODED, "b64"))
        if decoded is not None:
            yield off == run.start, last, decoded
        if last:
            return
        off += step


def decode_b64(chunk: bytes) -> bytes:
    """``a2b_base64(chunk, strict_mode=True)`` for Python 3.10: only the standard alphabet, at
    most two ``=`` and only at the end, a length that is a multiple of 4."""
    body = chunk.rstrip(b"=")
    if len(chunk) - len(body) > 2 or len(chunk) % 4 or body.translate(None, _B64):
        raise binascii.Error("not strict base64")
    return binascii.a2b_base64(chunk)
