"""List an organisation's repositories: GitHub (``--github-org``) and GitLab (``--gitlab-group``).

Plain REST through urllib, page by page, following the ``Link: <…>; rel="next"`` header. The
token (``GITHUB_TOKEN`` / ``GITLAB_TOKEN``) goes only to the API host it was given for: a next
link to another scheme, host or port is refused, redirects are not followed, and no message
ever shows it. Only https is spoken, except to loopback hosts (a local fake API in tests).
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlsplit

from keytrap.audit.targets import Target, check_url, strip_credentials
from keytrap.errors import KeytrapError, UsageError

GITHUB_API = "https://api.github.com"
GITLAB_API = "https://gitlab.com/api/v4"
TIMEOUT = 30.0
#: Pages followed at most (100 repositories a page: a million repositories).
MAX_PAGES = 10_000
#: A page larger than this is not an API answer.
MAX_PAGE_BYTES = 32 * 1024 * 1024
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_LINK_RE = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";]+)"?')

#: ``fetch(url, headers, timeout) -> (status, headers, body)``
Fetch = Callable[[str, Mapping[str, str], float], "tuple[int, Mapping[str, str], bytes]"]


class ForgeError(KeytrapError):
    """The API could not list the repositories (exit 2)."""


def check_api_url(url: str, flag: str) -> str:
    url = url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018
    except ValueError:
        raise UsageError(f"invalid {flag} {url!r}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise UsageError(f"invalid {flag} {url!r}: expected https://host[/path]")
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise UsageError(f"refusing plain http for {host}: the token would travel unencrypted")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise UsageError(f"invalid {flag} {url!r}: no credentials, query or fragment")
    return url


def next_link(header: str | None) -> str | None:
    if not header:
        return None
    for url, rel in _LINK_RE.findall(header):
        if "next" in rel.split():
            return url
    return None


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def urllib_fetch(url: str, headers: Mapping[str, str], timeout: float) -> tuple[int, Mapping[str, str], bytes]:
    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
            return None  # the token must not follow a redirect to another host

    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if urlsplit(url).hostname in _LOOPBACK:
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(url, headers=dict(headers), method="GET")
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers.items()), resp.read(MAX_PAGE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read(64 * 1024)
        except OSError:
            body = b""
        finally:
            exc.close()
        return exc.code, dict(exc.headers.items()) if exc.headers else {}, body


def _pages(first: str, headers: Mapping[str, str], what: str, fetch: Fetch | None) -> list[object]:
    get = fetch or urllib_fetch
    items: list[object] = []
    url: str | None = first
    pages = 0
    while url:
        pages += 1
        if pages > MAX_PAGES:
            raise ForgeError(f"{what}: more than {MAX_PAGES} pages")
        try:
            status, resp_headers, body = get(url, headers, TIMEOUT)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise ForgeError(f"{what}: cannot reach the API: {type(exc).__name__}: {reason}") from None
        if status != 200:
            raise ForgeError(f"{what}: the API answered HTTP {status}{_api_message(body)}")
        if len(body) > MAX_PAGE_BYTES:
            raise ForgeError(f"{what}: a page is larger than {MAX_PAGE_BYTES} bytes")
        try:
            page = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ForgeError(f"{what}: the API answered something that is not JSON") from None
        if not isinstance(page, list):
            raise ForgeError(f"{what}: the API answered a JSON {type(page).__name__}, not a list")
        items.extend(page)
        link = {k.lower(): v for k, v in resp_headers.items()}.get("link")
        nxt = next_link(link)
        if nxt and not _same_origin(nxt, first):
            raise ForgeError(f"{what}: refusing a next-page link to another host")
        url = nxt
    return items


def _api_message(body: bytes) -> str:
    try:
        msg = json.loads(body).get("message")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return ""
    if not isinstance(msg, str):
        return ""
    msg = "".join(ch if ch.isprintable() else " " for ch in msg)[:120]
    return f": {msg}"


def _clone_target(url: object, name: str, forge: str, *, fork: bool, archived: bool) -> Target | None:
    if not isinstance(url, str):
        return None
    try:
        check_url(url)
    except UsageError:
        return None
    parts = urlsplit(url)
    prefix = f"{parts.scheme}://{parts.netloc}/" if parts.scheme == "https" else None
    return Target(name=strip_credentials(url), url=url, auth=forge if prefix else None,
                  auth_prefix=prefix, fork=fork, archived=archived)


def github_org(
    org: str, *, api_url: str | None = None, token: str | None = None, skip_forks: bool = False,
    skip_archived: bool = False, fetch: Fetch | None = None, environ: Mapping[str, str] | None = None,
) -> tuple[list[Target], list[str]]:
    """Every repository of a GitHub organisation (or user): targets, and notes on what was left out."""
    env = os.environ if environ is None else environ
    base = check_api_url(api_url or env.get("GITHUB_API_URL") or GITHUB_API, "--github-api-url")
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,99})", org):
        raise UsageError(f"invalid GitHub organisation name: {org!r}")
    token = token if token is not None else env.get("GITHUB_TOKEN")
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
               "User-Agent": "keytrap-audit"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    what = f"--github-org {org}"
    try:
        items = _pages(f"{base}/orgs/{quote(org)}/repos?per_page=100&type=all", headers, what, fetch)
    except ForgeError as exc:
        if "HTTP 404" not in str(exc):
            raise
        items = _pages(f"{base}/users/{quote(org)}/repos?per_page=100&type=all", headers, what, fetch)
    return _collect(items, "github", "clone_url", "full_name", lambda it: bool(it.get("fork")),
                    skip_forks, skip_archived)


def gitlab_group(
    group: str, *, api_url: str | None = None, token: str | None = None, skip_forks: bool = False,
    skip_archived: bool = False, fetch: Fetch | None = None, environ: Mapping[str, str] | None = None,
) -> tuple[list[Target], list[str]]:
    """Every project of a GitLab group, subgroups included."""
    env = os.environ if environ is None else environ
    base = check_api_url(api_url or env.get("GITLAB_API_URL") or GITLAB_API, "--gitlab-api-url")
    if not group or any(ch.isspace() or ord(ch) < 32 for ch in group):
        raise UsageError(f"invalid GitLab group: {group!r}")
    token = token if token is not None else env.get("GITLAB_TOKEN")
    headers = {"Accept": "application/json", "User-Agent": "keytrap-audit"}
    if token:
        headers["PRIVATE-TOKEN"] = token
    first = f"{base}/groups/{quote(group, safe='')}/projects?include_subgroups=true&per_page=100&order_by=id&sort=asc"
    items = _pages(first, headers, f"--gitlab-group {group}", fetch)
    return _collect(items, "gitlab", "http_url_to_repo", "path_with_namespace",
                    lambda it: bool(it.get("forked_from_project")), skip_forks, skip_archived)


def _collect(items: list[object], forge: str, url_field: str, name_field: str,
             is_fork: Callable[[dict], bool], skip_forks: bool, skip_archived: bool) -> tuple[list[Target], list[str]]:
    targets: list[Target] = []
    notes: list[str] = []
    forks = archived = bad = 0
    for item in items:
        if not isinstance(item, dict):
            bad += 1
            continue
        fork, arch = is_fork(item), bool(item.get("archived"))
        if fork and skip_forks:
            forks += 1
            continue
        if arch and skip_archived:
            archived += 1
            continue
        t = _clone_target(item.get(url_field), str(item.get(name_field, "")), forge, fork=fork, archived=arch)
        if t is None:
            bad += 1
            continue
        targets.append(t)
    if forks:
        notes.append(f"{forges_label(forge)}: {forks} forks skipped (--skip-forks)")
    if archived:
        notes.append(f"{forges_label(forge)}: {archived} archived repositories skipped (--skip-archived)")
    if bad:
        notes.append(f"{forges_label(forge)}: {bad} entries without a usable clone URL were left out")
    return targets, notes


def forges_label(forge: str) -> str:
    return {"github": "GitHub", "gitlab": "GitLab"}.get(forge, forge)


def token_header(forge: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The HTTP header a clone from ``forge`` sends (Basic auth, the forms GitHub and GitLab
    document for tokens over https), from this process's environment; None without a token."""
    import base64

    env = os.environ if environ is None else environ
    if forge == "github" and env.get("GITHUB_TOKEN"):
        user, token = "x-access-token", env["GITHUB_TOKEN"]
    elif forge == "gitlab" and env.get("GITLAB_TOKEN"):
        user, token = "oauth2", env["GITLAB_TOKEN"]
    else:
        return None
    return "Authorization: Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()
