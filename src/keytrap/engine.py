"""The detection engine: bytes and a path in, findings out. No disk, no git, no terminal.

Stages, in order:
1. ``find_runs`` (prefilter): 64-char alnum tokens and long base64 runs, via translate + find.
2. token filters (``filters.heuristics``): digests, placeholders, identifiers, doc examples...
3. context (``candidates.context``): the name a value is bound to, Binance words in the file,
   PEM blocks, JWTs, base64 bodies, allow comments.
4. pairing: an API key and its secret close together become one credential pair.
5. scoring: confidence from name + pair + Binance context; private keys linked to their key.

Every surface (working tree, staged index, history, hook) calls ``scan_bytes``, so a secret is
the same finding wherever it is run.
"""

from __future__ import annotations

import bisect
import codecs
import itertools
import re
from collections.abc import Iterator

from keytrap.candidates.context import (
    ALLOW_MARKER,
    allow_lines,
    GENERIC_NAMES,
    OTHER_SERVICES,
    classify_name,
    label_from_strings,
    is_bare_line,
    name_before,
    negative_name,
    passed_to_other_service,
    USE_WINDOW,
)
from keytrap.candidates.keyfiles import RepoContext, key_file_name
from keytrap.candidates.prefilter import KEY_LEN, Run, decode_windows, find_runs
from keytrap.config import DEFAULT, Config
from keytrap.filters.heuristics import (
    base64_text,
    comment_lead,
    commented_rest,
    hex_key,
    is_hex,
    is_base64_line,
    is_lockfile,
    jwt_segment,
    looks_like_base64_body,
    reject_token,
)
from keytrap.filters.examples import example_context, signing_fixture
from keytrap.findings import CONFIDENCE_RANK, Finding, pair_id
from keytrap.rules import BINANCE_KEYWORDS, HMAC_KEY, PRIVATE_KEY, published_example

#: How far apart (in lines) a key and its secret may sit and still form a pair.
PAIR_WINDOW = 8
#: How far (in lines) a private key looks for the API key it belongs to.
PEM_LINK_WINDOW = 40
#: Lines looked at on each side of a bare token for a base64 body it may belong to.
BODY_WINDOW = 3
#: How far a run of base64-only lines is followed to find the body it belongs to.
BODY_LIMIT = 64
#: Bytes of a line kept around a candidate for context (a 50 MB one-line file stays cheap).
CONTEXT_BYTES = 400
#: Lines above an SQL tuple searched for its ``INSERT INTO t (columns) VALUES`` header.
SQL_LOOKBACK = 30
_FAR = 1 << 30  # "no such line": farther than any window
_UNSET = object()

_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----")
#: Binance API keys are HMAC, RSA or Ed25519: EC and DSA private keys are never Binance's.
_PRIVATE_BEGIN = re.compile(rb"-----BEGIN ((?:RSA |ENCRYPTED )?PRIVATE KEY)-----")
#: Bytes between a private key's BEGIN and END lines.
PEM_BODY_MIN, PEM_BODY_MAX = 16, 16384
_PEM_JUNK = re.compile(rb"\\[nr]|[^A-Za-z0-9+/=]")
#: PKCS#8 DER prefix of an Ed25519 private key, base64 (what Binance's key generator writes).
_ED25519_PREFIX = "MC4CAQAwBQYDK2Vw"


class Candidate:
    """A key-shaped value that survived the token filters; mutable while pairing settles."""

    __slots__ = ("secret", "start", "end", "line", "column", "role", "name", "encoding", "kind", "pair", "paired",
                 "hex", "deferred")

    def __init__(
        self, secret: str, start: int, end: int, line: int, column: int, role: str, name: str,
        encoding: str | None = None,
    ) -> None:
        self.secret = secret
        self.start = start
        self.end = end
        self.line = line
        self.column = column
        self.role = role  # api_key | secret_key | call | other | none
        self.name = name
        self.encoding = encoding
        self.kind: str | None = None
        self.pair: str | None = None
        self.paired = False
        self.hex = False  # a single-case hex token: a key only where its context says so
        self.deferred: tuple[Run, int] | None = None  # an unnamed hex token, judged only if kept


