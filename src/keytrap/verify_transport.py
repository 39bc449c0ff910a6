"""The one network call of ``--verify``: a GET with a deadline on the WHOLE request.

urllib's ``timeout`` bounds each socket operation, so a server that trickles one byte a second
can hold a request for ever. Here ``timeout`` bounds connect + TLS + request + status line +
headers + body together:

* every read and write is given the time that is *left*, not a fresh ``timeout``
  (``_DeadlineSocket``), and fails with ``TimeoutError`` once none is left;
* name resolution (in a helper thread) and connect get the time left too;
* a watchdog shuts the socket down at the deadline, which also cuts a TLS handshake or a
  proxy's CONNECT answer that trickles.

Nothing is retried and redirects are never followed (http.client does not follow them): a 3xx
comes back as its status, so the API key header is never resent to another host. The body is
read up to ``max_body + 1`` bytes. https proxies from the environment (``HTTPS_PROXY``,
``NO_PROXY``) are honoured through CONNECT, except for loopback hosts.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
import time
from urllib.parse import unquote, urlsplit

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class _Deadline:
    __slots__ = ("end",)

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete answer in time")
        return left

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.end


class _Reader(io.RawIOBase):
    """Raw reads that each get only the time left before the deadline."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[override]
        self._sock.settimeout(self._deadline.remaining())
        return self._sock.recv_into(buf)


class _DeadlineSocket:
    """What http.client sees as its socket: sends and reads bounded by one deadline."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(self._deadline.remaining())
        self._sock.sendall(data)

    def makefile(self, mode: str = "rb", *args: object, **kwargs: object) -> io.BufferedReader:
        return io.BufferedReader(_Reader(self._sock, self._deadline))

    def close(self) -> None:
        self._sock.close()

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


def _proxy_for(scheme: str, host: str) -> tuple[str, int, dict[str, str]] | None:
    """``(proxy host, port, CONNECT headers)`` for an https URL when the environment sets one."""
    if scheme != "https" or host in LOOPBACK:
        return None
    import urllib.request

    proxy = urllib.request.getproxies().get("https")
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme != "http" or not parts.hostname:
        return None  # only plain-http CONNECT proxies are supported
    headers: dict[str, str] = {}
    if parts.username:
        import base64

        cred = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(cred).decode("ascii")
    return parts.hostname, parts.port or 8080, headers


def _resolve(host: str, port: int, deadline: _Deadline) -> list[tuple]:
    """getaddrinfo, which no socket timeout bounds, in a helper thread given the time left."""
    box: list[object] = []

    def work() -> None:
        try:
            box.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            box.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(deadline.remaining())
    if not box:
        raise TimeoutError("no complete answer in time (name resolution)")
    if isinstance(box[0], OSError):
        raise box[0]
    return box[0]  # type: ignore[return-value]


def _connect(address: tuple[str, int], deadline: _Deadline) -> socket.socket:
    """``socket.create_connection`` with name resolution and connect inside the deadline."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _name, addr in _resolve(host, port, deadline):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(addr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"cannot resolve {host}")


def _cut(fds: list[tuple[int, int, int]]) -> None:
    """The watchdog: shut the connection down (through a duplicate of its descriptor, so it
    works while the TLS layer owns the socket)."""
    for fd, family, kind in fds:
        try:
            dup = socket.fromfd(fd, family, kind)
        except OSError:
            continue
        try:
            dup.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            dup.close()


def get(
    url: str, headers: dict[str, str], timeout: float, max_body: int
) -> tuple[int, bytes, dict[str, str]]:
    """One GET. Returns (status, body, lower-cased headers); raises OSError (TimeoutError when
    the deadline passes) or http.client.HTTPException."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = _Deadline(timeout)
    proxy = _proxy_for(parts.scheme, host)
    conn: http.client.HTTPConnection
    if https:
        import ssl

        ctx = ssl.create_default_context()
        if proxy:
            conn = http.client.HTTPSConnection(proxy[0], proxy[1], timeout=timeout, context=ctx)
        else:
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    if proxy:
        conn.set_tunnel(host, port, headers=proxy[2])
    fds: list[tuple[int, int, int]] = []

    def create_connection(address, timeout=None, source_address=None, *args, **kwargs):  # noqa: ANN001
        sock = _connect(address, deadline)
        fds.append((sock.fileno(), sock.family, sock.type))
        return sock

    conn._create_connection = create_connection  # type: ignore[attr-defined]
    watchdog = threading.Timer(timeout, _cut, args=(fds,))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.connect()
        conn.sock = _DeadlineSocket(conn.sock, deadline)  # type: ignore[assignment]
        conn.request("GET", target, headers=headers)
        resp = conn.getresponse()
        body = resp.read(max_body + 1)
        return resp.status, body, {k.lower(): v for k, v in resp.getheaders()}
    except (OSError, http.client.HTTPException):
        if deadline.expired:
            raise TimeoutError("no complete answer in time") from None
        raise
    finally:
        watchdog.cancel()
        conn.close()
