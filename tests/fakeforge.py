"""A fake GitHub / GitLab REST API on 127.0.0.1: repository listings in pages with Link headers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeForge:
    """``repos``: dicts as the API returns them; ``page_size`` per page regardless of per_page."""

    def __init__(self, kind: str, owner: str, repos: list[dict], page_size: int = 10) -> None:
        self.kind, self.owner, self.repos, self.page_size = kind, owner, repos, page_size
        self.requests: list[tuple[str, dict[str, str]]] = []
        forge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                forge.requests.append((self.path, dict(self.headers.items())))
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if forge.kind == "github":
                    ok = parts.path == f"/api/v3/orgs/{forge.owner}/repos"
                else:
                    ok = parts.path == f"/api/v4/groups/{forge.owner.replace('/', '%2F')}/projects"
                if not ok:
                    body = json.dumps({"message": "Not Found"}).encode()
                    self.send_response(404)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                page = int(query.get("page", ["1"])[0])
                start = (page - 1) * forge.page_size
                items = forge.repos[start : start + forge.page_size]
                body = json.dumps(items).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if start + forge.page_size < len(forge.repos):
                    base = f"http://127.0.0.1:{forge.port}{parts.path}"
                    nxt = f"{base}?per_page=100&page={page + 1}"
                    last = f"{base}?per_page=100&page={(len(forge.repos) - 1) // forge.page_size + 1}"
                    self.send_header("Link", f'<{nxt}>; rel="next", <{last}>; rel="last"')
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/{'v3' if self.kind == 'github' else 'v4'}"

    def __enter__(self) -> FakeForge:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
