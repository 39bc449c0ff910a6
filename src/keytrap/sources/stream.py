"""Content too large to hold in memory, scanned as a stream of overlapping windows.

Any source can use it: give :func:`scan_stream` a function that opens the content as an
iterable of byte chunks (a ``git cat-file blob`` pipe, a file read in pieces). Memory stays
about ``CORE + 2 * OVERLAP`` bytes whatever the size, and the findings are the ones a whole-file
scan gives, with the file's own line and column numbers:

* **Windows.** Each window *owns* a core of about ``CORE`` bytes and also holds ``OVERLAP``
  bytes on each side. ``OVERLAP`` is wider than any context the engine reads around a
  candidate (64 lines of at most ``CONTEXT_BYTES`` each way, a PEM block, a base64 run it would
  decode), so a finding in a core is judged exactly as in the whole file. A finding is kept only
  by the window whose core holds it: none is lost at a cut, none is counted twice, and a token
  cut at a window's edge (which lies in the overlap, never in a core) is never reported.
  Context counted in lines (a key and its secret pair within 8 lines, a private key links to an
  API key within 40) is exact as long as those lines fit in the overlap (320 KiB); past that a
  key is still reported, possibly unpaired.
* **Cuts** fall after a newline when one is near, else at an ASCII byte that no token contains,
  so even a 50 MB one-line file keeps exact columns.
* **File-level hints.** Whether the file speaks of Binance anywhere is a file-level judgement:
  when some window says so and another window found something without it, the stream is read
  a second time with that context given. A CSV/TSV file's header line is put in front of
  every window, as the header of the columns it names.
* **Encodings.** The first bytes choose how the rest is read, as ``files.decode_for_scan`` does
  for a whole file: UTF-16/32 (with a BOM or without) is decoded incrementally;
  a file with a NUL in its first 8000 bytes is read as its printable strings
  (``content.printable_strings``), as the hook reads every binary file.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator

from keytrap.candidates.prefilter import _TABLE as _B64_TABLE
from keytrap.candidates.prefilter import MAX_ENCODED, WINDOW_OVERLAP, Run, decode_windows
from keytrap.config import Config
from keytrap.engine import BODY_LIMIT, CONTEXT_BYTES, decoded_findings, scan_bytes, select
from keytrap.findings import Finding
from keytrap.rules import BINANCE_KEYWORDS
from keytrap.sources.content import leading_printable, printable_strings, trailing_printable
from keytrap.sources.files import BINARY_SNIFF, text_codec

#: Bytes each window owns.
CORE = 4 << 20
#: Bytes of context each window holds beyond its core, on each side: more than the engine
#: reads around a candidate (``BODY_LIMIT`` lines of ``CONTEXT_BYTES`` either way) and more
#: than the longest base64 run it decodes in one piece (``MAX_ENCODED``). A longer run that
#: starts in a core is decoded as far as its window reaches (at least ``OVERLAP`` past the core).
OVERLAP = MAX_ENCODED + (64 << 10)
#: Read size for sources that ask.
CHUNK = 1 << 20
#: A printable run longer than this in a binary stream is passed on in pieces.
_MAX_CARRY = 1 << 20
#: Bytes that no token the engine looks at contains: a cut there splits no candidate.
_B64_NEEDLE = b"A" * 64
_SEPARATORS = frozenset(b" \t\r\n,;:'\"()[]{}<>|&!?#*`~^$@\\")

assert OVERLAP > 2 * (BODY_LIMIT + 1) * (CONTEXT_BYTES + 1)

Opener = Callable[[], Iterable[bytes]]


def scan_stream(
    open_chunks: Opener,
    path: str,
    config: Config,
    *,
    context_path: str | None = None,
    core: int = CORE,
    overlap: int = OVERLAP,
) -> tuple[list[Finding], int]:
    """Findings in the content ``open_chunks()`` yields (called again for a second pass), and
    the number of bytes scanned (after decoding)."""
    hint_path = context_path or path
    floor = config.with_(min_confidence="low", allow_fingerprints=frozenset())
    long_runs = _LongRuns(path, floor, hint_path, overlap)
    found, stats = _windows(long_runs.watch(_decoded(open_chunks())), path, floor, hint_path, None, core, overlap)
    if stats.binance_seen and stats.hits_without_binance:
        found, stats = _windows(_decoded(open_chunks()), path, floor, hint_path, True, core, overlap)
    known = {(f.fingerprint, f.kind) for f in found if f.encoding == "base64"}
    found += [f for f in long_runs.found if (f.fingerprint, f.kind) not in known]
    return select(found, config), stats.nbytes


# --- base64 runs longer than a window sees ---------------------------------------------------------


class _LongRuns:
    """Base64 runs longer than ``min_len`` (the windows' overlap), decoded as they stream past.

    A window sees at most ``OVERLAP`` bytes of a run past its core, so a key deep in a long
    base64 run (a whole file encoded, megabytes on one line) would be out of every window's
    reach. This watcher follows the stream once, finds such runs as ``prefilter.find_runs``
    does (a maximal run of base64-alphabet bytes), and decodes each in the engine's overlapping
    windows (``prefilter.decode_windows``), holding at most ``MAX_ENCODED`` bytes of it: the
    findings are placed at the run's start, as the engine places them. An allow marker on such
    a run's line is not looked for (fail closed: the line is megabytes long).
    """

    def __init__(self, path: str, config: Config, hint_path: str, min_len: int) -> None:
        self.path, self.config, self.hint_path = path, config, hint_path
        self.min_len = max(min_len, 64)
        self.found: list[Finding] = []
        self._seen: set[tuple[str, str]] = set()
        self._line, self._col = 1, 0  # where the next byte sits: line, characters from its start
        self._run: bytearray | None = None  # the open run's bytes not yet decoded
        self._run_len = 0
        self._run_at = (1, 1)
        self._first = True
        self._carry = b""  # fewer than 64 base64 bytes at the end of the last chunk, not yet read

    def watch(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self._feed(chunk)
            yield chunk
        self._end_run(b"")

    def _advance(self, chunk: bytes, a: int, b: int) -> None:
        """Count ``chunk[a:b]`` into the line and column of the next byte."""
        nl = chunk.rfind(b"\n", a, b)
        if nl == -1:
            self._col += _width(chunk[a:b])
        else:
            self._line += chunk.count(b"\n", a, b)
            self._col = _width(chunk[nl + 1 : b])

    def _feed(self, chunk: bytes) -> None:
        if self._carry:  # a short run at the end of the chunk before: it may go on here
            chunk, self._carry = self._carry + chunk, b""
        tr = chunk.translate(_B64_TABLE)
        n, pos = len(chunk), 0
        if self._run is not None:  # a run open from the chunk before
            end = tr.find(b" ")
            end = n if end == -1 else end
            self._extend(chunk[:end])
            self._col += end
            if end == n:
                return
            self._end_run(chunk[end : end + 2])
            pos = end
        mark = pos  # the line and column are counted up to here
        while True:
            start = tr.find(_B64_NEEDLE, pos)
            if start == -1:
                tail = max(pos, tr.rfind(b" ", pos) + 1)  # where a run open at the end starts
                self._advance(chunk, mark, tail)
                self._carry = chunk[tail:]
                return
            end = tr.find(b" ", start + len(_B64_NEEDLE))
            if end != -1 and end - start <= self.min_len:
                pos = end  # a short run, whole in this chunk: the windows see all of it
                continue
            self._advance(chunk, mark, start)
            self._start_run()
            if end == -1:  # open at the chunk's end: it may go on
                self._extend(chunk[start:])
                self._col += n - start
                return
            self._extend(chunk[start:end])
            self._end_run(chunk[end : end + 2])
            self._col += end - start
            pos = mark = end

    def _start_run(self) -> None:
        self._run, self._run_len, self._first = bytearray(), 0, True
        self._run_at = (self._line, self._col + 1)

    def _extend(self, data: bytes) -> None:
        assert self._run is not None
        self._run += data
        self._run_len += len(data)
        step = MAX_ENCODED - WINDOW_OVERLAP
        while len(self._run) > MAX_ENCODED:  # a long run for sure: decode its full windows
            piece = bytes(self._run[:MAX_ENCODED])
            self._window(piece, Run(0, MAX_ENCODED, "b64"), last=False)
            del self._run[:step]

    def _end_run(self, after: bytes) -> None:
        run, self._run = self._run, None
        if run is None or self._run_len <= self.min_len:
            return
        pad = after[: len(after) - len(after.lstrip(b"="))][:2]
        data = bytes(run) + pad
        for first, last, decoded in decode_windows(data, Run(0, len(run), "b64")):
            self._collect((self._first and first, last, decoded))

    def _window(self, data: bytes, run: Run, last: bool) -> None:
        for first, _last, decoded in decode_windows(data, run):
            self._collect((self._first and first, last, decoded))
        self._first = False

    def _collect(self, window: tuple[bool, bool, bytes]) -> None:
        self.found += decoded_findings(window, self.path, self.config, self.hint_path, 1, self._run_at, self._seen)


# --- decoding ------------------------------------------------------------------------------------


def _decoded(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The stream as the engine reads it, chosen by its first ``BINARY_SNIFF`` bytes."""
    it = iter(chunks)
    head = b""
    for chunk in it:
        head += chunk
        if len(head) >= BINARY_SNIFF:
            break
    codec = text_codec(head[:BINARY_SNIFF])
    rest = _chain(head, it)
    if codec is not None:
        return _decode(rest, codec)
    if b"\x00" in head[:BINARY_SNIFF]:
        return _strings(rest)
    return rest


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    for chunk in rest:
        if chunk:
            yield chunk


def _decode(chunks: Iterable[bytes], codec: str) -> Iterator[bytes]:
    decoder = codecs.getincrementaldecoder(codec)("replace")
    for chunk in chunks:
        text = decoder.decode(chunk)
        if text:
            yield text.encode("utf-8", "replace")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8", "replace")


def _strings(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``printable_strings`` over a stream, giving the same bytes as one call on the whole.

    Each piece is cut before the printable run it ends with (the run may go on in the next
    chunk); a run longer than ``_MAX_CARRY`` is passed on as it comes instead of being held.
    """
    carry = b""
    ended_in_run = False  # the output so far ends inside a run: the next run needs a space
    open_run = False  # a long run was passed on unfinished: what follows belongs to it
    for chunk in chunks:
        buf = carry + chunk
        carry = b""
        if open_run:
            n = leading_printable(buf)
            if n:
                yield buf[:n]
            buf = buf[n:]
            if not buf:
                continue
            open_run = False
        cut = trailing_printable(buf)
        out = printable_strings(buf[:cut])
        if out:
            if ended_in_run and out[:1] != b"\n":
                yield b" "
            yield out
            ended_in_run = out[-1:] != b"\n"
        if len(buf) - cut > _MAX_CARRY:
            if ended_in_run:
                yield b" "
            yield buf[cut:]
            open_run = ended_in_run = True
        else:
            carry = buf[cut:]
    if carry:
        out = printable_strings(carry)
        if out:
            if ended_in_run:
                yield b" "
            yield out


# --- windows -------------------------------------------------------------------------------------


class _Stats:
    __slots__ = ("nbytes", "binance_seen", "hits_without_binance")

    def __init__(self) -> None:
        self.nbytes = 0
        self.binance_seen = False
        self.hits_without_binance = False


def _speaks_of_binance(data: bytes, path: str) -> bool:
    """The engine's file-level test (``_Text.binance``), for one window."""
    if "binance" in path.lower():
        return True
    low = data.lower()
    return any(k.encode() in low for k in BINANCE_KEYWORDS)


def _width(data: bytes) -> int:
    """Characters in ``data`` (UTF-8, invalid bytes as U+FFFD), without decoding ASCII."""
    return len(data) if data.isascii() else len(data.decode("utf-8", "replace"))


def _chars(data: bytes | bytearray) -> int:
    return len(bytes(data).decode("utf-8", "replace"))


def _cut(buf: bytearray, at: int, lo: int) -> int:
    """A cut at or before ``at`` (not before ``lo``): after a newline, else at a separator byte,
    else at any ASCII byte, else at ``at``."""
    nl = buf.rfind(b"\n", lo, at)
    if nl != -1:
        return nl + 1
    for i in range(at - 1, max(lo, at - 4096) - 1, -1):
        if buf[i] in _SEPARATORS:
            return i + 1
    for i in range(at, max(lo, at - 4) - 1, -1):
        if buf[i] < 0x80:
            return i
    return at


def _char_start(buf: bytearray, i: int) -> int:
    """``i`` moved forward to the start of a UTF-8 character (past continuation bytes)."""
    n = len(buf)
    for _ in range(3):
        if i < n and 0x80 <= buf[i] < 0xC0:
            i += 1
    return i


def _windows(
    chunks: Iterable[bytes], path: str, config: Config, hint_path: str, binance: bool | None,
    core: int, overlap: int,
) -> tuple[list[Finding], _Stats]:
    stats = _Stats()
    header = b""
    csv = hint_path.lower().endswith((".csv", ".tsv"))
    buf = bytearray()
    off = 0  # absolute offset of buf[0]
    line0, col0 = 1, 0  # line of buf[0], characters between its line start and buf[0]
    core_start = 0  # absolute
    it = iter(chunks)
    eof = False
    found: list[Finding] = []

    def position(i: int) -> tuple[int, int]:
        """(line, characters from its line start) of buf[i]."""
        nl = buf.rfind(b"\n", 0, i)
        if nl == -1:
            return line0, col0 + _chars(buf[:i])
        return line0 + buf.count(b"\n", 0, i), _chars(buf[nl + 1 : i])

    while True:
        want = core_start + core + overlap - off
        while len(buf) < want and not eof:
            chunk = next(it, None)
            if chunk is None:
                eof = True
            else:
                buf += chunk
        if csv and not header and off == 0:
            end = buf.find(b"\n", 0, 4096)
            header = bytes(buf[: end if end != -1 else 4096]) + b"\n"
        end_abs = off + len(buf)
        last = eof and end_abs <= core_start + core + overlap
        cs = core_start - off
        ce = len(buf) if last else _cut(buf, cs + core, cs + core // 2)
        ws = 0 if core_start == 0 else _char_start(buf, max(0, cs - overlap))
        we = min(len(buf), ce + overlap)
        start_line, start_col = position(cs)
        end_pos = position(ce) if not last else None
        wline, wcol = position(ws)
        window = bytes(buf[ws:we])
        prefix = header if header and ws + off > 0 else b""
        window_binance = binance
        if binance is None:
            window_binance = _speaks_of_binance(window, hint_path)
            stats.binance_seen = stats.binance_seen or window_binance
        hits = scan_bytes(prefix + window if prefix else window, path, config,
                          context_path=hint_path, binance=binance)
        shift = 1 if prefix else 0
        for f in hits:
            rel_line = f.line - shift
            if rel_line < 1:
                continue  # the header copy: the first window reports it
            line = wline + rel_line - 1
            col = f.column - 1 + (wcol if rel_line == 1 else 0)
            if (line, col) < (start_line, start_col):
                continue
            if end_pos is not None and (line, col) >= end_pos:
                continue
            found.append(f.with_(line=line, column=col + 1))
            if not window_binance:
                stats.hits_without_binance = True
        stats.nbytes += ce - cs
        if last:
            return found, stats
        core_start = off + ce
        # drop what no later window needs, keeping the line/column bookkeeping
        keep_from = _char_start(buf, max(0, ce - overlap))
        line0, col0 = position(keep_from)
        del buf[:keep_from]
        off += keep_from
