"""A small, read-only reader over ``git cat-file`` and friends.

Every git process started here goes through :mod:`keytrap.gitrun` (a known location, settings
that disarm programs a hostile repository config names, no optional locks, no lazy fetches from a
partial clone's promisor remote: the fetch fails at once and the object reads as missing).

* :func:`open_repo` checks the path and says what kind of repository it is (bare, shallow,
  partial, linked worktree) or raises :class:`GitError` with one line.
* :func:`iter_objects` lists the objects in the object store (``--batch-all-objects``), in pack
  order, without reading their contents.
* :class:`CatFile` streams contents through one ``git cat-file --batch`` process: ``read_many``
  for many object ids (history), ``read`` for one spec such as ``:path`` (the staged index).
  A missing object is reported as missing, a corrupt one restarts the process and is reported
  as corrupt; neither stops the stream.
"""

from __future__ import annotations

import os

import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from keytrap import gitrun
from keytrap.errors import GitError
from keytrap.gitrun import Location

#: The null object id (an added or deleted side of a diff).
NULL_OID = "0" * 40

#: Read settings that keep a long ``cat-file`` small: git maps pack windows and caches delta
#: bases; by default both can grow to hundreds of MB on a big history (517 MB for one reader
#: over half of a 1 GB pack). A reader goes through the pack in order, so small windows and a
#: small delta base cache cost no CPU: over half of combined.git's blobs (5.8 GB), 7.28 user-s
#: at 32m/8m/24m (117 MB RSS) against 7.29 at 128m/16m/48m (253 MB) and 7.36 by default.
READ_CONFIG = (
    "-c", "core.packedGitWindowSize=8m",
    "-c", "core.packedGitLimit=32m",
    "-c", "core.deltaBaseCacheLimit=24m",
)
#: The object listing reads only headers: the smallest windows (172 MB on combined.git's
#: 1.39 M objects, most of it git's own set of listed ids; 273 MB with 128m windows).
LIST_CONFIG = (
    "-c", "core.packedGitWindowSize=4m",
    "-c", "core.packedGitLimit=16m",
    "-c", "core.deltaBaseCacheLimit=8m",
)

Where = Location | Path | str


def _loc(where: Where) -> Location:
    return where if isinstance(where, Location) else Location(top=os.fspath(where))


def _first_line(stderr: bytes | str) -> str:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("fatal: ").removeprefix("error: ")
    return "unknown error"


def run_git(where: Where, *args: str, check: bool = True) -> bytes:
    """Run a git command at ``where`` and return stdout; raise GitError with one line."""
    loc = _loc(where)
    proc = gitrun.run(loc, *args)
    if check and proc.returncode != 0:
        raise GitError(f"git {args[0]} failed in {loc.path}: {_first_line(proc.stderr)}")
    return proc.stdout


def git_version() -> tuple[int, int]:
    return gitrun.version()


@dataclass(frozen=True, slots=True)
class RepoInfo:
    path: Path  # what was asked for
    git_dir: Path
    work_tree: Path | None  # None for a bare repository
    shallow: bool
    partial: bool  # has a promisor remote: objects may be missing on purpose
    linked_worktree: bool
    loc: Location  # where every git command for this repository is pointed

    @property
    def bare(self) -> bool:
        return self.work_tree is None


