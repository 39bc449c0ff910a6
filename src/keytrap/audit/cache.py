"""The audit cache: bare mirrors of remote repositories and, per repository, what was scanned.

Layout (folders 0700, files 0600)::

    CACHE/
      CACHEDIR.TAG             marks the folder as a cache (backup tools skip it)
      mirrors/KEY.git          git clone --mirror of a remote target, fetched on later runs
      state/KEY.json           the last audit of the repository: findings (no secrets), stats
      state/KEY.blobs          the blob ids already scanned: sorted raw 20-byte ids
      locks/KEY.lock           held while a process clones, fetches or scans that repository

``KEY`` is a readable slug plus a hash of the target (``Target.key``). A state file is written
whole to a temporary file and renamed over the old one, blobs first: an interrupted run leaves
the previous state, and the next run resumes from the last repository that finished.

No secret is ever written here: a finding is kept as its fingerprint (a salted hash), its
redacted form and the blob id + line + column where it was found; whoever needs the secret again
(``--verify``) reads that blob from the mirror, which holds it anyway.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from keytrap.audit.records import RepoFinding, RepoStats

STATE_VERSION = 1
ENV_VAR = "KEYTRAP_CACHE"
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# keytrap audit cache: mirrors and scan state\n"


def default_dir(environ: dict[str, str] | None = None) -> str:
    """``$KEYTRAP_CACHE``, else ``$XDG_CACHE_HOME/keytrap``, else ``~/.cache/keytrap``."""
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR):
        return env[ENV_VAR]
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "keytrap")


def config_digest(config: object, version: str) -> str:
    """What makes an earlier scan's results reusable: keytrap's version, the detection code
    (a hash of the engine's source files, so an upgrade or a local change rescans) and the
    settings."""
    fields = {k: v for k, v in config._asdict().items() if k not in ("source", "base")}  # type: ignore[attr-defined]
    text = json.dumps({"v": version, "engine": engine_digest(), "config": fields}, sort_keys=True,
                      default=lambda o: sorted(o) if isinstance(o, (set, frozenset)) else str(o))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


_ENGINE_FILES = ("engine.py", "rules.py", "findings.py", "filters/heuristics.py", "candidates/context.py",
                 "candidates/prefilter.py", "sources/files.py", "sources/history.py")


def engine_digest() -> str:
    h = hashlib.sha256()
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for rel in _ENGINE_FILES:
        try:
            with open(os.path.join(pkg, rel), "rb") as fh:
                h.update(rel.encode() + b"\0" + fh.read())
        except OSError:
            h.update(rel.encode() + b"\0missing")
    return h.hexdigest()[:16]


@dataclass(slots=True)
class RepoState:
    target: str
    digest: str  # config_digest of the run that wrote it
    head: str | None = None
    findings: list[RepoFinding] = field(default_factory=list)
    stats: RepoStats = field(default_factory=RepoStats)
    updated: str = ""
    blobs_file_sha: str = ""  # ties the .blobs file to this state
    store: str = ""  # refs + object counts when it was written: unchanged means nothing to do


class Cache:
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))

    # -- layout -----------------------------------------------------------------------------
    def ensure(self) -> None:
        for sub in ("", "mirrors", "state", "locks"):
            path = os.path.join(self.root, sub)
            os.makedirs(path, mode=0o700, exist_ok=True)
            with contextlib.suppress(OSError):
                os.chmod(path, 0o700)
        tag = os.path.join(self.root, "CACHEDIR.TAG")
        if not os.path.exists(tag):
            _write_private(tag, _TAG.encode())

    def mirror(self, key: str) -> str:
        return os.path.join(self.root, "mirrors", f"{key}.git")

    def _state(self, key: str) -> str:
        return os.path.join(self.root, "state", f"{key}.json")

    def _blobs(self, key: str) -> str:
        return os.path.join(self.root, "state", f"{key}.blobs")

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """One process at a time per repository (two audits sharing a cache, Dask workers on
        one machine)."""
        import fcntl

        path = os.path.join(self.root, "locks", f"{key}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # -- state --------------------------------------------------------------------------------
    def load(self, key: str, digest: str) -> tuple[RepoState | None, set[str]]:
        """The last state of ``key`` and the blob ids it scanned; (None, empty) when there is
        none, it is damaged, or it was written with other settings or another keytrap."""
        try:
            with open(self._state(key), encoding="utf-8") as fh:
                doc = json.load(fh)
            if doc.get("version") != STATE_VERSION or doc.get("digest") != digest:
                return None, set()
            with open(self._blobs(key), "rb") as fh:
                raw = fh.read()
            if hashlib.sha256(raw).hexdigest() != doc.get("blobs_sha"):
                return None, set()  # a torn pair of files: start this repository over
            state = RepoState(
                target=doc["target"], digest=doc["digest"], head=doc.get("head"),
                findings=[RepoFinding.from_dict(d) for d in doc.get("findings", [])],
                stats=RepoStats(**doc.get("stats", {})), updated=doc.get("updated", ""),
                blobs_file_sha=doc["blobs_sha"], store=doc.get("store", ""),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None, set()
        return state, unpack_ids(raw)

    def save(self, key: str, state: RepoState, blobs: Iterable[str]) -> None:
        raw = pack_ids(blobs)
        sha = hashlib.sha256(raw).hexdigest()
        doc: dict[str, Any] = {
            "version": STATE_VERSION,
            "note": "keytrap audit state: fingerprints and redacted forms only, no secrets",
            "target": state.target,
            "digest": state.digest,
            "head": state.head,
            "store": state.store,
            "updated": state.updated,
            "blobs_sha": sha,
            "stats": asdict(state.stats),
            "findings": [f.to_dict() for f in state.findings],
        }
        _write_private(self._blobs(key), raw)
        _write_private(self._state(key), (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())

    def forget(self, key: str) -> None:
        for path in (self._state(key), self._blobs(key)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def pack_ids(ids: Iterable[str]) -> bytes:
    return b"".join(sorted(bytes.fromhex(i) for i in ids))


def unpack_ids(raw: bytes, width: int = 20) -> set[str]:
    return {raw[i : i + width].hex() for i in range(0, len(raw) - width + 1, width)}


def _write_private(path: str, data: bytes) -> None:
    """Atomically: a temporary file (0600) in the same folder, then a rename."""
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
