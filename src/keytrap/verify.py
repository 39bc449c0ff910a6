"""Opt-in verification: is a leaked key still live on Binance, and on which network?

For each pair (an API key with its HMAC secret, or with its Ed25519/RSA private key) keytrap
sends ONE signed, read-only GET to one network, the one the context points to (the finding's
``network``: ``testnet=True``, a testnet URL…; mainnet when nothing says otherwise). Only when
that network rejects the key as unknown (-2014, -2015, -2008) is the next network asked, once
each:

============== ================================ ================================================
network         default base URL                 the request (all signed, all read-only)
============== ================================ ================================================
mainnet         https://api.binance.com           GET /sapi/v1/account/apiRestrictions
testnet         https://testnet.binance.vision    GET /api/v3/account?omitZeroBalances=true
futures-testnet https://testnet.binancefuture.com GET /fapi/v3/account
demo            https://demo-api.binance.com      GET /api/v3/account?omitZeroBalances=true
============== ================================ ================================================

Once any base URL is given (flag or environment), only the networks given are asked: none
falls back to its real default (:func:`resolve_urls`). Each request goes out
with ``timestamp`` and ``recvWindow=5000`` and the ``signature``, and one header,
``X-MBX-APIKEY``. The secret and the private key never leave the process: only the signature
they make is sent (HMAC hex; Ed25519 or RSA PKCS#1 v1.5/SHA-256 base64, percent-encoded; see
``verify_signing``). Nothing is retried, redirects are not followed (they would carry the key
header elsewhere), requests are spaced by ``MIN_INTERVAL``, at most ``MAX_PAIRS`` pairs are
checked per run, each request is bounded as a whole by ``timeout`` and the whole phase by
``deadline``.

The core (``sign``, ``build_request``, ``classify``) is pure; ``verify_transport`` is the only
code that touches the network, and ``verify_pairs`` takes the clocks, the sleep and the
transport as arguments so tests run against local fake servers with no waiting.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from keytrap.errors import UsageError
from keytrap.verify_signing import Signer, SigningError, hmac_hex, hmac_signer, private_key_signer

if TYPE_CHECKING:
    from keytrap.findings import Finding, ScanResult

DEFAULT_BASE_URL = "https://api.binance.com"
ENV_VAR = "KEYTRAP_BINANCE_URL"
ENDPOINT = "/sapi/v1/account/apiRestrictions"
RECV_WINDOW = 5000
DEFAULT_TIMEOUT = 5.0
#: Seconds the whole ``--verify`` phase may take; what is left is ``unverified: deadline``.
DEFAULT_DEADLINE = 60.0
#: Seconds between two requests (each weighs 1-20 on Binance's scale; stay polite).
MIN_INTERVAL = 0.25
#: Upper bound of pairs verified in one run; the rest are reported ``unverified``.
MAX_PAIRS = 20
#: A response body larger than this is not what the endpoints return.
MAX_BODY = 64 * 1024

LIVE = "live"
REVOKED = "revoked"
UNVERIFIED = "unverified"
STATUSES = (LIVE, REVOKED, UNVERIFIED)


@dataclass(frozen=True, slots=True)
class Network:
    """One Binance environment keytrap can ask, and the read-only request it sends there."""

    name: str  # mainnet | testnet | futures-testnet | demo
    family: str  # what a finding's ``network`` says: mainnet | testnet | demo
    label: str
    default_url: str
    env_var: str
    flag: str
    endpoint: str
    params: str  # fixed parameters before timestamp/recvWindow ("" or "omitZeroBalances=true&")
    answer: str  # restrictions | spot-account | futures-account

    @property
    def attr(self) -> str:
        """The argparse attribute of ``flag``."""
        return self.flag.lstrip("-").replace("-", "_")


MAINNET = Network("mainnet", "mainnet", "Binance mainnet", DEFAULT_BASE_URL, ENV_VAR,
                  "--binance-url", ENDPOINT, "", "restrictions")
SPOT_TESTNET = Network("testnet", "testnet", "Binance spot testnet", "https://testnet.binance.vision",
                       "KEYTRAP_BINANCE_TESTNET_URL", "--binance-testnet-url", "/api/v3/account",
                       "omitZeroBalances=true&", "spot-account")
FUTURES_TESTNET = Network("futures-testnet", "testnet", "Binance futures testnet",
                          "https://testnet.binancefuture.com", "KEYTRAP_BINANCE_FUTURES_TESTNET_URL",
                          "--binance-futures-testnet-url", "/fapi/v3/account", "", "futures-account")
DEMO = Network("demo", "demo", "Binance demo trading environment", "https://demo-api.binance.com",
               "KEYTRAP_BINANCE_DEMO_URL", "--binance-demo-url", "/api/v3/account",
               "omitZeroBalances=true&", "spot-account")
NETWORKS: dict[str, Network] = {n.name: n for n in (MAINNET, SPOT_TESTNET, FUTURES_TESTNET, DEMO)}

#: Which networks to ask, in order, for what the context says (a finding's ``network``).
ORDER: dict[str | None, tuple[str, ...]] = {
    None: ("mainnet", "testnet", "futures-testnet", "demo"),
    "mainnet": ("mainnet", "testnet", "futures-testnet", "demo"),
    "testnet": ("testnet", "futures-testnet", "demo", "mainnet"),
    "demo": ("demo", "testnet", "futures-testnet", "mainnet"),
}

#: Binance error codes that mean "this key (with this secret) does not work".
REJECT_CODES: dict[int, str] = {
    -2014: "API-key format invalid",
    -2008: "invalid API-key ID",
    -2015: "invalid API-key, IP, or permissions (revoked, or restricted to other IPs)",
    -1022: "signature invalid (the key may exist, but this secret is not its secret)",
}
#: Codes where the key itself may still be live (IP whitelist elsewhere, or a wrong secret).
AMBIGUOUS_CODES = frozenset({-2015, -1022})
#: Rejections that say "no such key here": the next network is asked. -1022 is not one of
#: them: Binance checks the key before the signature, so the key exists on that network.
KEY_UNKNOWN_CODES = frozenset({-2014, -2015, -2008})

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
    network: str | None = None  # the network that gave this answer (a NETWORKS name)
    skew_s: int | None = None  # this machine's clock minus Binance's, for -1021

    @property
    def live(self) -> bool:
        return self.status == LIVE

    @property
    def ambiguous(self) -> bool:
        """Rejected, but in a way that does not prove the key is dead."""
        return self.status == REVOKED and self.code in AMBIGUOUS_CODES

    @property
    def family(self) -> str | None:
        """mainnet | testnet | demo: where this answer came from."""
        net = NETWORKS.get(self.network or "")
        return net.family if net else None

    @property
    def label(self) -> str:
        net = NETWORKS.get(self.network or "")
        return net.label if net else "Binance"

    def summary(self) -> str:
        """One line for a terminal or a report."""
        if self.status != LIVE:
            return f"{self.status}: {self.detail}"
        if self.family not in (None, "mainnet"):
            parts = [f"on the {self.label}, which holds no real funds"]
            if self.trading:
                parts.append(f"trading: {', '.join(self.trading)}")
            if self.withdrawals is not None:
                parts.append("withdrawals enabled" if self.withdrawals else "withdrawals off")
            return "live: " + "; ".join(parts)
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


def _unverified(detail: str, **kw: Any) -> Verification:
    return Verification(UNVERIFIED, detail, **kw)


#: For a key found with no secret next to it: there is nothing to sign with.
NO_PAIR = _unverified("no secret or private key found with this key: nothing to sign the request with")
#: For a secret or private key found with no API key next to it: there is nothing to send.
NO_API_KEY = _unverified("no API key found with this secret: nothing to send")
#: For a pair that was not sent (left out by the caller, or incomplete).
NOT_VERIFIED = _unverified("not verified (the pair lacks its API key, or its secret/private key)")
#: For a pair the whole ``--verify`` phase had no time left for.
DEADLINE = _unverified("deadline: the --verify phase ran out of time before this pair")


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A ready-to-send GET. ``headers`` holds the API key, so it stays out of ``repr``."""

    url: str
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    network: str = "mainnet"


