"""A local stand-in for Binance, one network per instance.

``FakeBinance(network=...)`` runs ``http.server`` on 127.0.0.1 (port 0) in a thread and serves
the read-only endpoint keytrap asks on that network:

=============== =========================================
mainnet          GET /sapi/v1/account/apiRestrictions
testnet, demo    GET /api/v3/account (spot account)
futures-testnet  GET /fapi/v3/account (futures account)
=============== =========================================

It checks what the real endpoints check, in Binance's order: the ``X-MBX-APIKEY`` header,
then the signature of the query string, really verified with the credential registered for
that key (HMAC-SHA256 hex with the secret; Ed25519, or RSASSA-PKCS1-v1_5/SHA-256, base64, with
the public key), then the timestamp against ``recvWindow``. It answers with the documented
JSON shapes and error codes, sends a ``Date`` header from its own clock (or none), and can be
told to be slow, to trickle its answer one byte at a time, to block the region (451/403), to
send malformed JSON, a 5xx, a 429 or a redirect. It logs every request exactly as received so
tests can assert what went over the wire. ``fake_networks()`` runs all four at once.

Keys are generated at test time; nothing key-shaped is written in this file.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ENDPOINT = "/sapi/v1/account/apiRestrictions"
ENDPOINTS = {
    "mainnet": ENDPOINT,
    "testnet": "/api/v3/account",
    "futures-testnet": "/fapi/v3/account",
    "demo": "/api/v3/account",
}
#: The environment variable and the flag that point keytrap at each network.
ENV_VARS = {
    "mainnet": "KEYTRAP_BINANCE_URL",
    "testnet": "KEYTRAP_BINANCE_TESTNET_URL",
    "futures-testnet": "KEYTRAP_BINANCE_FUTURES_TESTNET_URL",
    "demo": "KEYTRAP_BINANCE_DEMO_URL",
}
FLAGS = {
    "mainnet": "--binance-url",
    "testnet": "--binance-testnet-url",
    "futures-testnet": "--binance-futures-testnet-url",
    "demo": "--binance-demo-url",
}
_ALNUM = string.ascii_letters + string.digits


def random_key(length: int = 64) -> str:
    """A fresh random key-shaped string (Binance HMAC keys are 64 alphanumerics)."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def restrictions(**overrides: object) -> dict[str, object]:
    """The documented answer of apiRestrictions, all permissions off; override any field."""
    base: dict[str, object] = {
        "ipRestrict": False,
        "createTime": int(time.time() * 1000),
        "enableReading": True,
        "enableWithdrawals": False,
        "enableInternalTransfer": False,
        "enableMargin": False,
        "enableFutures": False,
        "permitsUniversalTransfer": False,
        "enableVanillaOptions": False,
        "enableFixApiTrade": False,
        "enableFixReadOnly": False,
        "enableSpotAndMarginTrading": False,
        "enablePortfolioMarginTrading": False,
    }
    base.update(overrides)
    return base


def spot_account(**overrides: object) -> dict[str, object]:
    """The documented answer of GET /api/v3/account (spot testnet, demo trading)."""
    base: dict[str, object] = {
        "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
        "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False,
        "updateTime": int(time.time() * 1000), "accountType": "SPOT",
        "balances": [{"asset": "USDT", "free": "10000.00000000", "locked": "0.00000000"}],
        "permissions": ["SPOT"], "uid": 354937868,
    }
    base.update(overrides)
    return base


def futures_account(**overrides: object) -> dict[str, object]:
    """The documented answer of GET /fapi/v3/account (futures testnet)."""
    base: dict[str, object] = {
        "totalInitialMargin": "0.00000000", "totalMaintMargin": "0.00000000",
        "totalWalletBalance": "15000.00000000", "totalUnrealizedProfit": "0.00000000",
        "totalMarginBalance": "15000.00000000", "availableBalance": "15000.00000000",
        "maxWithdrawAmount": "15000.00000000",
        "assets": [{"asset": "USDT", "walletBalance": "15000.00000000"}],
        "positions": [],
    }
    base.update(overrides)
    return base


ANSWERS: dict[str, Callable[..., dict[str, object]]] = {
    "mainnet": restrictions,
    "testnet": spot_account,
    "futures-testnet": futures_account,
    "demo": spot_account,
}


def _crypto():
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

    return hashes, serialization, ed25519, padding, rsa


