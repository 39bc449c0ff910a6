"""Staged source: what is in the index, read from git's object store, not the working tree.

Two git processes in all: ``git diff --cached --raw -z`` names the staged blobs (and the HEAD
blobs they replace), one ``git cat-file --batch`` streams them. A finding is *new* when its
secret is not already in the blob being replaced, so renaming a file or moving a line never
blocks a commit; files named explicitly but not staged (``pre-commit run --all-files``) are
read from the index and scanned whole.

Nothing staged is skipped unread (this is what the hook lets into a commit):

* a blob larger than ``max_file_size`` is streamed through ``git cat-file blob`` and scanned in
  windows (``sources.stream``), in bounded memory;
* UTF-16 and UTF-32 with or without a BOM are decoded (``files.decode_for_scan``);
* a binary blob is read as every source reads it (``content.scan_blob``: compiled Python,
  archive members, printable strings; one with no key-shaped run at all holds no finding);
* a staged symlink is read as its target text (the blob git stores for it);
* a blob that cannot be read (missing, corrupt) raises :class:`GitError`: the hook refuses the
  commit with one line rather than let unread content through.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable
from collections import namedtuple

from keytrap import gitrun
from keytrap.config import Config
from keytrap.candidates.keyfiles import EMPTY, PENDING
from keytrap.errors import GitError
from keytrap.findings import Finding, ScanResult, ScanStats, Skipped
from keytrap.sources.content import has_pending, needs_repo, repo_evidence, scan_blob, settled, with_repo_network
from keytrap.sources.files import decode_for_scan

ZERO = "0" * 40
#: Entries whose blob is read: regular files, and symlinks (mode 120000: the blob is the link's
#: target text, which a commit can make a key). Submodules (160000) have no blob here.
_REGULAR_MODES = frozenset({"100644", "100755", "120000"})


class StagedFile(namedtuple("StagedFile", "path blob base")):
    __slots__ = ()
    path: str
    blob: str  # the staged blob
    base: str | None  # the blob it replaces (HEAD side), None when added


def _git(top: str, *args: str) -> bytes:
    # the hook runs inside the repository git commits to: its GIT_DIR/GIT_INDEX_FILE are kept
    # (``git commit -a`` names a temporary index)
    proc = gitrun.run(top, *args, keep_repo_env=True)
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        text = msg[-1] if msg else f"git {args[0]} failed"
        if "not a git repository" in text:
            text = "not a git repository (or any parent up to the filesystem root)"
        raise GitError(text.removeprefix("fatal: "))
    return proc.stdout


def repo_top(cwd: str) -> str:
    """The work tree top, found without spawning git (a walk up to the nearest ``.git``)."""
    top = gitrun.find_top(cwd)
    if top is None:
        raise GitError("not a git repository (or any parent up to the filesystem root)")
    return top


def has_commit(top: str, rev: str) -> bool:
    if not rev or rev.startswith("-"):
        return False
    proc = gitrun.run(top, "cat-file", "-e", f"{rev}^{{commit}}", keep_repo_env=True)
    return proc.returncode == 0


def parse_raw(out: bytes) -> list[StagedFile]:
    """Parse ``git diff --raw -z --no-abbrev`` output into staged files and symlinks."""
    parts = out.split(b"\0")
    files: list[StagedFile] = []
    i = 0
    while i < len(parts) - 1:
        meta = parts[i].decode("ascii", "replace")
        if not meta.startswith(":"):
            i += 1
            continue
        fields = meta[1:].split(" ")
        if len(fields) < 4:  # not a raw diff record: skip it rather than crash
            i += 1
            continue
        status = fields[4][:1] if len(fields) > 4 else "M"
        src_mode, dst_mode, src, dst = fields[0], fields[1], fields[2], fields[3]
        if status in ("R", "C"):
            if i + 2 >= len(parts):
                break  # truncated: a rename without its new path
            path = parts[i + 2]
            i += 3
        else:
            path = parts[i + 1]
            i += 2
        if dst_mode not in _REGULAR_MODES or dst == ZERO:
            continue  # deleted, submodule: nothing to read
        base = src if src != ZERO and src_mode in _REGULAR_MODES else None
        files.append(StagedFile(path.decode("utf-8", "surrogateescape"), dst, base))
    return files


def read_blobs(top: str, shas: Iterable[str], max_size: int) -> dict[str, bytes | int | str]:
    """sha -> content (bytes); sha -> size (int) of a blob over ``max_size``, left unread; or
    sha -> the reason it cannot be read (str). One ``cat-file --batch-command --buffer``.

    One round trip per ``_BATCH`` blobs: their ``contents`` commands and a ``flush`` go in
    together (with ``--buffer`` git answers only at the flush, so writing never waits for
    reading), then the answers are read. A blob over ``max_size`` is read from the pipe in
    1 MiB pieces and dropped, never held whole: it is streamed when scanned
    (``gitcat.stream_blob``). (Asking sizes first with ``info``, then contents, made two round
    trips per 256 blobs: 1.6-1.9x a plain ``cat-file --batch`` over 1,000-5,000 staged files.)
    """
    wanted = list(dict.fromkeys(shas))
    if len(wanted) >= PARALLEL_MIN:
        from keytrap.childproc import available_cores

        if available_cores() > 1:
            return _read_two(top, wanted, max_size)
    return _read_one(top, wanted, max_size)


#: From this many staged blobs on, two ``cat-file`` processes inflate them side by side (a
#: commit of 5,000 new files spends half its time in git's zlib; one reader leaves a core idle).
PARALLEL_MIN = 1000


def _read_two(top: str, wanted: list[str], max_size: int) -> dict[str, bytes | int | str]:
    """``read_blobs`` over two halves at once: the second in a thread (the pipe reads release
    the GIL), each half its own git process. The first error wins, as in one reader."""
    from keytrap.sources.gitcat import in_halves

    first, other = in_halves(lambda part: _read_one(top, part, max_size), wanted)
    first.update(other)
    return first


def _read_one(top: str, wanted: list[str], max_size: int) -> dict[str, bytes | int | str]:
    if not wanted:
        return {}
    proc = gitrun.popen(
        top, "cat-file", "--batch-command", "--buffer", keep_repo_env=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    result: dict[str, bytes | int | str] = {}
    out = proc.stdout
    try:
        for i in range(0, len(wanted), _BATCH):
            batch = wanted[i : i + _BATCH]
            proc.stdin.write("".join(f"contents {s}\n" for s in batch).encode() + b"flush\n")
            proc.stdin.flush()
            for sha in batch:
                header = out.readline().split(b" ")
                if len(header) < 3 or header[1] == b"missing":
                    if not header[-1].endswith(b"\n"):
                        raise _Truncated(sha)  # git died: no answer at all
                    result[sha] = "missing object"
                    continue
                size = int(header[2])
                if size > max_size:
                    left = size + 1  # and the LF
                    while left:
                        piece = out.read(min(left, 1 << 20))
                        if not piece:
                            raise _Truncated(sha)
                        left -= len(piece)
                    result[sha] = size  # streamed when scanned
                    continue
                data = out.read(size)
                if len(data) != size or out.read(1) != b"\n":
                    raise _Truncated(sha)
                result[sha] = data
        proc.stdin.close()
    except (_Truncated, BrokenPipeError, ValueError) as exc:
        proc.kill()
        raise GitError(_corrupt(_finish(proc), f"cannot read object {exc}")) from None
    errors = _finish(proc)
    if proc.returncode != 0:  # git died mid-stream (a corrupt pack): the output is truncated
        raise GitError(_corrupt(errors, "git cat-file failed"))
    for sha, value in result.items():
        if value == "missing object" and sha in errors:  # could not unpack it: corrupt, not absent
            raise GitError(_corrupt(errors, f"corrupt object {sha}"))
    return result


_BATCH = 1000


class _Truncated(Exception):
    pass


def _finish(proc: subprocess.Popen[bytes]) -> str:
    """Wait for git and return its stderr (a few lines at most: git prints errors only)."""
    assert proc.stderr is not None and proc.stdout is not None
    if proc.stdin and not proc.stdin.closed:
        proc.stdin.close()
    errors = proc.stderr.read().decode("utf-8", "replace")
    proc.stdout.close()
    proc.stderr.close()
    proc.wait()
    return errors


def _corrupt(stderr: str, fallback: str) -> str:
    """One line for an unreadable object store, from git's last error line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    msg = lines[-1].removeprefix("fatal: ").removeprefix("error: ") if lines else fallback
    return f"corrupt git object store: {msg}"