@dataclass(frozen=True, slots=True)
class Pair:
    """One credential to verify. Key material stays out of ``repr``."""

    pid: str
    api_key: str = field(repr=False)
    secret: str = field(default="", repr=False)  # the HMAC secret
    private_key: tuple[str, str] | None = field(default=None, repr=False)  # (PEM name, body)
    network: str | None = None  # what the context says: mainnet | testnet | demo | None


# ----------------------------------------------------------------------------- pure core


def sign(query: str, secret: str) -> str:
    """Binance SIGNED endpoints: hex HMAC-SHA256 of the exact query string, keyed by the secret."""
    return hmac_hex(query, secret)


def build_query(timestamp_ms: int, recv_window: int = RECV_WINDOW, params: str = "") -> str:
    return f"{params}timestamp={timestamp_ms}&recvWindow={recv_window}"


def _headers(api_key: str) -> tuple[tuple[str, str], ...]:
    from keytrap import __version__

    return (
        ("X-MBX-APIKEY", api_key),
        ("User-Agent", f"keytrap/{__version__} (key verification)"),
        ("Accept", "application/json"),
    )


def build_signed(
    network: Network, base_url: str, api_key: str, signer: Signer, timestamp_ms: int,
    recv_window: int = RECV_WINDOW,
) -> SignedRequest:
    """The one request sent to ``network``. Key material only enters through the signature."""
    query = build_query(timestamp_ms, recv_window, network.params)
    url = f"{base_url.rstrip('/')}{network.endpoint}?{query}&signature={signer.sign(query)}"
    return SignedRequest(url, _headers(api_key), network.name)


