"""Opt-in verification: is a leaked key + secret pair still live on Binance?

For each pair, exactly ONE signed, read-only request is sent::

    GET {base}/sapi/v1/account/apiRestrictions?timestamp=..&recvWindow=5000&signature=..
    X-MBX-APIKEY: <api key>

The secret never leaves the process: only the HMAC-SHA256 signature it makes is sent. No other
endpoint is ever called, nothing is retried, redirects are not followed (they would carry the
API key header to another host), requests are spaced by ``MIN_INTERVAL`` and at most
``MAX_PAIRS`` pairs are checked per run.

The core (``sign``, ``build_request``, ``classify``) is pure; ``urllib_transport`` is the only
code that touches the network and ``verify_pairs`` takes the clock, the sleep and the transport
as arguments so tests run against a local fake server with no waiting.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from keytrap.errors import UsageError

if TYPE_CHECKING:
    from keytrap.findings import Finding

DEFAULT_BASE_URL = "https://api.binance.com"
ENV_VAR = "KEYTRAP_BINANCE_URL"
ENDPOINT = "/sapi/v1/account/apiRestrictions"
RECV_WINDOW = 5000
DEFAULT_TIMEOUT = 5.0
#: Seconds between two requests (Binance's request weight for this endpoint is 1; stay polite).
MIN_INTERVAL = 0.25
#: Upper bound of pairs verified in one run; the rest are reported ``unverified``.
MAX_PAIRS = 20
#: A response body larger than this is not what the endpoint returns.
MAX_BODY = 64 * 1024

LIVE = "live"
REVOKED = "revoked"
UNVERIFIED = "unverified"
STATUSES = (LIVE, REVOKED, UNVERIFIED)

#: Binance error codes that mean "this key (with this secret) does not work".
REJECT_CODES: dict[int, str] = {
    -2014: "API-key format invalid",
    -2008: "invalid API-key ID",
    -2015: "invalid API-key, IP, or permissions (revoked, or restricted to other IPs)",
    -1022: "signature invalid (the key may exist, but this secret is not its secret)",
}
#: Codes where the key itself may still be live (IP whitelist elsewhere, or a wrong secret).
AMBIGUOUS_CODES = frozenset({-2015, -1022})

_BOOL_FIELDS = (
    "ipRestrict",
    "enableWithdrawals",
    "enableInternalTransfer",
    "permitsUniversalTransfer",
    "enableVanillaOptions",
    "enableReading",
    "enableFutures",
    "enableMargin",
    "enableSpotAndMarginTrading",
)
#: Fields without which a 200 answer is not the documented one.
_REQUIRED = ("ipRestrict", "createTime", "enableReading", "enableWithdrawals")
#: Trading permissions, in report order.
_TRADING = (
    ("enableSpotAndMarginTrading", "spot"),
    ("enableMargin", "margin"),
    ("enableFutures", "futures"),
    ("enableVanillaOptions", "options"),
    ("enablePortfolioMarginTrading", "portfolio-margin"),
)
_TRANSFERS = (
    ("enableInternalTransfer", "internal"),
    ("permitsUniversalTransfer", "universal"),
)
_API_KEY_RE = re.compile(r"[A-Za-z0-9]{1,128}")
_LONG_RUN = re.compile(r"[A-Za-z0-9+/=_-]{16,}")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Verification:
    """What Binance said about one pair. Holds no key material at all."""

    status: str  # live | revoked | unverified
    detail: str
    withdrawals: bool | None = None
    ip_restricted: bool | None = None
    trading: tuple[str, ...] = ()
    reading: bool | None = None
    age_days: int | None = None
    transfers: tuple[str, ...] = ()
    code: int | None = None  # the Binance error code, when there was one
    http_status: int | None = None

    @property
    def live(self) -> bool:
        return self.status == LIVE

    @property
    def ambiguous(self) -> bool:
        """Rejected, but in a way that does not prove the key is dead."""
        return self.status == REVOKED and self.code in AMBIGUOUS_CODES

    def summary(self) -> str:
        """One line for a terminal or a report."""
        if self.status != LIVE:
            return f"{self.status}: {self.detail}"
        parts = [
            "withdrawals ENABLED" if self.withdrawals else "withdrawals off",
            "IP-restricted" if self.ip_restricted else "NO IP restriction",
            f"trading: {', '.join(self.trading)}" if self.trading else "no trading",
        ]
        if self.transfers:
            parts.append(f"transfers: {', '.join(self.transfers)}")
        if self.reading:
            parts.append("reading")
        if self.age_days is not None:
            parts.append(f"{self.age_days} days old")
        return "live: " + "; ".join(parts)


def _unverified(detail: str, **kw: object) -> Verification:
    return Verification(UNVERIFIED, detail, **kw)  # type: ignore[arg-type]


#: For a key found with no secret next to it: there is nothing to sign with.
NO_PAIR = _unverified("no secret found with this key: nothing to sign the request with")
#: For a pair that was not sent (not an HMAC pair, or left out by the caller).
NOT_VERIFIED = _unverified("not verified (only HMAC key + secret pairs can be checked)")


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A ready-to-send GET. ``headers`` holds the API key, so it stays out of ``repr``."""

    url: str
    headers: tuple[tuple[str, str], ...] = field(repr=False)


