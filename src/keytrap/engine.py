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

import codecs
import re

from keytrap.candidates.context import (
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
from keytrap.candidates.prefilter import KEY_LEN, Run, decode_run, find_runs
from keytrap.config import DEFAULT, Config
from keytrap.filters.heuristics import (
    base64_text,
    comment_lead,
    commented_body,
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

ALLOW_MARKER = b"keytrap: allow"
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

_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----")
#: Binance API keys are HMAC, RSA or Ed25519: EC and DSA private keys are never Binance's.
_PRIVATE_PEM = re.compile(
    rb"-----BEGIN ((?:RSA |ENCRYPTED )?PRIVATE KEY)-----(.{16,16384}?)-----END \1-----",
    re.DOTALL,
)
_PEM_JUNK = re.compile(rb"\\[nr]|[^A-Za-z0-9+/=]")
#: PKCS#8 DER prefix of an Ed25519 private key, base64 (what Binance's key generator writes).
_ED25519_PREFIX = "MC4CAQAwBQYDK2Vw"


class Candidate:
    """A key-shaped value that survived the token filters; mutable while pairing settles."""

    __slots__ = ("secret", "start", "end", "line", "column", "role", "name", "encoding", "kind", "pair", "paired",
                 "hex")

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


class _Text:
    """Lazy views of one file's bytes: line numbers, line slices, Binance context."""

    __slots__ = ("data", "path", "report_path", "_line_pos", "_line_no", "_binance", "_col", "hints", "_lower")

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
        self.hints: object = None  # filters.examples.FileHints, looked up once per file
        self._lower: bytes | None = None

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

    def prev_lines(self, ls: int, count: int) -> list[bytes]:
        """Up to ``count`` non-blank lines before the line starting at ``ls``, nearest first."""
        out: list[bytes] = []
        pos = ls - 1
        while pos > 0 and len(out) < count:
            lo = max(0, pos - CONTEXT_BYTES)
            nl = self.data.rfind(b"\n", lo, pos)
            start = nl + 1 if nl != -1 else lo  # never more than the window: no O(n) copy
            line = self.data[start:pos]
            if line.strip():
                out.append(line)
            if nl == -1:
                break  # the start of the file, or a line longer than the window
            pos = start - 1
        return out

    def next_lines(self, le: int, count: int) -> list[bytes]:
        """Up to ``count`` lines after the line ending at ``le``, nearest first."""
        out: list[bytes] = []
        pos = le
        while pos < len(self.data) and len(out) < count:
            nxt = self.data.find(b"\n", pos + 1, pos + 1 + CONTEXT_BYTES)
            end = nxt if nxt != -1 else min(len(self.data), pos + 1 + CONTEXT_BYTES)
            out.append(self.data[pos + 1 : end])
            pos = end
        return out

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

    def body_block(self, ls: int, le: int, limit: int = BODY_LIMIT) -> list[bytes]:
        """The base64-only lines around a line: BODY_WINDOW lines each side, then onwards
        while the lines stay base64 (a 64-column dump can run for pages of all-alnum lines)."""
        out: list[bytes] = []
        for lines in (self.prev_lines(ls, limit), self.next_lines(le, limit)):
            contiguous = True
            for i, line in enumerate(lines):
                contiguous = contiguous and is_base64_line(line)
                if i >= BODY_WINDOW and not contiguous:
                    break
                out.append(line)
        return out

    @property
    def binance(self) -> bool:
        """Does the file (or its path) speak of Binance at all?"""
        if self._binance is None:
            low_path = self.path.lower()
            low = self.lower
            self._binance = "binance" in low_path or any(k.encode() in low for k in BINANCE_KEYWORDS)
        return self._binance

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
    import bisect

    i = bisect.bisect_right(spans, (pos, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]


def _allowed(text: _Text, ls: int) -> bool:
    d = text.data
    stop = min(len(d), ls + 2 * CONTEXT_BYTES + 128)  # the context window, not the whole line
    le = d.find(b"\n", ls, stop)
    if ALLOW_MARKER in d[ls : le if le != -1 else stop]:
        return True
    prev = text.prev_lines(ls, 1)
    return bool(prev) and ALLOW_MARKER in prev[0]


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


def _csv_column(text: _Text, line: bytes, rel: int) -> str:
    """For a value in a CSV/TSV record, the header's name for its column, else ""."""
    if not text.path.lower().endswith((".csv", ".tsv")):
        return ""
    end = text.data.find(b"\n", 0, 4096)
    header = text.data[: end if end != -1 else 4096].rstrip(b"\r")
    delimiter = max(b",\t;", key=header.count)
    if header.count(delimiter) == 0:
        return ""
    index, quoted = 0, False
    for ch in line[:rel]:
        if ch == 0x22:
            quoted = not quoted
        elif ch == delimiter and not quoted:
            index += 1
    names = [c.strip(b" \"'") for c in header.split(bytes([delimiter]))]
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
        start = header.end()
    else:
        if not _TUPLE_START.match(line):
            return ""
        start = 0
        for prev in text.prev_lines(ls, 30):
            header = _INSERT.search(prev)
            if header is not None:
                break
            if not (_TUPLE_START.match(prev) and prev.rstrip().endswith((b",", b"),"))):
                return ""
        else:
            return ""
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
    columns = [c.strip(b" \t`\"[]").decode("utf-8", "replace") for c in header.group(1).split(b",")]
    return columns[index] if index < len(columns) else ""


def _raw_candidate(
    text: _Text, run: Run, prev_end: int, spans: list[tuple[int, int]], config: Config, denied: set[str]
) -> Candidate | None:
    d = text.data
    token = d[run.start : run.end].decode("ascii")
    hexkey = False
    if reject_token(token, config.example_keys) or base64_text(token):
        if not is_hex(token) or hex_key(token, config.example_keys) is not None:
            return None
        hexkey = True  # kept only if its context names it a key (see _hex_in_context)
    if spans and _in_spans(run.start, spans):
        return None  # a PEM/certificate body line
    if jwt_segment(d, run.start, run.end):
        return None
    ls, le = text.line_bounds(run.start, run.end)
    if _allowed(text, ls):
        return None
    name, role = _role_from_context(text, ls, run.start, prev_end)
    line_bytes = d[ls:le]
    rel = run.start - ls
    if role in ("none", "other"):
        if is_lockfile(text.path):
            return None
        column_name = _sql_column(text, ls, line_bytes, rel) or (
            _csv_column(text, line_bytes, rel) if ls > 0 else ""
        )
        if column_name:  # a VALUES tuple or a CSV record: the header names the value
            name, role = column_name, classify_name(column_name)
        elif _compound_key(line_bytes, rel):
            return None
        if is_bare_line(line_bytes, run.start - ls, run.end - ls) and (
            looks_like_base64_body(line_bytes)
            or any(looks_like_base64_body(line) for line in text.body_block(ls, le))
        ):
            return None  # a line of a base64 body (a headless PEM/DER dump) that is all alnum
        marker = comment_lead(line_bytes, rel, run.end - ls)
        if marker is not None and commented_body(
            text.prev_lines(ls, BODY_LIMIT), text.next_lines(le, BODY_LIMIT), marker, BODY_WINDOW
        ):
            return None  # a line of a base64 block kept in comments (``# SIG #`` signatures)
    if name and negative_name(name) and b"binance" not in line_bytes.lower():
        denied.add(token)  # the file calls this value an id/hash/…: not a secret anywhere in it
        return None
    if _other_use_section(text, ls, line_bytes, name):
        return None
    if role in ("api_key", "secret_key") and passed_to_other_service(d[run.end : run.end + USE_WINDOW], name):
        return None  # API_KEY = "…" then BitvavoRestClient(api_key=API_KEY): not a Binance key
    if example_context(text, ls, le, run.start, line_bytes):
        return None  # what a mocked response holds, a documented request, a known-answer test
    column = text.column(ls, run.start)
    cand = Candidate(token, run.start, run.end, text.line_of(run.start), column, role, name)
    cand.hex = hexkey
    return cand


def _encoded_candidates(
    text: _Text, run: Run, prev_end: int, config: Config, depth: int
) -> tuple[list[Candidate], list[Finding]]:
    """A base64 run: either an encoded bare key (a candidate here) or encoded text to rescan."""
    decoded = decode_run(text.data, run)
    if decoded is None:
        return [], []
    ls, _le = text.line_bounds(run.start, run.end)
    if _allowed(text, ls):
        return [], []
    stripped = decoded.strip()
    line = text.line_of(run.start)
    column = text.column(ls, run.start)
    if len(stripped) == KEY_LEN and stripped.isalnum():
        token = stripped.decode("ascii")
        if reject_token(token, config.example_keys):
            return [], []
        name, role = _role_from_context(text, ls, run.start, prev_end)
        if name and negative_name(name):
            return [], []
        return [Candidate(token, run.start, run.end, line, column, role, name, "base64")], []
    if depth > 0 or len(stripped) < KEY_LEN:
        return [], []
    inner = scan_bytes(decoded, text.report_path, config, context_path=text.path, _depth=depth + 1)
    return [], [
        f.with_(line=line, column=column, encoding="base64") for f in inner
    ]


_BOUND = ("api_key", "secret_key", "call")


#: Name words that tie a hex value to an exchange API (``TEST_FUTURES_API_KEY``, ``apiSecret``).
_HEX_NAME_WORDS = ("api", "binance", "testnet", "future")


def _hex_in_context(cands: list[Candidate], binance: bool) -> list[Candidate]:
    """Hex tokens are digests unless their context says key. A hex token is kept when

    * it is passed to a client (``Client("<hex>", "<hex>", testnet=True)``), or named for an
      API key or secret (``TEST_FUTURES_API_KEY``, ``BINANCE_API_SECRET=<hex>``): *strong*;
    * it is named as a key or secret more loosely (``secret_key``), the file speaks of Binance,
      and the hex value next to it (within ``PAIR_WINDOW`` lines) is strong;
    * it is unnamed and the hex value next to it is strong (the other half of a hex pair).

    A bare ``key = "<hex>"`` in a cipher test, ``TC_KEY`` for another API, a digest column, a
    signature in a logged URL, a checksum: none of these is a Binance key.
    """

    def strong(c: Candidate) -> bool:
        if not c.hex or c.role not in _BOUND:
            return False
        return c.role == "call" or any(w in c.name.lower() for w in _HEX_NAME_WORDS)

    out: list[Candidate] = []
    for i, c in enumerate(cands):
        if c.hex and not strong(c):
            if c.role in _BOUND and not binance:
                continue
            if c.role == "other":
                continue  # named, but not as a credential
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
    # pass 2: unnamed values (positional arguments, bare lines, CSV cells) pair by order
    for i, a in enumerate(cands):
        if a.paired:
            continue
        for j in range(i + 1, len(cands)):  # no list slice per candidate: O(n) copies add up
            b = cands[j]
            if b.line - a.line > PAIR_WINDOW:
                break
            if b.paired or (a.kind is not None and a.kind == b.kind):
                continue
            if a.kind is None and b.kind is None:
                a.kind, b.kind = "api_key", "secret_key"
            elif a.kind is None:
                a.kind = "api_key" if b.kind == "secret_key" else "secret_key"
            elif b.kind is None:
                b.kind = "api_key" if a.kind == "secret_key" else "secret_key"
            _link(a, b)
            break
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
            return "medium", repo.network
    if ed25519 and not other_use:
        return "low", None
    return None


def _private_keys(text: _Text, hmac: list[Finding], repo: RepoContext | None = None) -> list[Finding]:
    out: list[Finding] = []
    for m in _PRIVATE_PEM.finditer(text.data):
        body = _PEM_JUNK.sub(b"", m.group(2)).decode("ascii")
        if len(body) < 40:
            continue
        if "xxxxx" in body or "XXXXX" in body or b"..." in m.group(2):
            continue  # a documentation stub, not a key
        if published_example(body):
            continue  # Binance's own example or connector test signing key
        ls, _ = text.line_bounds(m.start(), m.start())
        if _allowed(text, ls):
            continue
        owner, _role = _role_from_context(text, ls, m.start(), 0)
        if owner and negative_name(owner):
            continue  # JWT_PRIVATE_KEY, COINBASE_PRIVATE_KEY, TLS_KEY…: not a Binance key
        if _service_account(text, m.start(), m.end()):
            continue  # a Google service-account key file, even inside a Binance bot
        le = text.data.find(b"\n", m.end())
        if signing_fixture(text, ls, m.end() if le == -1 else le):
            continue  # a connector's unit test signing a known payload with a test key
        line = text.line_of(m.start())
        api = [f for f in hmac if f.kind == "api_key" and abs(f.line - line) <= PEM_LINK_WINDOW]
        link = min(api, key=lambda f: abs(f.line - line)) if api else None
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
        column = text.column(ls, m.start())
        found = Finding(
            rule=PRIVATE_KEY.id,
            kind="private_key",
            path=text.report_path,
            line=line,
            column=column,
            confidence=confidence,  # type: ignore[arg-type]
            secret=body,
            name=m.group(1).decode("ascii"),
            pair=pair,
        )
        if network is not None:
            extra["network"] = network  # the network of the code that names the key file
        out.append(found.with_extra(**extra) if extra else found)
    # an API key that only has a private key (RSA/Ed25519 keys have no HMAC secret) shares its id
    for i, f in enumerate(hmac):
        if f.pair is None and f.kind == "api_key":
            for pk in out:
                if pk.pair == pair_id(f.secret, pk.secret):
                    hmac[i] = f.with_(pair=pk.pair)
    return out


def scan_bytes(
    data: bytes, path: str, config: Config = DEFAULT, *, context_path: str | None = None,
    binance: bool | None = None, repo: RepoContext | None = None, _depth: int = 0,
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
    """
    runs = list(find_runs(data))
    has_pem = b"PRIVATE KEY-----" in data
    if not runs and not has_pem:
        return []
    text = _Text(data, context_path or path, path, binance)
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
        cands = _hex_in_context(cands, text.binance)
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
