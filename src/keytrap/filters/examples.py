"""Contexts that say a key-shaped value is an example, not the repository owner's credential.

Binance's docs and connectors copy the same few example values everywhere (their hashes are in
``rules.BINANCE_PUBLISHED_EXAMPLES``); these predicates catch the *contexts* those values live
in, so a new example value is recognised before anyone hashes it:

* **API-response fixtures.** A value inside a mocked or expected API response
  (``expected_response = {…}``, ``mock_response``, ``responses.add(…)``, ``….return_value =
  {…}``, a WebSocket response body ``"result": {…}`` in a test file) is what the test expects
  Binance to answer, not a key anyone signs with. A key a test passes to a client
  (``Client(api_key=…)``, ``Spot(key, secret)``) is not in such a structure and stays a leak.
* **Signing test vectors.** In a test file, a secret next to a signing call and the digest it
  must give, written out, is the input of a known-answer test.
* **Documented request examples.** In documentation (a ``.md``/``.rst``/… file, a ``docs/``
  folder, a docstring or a ``/** … */`` block), a signed request written out with its literal
  ``signature`` next to the key, or a FIX message (``8=FIX.4.4|…|553=<key>|…``), shows what a
  request looks like. The same request in code or in a committed log is still reported.

Each predicate takes the engine's lazy text view (``engine._Text``) and positions; all of them
look at a bounded number of lines around one candidate.
"""

from __future__ import annotations

import bisect
import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from keytrap.engine import _Text

#: An enclosing line that opens a mocked or expected API response.
_RESPONSE_OPENER = re.compile(
    rb"(?i)(?:\b|_)(?:expected|mock(?:ed)?|fake|stub(?:bed)?|canned|sample)[_\- ]?(?:api[_\- ]?)?"
    rb"(?:response|resp|reply|result|payload|body)s?\b"
    rb"|\bresponses\.add\(|\brespx\.|\.return_value\s*=|\bmock_(?:get|post|request)\b"
    rb"|\bnock\(|\.reply\(\s*\d{3}\b|\bmockResolvedValue(?:Once)?\("
)
#: ``"result": {`` / ``result: [``: the body of a WebSocket API response.
_RESULT_OPENER = re.compile(rb"""^\s*["']?result["']?\s*:\s*[\[{]""")
_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|spec|specs|__tests__|testing)/|(?:^|/)test_[^/]*$|_test\.[a-z]+$|\.(?:spec|test)\.[jt]sx?$")

#: Files that are documentation.
_DOC_SUFFIXES = (".md", ".markdown", ".rst", ".adoc", ".asciidoc", ".html", ".htm", ".mdx")
_DOC_DIRS = re.compile(r"(?:^|/)(?:docs?|documentation|wiki)/")
#: A signature written out: ``"signature": "<hex or base64>"``, ``signature | <hex>``,
#: ``&signature=<hex>``, or an ``openssl dgst -hmac`` walkthrough.
_SIGNATURE = re.compile(
    rb"""(?i)\bsignature["'`]?\s*(?:[:=|]|\|\s*`?)\s*["'`]?(?:[0-9a-f]{64}\b|[A-Za-z0-9+/]{40,}={0,2})"""
    rb"""|openssl\s+dgst\b[^\n]{0,80}-(?:hmac|sign)\b"""
)
#: A FIX message: tag=value fields separated by ``|`` (or SOH), starting ``8=FIX``.
_FIX_MESSAGE = re.compile(rb"(?:^|[|\x01\s`'\"])8=FIX[T.]?\d")
#: In a test: a signing call, and the expected digest it must give, written out.
_SIGNING_CALL = re.compile(rb"(?i)hmac|\bsign(?:ature)?(?:_\w+)?\(|hashing\(|\.digest\(|hexdigest\(")
_EXPECTED_DIGEST = re.compile(rb"""["'][0-9a-f]{64}["']|["'][A-Za-z0-9+/]{40,}={1,2}["']""")
#: Lines looked at on each side of a value for a written-out signature: in code and docstrings,
#: and in documentation (a signing walkthrough runs longer).
SIGNATURE_WINDOW = 8
DOC_SIGNATURE_WINDOW = 40


def in_response_fixture(text: _Text, ls: int, line: bytes) -> bool:
    """The value sits inside a mocked or expected API response (see the module docstring)."""
    test_file = bool(_TEST_PATH.search(text.path.lower()))
    for parent in text.parents(ls, line, 16):
        if _RESPONSE_OPENER.search(parent):
            return True
        if test_file and _RESULT_OPENER.match(parent):
            return True
    return False


def is_documentation(path: str) -> bool:
    low = path.lower()
    return low.endswith(_DOC_SUFFIXES) or bool(_DOC_DIRS.search(low))


#: Languages whose triple-quoted strings are docstrings, and whose ``/** … */`` are doc comments.
_TRIPLE_QUOTED = (".py", ".pyi", ".pyx")
_DOC_COMMENTED = (".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".java", ".kt", ".go", ".cs", ".php",
                  ".rs", ".swift", ".scala", ".c", ".h", ".cpp", ".hpp", ".dart")


class _Blocks:
    """Where docstrings (Python triple quotes) and ``/** … */`` doc comments are, found once per
    file and by its language: a ``*/*`` in a log opens no comment."""

    __slots__ = ("triple", "opens", "closes")

    def __init__(self, data: bytes, path: str) -> None:
        low = path.lower()
        quoted, commented = low.endswith(_TRIPLE_QUOTED), low.endswith(_DOC_COMMENTED)
        self.triple = [
            [m.start() for m in re.finditer(re.escape(q), data)] if quoted else [] for q in (b'"""', b"'''")
        ]
        self.opens = [m.start() for m in re.finditer(rb"/\*\*\s", data)] if commented else []
        self.closes = [m.start() for m in re.finditer(rb"\*/", data)] if commented else []

    def inside(self, pos: int) -> bool:
        for marks in self.triple:
            if bisect.bisect_left(marks, pos) % 2:
                return True  # an odd number of quotes before: inside a docstring
        i = bisect.bisect_left(self.opens, pos)
        if i:
            j = bisect.bisect_left(self.closes, pos)
            return not j or self.closes[j - 1] < self.opens[i - 1]
        return False


def _in_doc_block(text: _Text, pos: int) -> bool:
    if text.doc_blocks is None:
        text.doc_blocks = _Blocks(text.data, text.path)
    return text.doc_blocks.inside(pos)


def documented_request(text: _Text, ls: int, le: int, pos: int, line: bytes) -> bool:
    """The value is part of a request example in documentation (see the module docstring)."""
    doc_file = is_documentation(text.path)
    window = DOC_SIGNATURE_WINDOW if doc_file else SIGNATURE_WINDOW
    around = (line, *text.prev_lines(ls, window), *text.next_lines(le, window))
    if not (_FIX_MESSAGE.search(line) or any(_SIGNATURE.search(ln) for ln in around)):
        return False
    return doc_file or _in_doc_block(text, pos)


def signing_test_vector(text: _Text, ls: int, le: int, line: bytes) -> bool:
    """In a test file, the value is the input of a signing test: a signing call and the digest
    it must give, written out, within a few lines (``secret = "…"; hmac_hashing(secret, data)
    .should.equal("<hex>")``)."""
    if not _TEST_PATH.search(text.path.lower()):
        return False
    around = (line, *text.prev_lines(ls, SIGNATURE_WINDOW), *text.next_lines(le, SIGNATURE_WINDOW))
    return any(_SIGNING_CALL.search(ln) for ln in around) and any(
        _EXPECTED_DIGEST.search(ln) for ln in around
    )