def _scan_blob(
    top: str, sha: str, data: bytes | int | str | None, path: str, config: Config, repo: object = None
) -> tuple[list[Finding], int] | str:
    """(findings, bytes scanned), or the reason the blob cannot be scanned. The content is read
    as every source reads it (``content.scan_blob``)."""
    if data is None:
        return "missing object"
    if isinstance(data, str):
        return data
    if isinstance(data, int):  # over max_file_size: stream it in windows
        from keytrap.sources.gitcat import stream_blob
        from keytrap.sources.stream import scan_stream

        size = data
        return scan_stream(lambda: stream_blob(top, sha, size, keep_repo_env=True), path, config)
    got = scan_blob(data, path, config, repo=repo, everything=True)  # the hook reads every binary
    return got.findings, got.nbytes


def scan_staged(top: str, config: Config, only: Iterable[str] | None = None) -> ScanResult:
    """New secrets in the staged changes; with ``only``, just those files (index content)."""
    started = time.perf_counter()
    staged = parse_raw(
        _git(top, "diff", "--cached", "--raw", "-z", "-M", "--no-abbrev", "--no-ext-diff", "--diff-filter=ACMRT")
    )
    if only is not None:
        wanted = {os.path.normpath(p).replace(os.sep, "/") for p in only}
        staged = [s for s in staged if s.path in wanted]
        unstaged = sorted(wanted - {s.path for s in staged})
        if unstaged:  # e.g. pre-commit run --all-files: scan their index version whole
            staged.extend(_index_entries(top, unstaged))
    staged = [s for s in staged if not config.excludes(os.path.join(top, s.path), s.path)]
    blobs = read_blobs(top, [s.blob for s in staged], config.max_file_size)
    unchanged, bases = _no_new_tokens(top, staged, blobs, config.max_file_size)
    found: list[tuple[StagedFile, list[Finding]]] = []
    unreadable: list[Skipped] = []
    files = nbytes = 0
    for s in staged:
        if s.blob in unchanged:  # every token in it is already in its HEAD version
            files += 1
            nbytes += unchanged[s.blob]
            continue
        data = blobs.get(s.blob)
        got = _scan_blob(top, s.blob, data, s.path, config, PENDING)
        if isinstance(got, str):
            unreadable.append(Skipped(s.path, got))
            continue
        files += 1
        nbytes += got[1]
        if got[0]:
            found.append((s, got[0]))
    # key files with no evidence of their own, and keys whose file names no network, judged by
    # what the other staged files say (read again only when some finding needs it)
    repo = settled(EMPTY)
    if any(needs_repo(got) for _s, got in found):
        repo = repo_evidence((d if isinstance(d := blobs.get(s.blob), bytes) else None for s in staged),
                             any(has_pending(got) for _s, got in found))
    found = [
        (s, _scan_blob(top, s.blob, blobs.get(s.blob), s.path, config, repo)[0] if has_pending(got) else got)  # type: ignore[index]
        for s, got in found
    ]
    found = [(s, got) for s, got in found if got]
    if unreadable:  # fail closed: unread content never passes as clean
        first = unreadable[0]
        more = f" (and {len(unreadable) - 1} more)" if len(unreadable) > 1 else ""
        raise GitError(f"cannot scan staged {first.path}: {first.reason}{more}")
    # the HEAD side of files with findings, in one read, at the widest setting: a secret
    # already committed there is not new (renames and moved lines never block a commit)
    bases.update(read_blobs(top, [s.base for s, _ in found if s.base and s.base not in bases],
                            config.max_file_size))
    wide = config.with_(min_confidence="low", allow_fingerprints=frozenset())
    findings: list[Finding] = []
    for s, got in found:
        before = _scan_blob(top, s.base, bases.get(s.base), s.path, wide, repo) if s.base else ([], 0)
        old = {f.fingerprint for f in before[0]} if not isinstance(before, str) else set()
        findings.extend(f.with_(git_status="staged") for f in with_repo_network(got, repo) if f.fingerprint not in old)
    stats = ScanStats(
        files_scanned=files, bytes_scanned=nbytes, duration_s=time.perf_counter() - started,
    )
    return ScanResult(root=top, findings=tuple(findings), stats=stats, mode="staged")