def open_repo(path: Path | str | Location) -> RepoInfo:
    """Check that ``path`` is (inside) a git repository and describe it.

    The repository is found by walking up to ``.git`` (or ``path`` is a bare repository), never
    by letting git discover one: a bare repository committed inside a work tree is not one.
    A caller that already knows where the repository is (``keytrap audit``: a mirror in its
    cache) passes a Location, used as it is.
    """
    given = path if isinstance(path, Location) else None
    p = Path(given.path if given is not None else path)
    if not p.exists():
        raise GitError(f"not a git repository: {p} does not exist")
    if not p.is_dir():
        raise GitError(f"not a git repository: {p} is not a directory")
    loc = given if given is not None else gitrun.locate(os.fspath(p))
    if loc is None:
        raise GitError(f"not a git repository: {p}")
    proc = gitrun.run(
        loc, "rev-parse", "--absolute-git-dir", "--git-common-dir", "--is-bare-repository",
        "--is-shallow-repository",
    )
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if proc.returncode != 0 or len(lines) < 4:
        msg = _first_line(proc.stderr)
        if "not a git repository" in msg.lower():
            raise GitError(f"not a git repository: {p}")
        raise GitError(f"cannot read git repository {p}: {msg}")
    git_dir = Path(lines[0])
    common = Path(lines[1])
    if not common.is_absolute():
        common = (Path(loc.path) / common).resolve()
    shallow = lines[3] == "true"
    work_tree = Path(loc.top) if loc.top is not None else None
    cfg = run_git(loc, "config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$",
                  check=False)
    partial = any(
        line.split(b" ", 1)[-1].strip().lower() not in (b"false", b"")
        for line in cfg.splitlines()
    )
    return RepoInfo(
        path=p,
        git_dir=git_dir,
        work_tree=work_tree,
        shallow=shallow,
        partial=partial,
        linked_worktree=git_dir.resolve() != common.resolve(),
        loc=loc,
    )


class ObjectInfo(NamedTuple):
    oid: str
    type: str
    size: int