class _Text:
    """Lazy views of one file's bytes: line numbers, line slices, Binance context."""

    __slots__ = ("data", "path", "report_path", "_line_pos", "_line_no", "_binance", "_col", "_allow",
                 "_prev", "_b64memo", "_dist_before", "_dist_after", "_sql", "_csv", "hints", "_lower", "_hexok")

    def __init__(
        self, data: bytes, path: str, report_path: str | None = None, binance: bool | None = None
    ) -> None:
        self.data = data
        self.path = path  # what path hints read (repository-relative when known)
        self.report_path = report_path or path  # what findings carry
        self._line_pos = 0
        self._line_no = 1
        self._binance: bool | None = binance  # None: decided from these bytes and the path
        self._col = (0, 0)  # (pos, characters from its real line start), for long lines
        self._allow: tuple[list[int], list[int]] | None = None  # lines with a marker in a comment
        # per-line memos: every context read below is linear in the file, however many
        # candidates ask (one token a line, 100,000 SQL tuples, pages of base64)
        self._prev: dict[int, tuple[int, int, bool] | None] = {}
        self._b64memo: dict[tuple[int, int], int] = {}
        self._dist_before: dict[int, int] = {}
        self._dist_after: dict[int, int] = {}
        self._sql: dict[int, tuple[bytes, int] | None] = {}
        self._csv: object = _UNSET
        self.hints: object = None  # filters.examples.FileHints, looked up once per file
        self._lower: bytes | None = None
        self._hexok: bool | None = None

    def line_of(self, pos: int) -> int:
        """1-based line of ``pos``; cheap for increasing positions."""
        if pos < self._line_pos:
            self._line_pos, self._line_no = 0, 1
        self._line_no += self.data.count(b"\n", self._line_pos, pos)
        self._line_pos = pos
        return self._line_no

    def column(self, ls: int, pos: int) -> int:
        """1-based column, in characters, of ``pos``; ``ls`` is its ``line_bounds`` start.

        On a line longer than the context window ``ls`` is not the line start: count from the
        real one, incrementally and in 1 MiB pieces (positions are ASCII-aligned, so the sum
        equals a whole-line decode), keeping a 50 MB one-line file cheap.
        """
        d = self.data
        if ls == 0 or d[ls - 1] == 0x0A:
            return len(d[ls:pos].decode("utf-8", "replace")) + 1
        cpos, chars = self._col
        if cpos > pos or d.find(b"\n", cpos, pos) != -1:
            cpos, chars = d.rfind(b"\n", 0, pos) + 1, 0
        step = 1 << 20
        view = memoryview(d)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        for a in range(cpos, pos, step):
            chars += len(decoder.decode(view[a : min(pos, a + step)]))
        chars += len(decoder.decode(b"", final=True))
        self._col = (pos, chars)
        return chars + 1

    def line_bounds(self, start: int, end: int) -> tuple[int, int]:
        d = self.data
        ls = d.rfind(b"\n", max(0, start - CONTEXT_BYTES), start) + 1
        if ls == 0:
            ls = 0 if start <= CONTEXT_BYTES else start - CONTEXT_BYTES
        le = d.find(b"\n", end, end + CONTEXT_BYTES)
        if le == -1:
            le = min(len(d), end + CONTEXT_BYTES)
        return ls, le

    def _prev_nonblank(self, ls: int) -> tuple[int, int, bool] | None:
        """The nearest non-blank line before the line starting at ``ls``: ``(start, end, more)``
        (``more``: the walk may go on before it), or None.

        A line is at most CONTEXT_BYTES long here: a longer one gives its tail and ends the
        walk. Memoised, blank lines included: a run of blank lines is crossed once per file,
        however many candidates look back across it.
        """
        memo = self._prev
        if ls in memo:
            return memo[ls]
        d = self.data
        crossed = [ls]
        pos = ls - 1
        result: tuple[int, int, bool] | None = None
        while pos > 0:
            lo = max(0, pos - CONTEXT_BYTES)
            nl = d.rfind(b"\n", lo, pos)
            start = nl + 1 if nl != -1 else lo  # never more than the window: no O(n) copy
            if d[start:pos].strip():
                result = (start, pos, nl != -1)
                break
            if nl == -1:
                break  # the start of the file, or a blank run longer than the window
            if start in memo:
                result = memo[start]
                break
            crossed.append(start)  # walking back from this blank line finds the same line
            pos = start - 1
        for at in crossed:
            memo[at] = result
        return result

    def prev_lines(self, ls: int, count: int) -> list[bytes]:
        """Up to ``count`` non-blank lines before the line starting at ``ls``, nearest first."""
        out: list[bytes] = []
        cur = ls
        while len(out) < count:
            found = self._prev_nonblank(cur)
            if found is None:
                break
            start, end, more = found
            out.append(self.data[start:end])
            if not more:
                break
            cur = start
        return out

    def _next_bounds(self, le: int) -> tuple[int, int] | None:
        """The line after the one ending at ``le`` (at most CONTEXT_BYTES of it), or None."""
        d = self.data
        if le >= len(d):
            return None
        nxt = d.find(b"\n", le + 1, le + 1 + CONTEXT_BYTES)
        return le + 1, (nxt if nxt != -1 else min(len(d), le + 1 + CONTEXT_BYTES))

    def parents(self, ls: int, line: bytes, limit: int = 12) -> list[bytes]:
        """Enclosing section lines above: less-indented YAML/JSON keys, ``[ini]`` headers."""
        indent = len(line) - len(line.lstrip(b" \t"))
        out: list[bytes] = []
        for prev in self.prev_lines(ls, limit):
            stripped = prev.lstrip(b" \t")
            level = len(prev) - len(stripped)
            if stripped.startswith(b"[") and stripped.rstrip().endswith(b"]"):
                out.append(prev)
                break
            if level < indent:
                out.append(prev)
                indent = level
                if level == 0:
                    break
        return out

    def _b64(self, start: int, end: int, marker: bytes | None = None) -> int:
        """0: not a base64 line; 1: a base64 line; 2: one that looks like a body (memoised).
        With a comment ``marker``, the line behind that comment marker is judged (``# MIIf…``)."""
        key = (start, end, marker)
        kind = self._b64memo.get(key)  # type: ignore[call-overload]
        if kind is None:
            line = self.data[start:end]
            if marker is not None:
                line = commented_rest(line, marker) or b""
            kind = 2 if looks_like_base64_body(line) else 1 if is_base64_line(line) else 0
            self._b64memo[key] = kind  # type: ignore[index]
        return kind

    def _body_distance(
        self, first: tuple[int, int, bool] | tuple[int, int] | None, before: bool, marker: bytes | None = None
    ) -> int:
        """Lines from ``first`` to the nearest body-looking line, following only base64 lines
        (above: non-blank lines, as ``prev_lines`` gives them; below: every line). Memoised per
        line and resolved once per run of base64 lines: linear however many tokens ask."""
        memo: dict = self._dist_before if before else self._dist_after
        path: list[object] = []
        cur = first
        value = _FAR
        while cur is not None:
            start, end = cur[0], cur[1]
            at = start if marker is None else (marker, start)
            known = memo.get(at)
            if known is not None:
                value = known
                break
            kind = self._b64(start, end, marker)
            if kind == 2:
                memo[at] = value = 0
                break
            if kind == 0:
                memo[at] = _FAR
                break
            path.append(at)
            if before:
                cur = self._prev_nonblank(start) if cur[2] else None  # type: ignore[misc]
            else:
                cur = self._next_bounds(end)
        for at in reversed(path):
            value = value + 1 if value < _FAR else _FAR
            memo[at] = value
        return value

    def in_base64_body(self, ls: int, le: int, limit: int = BODY_LIMIT, marker: bytes | None = None) -> bool:
        """Does a body-looking base64 line sit among the lines around the line ``ls..le``: the
        BODY_WINDOW nearest on each side, then onwards while the lines stay base64 (a
        64-column dump can run for pages of all-alnum lines), at most ``limit`` each side?
        With a comment ``marker``, the lines are read behind that marker (a base64 block kept
        in comments: the ``# SIG #`` Authenticode block a signed PowerShell script ends with)."""
        for before in (True, False):
            first = self._prev_nonblank(ls) if before else self._next_bounds(le)
            cur = first
            for _ in range(BODY_WINDOW):
                if cur is None:
                    break
                if self._b64(cur[0], cur[1], marker) == 2:
                    return True
                if before:
                    cur = self._prev_nonblank(cur[0]) if cur[2] else None  # type: ignore[misc]
                else:
                    cur = self._next_bounds(cur[1])
            if first is not None and self._body_distance(first, before, marker) < limit:
                return True
        return False

    def next_lines(self, le: int, count: int) -> list[bytes]:
        """Up to ``count`` lines after the line ending at ``le``, nearest first (at most
        CONTEXT_BYTES of each). For bounded windows only (``filters.examples``)."""
        out: list[bytes] = []
        cur = self._next_bounds(le)
        while cur is not None and len(out) < count:
            out.append(self.data[cur[0] : cur[1]])
            cur = self._next_bounds(cur[1])
        return out

    def sql_header(self, ls: int) -> bytes | None:
        """The column list of the ``INSERT … VALUES`` statement whose tuples continue, line
        after line, up to the line starting at ``ls`` (at most SQL_LOOKBACK lines above), or None.

        Memoised per line: each line of a 100,000-tuple statement is looked at once.
        """
        memo = self._sql
        path: list[int] = []
        cur = self._prev_nonblank(ls)
        found: tuple[bytes, int] | None = None
        while cur is not None:
            start, end, more = cur
            if start in memo:
                found = memo[start]
                break
            prev = self.data[start:end]
            header = _INSERT.search(prev)
            if header is not None:
                found = (header.group(1), 0)
                memo[start] = found
                break
            if not (_TUPLE_START.match(prev) and prev.rstrip().endswith((b",", b"),"))):
                memo[start] = None
                break
            path.append(start)
            cur = self._prev_nonblank(start) if more else None
        for start in reversed(path):
            found = (found[0], found[1] + 1) if found is not None else None
            memo[start] = found
        if found is None or found[1] >= SQL_LOOKBACK:
            return None
        return found[0]

    def csv_header(self) -> tuple[int, list[bytes]] | None:
        """The delimiter and column names of a CSV/TSV file's first line (parsed once)."""
        if self._csv is _UNSET:
            end = self.data.find(b"\n", 0, 4096)
            header = self.data[: end if end != -1 else 4096].rstrip(b"\r")
            delimiter = max(b",\t;", key=header.count)
            self._csv = None
            if header.count(delimiter):
                self._csv = (delimiter, [c.strip(b" \"'") for c in header.split(bytes([delimiter]))])
        return self._csv  # type: ignore[return-value]

    def allowed(self, pos: int) -> bool:
        """Does the line holding ``pos`` carry ``keytrap: allow`` in a comment?

        The whole line is read (a marker at the end of a long line counts); a lone ``\r`` ends
        a line as ``\n`` does. The marker lines are found once per file
        (:func:`~keytrap.candidates.context.allow_lines`), so many candidates on one 50 MB line
        cost one pass.
        """
        if self._allow is None:
            self._allow = allow_lines(self.data) if ALLOW_MARKER in self.data else ([], [])
        starts, ends = self._allow
        i = bisect.bisect_right(starts, pos) - 1
        return i >= 0 and pos <= ends[i]

    @property
    def binance(self) -> bool:
        """Does the file (or its path) speak of Binance at all?"""
        if self._binance is None:
            low_path = self.path.lower()
            low = self.lower
            self._binance = "binance" in low_path or any(k.encode() in low for k in BINANCE_KEYWORDS)
        return self._binance

    @property
    def hex_keys_possible(self) -> bool:
        """Can a hex value here be a Binance key at all (``_hex_in_context``): the file or path
        speaks of Binance, or some name could say testnet or futures. Case-sensitive finds, no
        lower-case copy: files full of digests are the common case."""
        if self._hexok is None:
            d = self.data
            if self._binance is not None or self._lower is not None:
                self._hexok = self.binance or b"testnet" in self.lower or b"future" in self.lower
            else:
                self._hexok = "binance" in self.path.lower() or any(
                    w in d for w in (b"inance", b"INANCE", b"estnet", b"ESTNET", b"uture", b"UTURE")
                )
        return self._hexok

    @property
    def lower(self) -> bytes:
        """The file in lower case, made once (the Binance test and the example hints read it)."""
        if self._lower is None:
            self._lower = self.data.lower()
        return self._lower


