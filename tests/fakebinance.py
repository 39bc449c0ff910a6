"""A local stand-in for Binance's ``GET /sapi/v1/account/apiRestrictions``.

Runs ``http.server`` on 127.0.0.1 (port 0) in a thread and checks what the real endpoint
checks: the ``X-MBX-APIKEY`` header, the HMAC-SHA256 signature of the query string (recomputed
with the secret registered for that key), the timestamp against ``recvWindow``. It answers with
the documented JSON shapes and error codes, can be told to be slow, to send malformed JSON, a
5xx, a 429 or a redirect, and logs every request exactly as received so tests can assert what
went over the wire.

Keys are registered at test time; nothing key-shaped is written in this file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ENDPOINT = "/sapi/v1/account/apiRestrictions"
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
    secret: str
    answer: dict[str, object]
    revoked: bool = False
    ip_blocked: bool = False


@dataclass
class Behaviour:
    """Global switches; each applies to every request while set."""

    delay: float = 0.0  # seconds before answering (simulate a timeout)
    malformed: bool = False  # 200 with a body that is not JSON
    status: int | None = None  # force this HTTP status (500, 503, 429, 418...)
    redirect_to: str | None = None  # answer 302 with this Location
    wrong_shape: bool = False  # 200 with valid JSON that is not the documented object


@dataclass
class FakeBinance:
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

    def register(self, api_key: str, secret: str, **answer: object) -> None:
        self.accounts[api_key] = Account(secret, restrictions(**answer))

    def new_account(self, **answer: object) -> tuple[str, str]:
        """Register a fresh random key + secret; returns them."""
        api_key, secret = random_key(), random_key()
        self.register(api_key, secret, **answer)
        return api_key, secret

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
        if h.command != "GET" or parts.path != ENDPOINT:
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
        expected = hmac.new(account.secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
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

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        *,
        ctype: str = "application/json;charset=UTF-8",
        extra: tuple[tuple[str, str], ...] = (),
    ) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(body)
        except OSError:
            pass  # the client gave up (timeout test)