def iter_objects(repo: Where, types: Iterable[str] | None = ("blob",), *,
                 counts: dict[str, int] | None = None) -> Iterator[ObjectInfo]:
    """Every object in the store (packs in pack order, then loose), with type and size.
    ``counts``, if given, receives the number of objects of each type (all types, listed or
    not: a full history scan counts its commits here).

    Objects that are only promised by a partial clone's remote are not in the store and are
    not listed: nothing is fetched.
    """
    wanted = None if types is None else {t.encode() for t in types}
    loc = _loc(repo)
    tally: dict[bytes, int] = {}
    proc, errfile = gitrun.popen_logged(loc, *LIST_CONFIG, "cat-file", "--batch-all-objects", "--unordered",
                                        "--batch-check=%(objectname) %(objecttype) %(objectsize)",
                                        stdout=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            parts = line.split()
            if len(parts) == 3:
                kind = parts[1]
                tally[kind] = tally.get(kind, 0) + 1
                if wanted is None or kind in wanted:
                    yield ObjectInfo(parts[0].decode(), kind.decode(), int(parts[2]))
            elif len(parts) == 2:  # listed but unreadable: a corrupt object
                yield ObjectInfo(parts[0].decode(), "corrupt", -1)
    finally:
        proc.stdout.close()
        rc = proc.wait()
        errfile.seek(0)
        err = errfile.read()
        errfile.close()
        if counts is not None:
            for kind, n in tally.items():
                counts[kind.decode()] = counts.get(kind.decode(), 0) + n
    if rc != 0:
        raise GitError(f"cannot list objects in {loc.path}: {_first_line(err)}")


_TYPES = (b"blob", b"tree", b"commit", b"tag")


class Blob(NamedTuple):
    """One answer of ``cat-file --batch``: ``data`` is None when ``status`` is not "ok"."""

    spec: str  # what was asked for (an object id, or ``:path``)
    oid: str | None
    type: str | None
    size: int
    data: bytes | None
    status: str  # ok | missing | corrupt | ambiguous | too_large


class CatFile:
    """``git cat-file --batch`` processes, restarted when an object makes one die.

    ``read(spec)`` keeps one process open for one-at-a-time questions (the staged index asks for
    ``:path`` blobs). ``read_many(specs)`` streams many ids through another, kept between calls.
    ``max_size``: larger objects are not kept in memory; they are answered with status
    "too_large" (their bytes are read from the pipe in pieces and dropped).
    """

    def __init__(self, repo: Where, *, max_size: int | None = None) -> None:
        self.loc = _loc(repo)
        self.max_size = max_size
        self._proc: subprocess.Popen[bytes] | None = None  # read(): one spec at a time
        self._batch: subprocess.Popen[bytes] | None = None  # read_many(): kept between calls
        self._errfiles: dict[int, Any] = {}
        self._z = git_version() >= (2, 38)  # NUL-terminated input: any path can be a spec

    # -- process ------------------------------------------------------------------------
    def _spawn(self) -> subprocess.Popen[bytes]:
        args = [*READ_CONFIG, "cat-file", "--batch"]
        if self._z:
            args.append("-z")
        proc, errfile = gitrun.popen_logged(self.loc, *args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            bufsize=1 << 16)
        self._errfiles[proc.pid] = errfile
        gitrun.widen_pipe(proc.stdout, PIPE_SIZES)
        return proc

    def _reap(self, proc: subprocess.Popen[bytes]) -> str:
        """Close ``proc``; return the first line of what it said on stderr."""
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        proc.wait()
        err = b""
        errfile = self._errfiles.pop(proc.pid, None)
        if errfile is not None:
            errfile.seek(0)
            err = errfile.read()
            errfile.close()
        return _first_line(err) if err.strip() else ""

    def close(self) -> None:
        for name in ("_proc", "_batch"):
            proc = getattr(self, name)
            if proc is not None:
                setattr(self, name, None)
                self._reap(proc)

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _encode(self, spec: str) -> bytes:
        raw = os.fsencode(spec)
        if self._z:
            return raw + b"\0"
        if b"\n" in raw:
            raise GitError(f"cannot read {spec!r}: git before 2.38 cannot name it in a batch")
        return raw + b"\n"

    # -- reading ------------------------------------------------------------------------
    def _answer(self, stdout, spec: str) -> Blob | None:  # type: ignore[no-untyped-def]
        """Parse one answer; None if the process died (EOF) before answering."""
        header = stdout.readline()
        if not header.endswith(b"\n"):
            return None
        parts = header[:-1].rsplit(b" ", 2)
        if len(parts) == 3 and parts[2].isdigit() and parts[1] in _TYPES:
            oid, otype, size = parts[0].decode(), parts[1].decode(), int(parts[2])
            if self.max_size is not None and size > self.max_size:
                left = size + 1
                while left:
                    chunk = stdout.read(min(left, 1 << 20))
                    if not chunk:
                        return None
                    left -= len(chunk)
                return Blob(spec, oid, otype, size, None, "too_large")
            data = stdout.read(size)  # then the LF apart: slicing it off would copy the blob
            if len(data) != size or stdout.read(1) != b"\n":
                return None
            return Blob(spec, oid, otype, size, data, "ok")
        word = header[:-1].rsplit(b" ", 1)[-1].decode("ascii", "replace")
        return Blob(spec, None, None, 0, None, "ambiguous" if word == "ambiguous" else "missing")

    def read(self, spec: str) -> Blob:
        """Read one object by id or spec (``HEAD:path``, ``:path`` for the index)."""
        if self._proc is None:
            self._proc = self._spawn()
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(self._encode(spec))
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the answer below reads EOF
        answer = self._answer(proc.stdout, spec)
        if answer is None:
            self._proc = None
            return Blob(spec, None, None, 0, None, _death(self._reap(proc)))
        return answer

    def read_many(self, specs: Iterable[str]) -> Iterator[Blob]:
        """Answers for ``specs``, in order. Never raises for a bad object: see ``Blob.status``.

        One long-lived ``cat-file --batch`` serves every call (a history worker reads a chunk
        of ids per call: a fresh process per chunk cost 32-103 process starts per scan, and
        re-read the pack index each time). A writer thread feeds the ids while this generator
        reads, so any number of ids can be streamed without a pipe deadlock. A ``cat-file``
        that dies on a corrupt object is restarted after it; that object is answered with
        status "corrupt". A caller that stops early ends the process (its answers are unread).
        """
        pending = list(specs)
        pos = 0
        while pos < len(pending):
            proc, self._batch = (self._batch or self._spawn()), None
            assert proc.stdin is not None and proc.stdout is not None
            batch = pending[pos:]
            writer = threading.Thread(target=self._write_some, args=(proc.stdin, batch), daemon=True)
            writer.start()
            died = False
            try:
                for spec in batch:
                    answer = self._answer(proc.stdout, spec)
                    if answer is None:
                        died = True
                        break
                    pos += 1
                    yield answer
            finally:
                if not died and pos == len(pending):
                    writer.join()
                    self._batch = proc  # every answer read: kept for the next call
                else:
                    if not died:
                        proc.kill()  # abandoned by the caller
                    why = self._reap(proc)
                    writer.join()
            if died:
                yield Blob(pending[pos], None, None, 0, None, _death(why))
                pos += 1

    def _write_some(self, stdin, specs: list[str]) -> None:  # type: ignore[no-untyped-def]
        try:
            buf = bytearray()
            for spec in specs:
                buf += self._encode(spec)
                if len(buf) >= 1 << 16:
                    stdin.write(buf)
                    buf.clear()
            if buf:
                stdin.write(buf)
            stdin.flush()
        except (OSError, ValueError):
            pass  # the reader stopped the process


T = TypeVar("T")


def in_halves(read: Callable[[list[str]], T], ids: list[str]) -> tuple[T, T]:
    """``(read(first half), read(second half))``, the second in a thread: each ``read`` runs its
    own cat-file, so two processes inflate side by side while the pipe reads release the GIL
    (one reader leaves a core idle on zlib). An error in either is raised here, in the
    caller's thread, once both have stopped."""
    half = len(ids) // 2
    other: list[T] = []
    failed: list[BaseException] = []

    def second() -> None:
        try:
            other.append(read(ids[half:]))
        except BaseException as exc:  # re-raised below
            failed.append(exc)

    thread = threading.Thread(target=second, daemon=True)
    thread.start()
    try:
        first = read(ids[:half])
    finally:
        thread.join()
    if failed:
        raise failed[0]
    return first, other[0]


def stream_blob(repo: Where, oid: str, size: int, *, keep_repo_env: bool = False,
                chunk: int = 1 << 20) -> Iterator[bytes]:
    """The content of blob ``oid`` in chunks from a ``git cat-file blob`` of its own: a big blob
    is never held whole (``sources.stream`` scans it in windows). Raises GitError when git
    cannot give all ``size`` bytes (a corrupt or missing object)."""
    loc = _loc(repo)
    proc, errfile = gitrun.popen_logged(loc, *READ_CONFIG, "cat-file", "blob", oid, keep_repo_env=keep_repo_env,
                                        stdout=subprocess.PIPE)
    assert proc.stdout is not None
    got = 0
    try:
        while True:
            data = proc.stdout.read(chunk)
            if not data:
                break
            got += len(data)
            yield data
    finally:
        proc.stdout.close()
        if proc.poll() is None and got < size:
            proc.kill()  # abandoned by the caller
        rc = proc.wait()
        errfile.seek(0)
        err = errfile.read()
        errfile.close()
    if rc != 0 or got != size:
        why = _first_line(err) if err.strip() else f"{got} of {size} bytes"
        raise GitError(f"corrupt git object store: cannot read blob {oid}: {why}")


#: Pipe buffer asked for on Linux: cat-file can run ahead of the scanner by this much
#: (the default 64 KB stalls it on every larger blob).
PIPE_BYTES = 1 << 20


#: The sizes asked for, largest first (``gitrun.widen_pipe``).
PIPE_SIZES = (PIPE_BYTES, 256 * 1024)


def _death(why: str) -> str:
    """The status of an object that made cat-file exit."""
    if "promisor" in why:
        return "missing"  # a partial clone's object: the fetch we forbid failed
    return "corrupt" + (f": {why}" if why else "")
