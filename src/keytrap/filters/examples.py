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
_SIGNING_CALL = re.compile(rb"(?i)hmac|sign(?:ature)?\w*\(|hashing\(|\.digest\(|hexdigest\(")
_EXPECTED_DIGEST = re.compile(rb"""["'][0-9a-f]{64}["']|["'][A-Za-z0-9+/]{40,}={1,2}["']""")
#: Lines looked at on each side of a value for a written-out signature: in code and docstrings,
#: and in documentation (a signing walkthrough runs longer).
SIGNATURE_WINDOW = 8
DOC_SIGNATURE_WINDOW = 40


class FileHints:
    """What the whole file holds, looked up once per file: most files hold none of these, and
    then no candidate in them pays for a look at the lines around it."""

    __slots__ = ("response", "result", "signature", "fix", "signing", "test", "blocks")

    def __init__(self, low: bytes, path: str) -> None:
        """``low``: the file's bytes in lower case (shared with the engine's Binance test)."""
        self.test = bool(_TEST_PATH.search(path.lower()))
        self.response = any(w in low for w in _RESPONSE_WORDS)  # the lines above decide
        self.result = self.test and b"result" in low
        self.signature = b"signature" in low or b"openssl" in low
        self.fix = b"8=fix" in low
        self.signing = self.test and any(w in low for w in _SIGNING_WORDS)
        self.blocks: _Blocks | None = None


#: Words without which no line of a file can match ``_RESPONSE_OPENER`` / ``_SIGNING_CALL``.
_RESPONSE_WORDS = (b"expected", b"mock", b"fake", b"stub", b"canned", b"sample", b"responses.add(",
                   b"respx.", b"return_value", b"nock(", b".reply(")
_SIGNING_WORDS = (b"hmac", b"sign", b"hashing(", b"digest(")


def hints(text: _Text) -> FileHints:
    if text.hints is None:
        text.hints = FileHints(text.lower, text.path)
    return text.hints  # type: ignore[return-value]


def in_response_fixture(text: _Text, ls: int, line: bytes) -> bool:
    """The value sits inside a mocked or expected API response (see the module docstring)."""
    h = hints(text)
    if not (h.response or h.result):
        return False
    test_file = h.result
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
    h = hints(text)
    if h.blocks is None:
        h.blocks = _Blocks(text.data, text.path)
    return h.blocks.inside(pos)


def documented_request(text: _Text, ls: int, le: int, pos: int, line: bytes) -> bool:
    """The value is part of a request example in documentation (see the module docstring)."""
    h = hints(text)
    if not (h.signature or h.fix):
        return False
    doc_file = is_documentation(text.path)
    if not (doc_file or _in_doc_block(text, pos)):
        return False  # code, not documentation: a written-out request there is a captured one
    if _FIX_MESSAGE.search(line):
        return True
    window = DOC_SIGNATURE_WINDOW if doc_file else SIGNATURE_WINDOW
    around = (line, *text.prev_lines(ls, window), *text.next_lines(le, window))
    return any(_SIGNATURE.search(ln) for ln in around)


def signing_test_vector(text: _Text, ls: int, le: int, line: bytes) -> bool:
    """In a test file, the value is the input of a signing test: a signing call and the digest
    it must give, written out, within a few lines (``secret = "…"; hmac_hashing(secret, data)
    .should.equal("<hex>")``)."""
    if not hints(text).signing:
        return False
    around = (line, *text.prev_lines(ls, SIGNATURE_WINDOW), *text.next_lines(le, SIGNATURE_WINDOW))
    return any(_SIGNING_CALL.search(ln) for ln in around) and any(
        _EXPECTED_DIGEST.search(ln) for ln in around
    )


def example_context(text: _Text, ls: int, le: int, pos: int, line: bytes, named: bool = True) -> str | None:
    """Why the value at ``pos`` is an example rather than a credential, or None. One look at
    the file-level hints first: in most files none is set and nothing else is read. A mocked
    response names what it holds (``"apiKey": …``): only ``named`` values are looked up in one."""
    h = hints(text)
    if named and (h.response or h.result) and in_response_fixture(text, ls, line):
        return "inside a mocked or expected API response"
    if (h.signature or h.fix) and documented_request(text, ls, le, pos, line):
        return "a documented request example"
    if h.signing and signing_test_vector(text, ls, le, line):
        return "the input of a known-answer signing test"
    return None


#: Lines after a PEM block looked at for the signing test that uses it.
FIXTURE_WINDOW = 40


def signing_fixture(text: _Text, ls: int, le: int) -> bool:
    """A private key in a test file that signs a fixed payload and compares the result with a
    signature written out: a connector's unit-test key (test vectors), not anyone's account."""
    if not hints(text).signing:
        return False
    around = (*text.prev_lines(ls, SIGNATURE_WINDOW), *text.next_lines(le, FIXTURE_WINDOW))
    return any(_SIGNING_CALL.search(ln) for ln in around) and any(
        _EXPECTED_DIGEST.search(ln) for ln in around
    )
