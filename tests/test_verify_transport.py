"""The verification GET: one deadline for the whole request, whatever the server does."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fakebinance import FakeBinance

from keytrap import verify_transport


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as server:
        yield server


def test_plain_get_returns_status_body_and_headers(fake: FakeBinance) -> None:
    status, body, headers = verify_transport.get(fake.url + fake.endpoint, {}, 5.0, 1000)
    assert status == 401 and b"-2014" in body  # no key header: "API-key format invalid"
    assert "date" in headers and headers["content-type"].startswith("application/json")


def test_a_trickling_server_is_cut_at_the_timeout(fake: FakeBinance) -> None:
    fake.behaviour.trickle = 0.05  # ~300 bytes of answer: 15 s, but every read gets a byte
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        verify_transport.get(fake.url + fake.endpoint, {}, 1.0, 1000)
    elapsed = time.monotonic() - t0
    assert 0.9 <= elapsed < 1.8, elapsed


def test_a_slow_body_is_cut_too(fake: FakeBinance) -> None:
    fake.behaviour.delay = 3.0
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        verify_transport.get(fake.url + fake.endpoint, {}, 0.5, 1000)
    assert time.monotonic() - t0 < 1.5


def test_the_body_is_bounded(fake: FakeBinance) -> None:
    _status, body, _h = verify_transport.get(fake.url + fake.endpoint, {}, 5.0, 10)
    assert len(body) == 11  # max_body + 1: the caller sees "too large"


def test_redirects_are_returned_not_followed() -> None:
    with FakeBinance() as first, FakeBinance() as other:
        first.behaviour.redirect_to = other.url + other.endpoint
        status, _body, headers = verify_transport.get(first.url + first.endpoint, {"X-MBX-APIKEY": "k"}, 5.0, 1000)
        assert status == 302 and headers["location"].startswith(other.url)
        assert other.log == []


def trickler(first: bytes, then: bytes) -> Iterator[int]:
    """A TCP server that reads what the client sends, answers ``first``, then ``then`` one
    byte every 0.1 s for ever: every read succeeds, the answer never ends."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                try:
                    conn.recv(4096)
                    conn.sendall(first)
                    i = 0
                    while not stop.wait(0.1):
                        conn.sendall(then[i % len(then) : i % len(then) + 1])
                        i += 1
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join(2)
    srv.close()


@pytest.fixture
def tls_trickler() -> Iterator[int]:
    """A TLS record header promising 16 KiB, then its bytes one by one."""
    yield from trickler(b"\x16\x03\x03\x40\x00", b"\x00")


@pytest.fixture
def proxy_trickler() -> Iterator[int]:
    """An https proxy whose answer to CONNECT is an endless header, one byte at a time."""
    yield from trickler(b"HTTP/1.1 200 Connection established\r\n", b"X-Pad: aaaaaaaaaaaaaaaa\r\n")


def test_a_trickling_tls_handshake_is_cut(tls_trickler: int) -> None:
    t0 = time.monotonic()
    with pytest.raises(OSError):
        verify_transport.get(f"https://127.0.0.1:{tls_trickler}/x", {}, 1.0, 1000)
    assert time.monotonic() - t0 < 2.0


def test_a_trickling_proxy_is_cut_by_the_watchdog(proxy_trickler: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """http.client reads the CONNECT answer before our deadline socket is in place: only the
    watchdog bounds it."""
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy_trickler}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    t0 = time.monotonic()
    with pytest.raises((OSError, __import__("http.client").client.HTTPException)):
        verify_transport.get("https://api.binance.invalid/x", {}, 1.0, 1000)
    assert time.monotonic() - t0 < 2.0


def test_connection_refused_is_an_oserror() -> None:
    with FakeBinance() as server:
        url = server.url
    with pytest.raises(OSError):
        verify_transport.get(url + "/x", {}, 1.0, 1000)


def test_proxies_are_never_used_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert verify_transport._proxy_for("https", "127.0.0.1") is None
    assert verify_transport._proxy_for("https", "api.binance.com") == ("127.0.0.1", 9, {})
    monkeypatch.setenv("HTTPS_PROXY", "http://u%40x:p@proxy.corp:3128")
    host, port, headers = verify_transport._proxy_for("https", "api.binance.com")  # type: ignore[misc]
    assert (host, port) == ("proxy.corp", 3128) and headers["Proxy-Authorization"].startswith("Basic ")
    monkeypatch.setenv("NO_PROXY", "binance.com")
    assert verify_transport._proxy_for("https", "api.binance.com") is None


def test_slow_name_resolution_is_inside_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow_getaddrinfo(*args: object, **kwargs: object) -> list:
        time.sleep(5)
        return []

    monkeypatch.setattr(verify_transport.socket, "getaddrinfo", slow_getaddrinfo)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        verify_transport.get("https://api.binance.invalid/x", {}, 0.5, 1000)
    assert time.monotonic() - t0 < 1.5
