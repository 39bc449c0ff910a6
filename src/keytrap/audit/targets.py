"""What to audit: local repositories, folders of repositories, git URLs, lists of them.

Discovery never runs git: a folder is a repository when it holds a ``.git`` entry (a work tree)
or ``HEAD`` + ``objects/`` + ``refs/`` (a bare repository or mirror); every later git call is
pointed at that location explicitly (see :mod:`keytrap.gitrun`). Symbolic links are not
followed while walking, and a repository's own folders are not searched for more repositories.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from keytrap import gitrun
from keytrap.errors import UsageError

#: URL schemes a target may use (the transports gitrun allows for clone/fetch).
URL_SCHEMES = gitrun.TRANSFER_PROTOCOLS
_URL_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
#: How deep a folder is searched for repositories.
MAX_DEPTH = 4


@dataclass(frozen=True, slots=True)
class Target:
    """One repository to audit.

    ``url`` is None for a local repository (scanned where it is, never copied). ``auth`` names
    the forge whose token a clone may send (``"github"``/``"gitlab"``), with ``auth_prefix`` the
    URL prefix it is limited to; the token itself is read from the environment of the process
    that clones, so it never travels in a task.
    """

    name: str  # what reports show: a path, or the URL without credentials
    url: str | None = None
    path: str | None = None
    auth: str | None = None
    auth_prefix: str | None = None
    fork: bool = False
    archived: bool = False

    @property
    def remote(self) -> bool:
        return self.url is not None

    @property
    def canonical(self) -> str:
        if self.url is not None:
            return "url:" + strip_credentials(self.url).rstrip("/").removesuffix(".git")
        return "path:" + os.path.realpath(self.path or ".")

    @property
    def identity(self) -> str:
        """Two names for one repository (a path and its ``file://`` URL) share this."""
        if self.url is not None and self.url.lower().startswith("file://"):
            from urllib.parse import unquote

            return "path:" + os.path.realpath(unquote(urlsplit(self.url).path))
        return self.canonical

    @property
    def key(self) -> str:
        """The cache key: readable and unique (a slug of the name plus a hash)."""
        digest = hashlib.sha256(self.canonical.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        tail = self.canonical.rstrip("/").rsplit("/", 2)[-2:]
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(tail)).strip("._-")[:48] or "repo"
        return f"{slug}-{digest}"


def is_url(text: str) -> bool:
    return bool(_URL_RE.match(text))


def strip_credentials(url: str) -> str:
    """``url`` without a password or token in it (``https://user:tok@host`` -> ``https://user@host``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None and not (parts.username and parts.scheme in ("http", "https")):
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def redact_credentials(text: str, url: str | None) -> str:
    """Remove the credentials of ``url`` from ``text`` (a git error message naming the URL)."""
    if not url:
        return text
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    for secret in (parts.password, parts.username if parts.scheme in ("http", "https") else None):
        if secret:
            text = text.replace(secret, "***")
    return text


def check_url(url: str) -> str:
    """A target URL: an allowed scheme, a host (except file://), nothing git would read as an
    option or a shell word. Returns it unchanged, or raises UsageError."""
    m = _URL_RE.match(url)
    scheme = m.group("scheme").lower() if m else ""
    shown = strip_credentials(url)
    if scheme not in URL_SCHEMES:
        raise UsageError(f"unsupported URL scheme in {shown!r}: use {', '.join(s + '://' for s in URL_SCHEMES)}")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise UsageError(f"invalid URL {shown!r}: whitespace or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise UsageError(f"invalid URL {shown!r}") from None
    if scheme != "file" and (not host or host.startswith("-")):
        raise UsageError(f"invalid URL {shown!r}: no host")
    if scheme == "file" and (host not in ("", "localhost") or not parts.path.startswith("/")):
        raise UsageError(f"invalid URL {shown!r}: file:// needs an absolute path")
    return url


def is_repository(path: str) -> bool:
    """A work tree top (``.git`` entry) or a git directory (bare repository, mirror)."""
    return os.path.lexists(os.path.join(path, ".git")) or gitrun.looks_like_git_dir(path)


def discover(folder: str, max_depth: int = MAX_DEPTH) -> list[str]:
    """Repositories at or under ``folder``, sorted; none are entered once found."""
    if is_repository(folder):
        return [folder]
    found: list[str] = []

    def walk(path: str, depth: int) -> None:
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.name in (".git",) or not entry.is_dir(follow_symlinks=False):
                continue
            if is_repository(entry.path):
                found.append(entry.path)
            elif depth < max_depth:
                walk(entry.path, depth + 1)

    walk(folder, 1)
    return found


def from_spec(spec: str) -> list[Target]:
    """One command-line or list-file entry: a URL, a repository or a folder of repositories.
    A path that does not exist becomes a target that will fail with that reason."""
    spec = spec.strip()
    if is_url(spec):
        return [Target(name=strip_credentials(check_url(spec)), url=spec)]
    path = os.path.expanduser(spec)
    if os.path.isdir(path) and not is_repository(path):
        found = discover(path)
        if not found:
            raise UsageError(f"no git repository in {spec}")
        return [Target(name=os.path.normpath(p), path=os.path.abspath(p)) for p in found]
    return [Target(name=os.path.normpath(spec), path=os.path.abspath(path))]


def read_list(path: str) -> list[str]:
    """``--repos FILE``: one target a line; blank lines and ``#`` comments are skipped."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        raise UsageError(f"--repos file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --repos file {path}: {exc}") from None
    out = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        text = re.split(r"\s+#", text, maxsplit=1)[0].strip()  # a comment after the entry
        if text:
            out.append(text)
    return out


def dedupe(targets: list[Target]) -> list[Target]:
    """The same repository named twice (a path and its ``file://`` URL are two) is audited once."""
    seen: set[str] = set()
    out = []
    for t in targets:
        if t.identity not in seen:
            seen.add(t.identity)
            out.append(t)
    return out
