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
#: Longest base64 run we decode to look inside (a Kubernetes Secret value, a CI variable).
MAX_ENCODED = 256 * 1024


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
        elif MIN_ENCODED <= length <= MAX_ENCODED:
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


def decode_b64(chunk: bytes) -> bytes:
    """``a2b_base64(chunk, strict_mode=True)`` for Python 3.10: only the standard alphabet, at
    most two ``=`` and only at the end, a length that is a multiple of 4."""
    body = chunk.rstrip(b"=")
    if len(chunk) - len(body) > 2 or len(chunk) % 4 or body.translate(None, _B64):
        raise binascii.Error("not strict base64")
    return binascii.a2b_base64(chunk)