def _pem_spans(data: bytes) -> list[tuple[int, int]]:
    """Sorted, disjoint (merged) spans of PEM blocks; linear even with many BEGINs."""
    spans: list[tuple[int, int]] = []
    next_end = -2  # the first "-----END" at or after the current BEGIN, searched once per END
    for m in _PEM_BEGIN.finditer(data):
        if next_end != -1 and next_end < m.end():
            next_end = data.find(b"-----END", m.end())
        a, b = m.start(), next_end if next_end != -1 else m.end() + 65536
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], b))
        else:
            spans.append((a, b))
    return spans


def _in_spans(pos: int, spans: list[tuple[int, int]]) -> bool:
    i = bisect.bisect_right(spans, (pos, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]


def _role_from_context(text: _Text, ls: int, start: int, prev_end: int) -> tuple[str, str]:
    """Name and role of the value at ``start``: same line first, else the line(s) above."""
    d = text.data
    prefix = d[max(ls, prev_end, start - 160) : start].decode("utf-8", "replace")
    name = name_before(prefix)
    role = classify_name(name)
    if role == "none" and not prefix.strip(" \t\"'`,([{\\"):
        for line in text.prev_lines(ls, 2):
            s = line.decode("utf-8", "replace").rstrip()
            if not s:
                continue
            if s.endswith(("(", ":", "=", ":>", ": |", "[", "{")) or s.endswith("\\"):
                name = name_before(s)
                role = classify_name(name)
            break
    if name.lower() in GENERIC_NAMES:
        # the label is a sibling field or a block name: nearest quoted "…secret…"/"…key…"
        texts = [prefix] + [ln.decode("utf-8", "replace") for ln in text.prev_lines(ls, 3)]
        label, label_role = label_from_strings(texts)
        if label:
            name, role = label, label_role
    if role == "call":
        name = f"{name}(…)"
    return name, role


#: Names too generic to judge alone: the enclosing section says what they are
#: (``license: {key: …}``, ``session({secret: …})``).
_GENERIC_LEAF = frozenset({"key", "secret", "value", "token", "password", "passphrase", "pass"})
#: Sections whose generic ``key``/``secret`` is not an exchange credential.
_SECTIONS_NOT_BINANCE = ("license", "licence", "session", "cookie", "jwt", "csrf", "webhook",
                         "smtp", "mail", "database", "redis", "postgres", "mysql", "captcha",
                         "encryption", "signing", "oauth", "sentry", "stripe", "paypal")


def _other_use_section(text: _Text, ls: int, line: bytes, name: str) -> bool:
    """The value sits in a section named for another service (``kucoin:``, ``typesense:``),
    or, under a generic name, in a section named as a non-credential (``license:``,
    ``session({``)."""
    if b"binance" in line.lower():
        return False
    leaf = name.lower().rsplit(" ", 1)[-1].rsplit(".", 1)[-1].strip("\"'")
    for parent in text.parents(ls, line):
        low = parent.lower()
        if b"binance" in low:
            return False
        words = low.decode("utf-8", "replace")
        if any(w in words for w in OTHER_SERVICES):
            return True
        if leaf in _GENERIC_LEAF:
            label = name_before(words).lower()
            if label and any(w in label for w in _SECTIONS_NOT_BINANCE):
                return True
    return False


def _csv_column(text: _Text, ls: int, line: bytes, rel: int) -> str:
    """For a value in a CSV/TSV record, the header's name for its column, else "".

    Only when ``ls`` is the record's real start: in a record longer than the context window the
    delimiters before the window are not counted, and a wrong name is worse than none.
    """
    if ls == 0 or text.data[ls - 1] != 0x0A or not text.path.lower().endswith((".csv", ".tsv")):
        return ""
    parsed = text.csv_header()
    if parsed is None:
        return ""
    delimiter, names = parsed
    index, quoted = 0, False
    for ch in line[:rel]:
        if ch == 0x22:
            quoted = not quoted
        elif ch == delimiter and not quoted:
            index += 1
    return names[index].decode("utf-8", "replace") if index < len(names) else ""


_INSERT = re.compile(rb"(?i)insert\s+into\s+[^\s(]+\s*\(([^)]{1,2000})\)\s*values")
_SEPARATORS = b" \t\"'`(,="


def _compound_key(line: bytes, rel: int) -> bool:
    """The value ends a colon path of short words (``ohlcv:binance:BTCUSDT:1m:<token>``, a
    cache key, a URN). Not ``label:<key>:<secret>`` (a key in the path) nor ``scheme://k:s@``."""
    start = max(line.rfind(bytes([c]), 0, rel) for c in _SEPARATORS) + 1
    segment = line[start:rel]
    if b"://" in segment or line[rel + 64 : rel + 65] == b"@":
        return False
    words = segment.split(b":")[:-1]
    return len(words) >= 2 and all(0 < len(w) <= 24 for w in words)


_TUPLE_START = re.compile(rb"^\s*(?:\)\s*)?,?\s*\(")


def _sql_column(text: _Text, ls: int, line: bytes, rel: int) -> str:
    """For a value inside an SQL ``VALUES (…)`` tuple, the name of its column, else "".

    A small tokenizer (quote kind, backslash and doubled-quote escapes, parenthesis depth)
    counts only top-level commas; a header from an earlier line counts only when every line
    between is a tuple of the same statement. When unsure, no name: never a wrong one.
    """
    header = _INSERT.search(line, 0, rel)
    if header is not None:
        start, columns_text = header.end(), header.group(1)
    else:
        if not _TUPLE_START.match(line):
            return ""
        found = text.sql_header(ls)
        if found is None:
            return ""
        start, columns_text = 0, found
    index, depth, quote, i = 0, 0, 0, start
    while i < rel:
        ch = line[i]
        if quote:
            if ch == 0x5C:  # backslash escape
                i += 1
            elif ch == quote:
                if line[i + 1 : i + 2] == bytes([quote]) and i + 1 < rel:
                    i += 1  # doubled quote
                else:
                    quote = 0
        elif ch in (0x27, 0x22):
            quote = ch
        elif ch == 0x28:  # (
            depth += 1
            if depth == 1:
                index = 0
        elif ch == 0x29:  # )
            depth -= 1
        elif ch == 0x2C and depth == 1:
            index += 1
        i += 1
    if depth != 1:
        return ""
    columns = [c.strip(b" \t`\"[]").decode("utf-8", "replace") for c in columns_text.split(b",")]
    return columns[index] if index < len(columns) else ""


def _column_names_a_key(text: _Text, ls: int, pos: int) -> bool:
    """Does a SQL or CSV header name the value at ``pos`` as a key or secret (read before an
    unnamed hex value is deferred: the header is its name)?"""
    le = text.line_bounds(pos, pos)[1]
    line = text.data[ls:le]
    column = _sql_column(text, ls, line, pos - ls) or _csv_column(text, ls, line, pos - ls)
    return bool(column) and classify_name(column) in _BOUND


#: Token verdicts (``reject_token or base64_text``: pure functions of the token and the examples).
#: A history holds one value in many versions of a file: 2,870 distinct values among the 5,694
#: runs of ansible's first 80k blobs. Bounded (~3 MB): cleared when full.
_VERDICTS: dict[tuple[str, frozenset[str]], bool] = {}
_VERDICTS_MAX = 1 << 14


def _token_dropped(token: str, examples: frozenset[str]) -> bool:
    key = (token, examples)
    try:
        got = _VERDICTS.get(key)
    except TypeError:  # examples as a list or a set (a Config built in Python): not remembered
        return bool(reject_token(token, examples) or base64_text(token))
    if got is None:
        if len(_VERDICTS) >= _VERDICTS_MAX:
            _VERDICTS.clear()
        got = _VERDICTS[key] = bool(reject_token(token, examples) or base64_text(token))
    return got


def _raw_candidate(
    text: _Text, run: Run, prev_end: int, spans: list[tuple[int, int]], config: Config, denied: set[str],
    defer: bool = True,
) -> Candidate | None:
    d = text.data
    token = d[run.start : run.end].decode("ascii")
    hexkey = False
    if _token_dropped(token, config.example_keys):
        # no hex value in a file that never speaks of Binance can be a strong one
        if not is_hex(token) or not text.hex_keys_possible:
            return None
        hexkey = True  # kept only if its context names it a key (see _hex_in_context)
    if spans and _in_spans(run.start, spans):
        return None  # a PEM/certificate body line
    if jwt_segment(d, run.start, run.end):
        return None
    if text.allowed(run.start):
        return None
    ls, le = text.line_bounds(run.start, run.end)
    name, role = _role_from_context(text, ls, run.start, prev_end)
    if hexkey and defer and role not in _BOUND and not _column_names_a_key(text, ls, run.start):
        # an unnamed hex value (a digest, almost always): kept only beside a hex value named
        # as a key (_hex_in_context), and only then judged in full
        cand = Candidate(token, run.start, run.end, text.line_of(run.start), 0, role, name)
        cand.hex, cand.deferred = True, (run, prev_end)
        return cand  # hex_key is asked only if it is kept: most unnamed hex values are digests
    if hexkey and hex_key(token, config.example_keys) is not None:
        return None
    line_bytes = d[ls:le]
    rel = run.start - ls
    if role in ("none", "other"):
        if is_lockfile(text.path):
            return None
        column_name = _sql_column(text, ls, line_bytes, rel) or _csv_column(text, ls, line_bytes, rel)
        if column_name:  # a VALUES tuple or a CSV record: the header names the value
            name, role = column_name, classify_name(column_name)
        elif _compound_key(line_bytes, rel):
            return None
        if is_bare_line(line_bytes, run.start - ls, run.end - ls) and (
            looks_like_base64_body(line_bytes)
            or text.in_base64_body(ls, le)
        ):
            return None  # a line of a base64 body (a headless PEM/DER dump) that is all alnum
        marker = comment_lead(line_bytes, rel, run.end - ls)
        if marker is not None and text.in_base64_body(ls, le, marker=marker):
            return None  # a line of a base64 block kept in comments (``# SIG #`` signatures)
    if name and negative_name(name) and b"binance" not in line_bytes.lower():
        denied.add(token)  # the file calls this value an id/hash/…: not a secret anywhere in it
        return None
    if _other_use_section(text, ls, line_bytes, name):
        return None
    if role in ("api_key", "secret_key") and passed_to_other_service(d[run.end : run.end + USE_WINDOW], name):
        return None  # API_KEY = "…" then BitvavoRestClient(api_key=API_KEY): not a Binance key
    if example_context(text, ls, le, run.start, line_bytes, role in ("api_key", "secret_key")):
        return None  # what a mocked response holds, a documented request, a known-answer test
    column = text.column(ls, run.start)
    cand = Candidate(token, run.start, run.end, text.line_of(run.start), column, role, name)
    cand.hex = hexkey
    return cand


#: Levels of base64 decoded and rescanned: base64 of base64 of a key file is found.
MAX_NESTING = 3
#: Characters at a cut edge of a decoded window whose findings the neighbouring window reports
#: (more than a key and the context read around it; far less than the windows' overlap).
CUT_MARGIN = 4096


def _encoded_candidates(
    text: _Text, run: Run, prev_end: int, config: Config, depth: int
) -> tuple[list[Candidate], list[Finding]]:
    """A base64 run: either an encoded bare key (a candidate here) or encoded text to rescan.

    A run longer than ``MAX_ENCODED`` (a whole file base64-encoded) is decoded and rescanned in
    overlapping windows (``prefilter.decode_windows``), one at a time: a key deep in it is
    found, in bounded memory. A finding on a window's first or last line, which the window may
    have cut, is left to the neighbour that holds that line whole.
    """
    windows = decode_windows(text.data, run)
    first = next(windows, None)
    if first is None:
        return [], []
    if text.allowed(run.start):
        return [], []
    ls, _le = text.line_bounds(run.start, run.end)
    line = text.line_of(run.start)
    column = text.column(ls, run.start)
    is_first, is_last, decoded = first
    if is_first and is_last:
        stripped = decoded.strip()
        if len(stripped) == KEY_LEN and stripped.isalnum():
            token = stripped.decode("ascii")
            if reject_token(token, config.example_keys):
                return [], []
            name, role = _role_from_context(text, ls, run.start, prev_end)
            if name and negative_name(name):
                return [], []
            return [Candidate(token, run.start, run.end, line, column, role, name, "base64")], []
        if len(stripped) < KEY_LEN:
            return [], []
    if depth + 1 >= MAX_NESTING:
        return [], []
    found: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for window in itertools.chain((first,), windows):
        found += decoded_findings(window, text.report_path, config, text.path, depth + 1, (line, column), seen)
    return [], found


def decoded_findings(
    window: tuple[bool, bool, bytes], path: str, config: Config, context_path: str, depth: int,
    at: tuple[int, int], seen: set[tuple[str, str]],
) -> list[Finding]:
    """The findings in one decoded window of a base64 run (``prefilter.decode_windows``),
    placed at the run's (line, column) ``at``. A finding within ``CUT_MARGIN`` characters of
    an edge where the window cut the text (a token may be the end of a longer one, its name
    cut off) is left to the neighbouring window, which holds that place well inside it; one
    already in ``seen`` (the overlap of two windows) is not repeated."""
    is_first, is_last, decoded = window
    inner = scan_bytes(decoded, path, config, context_path=context_path, _depth=depth)
    if not inner:
        return []
    last_line = decoded.count(b"\n") + 1
    last_len = len(decoded) - decoded.rfind(b"\n") - 1  # decoded text is ASCII: bytes = characters
    out = []
    for f in inner:
        if not is_first and f.line == 1 and f.column <= CUT_MARGIN:
            continue
        if not is_last and f.line == last_line and f.column > last_len - CUT_MARGIN:
            continue
        if (f.fingerprint, f.kind) in seen:
            continue
        seen.add((f.fingerprint, f.kind))
        out.append(f.with_(line=at[0], column=at[1], encoding="base64"))
    return out


_BOUND = ("api_key", "secret_key", "call")


#: Name words that tie a hex value to Binance (``BINANCE_API_SECRET``, ``TEST_FUTURES_API_KEY``).
_HEX_NAME_WORDS = ("binance", "testnet", "future")


def _hex_in_context(cands: list[Candidate], binance: bool,
                    examples: frozenset[str] = frozenset()) -> list[Candidate]:
    """Hex tokens are digests (or another chain's private keys) unless their context says
    Binance key. A hex token is kept when

    * named for Binance (``BINANCE_API_SECRET=<hex>``, ``TEST_FUTURES_API_KEY``), or named as
      an API key or secret (``TEST_API_SECRET``) or passed to a client in a file that speaks of
      Binance: *strong*;
    * named more loosely as a key or secret (``secret_key``) in a Binance file, or unnamed, and
      the hex value next to it (within ``PAIR_WINDOW`` lines) is strong: the other half of a pair.

    A ``key = "<hex>"`` in a cipher test, ``api_secret = "<hex>"`` (an Ethereum key) in another
    exchange's connector test, ``BACKUP_PRIVATE_KEY`` of a wallet, a TLS key log, a digest
    column, a signature in a logged URL: none of these is a Binance key.
    """

    def strong(c: Candidate) -> bool:
        if not c.hex or c.role not in _BOUND:
            return False
        low = c.name.lower()
        if any(w in low for w in _HEX_NAME_WORDS):
            return True
        return binance and (c.role == "call" or "api" in low)

    if not any(strong(c) for c in cands):
        return [c for c in cands if not c.hex]  # the common case: digests, and no key among them
    # unnamed hex values were deferred before ``hex_key`` (see _raw_candidate): the ones it
    # rejects (placeholders, sequences) are not values at all, and are no one's neighbour
    cands = [c for c in cands if c.deferred is None or hex_key(c.secret, examples) is None]
    out: list[Candidate] = []
    for i, c in enumerate(cands):
        if c.hex and not strong(c):
            if c.role == "other" or (c.role in _BOUND and not binance):
                continue  # named, but not as a Binance credential
            near = [n for n in (cands[i - 1] if i else None, cands[i + 1] if i + 1 < len(cands) else None)
                    if n is not None and abs(n.line - c.line) <= PAIR_WINDOW]
            if not any(strong(n) for n in near):
                continue
        out.append(c)
    return out


def _link(a: Candidate, b: Candidate) -> None:
    a.paired = b.paired = True
    api, sec = (a, b) if a.kind == "api_key" else (b, a)
    a.pair = b.pair = pair_id(api.secret, sec.secret)


def _pair(cands: list[Candidate]) -> None:
    """Link each API key with the secret next to it; settle unknown roles by order.

    Two passes: values named as a key and as a secret pair first, so an unrelated value
    between them (``CRYPTOPANIC_TOKEN=…``) never steals the secret's place; then unnamed
    values (positional arguments, bare lines, CSV cells) pair with what is left.
    """
    for c in cands:
        if c.role in ("api_key", "secret_key"):
            c.kind = c.role
    # pass 1: a named value pairs with the next value (skipping values named as something
    # else) when that one is named as its complement: never across another credential
    for i, a in enumerate(cands):
        if a.paired or a.kind is None:
            continue
        for b in cands[i + 1 : i + 4]:
            if b.line - a.line > PAIR_WINDOW or b.paired:
                break
            if b.role == "other":
                continue
            if b.kind is not None and b.kind != a.kind:
                _link(a, b)
            break
    # pass 2: unnamed values (positional arguments, bare lines, CSV cells) pair by order: each
    # value with the first later unpaired value of another (or no) kind within PAIR_WINDOW lines.
    # One queue of indices per kind, read front to back once: linear even when thousands of
    # values of one kind share a line (a minified JSON file).
    queues: dict[str | None, list[int]] = {None: [], "api_key": [], "secret_key": []}
    for j, c in enumerate(cands):
        queues[c.kind].append(j)
    heads = dict.fromkeys(queues, 0)
    for i, a in enumerate(cands):
        if a.paired:
            continue
        best = -1
        for kind, queue in queues.items():
            if a.kind is not None and kind == a.kind:
                continue
            h = heads[kind]
            while h < len(queue) and (queue[h] <= i or cands[queue[h]].paired):
                h += 1
            heads[kind] = h
            if h < len(queue) and (best == -1 or queue[h] < best):
                best = queue[h]
        if best == -1 or cands[best].line - a.line > PAIR_WINDOW:
            continue
        b = cands[best]
        if a.kind is None and b.kind is None:
            a.kind, b.kind = "api_key", "secret_key"
        elif a.kind is None:
            a.kind = "api_key" if b.kind == "secret_key" else "secret_key"
        elif b.kind is None:
            b.kind = "api_key" if a.kind == "secret_key" else "secret_key"
        _link(a, b)
    for c in cands:
        if c.kind is None:
            c.kind = "api_key"


def _confidence(c: Candidate, binance: bool) -> str:
    named = c.role in ("api_key", "secret_key", "call") or c.paired
    if named and binance:
        return "high"
    if named or binance:
        return "medium"
    return "low"


#: Path words that say an Ed25519 key serves something else (mail signing, SSH, TLS, tokens).
_OTHER_KEY_USES = frozenset({"dkim", "ssh", "tls", "ssl", "acme", "jwt", "letsencrypt", "nginx",
                             "dnssec", "wireguard", "mailer", "gpg", "pgp", "cert", "certs", "x509"})
_PATH_WORDS = re.compile(r"[a-z0-9]+")


def _other_use_path(path: str) -> bool:
    words = set(_PATH_WORDS.findall(path.lower()))
    return "binance" not in words and not words.isdisjoint(_OTHER_KEY_USES)


def _private_pem_blocks(data: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    """``(start, label, raw body)`` of each private-key PEM block, in order: a BEGIN line, 16 to
    16384 bytes with no other armour line, and the first END line of the same label after them.

    One forward pass: the next END of each label is searched for once and reused until a BEGIN
    passes it, so a megabyte of BEGIN lines with no END costs one search, not a 16 KB window each.
    """
    next_end: dict[bytes, int] = {}
    pos = 0
    while True:
        m = _PRIVATE_BEGIN.search(data, pos)
        if m is None:
            return
        label, body_start = m.group(1), m.end()
        end_marker = b"-----END " + label + b"-----"
        end = next_end.get(label, -2)
        if end != -1 and end < body_start + PEM_BODY_MIN:  # not searched yet, or passed
            end = data.find(end_marker, body_start + PEM_BODY_MIN)
            next_end[label] = end
        if end != -1 and end - body_start <= PEM_BODY_MAX:
            if data.find(b"-----", body_start, end + 4) != -1:
                # other armour inside (a line that only names the marker, a template such as
                # f"-----BEGIN …-----\n{body}\n-----END …"): no key starts here; the search goes
                # on, so a real block after it is still found
                pos = m.start() + 1
                continue
            yield m.start(), label, data[body_start:end]
            pos = end + len(end_marker)
        else:
            pos = m.start() + 1


def _nearest_api_key(api: list[Finding], lines: list[int], line: int) -> Finding | None:
    """The API key finding nearest ``line`` within PEM_LINK_WINDOW (the earlier one on a tie);
    ``lines`` are the findings' lines, sorted. Two bisections, not a pass over every key."""
    i = bisect.bisect_left(lines, line)
    left = right = None
    if i > 0 and line - lines[i - 1] <= PEM_LINK_WINDOW:
        left = api[bisect.bisect_left(lines, lines[i - 1])]  # the first of that line
    if i < len(lines) and lines[i] - line <= PEM_LINK_WINDOW:
        right = api[i]
    if left is not None and (right is None or line - left.line <= right.line - line):
        return left
    return right


#: Markers of a cloud service-account credential (Google's JSON key file): its private key
#: signs for that cloud, never for Binance, whatever else the file holds.
_SERVICE_ACCOUNT = re.compile(rb'"type"\s*:\s*"service_account"|"private_key_id"\s*:|"client_email"\s*:')
#: Bytes around a PEM block searched for those markers (a key file's JSON object).
SERVICE_ACCOUNT_WINDOW = 4096


def _service_account(text: _Text, start: int, end: int) -> bool:
    d = text.data
    return _SERVICE_ACCOUNT.search(d, max(0, start - SERVICE_ACCOUNT_WINDOW), end + SERVICE_ACCOUNT_WINDOW) is not None


def _pem_from_repo(
    text: _Text, body: str, repo: RepoContext | None
) -> tuple[str, str | None] | None:
    """(confidence, network) for a PEM block with no evidence in its own file, from the
    repository around it; None when nothing there makes it Binance's.

    * its file is named by Binance code (``PRIVATE_KEY_PATH="Night_stalker.pem"``): high;
    * its file is named as Binance names key files (``test-prv-key.pem``) in a repository that
      speaks of Binance, or named as a private key (``Private_key.pem``) in one whose Binance
      code loads its key from a path: medium;
    * an Ed25519 key (the format of Binance's key generator) with nothing against it: low.
    """
    ed25519 = body.startswith(_ED25519_PREFIX)
    other_use = _other_use_path(text.path)
    if repo is not None and not repo.pending and not other_use:
        named, net = repo.named(text.path.replace("\\", "/").rsplit("/", 1)[-1].lower())
        if named:
            return "high", net
        prv, private = key_file_name(text.path)
        if (prv and repo.binance) or (private and repo.key_path_var):
            return "medium", repo.key_network
    if ed25519 and not other_use:
        return "low", None
    return None


def _private_keys(text: _Text, hmac: list[Finding], repo: RepoContext | None = None) -> list[Finding]:
    out: list[Finding] = []
    api = [f for f in hmac if f.kind == "api_key"]  # in file order: lines never decrease
    api_lines = [f.line for f in api]
    shared: dict[str, str] = {}  # API key -> the pair id it takes from its private key
    for start, label, raw in _private_pem_blocks(text.data):
        body = _PEM_JUNK.sub(b"", raw).decode("ascii")
        if len(body) < 40:
            continue
        if "xxxxx" in body or "XXXXX" in body or b"..." in raw:
            continue  # a documentation stub, not a key
        if published_example(body):
            continue  # Binance's own example or connector test signing key
        if text.allowed(start):  # the BEGIN line's marker covers the key
            continue
        ls, _ = text.line_bounds(start, start)
        owner, _role = _role_from_context(text, ls, start, 0)
        if owner and negative_name(owner):
            continue  # JWT_PRIVATE_KEY, COINBASE_PRIVATE_KEY, TLS_KEY…: not a Binance key
        block_end = start + 2 * len(label) + len(raw) + 29  # BEGIN and END lines around the body
        if _service_account(text, start, block_end):
            continue  # a Google service-account key file, even inside a Binance bot
        le = text.data.find(b"\n", block_end)
        if signing_fixture(text, ls, block_end if le == -1 else le):
            continue  # a connector's unit test signing a known payload with a test key
        line = text.line_of(start)
        link = _nearest_api_key(api, api_lines, line)
        network: str | None = None
        extra: dict[str, object] = {}
        if link is not None or text.binance:
            confidence = "high"
        else:
            decided = _pem_from_repo(text, body, repo)
            if repo is not None and repo.pending and (decided is None or decided[0] == "low"):
                # only the repository can tell (a key file named by its Binance code): the
                # caller settles it once every file is read
                if decided is None and body.startswith(_ED25519_PREFIX):
                    continue  # an Ed25519 key with an other-use path: nothing can promote it
                confidence, extra = "low", {"pending": True}
            elif decided is None:
                continue  # an RSA key with no sign of Binance: not ours to report
            else:
                confidence, network = decided
        pair = None
        if link is not None:
            pair = link.pair or pair_id(link.secret, body)
            if link.pair is None:
                shared[link.secret] = pair
        column = text.column(ls, start)
        found = Finding(
            rule=PRIVATE_KEY.id,
            kind="private_key",
            path=text.report_path,
            line=line,
            column=column,
            confidence=confidence,  # type: ignore[arg-type]
            secret=body,
            name=label.decode("ascii"),
            pair=pair,
        )
        if network is not None:
            extra["network"] = network  # the network of the code that names the key file
        out.append(found.with_extra(**extra) if extra else found)
    # an API key that only has a private key (RSA/Ed25519 keys have no HMAC secret) shares its id
    if shared:
        for i, f in enumerate(hmac):
            if f.pair is None and f.kind == "api_key" and f.secret in shared:
                hmac[i] = f.with_(pair=shared[f.secret])
    return out


def scan_bytes(
    data: bytes, path: str, config: Config = DEFAULT, *, context_path: str | None = None,
    binance: bool | None = None, repo: RepoContext | None = None, hex_keys: bool = True, _depth: int = 0,
) -> list[Finding]:
    """All findings in ``data`` (the content of ``path``), in file order. Pure.

    ``context_path`` is the path the path-based hints read (a ``binance/`` folder, a lockfile
    name, a ``dkim/`` key): the repository-relative one, so a file gets the same confidence
    whichever folder a scan starts from. It defaults to ``path``.

    ``binance`` overrides the file-level "does this file speak of Binance" judgement, for a
    caller that sees only part of a file (``sources.stream`` scans big files in windows).

    ``repo`` is what the repository's Binance code says about key files
    (``candidates.keyfiles``): a PEM block with no evidence in its own file is judged by it.
    ``keyfiles.PENDING`` (a first pass) reports such blocks at low confidence with
    ``extra["pending"]``, for the caller to settle once it has the whole repository's context.

    ``hex_keys=False``: no single-case hex value is a key here. For text rebuilt from a binary
    (a ``.pyc``'s constants, printable strings), where the name next to a value is a guess: a
    hex value is a key only where a real name says so, and a digest beside a guessed name
    (every sha256 in a compiled module that mentions Binance) is not.
    """
    runs = list(find_runs(data))
    has_pem = b"PRIVATE KEY-----" in data
    if not runs and not has_pem:
        return []
    text = _Text(data, context_path or path, path, binance)
    if not hex_keys:
        text._hexok = False
    spans = _pem_spans(data) if b"-----BEGIN " in data else []
    cands: list[Candidate] = []
    denied: set[str] = set()
    nested: list[Finding] = []
    prev_end = 0
    for run in runs:
        if run.kind == "raw":
            cand = _raw_candidate(text, run, prev_end, spans, config, denied)
            if cand is not None:
                cands.append(cand)
        else:
            if spans and _in_spans(run.start, spans):
                continue
            found, inner = _encoded_candidates(text, run, prev_end, config, _depth)
            cands.extend(found)
            nested.extend(inner)
        prev_end = run.end
    if denied:  # a value the file calls an id elsewhere: drop it unless named as a credential here
        cands = [c for c in cands if c.secret not in denied or c.role in ("api_key", "secret_key", "call")]
    if any(c.hex for c in cands):
        cands = _hex_in_context(cands, text.binance, config.example_keys)
        if any(c.deferred for c in cands):
            judged = [
                _raw_candidate(text, c.deferred[0], c.deferred[1], spans, config, denied, defer=False)
                if c.deferred else c
                for c in cands
            ]
            cands = [c for c in judged if c is not None]
    _pair(cands)
    binance = text.binance if (cands or has_pem) else False
    findings = [
        Finding(
            rule=HMAC_KEY.id,
            kind=c.kind,  # type: ignore[arg-type]
            path=path,
            line=c.line,
            column=c.column,
            confidence=_confidence(c, binance),  # type: ignore[arg-type]
            secret=c.secret,
            name=c.name or None,
            encoding=c.encoding,
            pair=c.pair,
        )
        for c in cands
    ]
    if has_pem:
        findings.extend(_private_keys(text, findings, repo))
    findings.extend(nested)
    if findings:  # mainnet / testnet / demo, from the text around each finding
        from keytrap import network  # imported only for files with findings: the hook stays lean

        findings = network.annotate(data, text.path, findings, [c.start for c in cands])
    return select(findings, config)


def select(findings: list[Finding], config: Config) -> list[Finding]:
    """Apply allow-listed fingerprints and the confidence floor; sort in file order."""
    floor = CONFIDENCE_RANK[config.min_confidence]
    kept = [
        f
        for f in findings
        if CONFIDENCE_RANK[f.confidence] >= floor and f.fingerprint not in config.allow_fingerprints
    ]
    kept.sort(key=lambda f: (f.line, f.column, f.rule))
    return kept
