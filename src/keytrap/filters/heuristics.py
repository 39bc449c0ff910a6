"""Named, pure predicates that reject key-shaped strings which are not keys.

Each returns the reason (a short string) when the candidate must be dropped, else None. The
engine calls them in the order of ``TOKEN_FILTERS``, cheapest and most common first, so a
rejected candidate can always say why (``keytrap scan --explain``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable

from keytrap.rules import published_example

_HEX = frozenset("0123456789abcdefABCDEF")
_VOWELS = frozenset("aeiouyAEIOUY")

#: Substrings (lowercase) that mark a template value rather than a key. Each has 5+ letters, so
#: a random 64-character key contains one with odds of about 1e-5.
PLACEHOLDER_WORDS: tuple[str, ...] = (
    "yourapi", "yourkey", "yoursecret", "yourbinance", "xxxxx", "example", "placeholder",
    "dummy", "sample", "changeme", "replace", "insert", "apikey", "secretkey", "apisecret",
    "redacted", "notreal", "fakekey", "testkey", "mykey", "abcdef", "123456", "qwerty",
)

# Words that split camelCase / PascalCase identifiers: upper+lowers, lowers, upper runs, digits
_SEGMENT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def doc_example(token: str, extra: frozenset[str] = frozenset()) -> str | None:
    if token in extra or published_example(token):
        return "documentation example key"
    return None


def not_mixed(token: str) -> str | None:
    """Real keys mix upper, lower and digits: a random 64-char key lacks one with p < 1e-4."""
    has_upper = has_lower = has_digit = False
    for ch in token:
        if ch.isdigit():
            has_digit = True
        elif ch.isupper():
            has_upper = True
        else:
            has_lower = True
    if has_upper and has_lower and has_digit:
        return None
    return "does not mix upper, lower and digits"


def hex_only(token: str) -> str | None:
    return "hexadecimal (a digest, not a key)" if _HEX.issuperset(token) else None


_LOWER_HEX = frozenset("0123456789abcdef")
_HEX_RUN = re.compile(r"(.)\1{5}")  # six of one digit in a row
_NO_DIGITS = str.maketrans("", "", "0123456789")
_HEX_STEPS = tuple(s[i : i + 7] for s in ("0123456789abcdef", "fedcba9876543210") for i in range(10))
_UPPER_HEX = frozenset("0123456789ABCDEF")


def is_hex(token: str) -> bool:
    """64 hex digits in one case: a digest, or a hex API key (futures testnet keys, some older
    keys). Which one only the context can say (see ``hex_key``)."""
    return _LOWER_HEX.issuperset(token) or _UPPER_HEX.issuperset(token)


def hex_key(token: str, extra_examples: frozenset[str] = frozenset()) -> str | None:
    """Why a single-case hex token cannot be a random hex key, else None.

    A random 64-digit hex key mixes digits and letters, uses 12+ of the 16 digits, has no run
    of 6 repeats or 7 steps (odds about 1e-4 each) and entropy near 3.9 bits a digit (3.3 is
    far below). The engine keeps a hex token only when its context names it a key.
    """
    if not is_hex(token):
        return "not hexadecimal"
    reason = doc_example(token, extra_examples) or placeholder(token)
    if reason:
        return reason
    letters = len(token.translate(_NO_DIGITS))
    if letters == 0 or letters == len(token):
        return "does not mix digits and letters"
    if len(set(token)) < 12:
        return "too few distinct characters"
    low = token.lower()
    if _HEX_RUN.search(low) or any(seq in low for seq in _HEX_STEPS):
        return "repeated or sequential characters"
    return low_entropy(token, 3.3)


def shannon_entropy(token: str) -> float:
    n = len(token)
    if not n:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(token).values())


def low_entropy(token: str, floor: float = 4.3) -> str | None:
    # random 64 chars over 62 symbols: mean 5.35 bits, 4.3 is about 12 standard deviations below
    value = shannon_entropy(token)
    return f"entropy {value:.2f} below {floor}" if value < floor else None


def repeated_or_sequential(token: str) -> str | None:
    """Runs such as ``aaaaa`` or ``abcdef``/``654321``, or too few distinct characters.

    Five repeats or six steps: a random key has four repeats somewhere with odds 2.6e-4, five
    with odds 4e-6, so the thresholds sit where random keys stop tripping them.
    """
    if len(set(token)) < 22:
        return "too few distinct characters"
    run = 1
    seq = 1
    for prev, ch in zip(token, token[1:]):
        run = run + 1 if ch == prev else 1
        step = ord(ch) - ord(prev)
        seq = seq + 1 if step in (1, -1) and ch.isalnum() else 1
        if run >= 5:
            return "repeated characters"
        if seq >= 6:
            return "sequential characters"
    return None


def wordy_identifier(token: str) -> str | None:
    """camelCase identifiers made of words: most of their letters sit in long vowelled words."""
    wordy = 0
    for seg in _SEGMENT.findall(token):
        if len(seg) >= 4 and seg[0].isalpha() and seg[1:].islower() and _VOWELS.intersection(seg):
            wordy += len(seg)
    if wordy >= 0.7 * len(token):  # 0 of 300,000 random keys; real camelCase names reach 0.8+
        return "identifier made of words"
    return None


def placeholder(token: str) -> str | None:
    low = token.lower()
    for word in PLACEHOLDER_WORDS:
        if word in low:
            return f"placeholder ('{word}')"
    return None


TokenFilter = Callable[[str], "str | None"]

#: The order matters only for speed and for which reason is reported.
TOKEN_FILTERS: tuple[tuple[str, TokenFilter], ...] = (
    ("not_mixed", not_mixed),
    ("hex_only", hex_only),
    ("repeated_or_sequential", repeated_or_sequential),
    ("low_entropy", low_entropy),
    ("placeholder", placeholder),
    ("wordy_identifier", wordy_identifier),
)


def base64_text(token: str) -> str | None:
    """Base64 of printable text (codec test vectors, ``Basic`` auth, encoded passwords).

    64 alphanumerics decode to 48 bytes; random keys decode to printable ASCII with odds of
    (95/256)^48, about 1e-21, so this never drops a real key.
    """
    import binascii

    try:
        raw = binascii.a2b_base64(token)
    except binascii.Error:
        return None
    if raw.isascii() and all(32 <= b < 127 or b in (9, 10, 13) for b in raw):
        return "base64 of printable text"
    return None


def reject_token(token: str, extra_examples: frozenset[str] = frozenset()) -> str | None:
    """First reason to drop a token, or None when it still looks like a key."""
    reason = doc_example(token, extra_examples)
    if reason:
        return reason
    for _name, check in TOKEN_FILTERS:
        reason = check(token)
        if reason:
            return reason
    return None


# --- context filters -------------------------------------------------------------------------

_B64_LINE = re.compile(rb"^[A-Za-z0-9+/]{40,}={0,2}$")


#: Base64 of an ASN.1 SEQUENCE with a long length (every certificate and RSA key starts so); a
#: random key starts with one of these with odds of 8e-6.
DER_PREFIXES = (b"MII", b"MIG")


def is_base64_line(line: bytes) -> bool:
    """40+ base64 characters and nothing else (after trimming spaces)."""
    return bool(_B64_LINE.match(line.strip()))


def looks_like_base64_body(line: bytes) -> bool:
    """A line of a PEM/MIME/base64 body: 40+ base64 chars that use ``+``/``/`` or padding,
    or that start like DER."""
    s = line.strip()
    if not _B64_LINE.match(s):
        return False
    return b"+" in s or b"/" in s or s.endswith(b"=") or s.startswith(DER_PREFIXES)


#: What starts a comment line, then any decoration and an optional tag (``# SIG # ``, ``// ``,
#: `` * ``, ``-- ``, ``; ``, ``' ``, ``REM ``).
_COMMENT_LEAD = re.compile(
    rb"[ \t]*(?:#+|//+|/\*+|\*+|--+|;+|'|%+|!|REM[ \t])[ \t#*/;'%!-]*(?:[A-Z]{2,8}[ \t]*[#:|][ \t]*)?"
)


def comment_lead(line: bytes, start: int, end: int) -> bytes | None:
    """The comment marker before a token alone on its commented line, else None.

    ``# MIIf…`` (a line of the Authenticode ``# SIG #`` block a signed script ends with),
    ``// MIIB…``, `` * AAAA…``: a comment marker, decoration, and nothing after the token.
    """
    lead = line[:start]
    if not lead.strip() or line[end:].strip(b" \t\r"):
        return None
    m = _COMMENT_LEAD.match(lead)
    return lead.strip()[:1] if m is not None and m.end() == len(lead) else None


def commented_rest(line: bytes, marker: bytes) -> bytes | None:
    """What follows the comment lead of a line that opens with ``marker`` (``# SIG # MIIf…``
    gives ``MIIf…``), or None when the line is not such a comment."""
    m = _COMMENT_LEAD.match(line)
    if m is None or line.lstrip(b" \t")[:1] != marker:
        return None
    return line[m.end():]


def jwt_segment(data: bytes, start: int, end: int) -> str | None:
    """Part of a dotted token (JWT, macaroon): a base64url segment touches it across a dot.

    A lone ``eyJ…`` run is not enough: one random key in 240,000 starts so, and base64 of JSON
    text is already dropped by ``base64_text``.
    """
    seg = re.compile(rb"[A-Za-z0-9_\-]{8}")
    if start > 9 and data[start - 1] == 0x2E and seg.fullmatch(data[start - 9 : start - 1]):
        return "JWT segment"
    if data[end : end + 1] == b"." and seg.match(data, end + 1):
        return "JWT segment"
    return None


LOCKFILES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock",
        "Pipfile.lock", "Cargo.lock", "go.sum", "composer.lock", "Gemfile.lock", "uv.lock",
        "pdm.lock", "bun.lock", "flake.lock", "packages.lock.json", "mix.lock", "pubspec.lock",
    }
)


def is_lockfile(path: str) -> bool:
    return path.rsplit("/", 1)[-1] in LOCKFILES