def _context(text: bytes, pos: int) -> tuple[bytes, bytes]:
    """(the line before, the line) of the run at ``pos``: what names a value and pairs it."""
    ls = text.rfind(b"\n", 0, pos) + 1
    le = text.find(b"\n", pos)
    prev = text.rfind(b"\n", 0, max(ls - 1, 0)) + 1 if ls else ls
    return (text[prev : ls - 1] if ls else b""), text[ls : le if le != -1 else len(text)]


def _no_new_tokens(top: str, staged: list[StagedFile], blobs: dict[str, bytes | int | str],
                   max_size: int) -> tuple[dict[str, int], dict[str, bytes | int | str]]:
    """The work in proportion to the change: staged blobs of modified files whose every
    candidate run (a 64-character token, a long base64 run) sits on a line that is, with the
    line before it, already in the file's HEAD version, byte for byte (a run found inside a
    longer one, or a value given a new name, is new). Such a file brings no token and no naming
    that is not committed already, so the
    engine is not run on it (a commit that appends a line to a file full of test vectors costs
    a prefilter pass, not two engine passes). A file with a PEM private-key marker is always
    scanned. HEAD versions are read only for staged files that have runs, in one round trip.

    Returns (blob -> bytes scanned, for the ones settled; the HEAD blobs read).
    """
    from keytrap.candidates.prefilter import find_runs

    tokens: dict[str, tuple[str, set[bytes], int]] = {}
    for s in staged:
        data = blobs.get(s.blob)
        if s.base is None or not isinstance(data, bytes) or s.blob in tokens:
            continue
        text = decode_for_scan(data)  # binaries are always read whole, through their views
        if text is None or b"PRIVATE KEY-----" in text:
            continue
        runs = {_context(text, r.start) for r in find_runs(text)}
        if runs:
            tokens[s.blob] = (s.base, runs, len(text))
    if not tokens:
        return {}, {}
    bases = read_blobs(top, [base for base, _, _ in tokens.values()], max_size)
    unchanged: dict[str, int] = {}
    for blob, (base, runs, size) in tokens.items():
        old = bases.get(base)
        if isinstance(old, bytes):
            old_text = decode_for_scan(old)
            if old_text is not None:
                lines = old_text.split(b"\n")
                if runs <= set(zip([b"", *lines], lines)):
                    unchanged[blob] = size
    return unchanged, bases


def _index_entries(top: str, paths: list[str]) -> list[StagedFile]:
    out = _git(top, "--literal-pathspecs", "ls-files", "-s", "-z", "--", *paths)
    entries = []
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, _, path = rec.partition(b"\t")
        mode, sha, _stage = meta.decode().split(" ")
        if mode in _REGULAR_MODES:
            entries.append(StagedFile(path.decode("utf-8", "surrogateescape"), sha, None))
    return entries
