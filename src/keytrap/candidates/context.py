"""Read the words around a candidate: the name it is assigned to, and what that says.

Pure functions over short byte/str slices. ``name_before`` extracts the identifier a value is
bound to (``BINANCE_API_SECRET=``, ``"secret": "``, ``api_key="``, ``X-MBX-APIKEY: ``,
``Client(``); ``classify_name`` turns it into a role.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Literal

    Role = Literal["api_key", "secret_key", "call", "other", "none"]

#: Characters between a name and its value: quotes, assignment, separators, brackets.
_GLUE = " \t\"'`=:([{,|]>\\"
_IDENT = re.compile(r"[A-Za-z0-9_.\-$@]+$")

#: Calls that take (api_key, api_secret) positionally: python-binance, binance-connector,
#: ccxt, node-binance-api, python-binance-futures and friends.
CALL_NAMES = frozenset(
    {
        "client", "asyncclient", "spot", "umfutures", "cmfutures", "margin", "binance",
        "binanceclient", "binancerestapiclient", "binanceapi", "binanceapiclient",
        "binanceapimanager", "restclient", "futures", "websocket", "usdmclient", "coinmclient",
        "mainclient", "binancesocketmanager", "threadedwebsocketmanager", "setcredentials",
        "set_credentials", "options", "login", "auth", "hmac", "new",
    }
)

_SECRET_WORDS = ("secret", "private", "priv_", "privkey", "apisec", "sec_key", "seckey", "password", "passwd")
_KEY_WORDS = ("key", "apik", "api_k", "api-k", "token_id", "access", "login", "username")

#: Names that say nothing about what the value is: the label sits elsewhere on the line or in
#: the lines above (``{"key": "BINANCE_API_SECRET", "value": "…"}``, Terraform ``name = …``).
GENERIC_NAMES = frozenset({"value", "val", "default", "data", "string", "text", "content", "v"})
_QUOTED = re.compile(r"""["']([^"'\n]{2,120})["']""")

#: Names that say "not a Binance credential" when no Binance word is on the line.
NEGATIVE_NAME_WORDS: tuple[str, ...] = (
    "sha", "md5", "hash", "digest", "checksum", "integrity", "etag", "commit", "revision",
    "nonce", "salt", "uuid", "guid", "session", "csrf", "xsrf", "jwt", "cookie", "webhook",
    "signature", "encrypt", "django", "flask", "rails", "laravel", "txid", "tx_hash", "block",
    "address", "wallet", "seed", "mnemonic", "listenkey", "listen_key", "fingerprint", "cid",
    "ipfs", "image", "avatar", "font", "icon", "glyph", "sri", "nextauth", "payload",
    "master_key", "basic", "bearer", "jwt_", "oauth", "refresh", "csrf", "cache",
    "license", "licence", "passphrase", "cookie", "express",
)

#: Other services and exchanges: their credentials are not ours to report.
OTHER_SERVICES: tuple[str, ...] = (
    "kucoin", "bybit", "okx", "okex", "kraken", "coinbase", "bitfinex", "huobi", "htx", "gateio",
    "gate_io", "mexc", "bitget", "bitmex", "deribit", "bitstamp", "gemini", "poloniex", "bittrex",
    "ftx", "github", "gitlab", "stripe", "twilio", "sendgrid", "mailgun", "slack", "discord",
    "telegram", "aws", "azure", "gcp", "google", "openai", "anthropic", "etherscan", "bscscan",
    "infura", "alchemy", "moralis", "coingecko", "coinmarketcap", "cmc_", "cryptocompare",
    "heroku", "vercel", "netlify", "cloudflare", "datadog", "sentry", "pusher", "algolia",
    "shopify", "twitter", "facebook", "firebase", "supabase", "npm_", "pypi", "dockerhub",
    "meili", "typesense", "cryptopanic", "newsapi", "polygon_io", "alpaca", "oanda", "elastic", "redis", "postgres", "mysql", "mongo", "rabbit",
    # other exchanges
    "gate_api", "gateapi", "bitvavo", "bit2c", "bingx", "phemex", "coinex", "bitmart", "hitbtc", "upbit", "bithumb", "ascendex",
    "lbank", "whitebit", "bitpanda", "bitflyer", "hyperliquid", "dydx", "coinone", "korbit", "indodax",
)


#: Last words too generic to classify alone: "Secret Key:", "API key =", "my secret:".
_GENERIC_LAST = frozenset({"key", "secret", "id", "token", "value"})
_WORDS_BEFORE = re.compile(r"([A-Za-z][A-Za-z0-9_\-]*)[ \t]+$")


#: A string type between a name and its value: Rust ``NAME: &str =`` / ``&'static str``,
#: TypeScript/Kotlin/Swift ``NAME: string =`` / ``String``, Go ``var NAME string =``.
_TYPED = re.compile(
    r"([A-Za-z_$][A-Za-z0-9_$]*)[ \t]*(?::[ \t]*|[ \t]+)&?(?:'[a-z_]+[ \t]+)?"
    r"(?:str|String|string|Str|&\[u8\]|\[u8\]|bytes|Option<&?(?:'[a-z_]+[ \t]+)?str>)\??$"
)


def name_before(prefix: str) -> str:
    """The identifier right before a value, with quotes and ``=``/``:`` glue removed.

    A generic last word takes the word before it along (``Secret Key`` in prose and
    markdown), so "Secret Key: …" reads as a secret, not as a key. A string type annotation
    (``API_KEY: &str =``) is looked through to the name it types.
    """
    stripped = prefix.rstrip(_GLUE)
    typed = _TYPED.search(stripped[-160:])
    if typed:
        return typed.group(1)
    match = _IDENT.search(stripped[-120:])
    if not match:
        return ""
    name = match.group(0)
    if name.lower() in _GENERIC_LAST:
        head = stripped[: len(stripped) - len(name)]
        before = _WORDS_BEFORE.search(head[-60:])
        if before:
            name = f"{before.group(1)} {name}"
    return name


#: A file name is not a variable name (``…/step-13-responsive-accessibility.md","<hash>``).
_FILE_NAME = re.compile(
    r"\.(?:md|rst|txt|py|pyc|js|mjs|ts|tsx|jsx|json|ya?ml|toml|ini|cfg|csv|tsv|html?|css|scss|png|jpe?g|"
    r"gif|svg|ico|go|rs|java|kt|rb|php|sh|ps1|bat|lock|xml|zip|gz|tar|whl|jar|so|dll|exe|bin|dat|pem)$"
)


def classify_name(name: str) -> Role:
    if not name:
        return "none"
    low = name.lower().replace("-", "_")
    if "/" in low or _FILE_NAME.search(low):
        return "other"
    last = low.rsplit(".", 1)[-1]
    if last in CALL_NAMES or low in CALL_NAMES:
        return "call"
    if any(w in low for w in _SECRET_WORDS):
        return "secret_key"
    if any(w in low for w in _KEY_WORDS) or low.endswith("api") or low in ("apikey", "x_mbx_apikey"):
        return "api_key"
    return "other"


def label_from_strings(texts: list[str]) -> tuple[str, Role]:
    """For a generic name: the nearest quoted label that says key or secret, if any."""
    for text in texts:
        for label in reversed(_QUOTED.findall(text)):
            role = classify_name(label)
            if role in ("api_key", "secret_key"):
                return label, role
    return "", "none"


#: ``id``, ``video_id``, ``asset-id``, ``sessionId``, ``requestID``: case-aware, so ``valid``,
#: ``grid`` or ``android`` are not identifiers.
_ID_NAME = re.compile(r"(?:^|[_\-])(?:id|ID|Id)$|[a-z0-9](?:Id|ID)$|^(?:uid|UID|uuid|UUID|guid|GUID)$")


def negative_name(name: str) -> str | None:
    low = name.lower()
    last = re.split(r"[\s.\[\]'\"]+", name.strip("_$@ "))[-1] if name.strip() else ""
    if _ID_NAME.search(last) and classify_name(name) not in ("api_key", "secret_key"):
        return "named as an identifier"
    for word in OTHER_SERVICES:
        if word in low:
            return f"named for another service ('{word}')"
    for word in NEGATIVE_NAME_WORDS:
        if word in low:
            return f"named as a non-credential ('{word}')"
    return None


def is_bare_line(line: bytes, start: int, end: int) -> bool:
    """The token is all there is on its line (apart from quotes, commas and spaces)."""
    return not line[:start].strip(b" \t\"',;") and not line[end:].strip(b" \t\"',;\r")


#: Bytes after a named value searched for the call it is passed to.
USE_WINDOW = 8192
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,63}")


#: Uses of a name looked at after its definition.
MAX_USES = 16
_CALLEE = re.compile(rb"([A-Za-z_][\w.]{0,80})[ \t]*\($")
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def passed_to_other_service(after: bytes, name: str) -> str | None:
    """The variable ``name`` is handed to another service's client in ``after`` (the bytes
    that follow its definition): ``BitvavoRestClient(api_key=API_KEY, …)``,
    ``new KucoinClient(API_KEY, …)``. Returns the callee, or None (also when some call hands
    it to a Binance client). Looks at the first ``MAX_USES`` uses, each on its own line."""
    if not _PLAIN_NAME.fullmatch(name):
        return None
    needle = name.encode()
    other = None
    pos, uses = after.find(needle), 0
    while pos != -1 and uses < MAX_USES:
        end = pos + len(needle)
        if (pos == 0 or after[pos - 1] not in _WORD) and (end >= len(after) or after[end] not in _WORD):
            uses += 1
            line_start = after.rfind(b"\n", max(0, pos - 200), pos) + 1
            prefix = after[max(line_start, pos - 200) : pos]
            cut = prefix.rfind(b"(")  # the call the use sits in (not one closed before it)
            if prefix.rfind(b")") > cut:
                cut = -1
            callee_m = _CALLEE.search(prefix[max(0, cut - 82) : cut + 1]) if cut != -1 else None
            if callee_m is not None:
                callee = callee_m.group(1).decode("ascii", "replace").lower()
                if "binance" in callee or callee.rsplit(".", 1)[-1] in CALL_NAMES:
                    return None  # a Binance client (or a generic one) takes it too
                if other is None and any(w in callee for w in OTHER_SERVICES):
                    other = callee_m.group(1).decode("ascii", "replace")
        pos = after.find(needle, end)
    return other


#: The inline allow marker: it covers the secrets on its own line, and only from a comment.
ALLOW_MARKER = b"keytrap: allow"
#: Where a string or a comment can start: quotes, ``/* */``, ``<!-- -->``, ``//``, ``#``, ``--``,
#: ``;`` (the last only at the line start).
_LINE_TOKEN = rb"""["'`]|/\*|<!--|//|#|--|;"""
_STRING_END = {q: rb"(?:[^%s\\\n]|\\.)*%s" % (bytes([q]), bytes([q])) for q in b"\"'`"}
_BLOCK_END = {b"/*": b"*/", b"<!--": b"-->"}
#: What may stand right before a line comment: nothing (the line start) or a space; ``//`` may
#: also follow code (``f();// …``).
_SPACE = frozenset(b" \t\r\f\v")
_AFTER_CODE = frozenset(b";,)]}")


def marker_in_comment(line: bytes) -> bool:
    """Does ``line`` hold the allow marker inside a comment (not inside a string)?

    A small tokenizer, linear in the line: strings (``"…"``, ``'…'``, `````…````` with
    backslash escapes) are skipped whole; ``/* … */`` and ``<!-- … -->`` are comments anywhere
    outside a string; ``#``, ``//`` and ``--`` start a comment that runs to the end of the line
    when they open the line or follow a space (``//`` also after ``;,)]}``); ``;`` only when it
    opens the line (after indentation), as in ini files. A quote
    with no closing quote on the line is a plain character (an apostrophe in prose), and so
    is every later quote of its kind.
    """
    if ALLOW_MARKER not in line:
        return False
    pos, unclosed = 0, set()
    token = re.compile(_LINE_TOKEN)  # re's cache: compiled on the first marker, not at import
    while True:
        m = token.search(line, pos)
        if m is None:
            return False
        tok, start, pos = m.group(), m.start(), m.end()
        if tok in (b'"', b"'", b"`"):
            q = tok[0]
            if q not in unclosed:
                end = re.compile(_STRING_END[q]).match(line, pos)
                if end is None:
                    unclosed.add(q)
                else:
                    pos = end.end()
            continue
        close = _BLOCK_END.get(tok)
        if close is not None:
            stop = line.find(close, pos)
            if line.find(ALLOW_MARKER, pos, len(line) if stop == -1 else stop) != -1:
                return True
            if stop == -1:
                return False
            pos = stop + len(close)
            continue
        if tok == b";":
            # ini-style: only a ``;`` that opens the line; after code it ends a statement
            # (``x = "…" ; keytrap: allow`` is a Python annotation, a JavaScript label)
            if not line[:start].strip(b" \t\f\v"):
                return line.find(ALLOW_MARKER, pos) != -1
            continue
        before = line[start - 1] if start else 0x20
        if before in _SPACE or (tok == b"//" and before in _AFTER_CODE):
            return line.find(ALLOW_MARKER, pos) != -1


#: A line ends at ``\n``, at ``\r\n`` and at a lone ``\r`` (classic Mac OS): editors and
#: terminals show the text after a lone ``\r`` as another line, so a marker there must not
#: cover the key before it.
_LINE_END = re.compile(rb"[\r\n]")


def allow_lines(data: bytes) -> tuple[list[int], list[int]]:
    """Where ``data`` holds an allow marker in a comment: the (starts, ends) of those lines,
    sorted, ``ends`` exclusive. Lines end at ``\n`` or ``\r``. Linear in ``data``: each marker
    line is read once, and the search for a line start never goes back past the previous one.
    """
    starts: list[int] = []
    ends: list[int] = []
    at = data.find(ALLOW_MARKER)
    floor = 0  # the previous marker line's end: no unread marker line starts before it
    while at != -1:
        before = max(data.rfind(b"\n", floor, at), data.rfind(b"\r", floor, at))
        start = before + 1 if before != -1 else 0
        m = _LINE_END.search(data, at)
        end = m.start() if m is not None else len(data)
        if marker_in_comment(data[start:end]):
            starts.append(start)
            ends.append(end)
        floor = end
        at = data.find(ALLOW_MARKER, end)
    return starts, ends