def build_request(
    base_url: str, api_key: str, secret: str, timestamp_ms: int, recv_window: int = RECV_WINDOW
) -> SignedRequest:
    """The mainnet request for an HMAC pair."""
    return build_signed(MAINNET, base_url, api_key, hmac_signer(secret), timestamp_ms, recv_window)


def _check_url(raw: str) -> str:
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


def resolve_base_url(
    flag: str | None = None, environ: Mapping[str, str] | None = None, network: Network = MAINNET
) -> str:
    """The flag wins over the environment variable, which wins over the default.

    Only https is accepted, except for loopback hosts (a local fake server in tests): the API
    key travels in a header and must not cross a network in clear text. URLs come from flags
    and the environment only, never from a config file a repository could ship.
    """
    env = os.environ if environ is None else environ
    return _check_url(flag or env.get(network.env_var) or network.default_url)


def resolve_urls(
    flags: Mapping[str, str | None] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Base URL of each network to ask, by name (``flags`` maps network names to flag values).

    With no URL given, every network at its default URL. Once any URL is given (a flag or its
    environment variable), only the networks whose URL was given: someone pointing keytrap at
    a proxy or a local test server must never have a key sent to the real Binance by a
    fall back to another network's default.
    """
    flags = flags or {}
    env = os.environ if environ is None else environ
    given = [name for name, net in NETWORKS.items() if flags.get(name) or env.get(net.env_var)]
    names = given or list(NETWORKS)
    return {name: resolve_base_url(flags.get(name), env, NETWORKS[name]) for name in names}


def _clean(text: object, limit: int = 80) -> str:
    """Server text made safe to show: printable, short, long tokens redacted."""
    s = "".join(ch if ch.isprintable() else " " for ch in str(text))[:limit]
    return _LONG_RUN.sub("[…]", s).strip()


def _json(body: bytes | str | None) -> object:
    if body is None:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _live_restrictions(data: dict[str, object], status: int, now_ms: int | None, net: str) -> Verification:
    for name in _REQUIRED:
        if name not in data:
            return _unverified(f"malformed answer: no '{name}'", http_status=status, network=net)
    for name in (*_BOOL_FIELDS, "enablePortfolioMarginTrading"):
        if name in data and not _is_bool(data[name]):
            return _unverified(f"malformed answer: '{name}' is not true/false", http_status=status, network=net)
    created = data["createTime"]
    if not isinstance(created, int) or isinstance(created, bool) or created < 0:
        return _unverified("malformed answer: 'createTime' is not a time", http_status=status, network=net)
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
        network=net,
    )


def _live_account(data: dict[str, object], status: int, network: Network) -> Verification:
    """GET /api/v3/account (spot testnet, demo) or /fapi/v3/account (futures testnet)."""
    net = network.name
    if network.answer == "spot-account":
        for name in ("canTrade", "canWithdraw"):
            if not _is_bool(data.get(name)):
                return _unverified(f"malformed answer: no true/false '{name}'", http_status=status, network=net)
        if not isinstance(data.get("balances"), list):
            return _unverified("malformed answer: no 'balances'", http_status=status, network=net)
        trading: tuple[str, ...] = ("spot",) if data["canTrade"] else ()
        withdrawals: bool | None = bool(data["canWithdraw"])
    else:
        if not isinstance(data.get("assets"), list) or "totalWalletBalance" not in data:
            return _unverified("malformed answer: no 'assets'/'totalWalletBalance'", http_status=status, network=net)
        can_trade = data.get("canTrade")  # v2 has it, v3 does not
        trading = ("futures",) if can_trade is not False else ()
        can_withdraw = data.get("canWithdraw")
        withdrawals = can_withdraw if _is_bool(can_withdraw) else None  # type: ignore[assignment]
    return Verification(
        LIVE,
        f"the {network.label} accepted the signed request: this key works there",
        withdrawals=withdrawals,
        trading=trading,
        reading=True,
        http_status=status,
        network=net,
    )


def _server_epoch(data: object, headers: Mapping[str, str] | None) -> float | None:
    """Binance's clock, from a ``serverTime`` in the answer or the HTTP ``Date`` header."""
    if isinstance(data, dict):
        st = data.get("serverTime")
        if isinstance(st, int) and not isinstance(st, bool) and st > 0:
            return st / 1000
    date = (headers or {}).get("date")
    if date:
        from email.utils import parsedate_to_datetime

        try:
            return parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return None


def _clock_skew(data: object, headers: Mapping[str, str] | None, sent_ms: int | None, **kw: Any) -> Verification:
    server = _server_epoch(data, headers)
    if server is None or sent_ms is None:
        return _unverified(
            "clock skew unknown: the timestamp was outside recvWindow (-1021) and Binance's "
            "time was not in the answer; check this machine's clock", **kw
        )
    skew = round(sent_ms / 1000 - server)
    way = "ahead of" if skew > 0 else "behind"
    return _unverified(
        f"clock skew {abs(skew)} s: this machine's clock is {way} Binance's (-1021); "
        "fix the clock and verify again", skew_s=skew, **kw
    )


def classify(
    status: int | None,
    body: bytes | str | None,
    *,
    now_ms: int | None = None,
    network: str = "mainnet",
    headers: Mapping[str, str] | None = None,
) -> Verification:
    """Turn an HTTP status, body and headers into a Verification. Pure; never raises.

    ``now_ms`` (epoch milliseconds, the request's timestamp) gives the key's age from
    ``createTime`` and the clock skew from the server's time on -1021.
    """
    net = NETWORKS.get(network, MAINNET)
    kw: dict[str, Any] = {"network": net.name}
    if status is None:
        return _unverified("no answer from Binance", **kw)
    kw["http_status"] = status
    data = _json(body)
    if status == 200:
        if not isinstance(data, dict):
            return _unverified("malformed answer: not a JSON object", **kw)
        if net.answer == "restrictions":
            return _live_restrictions(data, status, now_ms, net.name)
        return _live_account(data, status, net)
    if status == 451:
        return _unverified(f"region blocked (HTTP 451): the {net.label} does not serve this location", **kw)
    if status == 403:
        return _unverified(f"region blocked (HTTP 403): the {net.label} refused this location or IP", **kw)
    if status == 429:
        return _unverified("rate limited by Binance (HTTP 429)", **kw)
    if status == 418:
        return _unverified("this IP is temporarily banned by Binance (HTTP 418)", **kw)
    if status >= 500:
        return _unverified(f"Binance server error (HTTP {status})", **kw)
    code = data.get("code") if isinstance(data, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        return _unverified(f"unexpected answer (HTTP {status})", **kw)
    msg = _clean(data.get("msg", "")) if isinstance(data, dict) else ""
    if status in (400, 401) and code in REJECT_CODES:
        return Verification(
            REVOKED, f"rejected by the {net.label} ({code}: {REJECT_CODES[code]})", code=code, **kw
        )
    if code == -1021:
        return _clock_skew(data, headers, now_ms, code=code, **kw)
    detail = f"unexpected error {code} (HTTP {status})" + (f": {msg}" if msg else "")
    return _unverified(detail, code=code, **kw)


def well_formed_key(api_key: str) -> bool:
    """Only plain alphanumeric keys are sent: nothing that could bend an HTTP header."""
    return bool(_API_KEY_RE.fullmatch(api_key))


def network_order(hint: str | None, available: Iterable[str]) -> list[str]:
    """The networks to ask, context first, restricted to ``available``."""
    have = set(available)
    return [n for n in ORDER.get(hint, ORDER[None]) if n in have]


# ----------------------------------------------------------------------------- I/O edge

#: ``transport(request, timeout) -> (status, body[, headers])``; raises OSError on trouble.
Transport = Callable[[SignedRequest, float], tuple]


def http_transport(request: SignedRequest, timeout: float) -> tuple[int, bytes, dict[str, str]]:
    """One GET bounded as a whole by ``timeout``; no redirects, no retries, a bounded body."""
    from keytrap import verify_transport

    return verify_transport.get(request.url, dict(request.headers), timeout, MAX_BODY)


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
        answer = transport(request, timeout)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return _unverified(_network_detail(exc), network=request.network)
    status, body = answer[0], answer[1]
    headers = answer[2] if len(answer) > 2 else None
    if len(body) > MAX_BODY:
        return _unverified("malformed answer: too large", http_status=status, network=request.network)
    return classify(status, body, now_ms=now_ms, network=request.network, headers=headers)


def _as_pair(item: Pair | tuple[str, str, str]) -> Pair:
    if isinstance(item, Pair):
        return item
    pid, api_key, secret = item
    return Pair(pid, api_key, secret)


def _signer(pair: Pair) -> Signer | Verification:
    if pair.secret:
        return hmac_signer(pair.secret)
    assert pair.private_key is not None
    try:
        return private_key_signer(*pair.private_key)
    except SigningError as exc:
        return _unverified(str(exc))


def _combine(answers: list[Verification]) -> Verification:
    """One verdict from the answers of the networks asked, in order: live or a final answer
    as it is; rejected everywhere is revoked; a later network with no usable answer leaves
    the pair unverified (saying where it was rejected)."""
    last = answers[-1]
    if len(answers) == 1:
        return last
    first = answers[0]
    rejected = ", ".join(NETWORKS[a.network].label.removeprefix("Binance ") for a in answers[:-1] if a.network)
    if last.status == REVOKED and last.code in KEY_UNKNOWN_CODES:
        return replace(
            first,
            detail=f"{first.detail}; also rejected on the {last.label.removeprefix('Binance ')}"
            if len(answers) == 2
            else f"rejected on every network asked ({rejected}, "
            f"{last.label.removeprefix('Binance ')}; {first.code}: {REJECT_CODES.get(first.code or 0, '')})",
        )
    if last.status == UNVERIFIED:
        return replace(last, detail=f"{last.detail} (rejected on {rejected})")
    return last


def verify_pairs(
    pairs: Iterable[Pair | tuple[str, str, str]],
    base_url: str = DEFAULT_BASE_URL,
    *,
    urls: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    deadline: float | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    limit: int = MAX_PAIRS,
    min_interval: float = MIN_INTERVAL,
    transport: Transport | None = None,
) -> dict[str, Verification]:
    """Check each pair (a ``Pair``, or ``(pair_id, api_key, hmac_secret)``), in order.

    ``urls`` maps network names to base URLs; without it only mainnet (``base_url``) is asked.
    Each pair asks its context's network first and the next ones only on a "no such key"
    rejection: at most one request per pair per network. Pairs past ``limit``, with an empty
    or malformed key, without a secret or with an unusable private key get an ``unverified``
    result without any request; so do the pairs left when ``deadline`` seconds have passed.
    An empty input opens no connection at all. Prints and logs nothing.
    """
    send = transport or http_transport
    targets = dict(urls) if urls is not None else {"mainnet": base_url}
    end = monotonic() + deadline if deadline is not None else None
    results: dict[str, Verification] = {}
    sent = 0
    last: float | None = None
    for item in pairs:
        pair = _as_pair(item)
        pid = pair.pid
        if pid in results:
            continue
        if not pair.api_key or not (pair.secret or pair.private_key):
            results[pid] = NO_PAIR
            continue
        if not well_formed_key(pair.api_key):
            results[pid] = _unverified("not a well-formed API key: not sent")
            continue
        if sent >= limit:
            results[pid] = _unverified(f"not verified: at most {limit} pairs are checked per run")
            continue
        if end is not None and monotonic() >= end:
            results[pid] = DEADLINE
            continue
        signer = _signer(pair)
        if isinstance(signer, Verification):
            results[pid] = signer
            continue
        answers: list[Verification] = []
        for name in network_order(pair.network, targets):
            if last is not None:
                wait = min_interval - (clock() - last)
                if wait > 0:
                    if end is not None and monotonic() + wait >= end:
                        answers.append(DEADLINE)
                        break
                    sleep(wait)
            budget = timeout
            if end is not None:
                budget = min(timeout, end - monotonic())
                if budget <= 0:
                    answers.append(DEADLINE)
                    break
            now_ms = int(clock() * 1000)
            request = build_signed(NETWORKS[name], targets[name], pair.api_key, signer, now_ms)
            v = _request_once(send, request, budget, now_ms)
            if budget < timeout and v.status == UNVERIFIED and "timeout" in v.detail:
                v = DEADLINE  # cut short by the whole phase's deadline, not by --verify-timeout
            answers.append(v)
            last = clock()
            if not (v.status == REVOKED and v.code in KEY_UNKNOWN_CODES):
                break
        sent += 1
        results[pid] = _combine(answers) if answers else DEADLINE
    return results


# ----------------------------------------------------------------------------- findings glue


def pairs_from_findings(findings: Iterable[Finding]) -> list[tuple[str, str, str]]:
    """Distinct HMAC (api key, secret key) pairs, in order of first appearance."""
    return [(p.pid, p.api_key, p.secret) for p in credentials_from_findings(findings) if p.secret]


def credentials_from_findings(findings: Iterable[Finding]) -> list[Pair]:
    """Distinct credentials, in order of first appearance: an API key with its HMAC secret, or
    with the Ed25519/RSA private key the engine linked to it (same ``pair``). A pair holding
    both a secret and a private key is checked with the secret. The network hint is the
    context's (``extra["network"]``) of either half."""
    from keytrap.rules import HMAC_KEY, PRIVATE_KEY

    parts: dict[str, dict[str, Any]] = {}
    for f in findings:
        if not f.pair:
            continue
        slot = parts.setdefault(f.pair, {})
        if f.rule == HMAC_KEY.id and f.kind in ("api_key", "secret_key"):
            slot.setdefault(f.kind, f.secret)
        elif f.rule == PRIVATE_KEY.id and f.kind == "private_key":
            slot.setdefault("private_key", (f.name or "PRIVATE KEY", f.secret))
        else:
            continue
        net = f.get("network")
        if net and (f.kind == "api_key" or "network" not in slot):
            slot["network"] = net
    out = []
    for pid, slot in parts.items():
        if "api_key" not in slot or not ("secret_key" in slot or "private_key" in slot):
            continue
        out.append(
            Pair(pid, slot["api_key"], slot.get("secret_key", ""),
                 None if "secret_key" in slot else slot["private_key"], slot.get("network"))
        )
    return out


def verify_findings(findings: Iterable[Finding], options: object = None) -> dict[str, Verification]:
    """``--verify`` for a scan: URLs from the flags on ``options`` (an argparse namespace) or the
    environment, limits from ``--verify-timeout`` and ``--verify-deadline``."""
    urls = resolve_urls({name: getattr(options, net.attr, None) for name, net in NETWORKS.items()})
    timeout = getattr(options, "verify_timeout", None) or DEFAULT_TIMEOUT
    deadline = getattr(options, "verify_deadline", None) or DEFAULT_DEADLINE
    return verify_pairs(credentials_from_findings(findings), urls=urls, timeout=timeout, deadline=deadline)


def verification_for(finding: Finding, results: Mapping[str, Verification]) -> Verification:
    """The result that applies to one finding (both halves of a pair share it)."""
    if finding.pair and finding.pair in results:
        return results[finding.pair]
    if finding.pair is None:
        return NO_PAIR if finding.kind == "api_key" else NO_API_KEY
    return NOT_VERIFIED


def finding_extras(v: Verification) -> dict[str, object]:
    """What a finding carries about its verification (every output format shows extras). A
    live finding's ``network`` becomes the network that accepted it."""
    extra: dict[str, object] = {"verification": v.summary(), "verification_status": v.status}
    if v.live and v.family:
        extra["network"] = v.family
        extra["verified_on"] = v.network
    return extra


def only_live(result: ScanResult) -> ScanResult:
    """``--only-verified``: keep the findings Binance confirmed live."""
    return result._replace(findings=tuple(f for f in result.findings if f.get("verification_status") == LIVE))