def new_ed25519_key() -> tuple[object, str]:
    """A fresh Ed25519 key pair: (public key object, PKCS#8 private key PEM)."""
    _h, serialization, ed25519, _p, _r = _crypto()
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key.public_key(), pem


def new_rsa_key(pkcs1: bool = False) -> tuple[object, str]:
    """A fresh RSA-2048 key pair: (public key object, PKCS#8 or PKCS#1 private key PEM)."""
    _h, serialization, _e, _p, rsa = _crypto()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if pkcs1 else serialization.PrivateFormat.PKCS8
    pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()
    return key.public_key(), pem


def check_signature(account: Account, payload: str, signature: str) -> bool:
    """Does ``signature`` (already URL-decoded) sign ``payload`` with this account's credential?"""
    if account.public_key is None:
        expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature.lower())
    hashes, _s, ed25519, padding, _r = _crypto()
    from cryptography.exceptions import InvalidSignature

    try:
        raw = base64.b64decode(signature, validate=True)
        if isinstance(account.public_key, ed25519.Ed25519PublicKey):
            account.public_key.verify(raw, payload.encode())
        else:
            account.public_key.verify(raw, payload.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[attr-defined]
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class LoggedRequest:
    """One request exactly as it arrived."""

    request_line: str
    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def raw(self) -> str:
        """Everything that was sent, as one string, for "does X appear anywhere" assertions."""
        lines = [self.request_line, *(f"{k}: {v}" for k, v in self.headers)]
        return "\r\n".join(lines) + "\r\n\r\n" + self.body.decode("latin-1")


@dataclass
class Account:
    secret: str  # the HMAC secret ("" for an asymmetric key)
    answer: dict[str, object]
    revoked: bool = False
    ip_blocked: bool = False
    public_key: object | None = None  # Ed25519 / RSA public key (cryptography object)


@dataclass
class Behaviour:
    """Global switches; each applies to every request while set."""

    delay: float = 0.0  # seconds before answering (simulate a timeout)
    malformed: bool = False  # 200 with a body that is not JSON
    status: int | None = None  # force this HTTP status (500, 503, 429, 418...)
    redirect_to: str | None = None  # answer 302 with this Location
    wrong_shape: bool = False  # 200 with valid JSON that is not the documented object
    region_block: int | None = None  # answer 451 (or 403) as Binance does for restricted places
    trickle: float | None = None  # send the answer one byte every this many seconds
    no_date: bool = False  # send no Date header (the client cannot know the server's time)


@dataclass
class FakeBinance:
    network: str = "mainnet"  # mainnet | testnet | futures-testnet | demo
    recv_window_max: int = 60_000
    server_time: Callable[[], float] = time.time
    accounts: dict[str, Account] = field(default_factory=dict)
    log: list[LoggedRequest] = field(default_factory=list)
    behaviour: Behaviour = field(default_factory=Behaviour)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    # -- registry -----------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return ENDPOINTS[self.network]

    def register(self, api_key: str, secret: str = "", *, public_key: object = None, **answer: object) -> None:
        self.accounts[api_key] = Account(secret, ANSWERS[self.network](**answer), public_key=public_key)

    def new_account(self, **answer: object) -> tuple[str, str]:
        """Register a fresh random key + HMAC secret; returns them."""
        api_key, secret = random_key(), random_key()
        self.register(api_key, secret, **answer)
        return api_key, secret

    def new_ed25519_account(self, **answer: object) -> tuple[str, str]:
        """Register a fresh API key for a fresh Ed25519 key; returns (api key, private PEM)."""
        public, pem = new_ed25519_key()
        api_key = random_key()
        self.register(api_key, public_key=public, **answer)
        return api_key, pem

    def new_rsa_account(self, pkcs1: bool = False, **answer: object) -> tuple[str, str]:
        """Register a fresh API key for a fresh RSA key; returns (api key, private PEM)."""
        public, pem = new_rsa_key(pkcs1)
        api_key = random_key()
        self.register(api_key, public_key=public, **answer)
        return api_key, pem

    def revoke(self, api_key: str) -> None:
        self.accounts[api_key].revoked = True

    def block_ip(self, api_key: str) -> None:
        self.accounts[api_key].ip_blocked = True

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeBinance:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeBinance:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour ------------------------------------------------------------------------

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        parts = urlsplit(h.path)
        entry = LoggedRequest(
            request_line=h.requestline,
            method=h.command,
            path=parts.path,
            query=parts.query,
            headers=tuple(h.headers.items()),
            body=body,
        )
        with self._lock:
            self.log.append(entry)
        b = self.behaviour
        if b.delay:
            self._stop.wait(b.delay)
        if b.redirect_to:
            return self._send(h, 302, b"", extra=(("Location", b.redirect_to),))
        if b.status is not None:
            return self._send(h, b.status, b"<html>error</html>", ctype="text/html")
        if b.region_block is not None:
            msg = ("Service unavailable from a restricted location according to 'b. Eligibility' "
                   "in https://www.binance.com/en/terms.")
            return self._error(h, b.region_block, 0, msg)
        if h.command != "GET" or parts.path != self.endpoint:
            return self._error(h, 404, -1000, "unknown endpoint")
        status, answer = self._answer(entry)
        if status == 200 and b.malformed:
            return self._send(h, 200, b'{"ipRestrict": tru')
        if status == 200 and b.wrong_shape:
            answer = [answer]
        self._send(h, status, json.dumps(answer).encode())

    def _answer(self, req: LoggedRequest) -> tuple[int, object]:
        """What Binance answers, in the order it checks things."""
        api_key = req.header("X-MBX-APIKEY")
        if not api_key or len(api_key) != 64 or not api_key.isalnum():
            return 401, {"code": -2014, "msg": "API-key format invalid."}
        account = self.accounts.get(api_key)
        if account is None or account.revoked or account.ip_blocked:
            return 401, {
                "code": -2015,
                "msg": "Invalid API-key, IP, or permissions for action.",
            }
        # the signature covers the query string exactly as sent, minus the signature itself
        params = parse_qsl(req.query, keep_blank_values=True)
        signature = dict(params).get("signature")
        if signature is None:
            return 400, {"code": -1102, "msg": "Mandatory parameter 'signature' was not sent."}
        signed = req.query.rsplit("&signature=", 1)[0]
        if not check_signature(account, signed, signature):
            return 400, {"code": -1022, "msg": "Signature for this request is not valid."}
        values = dict(params)
        try:
            timestamp = int(values["timestamp"])
            recv_window = int(values.get("recvWindow", 5000))
        except (KeyError, ValueError):
            return 400, {"code": -1102, "msg": "Mandatory parameter 'timestamp' was not sent."}
        if recv_window > self.recv_window_max:
            return 400, {"code": -1131, "msg": "recvWindow must be less than 60000"}
        now = int(self.server_time() * 1000)
        if timestamp >= now + 1000 or now - timestamp > recv_window:
            return 400, {
                "code": -1021,
                "msg": "Timestamp for this request is outside of the recvWindow.",
            }
        return 200, account.answer

    def _error(self, h: BaseHTTPRequestHandler, status: int, code: int, msg: str) -> None:
        self._send(h, status, json.dumps({"code": code, "msg": msg}).encode())

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        *,
        ctype: str = "application/json;charset=UTF-8",
        extra: tuple[tuple[str, str], ...] = (),
    ) -> None:
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body))), *extra]
        if not self.behaviour.no_date:
            headers.append(("Date", formatdate(self.server_time(), usegmt=True)))
        try:
            if self.behaviour.trickle is not None:
                return self._trickle(h, status, headers, body)
            h.send_response_only(status)
            for k, v in headers:
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(body)
        except OSError:
            pass  # the client gave up (timeout test)

    def _trickle(self, h: BaseHTTPRequestHandler, status: int, headers: list, body: bytes) -> None:
        """The whole answer, one byte at a time: a server that never quite times out."""
        head = f"HTTP/1.1 {status} OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        h.close_connection = True
        for byte in head.encode() + body:
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            if self._stop.wait(self.behaviour.trickle or 0):
                return


@contextlib.contextmanager
def fake_networks(**kw: object) -> Iterator[dict[str, FakeBinance]]:
    """All four networks, each a FakeBinance on its own port."""
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(FakeBinance(network=name, **kw)) for name in ENDPOINTS}  # type: ignore[arg-type]


def network_env(fakes: dict[str, FakeBinance]) -> dict[str, str]:
    """The environment that points keytrap at these fakes."""
    return {ENV_VARS[name]: fake.url for name, fake in fakes.items()}


def network_flags(fakes: dict[str, FakeBinance]) -> list[str]:
    """The command-line flags that point keytrap at these fakes."""
    return [arg for name, fake in fakes.items() for arg in (FLAGS[name], fake.url)]


def all_requests(fakes: dict[str, FakeBinance]) -> list[LoggedRequest]:
    return [r for fake in fakes.values() for r in fake.log]