# ----------------------------------------------------------------------------- pure core


def sign(query: str, secret: str) -> str:
    """Binance SIGNED endpoints: hex HMAC-SHA256 of the exact query string, keyed by the secret."""
    return hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()


def build_query(timestamp_ms: int, recv_window: int = RECV_WINDOW) -> str:
    return f"timestamp={timestamp_ms}&recvWindow={recv_window}"


def build_request(
    base_url: str, api_key: str, secret: str, timestamp_ms: int, recv_window: int = RECV_WINDOW
) -> SignedRequest:
    """The one request keytrap ever sends. The secret only enters through the signature."""
    query = build_query(timestamp_ms, recv_window)
    url = f"{base_url.rstrip('/')}{ENDPOINT}?{query}&signature={sign(query, secret)}"
    from keytrap import __version__

    headers = (
        ("X-MBX-APIKEY", api_key),
        ("User-Agent", f"keytrap/{__version__} (key verification)"),
        ("Accept", "application/json"),
    )
    return SignedRequest(url, headers)


def resolve_base_url(flag: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """``--binance-url`` wins over ``KEYTRAP_BINANCE_URL``, which wins over the default.

    Only https is accepted, except for loopback hosts (a local fake server in tests): the API
    key travels in a header and must not cross a network in clear text.
    """
    env = os.environ if environ is None else environ
    raw = flag or env.get(ENV_VAR) or DEFAULT_BASE_URL
    url = raw.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise UsageError(f"invalid Binance URL: {raw!r}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise UsageError(f"invalid Binance URL {raw!r}: expected https://host[:port]")
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise UsageError(f"refusing plain http for {host}: the API key would travel unencrypted")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise UsageError(f"invalid Binance URL {raw!r}: no credentials, query or fragment")
    return url


def _clean(text: object, limit: int = 80) -> str:
    """Server text made safe to show: printable, short, long tokens redacted."""
    s = "".join(ch if ch.isprintable() else " " for ch in str(text))[:limit]
    return _LONG_RUN.sub("[…]", s).strip()


def _json(body: bytes | str | None) -> object:
    if body is None:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _live(data: dict[str, object], status: int, now_ms: int | None) -> Verification:
    for name in _REQUIRED:
        if name not in data:
            return _unverified(f"malformed answer: no '{name}'", http_status=status)
    for name in (*_BOOL_FIELDS, "enablePortfolioMarginTrading"):
        if name in data and not isinstance(data[name], bool):
            return _unverified(f"malformed answer: '{name}' is not true/false", http_status=status)
    created = data["createTime"]
    if not isinstance(created, int) or isinstance(created, bool) or created < 0:
        return _unverified("malformed answer: 'createTime' is not a time", http_status=status)
    age = max(0, (now_ms - created) // _DAY_MS) if now_ms is not None else None
    return Verification(
        LIVE,
        "Binance accepted the signed request: this key works",
        withdrawals=bool(data["enableWithdrawals"]),
        ip_restricted=bool(data["ipRestrict"]),
        trading=tuple(label for name, label in _TRADING if data.get(name) is True),
        reading=bool(data["enableReading"]),
        age_days=age,
        transfers=tuple(label for name, label in _TRANSFERS if data.get(name) is True),
        http_status=status,
    )


def classify(
    status: int | None, body: bytes | str | None, *, now_ms: int | None = None
) -> Verification:
    """Turn an HTTP status and body into a Verification. Pure; never raises.

    ``now_ms`` (epoch milliseconds) lets the key's age be computed from ``createTime``.
    """
    if status is None:
        return _unverified("no answer from Binance")
    data = _json(body)
    if status == 200:
        if isinstance(data, dict):
            return _live(data, status, now_ms)
        return _unverified("malformed answer: not a JSON object", http_status=status)
    if status == 429:
        return _unverified("rate limited by Binance (HTTP 429)", http_status=status)
    if status == 418:
        return _unverified("this IP is temporarily banned by Binance (HTTP 418)", http_status=status)
    if status >= 500:
        return _unverified(f"Binance server error (HTTP {status})", http_status=status)
    code = data.get("code") if isinstance(data, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        return _unverified(f"unexpected answer (HTTP {status})", http_status=status)
    msg = _clean(data.get("msg", "")) if isinstance(data, dict) else ""
    if status in (400, 401) and code in REJECT_CODES:
        return Verification(
            REVOKED,
            f"rejected by Binance ({code}: {REJECT_CODES[code]})",
            code=code,
            http_status=status,
        )
    if code == -1021:
        return _unverified(
            "timestamp outside recvWindow (-1021): check this machine's clock",
            code=code,
            http_status=status,
        )
    detail = f"unexpected error {code} (HTTP {status})" + (f": {msg}" if msg else "")
    return _unverified(detail, code=code, http_status=status)


def well_formed_key(api_key: str) -> bool:
    """Only plain alphanumeric keys are sent: nothing that could bend an HTTP header."""
    return bool(_API_KEY_RE.fullmatch(api_key))


# ----------------------------------------------------------------------------- I/O edge

#: ``transport(request, timeout) -> (http status, body)``; raises OSError on network trouble.
Transport = Callable[[SignedRequest, float], tuple[int, bytes]]


def urllib_transport(request: SignedRequest, timeout: float) -> tuple[int, bytes]:
    """One GET with urllib: no redirects, no retries, a bounded body."""
    import urllib.error
    import urllib.request

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
            return None  # a 3xx comes back as an HTTPError: never resend the key elsewhere

    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if urlsplit(request.url).hostname in _LOOPBACK:
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(request.url, headers=dict(request.headers), method="GET")
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, resp.read(MAX_BODY + 1)
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read(MAX_BODY + 1)
        except OSError:
            body = b""
        finally:
            exc.close()
        return exc.code, body


def _network_detail(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError):
        return "no answer in time (timeout)"
    return f"network error: {type(exc).__name__}: {_clean(reason)}"


def _request_once(
    transport: Transport, request: SignedRequest, timeout: float, now_ms: int
) -> Verification:
    import http.client

    try:
        status, body = transport(request, timeout)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return _unverified(_network_detail(exc))
    if len(body) > MAX_BODY:
        return _unverified("malformed answer: too large", http_status=status)
    return classify(status, body, now_ms=now_ms)


def verify_pairs(
    pairs: Iterable[tuple[str, str, str]],
    base_url: str = DEFAULT_BASE_URL,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    limit: int = MAX_PAIRS,
    min_interval: float = MIN_INTERVAL,
    transport: Transport | None = None,
) -> dict[str, Verification]:
    """Check each ``(pair_id, api_key, secret)``: one request per distinct pair, in order.

    Pairs past ``limit``, pairs with an empty or malformed key and pairs without a secret get an
    ``unverified`` result without any request. An empty input opens no connection at all.
    Prints and logs nothing.
    """
    send = transport or urllib_transport
    results: dict[str, Verification] = {}
    sent = 0
    last: float | None = None
    for pid, api_key, secret in pairs:
        if pid in results:
            continue
        if not api_key or not secret:
            results[pid] = NO_PAIR
            continue
        if not well_formed_key(api_key):
            results[pid] = _unverified("not a well-formed API key: not sent")
            continue
        if sent >= limit:
            results[pid] = _unverified(f"not verified: at most {limit} pairs are checked per run")
            continue
        if last is not None:
            wait = min_interval - (clock() - last)
            if wait > 0:
                sleep(wait)
        now = clock()
        now_ms = int(now * 1000)
        request = build_request(base_url, api_key, secret, now_ms)
        results[pid] = _request_once(send, request, timeout, now_ms)
        sent += 1
        last = clock()
    return results


# ----------------------------------------------------------------------------- findings glue


def pairs_from_findings(findings: Iterable[Finding]) -> list[tuple[str, str, str]]:
    """Distinct HMAC (api key, secret key) pairs, in order of first appearance.

    Private-key pairs (RSA / Ed25519) are left out: they are not signed with HMAC.
    """
    from keytrap.rules import HMAC_KEY

    by_pair: dict[str, dict[str, str]] = {}
    for f in findings:
        if f.pair and f.rule == HMAC_KEY.id and f.kind in ("api_key", "secret_key"):
            by_pair.setdefault(f.pair, {}).setdefault(f.kind, f.secret)
    return [
        (pid, parts["api_key"], parts["secret_key"])
        for pid, parts in by_pair.items()
        if "api_key" in parts and "secret_key" in parts
    ]


def verification_for(finding: Finding, results: Mapping[str, Verification]) -> Verification:
    """The result that applies to one finding (both halves of a pair share it)."""
    if finding.pair and finding.pair in results:
        return results[finding.pair]
    if finding.pair is None:
        return NO_PAIR
    return NOT_VERIFIED
