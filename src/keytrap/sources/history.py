"""Git history: every blob scanned once, attributed to commits only when it holds a secret.

How a history scan runs (kingfisher and noseyparker work the same way; ``git log -p``, as
gitleaks does, reads the same content many times over):

1. **Which blobs.** A full scan takes every blob in the object store, in pack order, from
   ``git cat-file --batch-all-objects --batch-check --unordered``, so it also covers blobs no ref
   reaches (stashes, dropped commits, the index); those are reported with ``reachable: False``
   and no commit. Beside that listing a thread walks the commit graph (``rev-list --parents
   --all``, :mod:`keytrap.sources.graph`): the commit count, and the first half of a log pass.
   A range, ``--since-commit`` or ``--branch`` scan takes the blobs that commits in scope add or
   change, from a log pass first.
2. **Scan.** Blobs over ``max_file_size`` are skipped unread (listed in ``skipped``); the rest
   stream through ``git cat-file --batch``: ``jobs`` worker processes (default: the available
   cores), each with one long-lived cat-file behind a 1 MB pipe, pull contiguous slices of the
   pack-ordered id list, from the first 8 MB the listing gives on. Workers get ids, never data,
   and hold one blob at a time. Binary blobs (NUL in the first 8000 bytes) are counted, not
   scanned. Each blob goes through ``scan_bytes`` with no path and the lowest confidence floor:
   a superset of what any of its paths can give (with ``hyperscan``, a gate first rules out the
   blobs ``scan_bytes`` would find nothing in: ``candidates.gate``).
3. **Attribute** (only when some blob has findings, or some blob could not be read): the log
   pass, ``git diff-tree --stdin -r -c`` over every commit of the walk (``jobs`` processes),
   gives every commit that added or changed each hit blob and its path there (a merge counts
   when its result differs from every parent: an evil merge or a conflict resolution);
   positions follow ``git log --topo-order``, computed from the walk. Each hit blob is scanned
   again under each of its paths with the real config (path rules, excludes, confidence
   floor). ``ls-tree HEAD`` says whether it is still at HEAD, the work tree file whether it is
   still there, and one pass over the graph gives every ref holding each introducing commit.
   A full scan of a clean history never runs the diff pass, and a full scan indexes only the
   hit blobs: blobs that commits name but a damaged store lacks are not noticed (``git fsck``
   does that; a partial clone, which lacks blobs on purpose, always runs the pass first and
   lists them as skipped, never fetched).
4. **Group.** All occurrences of one secret (fingerprint + kind) become one Finding, placed at its
   oldest introduction, with counts in ``Finding.extra``.
"""

from __future__ import annotations

import itertools
import os
import re
import selectors
import stat
import subprocess
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from keytrap.config import Config
from keytrap.errors import GitError, UsageError
from keytrap.findings import CONFIDENCE_RANK, Finding, ScanResult, ScanStats, Skipped
from keytrap.candidates.keyfiles import EMPTY, PENDING, RepoContext
from keytrap.sources.content import (
    EVIDENCE_MAX, has_pending, needs_repo, repo_evidence, ruled_out, scan_blob, with_repo_network,
)
from keytrap import childproc, gitrun
from keytrap.childproc import available_cores
from keytrap.gitrun import Location
from keytrap.sources.gitcat import (
    NULL_OID,
    CatFile,
    RepoInfo,
    PIPE_SIZES,
    in_halves,
    iter_objects,
    open_repo,
    run_git,
)
from keytrap.sources.graph import CommitGraph, ref_tips, refs_containing, walk

Progress = Callable[[int, int], None]

#: Refs listed per finding; ``refs_total`` has the full count.
MAX_REFS_LISTED = 10
#: Occurrences listed per finding; ``occurrences`` has the full count.
MAX_OCCURRENCES_LISTED = 20
#: Work tree files read per finding to tell whether the secret is still there.
MAX_WORKTREE_PATHS = 50
#: Below this many bytes to read, worker processes cost more than they save.
INLINE_BYTES = 8 * 1024 * 1024
#: Smallest slice of ids handed to a worker at a time.
MIN_CHUNK_BYTES = 1 << 20


@dataclass(slots=True)
class BlobLedger:
    """The hook for incremental audits (``keytrap.audit``): blob ids to leave unread because an
    earlier scan read them, and, filled by the scan, what it saw.

    ``listed``: every in-scope blob id that was read or skipped here (not the corrupt or missing
    ones: they are tried again next time). ``holding``: (fingerprint, kind) -> every blob id that
    holds that secret, so a caller can later tell whether it is still at HEAD.
    """

    skip: frozenset[str] | set[str] = frozenset()
    listed: set[str] = field(default_factory=set)
    holding: dict[tuple[str, str], set[str]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# git log --raw: which commits add which blobs, at which paths


@dataclass(slots=True)
class LogIndex:
    """What one log pass says about blobs, in ``git log --topo-order`` order: newest first."""

    commits: list[str] = field(default_factory=list)  # position -> sha
    # blob id -> [(commit position, raw path)] for each commit that adds/changes it
    blobs: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    gitlinks: set[bytes] = field(default_factory=set)  # submodule paths seen
    graph: CommitGraph | None = None  # the walk, for ref attribution
    order: array | None = None  # position -> walk index (graph.topo_order())


#: Settings of the log pass's git processes. Tree diffs read trees from all over the pack, so
#: they keep larger pack windows than a sequential blob reader: READ_CONFIG's small windows
#: cost ~30 % more CPU there (mmap churn). At 128m/48m one diff process over half of
#: combined.git's commits peaked at 195 MiB; at 96m/32m, 166 MiB for the same CPU.
LOG_CONFIG = (
    "-c", "core.packedGitWindowSize=16m",
    "-c", "core.packedGitLimit=96m",
    "-c", "core.deltaBaseCacheLimit=32m",
)
#: Commits handed to one diff process at a time (round robin): neighbours share trees.
DIFF_BLOCK = 256
#: Below this many commits one diff process does the whole log pass.
DIFF_SPLIT_MIN = 4096
#: Commits one diff process is given before a fresh one takes over: git keeps every commit it
#: parsed (~0.9 KB each), so one process over half of a 207k-commit history grew to 197 MB;
#: 32k commits stay near 135 MB (mostly pack windows), and the restart costs nothing measurable.
DIFF_PROCESS_COMMITS = 32768


#: Up to this many wanted blobs, git itself keeps only their lines (``--find-object``, one
#: argument each: 2,000 are ~110 KB of arguments).
FIND_OBJECT_MAX = 2000


def _diff_args(want: set[bytes] | None = None) -> list[str]:
    # what ``git log --raw -c --root`` prints for each commit, without the walk: the commits
    # come from the graph, on stdin (``-c``: a merge shows a path only when its result differs
    # from every parent, an evil merge or a conflict resolution)
    args = [
        *LOG_CONFIG, "diff-tree", "--stdin", "-r", "-c", "--root", "--raw", "--no-renames",
        "--no-abbrev", "-z", "--no-color", "--no-ext-diff", "--no-textconv",
        # each commit's header is NUL + sha: with -z, two NULs in a row (an empty token) occur
        # only around headers, since no raw line and no path is empty (a path can hold any
        # other byte): the parse never takes a path for a commit id
        "--format=%x00%H",
    ]
    if want is not None and len(want) <= FIND_OBJECT_MAX:
        # only the lines whose old or new side is a wanted blob: git still compares every
        # tree (the cost of the pass) but writes ~0.2 MB instead of 40 MB on ansible's 66k
        # commits, and nothing is left to skim. The diff of each commit is the same one (a
        # filter on its lines, merges too); submodule lines are not among them (then
        # ``log.gitlinks`` stays empty). A full id is taken as it is: no ref lookup per id
        return ["-c", "core.warnAmbiguousRefs=false", *args,
                *(f"--find-object={oid.decode('ascii')}" for oid in sorted(want))]
    return args


def read_log(repo: Location, revs: list[str], wanted: set[str] | None = None, *, jobs: int = 1,
             graph: CommitGraph | None = None, partial: bool = False) -> LogIndex:
    """Every commit of ``revs`` (``git rev-list --parents``, unless ``graph`` is that walk
    already) and the blobs each adds or changes (``git diff-tree --stdin``, ``jobs`` processes
    over interleaved blocks of commits); keep only ``wanted`` blob ids if given. Positions
    follow ``git log --topo-order``. ``partial``: the repository is a partial clone, where git
    is never asked to filter by object (``--find-object`` makes it fetch every blob a diff
    lacks first, and fetches are forbidden): its whole output is read and skimmed."""
    if graph is None:
        graph = walk(repo, [*revs], config=LOG_CONFIG)
    order = graph.topo_order()
    n = len(order)
    pos_of = array("i", [0]) * n  # walk index -> position
    for pos, k in enumerate(order):
        pos_of[k] = pos
    index = LogIndex(graph=graph, order=order)
    shas = graph.shas
    walk_nodes = graph.walk
    index.commits = [shas[walk_nodes[k]].decode("ascii") for k in order]
    found = _diff_walk(repo, graph, wanted, max(1, jobs) if n >= DIFF_SPLIT_MIN else 1, index.gitlinks,
                       git_filters=not partial)
    for oid, entries in found.items():
        # git log's order: by position, and within one commit as the diff printed them
        index.blobs[oid] = sorted(((pos_of[k], raw) for k, raw in entries), key=lambda e: e[0])
    return index


class _DiffStream:
    """One ``diff-tree --stdin`` process and the parse state of its output."""

    def __init__(self, repo: Location, shas: list[bytes], want: set[bytes] | None = None) -> None:
        self.proc, self.errfile = gitrun.popen_logged(repo, *_diff_args(want), stdin=subprocess.PIPE,
                                                      stdout=subprocess.PIPE)
        gitrun.widen_pipe(self.proc.stdout, PIPE_SIZES)
        self.fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        self.writer = threading.Thread(target=_write_lines, args=(self.proc.stdin, shas), daemon=True)
        self.writer.start()
        self.queue: list[list[bytes]] = []  # the job's next pieces, each for a fresh process
        self.reaped: str | None = None  # what finish() said
        self.rest = b""
        self.meta: bytes | None = None
        self.commit = -1  # walk index of the commit whose entries follow
        self.header = False
        self.pending = bytearray()  # read, not parsed yet

    def finish(self) -> str:
        """Reap the process; the first line of its stderr when it failed, else ''. Once: a
        second call gives the first one's answer."""
        if self.reaped is not None:
            return self.reaped
        self.reaped = self._reap()
        return self.reaped

    def _reap(self) -> str:
        self.writer.join()
        try:
            self.proc.stdout.close()  # type: ignore[union-attr]
        except OSError:
            pass
        rc = self.proc.wait()
        self.errfile.seek(0)
        err = self.errfile.read().decode("utf-8", "replace").strip().splitlines()
        self.errfile.close()
        if rc != 0:
            return err[0].removeprefix("fatal: ") if err else f"exit {rc}"
        return ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()


def _write_lines(stdin, shas: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    try:
        for i in range(0, len(shas), 4096):
            stdin.write(b"\n".join(shas[i : i + 4096]) + b"\n")
        stdin.close()
    except (OSError, ValueError):
        pass  # the reader stopped the process


def _diff_walk(repo: Location, graph: CommitGraph, wanted: set[str] | None, jobs: int,
               gitlinks: set[bytes], git_filters: bool = True) -> dict[str, list[tuple[int, bytes]]]:
    """blob id -> [(walk index, raw path)] from diff-tree over every commit of ``graph``."""
    at: dict[bytes, int] = {}
    shas, walk_nodes = graph.shas, graph.walk
    parts: list[list[bytes]] = [[] for _ in range(jobs)]
    for k in range(len(walk_nodes)):
        sha = shas[walk_nodes[k]]
        at[sha] = k
        parts[(k // DIFF_BLOCK) % jobs].append(sha)
    want = None if wanted is None else {o.encode("ascii") for o in wanted}
    asked = want if git_filters else None
    # each job's commits in pieces of DIFF_PROCESS_COMMITS, one diff process after the other
    queues = [[p[i : i + DIFF_PROCESS_COMMITS] for i in range(0, len(p), DIFF_PROCESS_COMMITS)]
              for p in parts if p]
    found: dict[bytes, list[tuple[int, bytes]]] = {}
    streams: list[_DiffStream] = []  # every process started, to reap
    failure = ""
    try:
        with selectors.DefaultSelector() as sel:

            def start(queue: list[list[bytes]]) -> None:
                s = _DiffStream(repo, queue.pop(0), asked)
                s.queue = queue
                streams.append(s)
                sel.register(s.fd, selectors.EVENT_READ, s)

            for queue in queues:
                start(queue)
            live = len(queues)
            while live:
                for key, _ in sel.select():
                    s = key.data
                    data = os.read(s.fd, 1 << 20)
                    if data:
                        # git writes a few KB at a time: parse in big pieces, so that the
                        # skim skips whole stretches of output
                        s.pending += data
                        if len(s.pending) < PARSE_BYTES:
                            continue
                    else:
                        sel.unregister(s.fd)
                        s.pending += b"\0"  # end the last token
                    _parse_diff(s, bytes(s.pending), at, want, found, gitlinks)
                    s.pending.clear()
                    if not data:
                        failure = s.finish() or failure  # reaped here: one process at a time
                        if s.queue and not failure:
                            start(s.queue)
                        else:
                            live -= 1
    except BaseException:
        for s in streams:
            s.kill()
        raise
    finally:
        for s in streams:
            failure = s.finish() or failure
    if failure:
        raise GitError(f"git log failed in {repo.path}: {failure}")
    return {oid.decode("ascii"): entries for oid, entries in found.items()}


#: Up to this many wanted blobs, output that names none of them is skipped without parsing.
SKIM_WANTED = 64
#: Diff output is parsed in pieces of at least this many bytes.
PARSE_BYTES = 1 << 18


def _parse_diff(s: _DiffStream, data: bytes, at: dict[bytes, int], want: set[bytes] | None,
                found: dict[bytes, list[tuple[int, bytes]]], gitlinks: set[bytes]) -> None:
    buf = s.rest + data
    cut = buf.rfind(b"\0") + 1  # whole tokens only; the rest waits for more output
    s.rest = buf[cut:]
    if not cut:
        return
    start = 0
    if s.meta is not None:  # the path of the last raw line: read it first
        start = buf.find(b"\0") + 1
        _parse_tokens(s, [buf[: start - 1]], at, want, found, gitlinks)
        if start == cut:
            return
    if (want is not None and len(want) <= SKIM_WANTED
            and buf.find(b"160000 ", start, cut) < 0
            and not any(buf.find(oid, start, cut) >= 0 for oid in want)):
        # nothing here to keep (no wanted blob, no submodule): only the state at the end
        # matters, and the last header (NUL NUL sha) resets it; NUL NUL also follows a
        # merge's header, before its raw lines (":…") or the next NUL
        mark = buf.rfind(b"\0\0", start, cut)
        while mark >= 0 and buf[mark + 2 : mark + 3] in (b":", b"\0", b"\n", b""):
            mark = buf.rfind(b"\0\0", start, mark)
        if mark >= 0:
            start = mark + 1
            s.meta, s.header = None, False
    _parse_tokens(s, buf[start : cut - 1].split(b"\0") if cut - 1 > start else [b""] * (cut - start),
                  at, want, found, gitlinks)


def _parse_tokens(s: _DiffStream, tokens: list[bytes], at: dict[bytes, int], want: set[bytes] | None,
                  found: dict[bytes, list[tuple[int, bytes]]], gitlinks: set[bytes]) -> None:
    meta = s.meta
    commit = s.commit
    header = s.header  # the next token is a commit id
    for token in tokens:
        if meta is not None:  # the path after a raw line
            n = len(meta) - len(meta.lstrip(b":"))  # parents compared (1, or more for a merge)
            fields = meta[n:].split(b" ")
            meta = None
            if len(fields) < 2 * n + 3 or commit < 0:
                continue
            mode = fields[n]
            if mode == b"160000":
                gitlinks.add(token)
                continue
            if mode == b"040000":
                continue  # a tree (``--find-object`` implies ``-t``): only blobs are asked for
            oid = fields[2 * n + 1]
            if mode == b"000000" or oid == _NULL_OID_B:
                continue  # deleted here
            if want is not None and oid not in want:
                continue
            entries = found.get(oid)
            if entries is None:
                entries = found[oid] = []
            entries.append((commit, token))
        elif not token:
            header = True  # a commit id may follow (or, after a merge's id, its raw lines)
        else:
            raw = token.lstrip(b"\n")
            if raw[:1] == b":":
                meta = raw
            elif header:
                commit = at.get(token, -1)
            header = False
    s.meta = meta
    s.commit = commit
    s.header = header


_NULL_OID_B = NULL_OID.encode()


def _tokens(stream) -> Iterator[bytes]:  # type: ignore[no-untyped-def]
    rest = b""
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


# ---------------------------------------------------------------------------------------------
# the scan: workers read blobs by id and run the engine on them


@dataclass(slots=True)
class _ChunkResult:
    blobs: int = 0
    bytes: int = 0
    binary: int = 0  # binary blobs with nothing worth reading
    binary_read: int = 0  # binary blobs read through their views (pyc, archives, strings)
    hits: list[tuple[str, list[Finding]]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (oid, reason)


def _scan_chunk(cat: CatFile, oids: list[str], config: Config, strings: bool = False,
                gate: Callable[[bytes], bool] | None = None) -> _ChunkResult:
    """Read and scan blobs by id. Every blob is read as every source reads it
    (``content.scan_blob``: text, or a binary's views); ``strings``: executables and media too,
    as their printable strings (as the hook reads them). ``gate`` (``candidates.gate``): a text
    blob it rules out holds no candidate run and no PEM marker, so the engine would find nothing."""
    out = _ChunkResult()
    for blob in cat.read_many(oids):
        data = blob.data
        if blob.status != "ok" or data is None:
            out.problems.append((blob.spec, blob.status))
            continue
        if blob.type != "blob":
            continue
        out.blobs += 1
        if ruled_out(data, gate):  # what scan_blob would say, without its per-call work
            out.bytes += len(data)
            continue
        got = scan_blob(data, "", config, repo=PENDING, everything=strings, gate=gate)
        if got.binary:
            if not got.read:
                out.binary += 1
                continue
            out.binary_read += 1
        out.bytes += got.nbytes
        if got.findings:
            out.hits.append((blob.spec, got.findings))
    return out


#: What a worker process runs: a fresh interpreter, so no fork of a threaded parent (a rich
#: progress bar has a thread) and no re-import of the caller's ``__main__`` (multiprocessing's
#: spawn re-runs any script that lacks an ``if __name__ == "__main__"`` guard).
_WORKER_CODE = "from keytrap.sources.history import worker_main; worker_main()"


def worker_main() -> None:
    """A scan worker: reads (repo, config, strings), then id lists; answers each with a
    _ChunkResult."""
    stdin, out = childproc.child_streams()
    repo, config, strings = childproc.recv(stdin)  # type: ignore[misc]
    from keytrap.candidates.gate import hyperscan_gate

    gate = hyperscan_gate()
    # one cat-file for the worker's whole life (a Location: the known repository)
    with CatFile(repo, max_size=config.max_file_size) as cat:
        while True:
            chunk = childproc.recv(stdin)
            if chunk is None:
                break
            childproc.send(out, _scan_chunk(cat, chunk, config, strings, gate))  # type: ignore[arg-type]


class _Worker(childproc.Child):
    """A scan worker (``childproc.Child``) that counts the chunks it has not answered yet."""

    def __init__(self, repo: Location, config: Config, strings: bool = False) -> None:
        super().__init__(_WORKER_CODE)
        self.pending = 0  # chunks sent, not answered
        self.send((repo, config, strings))

    def give(self, chunk: list[str] | None) -> None:
        """Send a list of ids, or None: no more work, exit when done."""
        if chunk is None:
            self.finish()
        elif self.send(chunk):
            self.pending += 1

    def results(self) -> Iterator[_ChunkResult]:
        """Whole answers in the bytes read so far (call after its fd is readable)."""
        for part in self.answers():
            self.pending -= 1
            yield part  # type: ignore[misc]


def _chunks(blobs: list[tuple[str, int]], jobs: int) -> list[list[str]]:
    """Contiguous slices of the pack-ordered ids (delta bases stay near), ~16 per job."""
    total = sum(size for _, size in blobs) or 1
    target = max(total // (jobs * 16), MIN_CHUNK_BYTES)
    out: list[list[str]] = []
    cur: list[str] = []
    acc = 0
    for oid, size in blobs:
        cur.append(oid)
        acc += size
        if acc >= target or len(cur) >= 4096:
            out.append(cur)
            cur, acc = [], 0
    if cur:
        out.append(cur)
    return out


def _scan_blobs(
    repo: Location,
    blobs: Iterable[tuple[str, int]],
    config: Config,
    jobs: int,
    progress: Progress | None,
    strings: bool = False,
) -> _ChunkResult:
    """Scan ``blobs`` (id, size); return totals, hits and problems. ``strings``: read binary
    blobs as their printable strings instead of counting them only.

    ``blobs`` may be a generator that is still listing (the object listing: 7 CPU-s per
    million objects): once it has given ``INLINE_BYTES``, the workers start on the first
    chunks while a thread goes on listing, and the progress total grows as it lists.
    """
    it = iter(blobs)
    head: list[tuple[str, int]] = []
    head_bytes = 0
    streaming = False
    for item in it:
        head.append(item)
        head_bytes += item[1]
        if jobs > 1 and head_bytes >= INLINE_BYTES and len(head) >= 2:
            streaming = True
            break
    if streaming:
        return _scan_stream(repo, head, it, config, jobs, progress, strings)
    total = _ChunkResult()
    count = len(head)
    if progress:
        progress(0, count)
    chunks = _chunks(head, max(jobs, 1))
    done = 0

    def add(part: _ChunkResult, n: int) -> None:
        nonlocal done
        _add_part(total, part)
        done += n
        if progress:
            progress(min(done, count), count)

    if jobs <= 1 or head_bytes < INLINE_BYTES or len(chunks) < 2:
        with CatFile(repo, max_size=config.max_file_size) as cat:
            for chunk in chunks:
                add(_scan_chunk(cat, chunk, config, strings), len(chunk))
        return total
    queue = list(reversed(chunks))
    _run_workers(repo, config, strings, min(jobs, len(chunks)),
                 lambda: queue.pop() if queue else None, lambda: True, add)
    return total


def _add_part(total: _ChunkResult, part: _ChunkResult) -> None:
    total.blobs += part.blobs
    total.bytes += part.bytes
    total.binary += part.binary
    total.binary_read += part.binary_read
    total.hits.extend(part.hits)
    total.problems.extend(part.problems)


#: Bytes of blobs per chunk while the listing still runs (the total is not known yet).
STREAM_CHUNK_BYTES = 8 * 1024 * 1024


def _scan_stream(repo: Location, head: list[tuple[str, int]], rest: Iterator[tuple[str, int]],
                 config: Config, jobs: int, progress: Progress | None, strings: bool) -> _ChunkResult:
    """Workers over ``head`` then ``rest``, which a thread lists meanwhile."""
    total = _ChunkResult()
    ready: deque[list[str]] = deque()
    listed = [len(head)]
    finished: list[BaseException | None] = []  # set once: [None] or [the listing's error]
    wake_r, wake_w = os.pipe()

    def produce() -> None:
        error: BaseException | None = None
        try:
            cur: list[str] = []
            acc = 0
            for i, (oid, size) in enumerate(itertools.chain(head, rest)):
                cur.append(oid)
                acc += size
                if i >= len(head):
                    listed[0] += 1
                if acc >= STREAM_CHUNK_BYTES or len(cur) >= 4096:
                    ready.append(cur)
                    cur, acc = [], 0
                    os.write(wake_w, b"c")
            if cur:
                ready.append(cur)
        except BaseException as exc:  # noqa: BLE001 - raised again by the scanning thread
            error = exc
        finally:
            finished.append(error)
            os.write(wake_w, b"d")

    done = 0

    def add(part: _ChunkResult, n: int) -> None:
        nonlocal done
        _add_part(total, part)
        done += n
        if progress:
            progress(done, max(done, listed[0]))

    if progress:
        progress(0, listed[0])
    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        _run_workers(repo, config, strings, jobs,
                     lambda: ready.popleft() if ready else None, lambda: bool(finished), add,
                     wake=wake_r)
    finally:
        producer.join()
        os.close(wake_r)
        os.close(wake_w)
    if finished and finished[0] is not None:
        raise finished[0]
    if progress:
        progress(done, done)
    return total


def _run_workers(repo: Location, config: Config, strings: bool, jobs: int,
                 take: Callable[[], list[str] | None], over: Callable[[], bool],
                 add: Callable[[_ChunkResult, int], None], wake: int | None = None) -> None:
    """``jobs`` workers, each kept two chunks ahead; ``take()`` gives the next chunk or None
    (none ready now: the end of the work when ``over()`` says so; until then, a byte on the
    ``wake`` pipe says another chunk is ready)."""
    workers = [_Worker(repo, config, strings) for _ in range(jobs)]
    hungry: deque[_Worker] = deque()  # one entry per chunk a worker is waiting for

    def feed(w: _Worker) -> None:
        chunk = take()
        if chunk is None and over():
            chunk = take()  # the last chunk may have landed in between
            if chunk is None:
                w.give(None)  # no more work: it exits when done
                return
        if chunk is None:
            hungry.append(w)  # fed when the lister says another chunk is ready
        else:
            w.give(chunk)

    try:
        with selectors.DefaultSelector() as sel:
            for w in workers:
                for _ in range(2):  # one to scan, one waiting: a worker never idles
                    feed(w)
                sel.register(w.fd, selectors.EVENT_READ, w)
            if wake is not None:
                sel.register(wake, selectors.EVENT_READ, None)
            live = len(workers)
            while live:
                for key, _ in sel.select():
                    w = key.data
                    if w is None:  # more chunks, or the end of the listing
                        os.read(wake, 1 << 16)
                        for _ in range(len(hungry)):
                            feed(hungry.popleft())
                        continue
                    try:
                        answers = list(w.results())
                    except EOFError:
                        sel.unregister(w.fd)
                        live -= 1
                        if w.pending:
                            raise GitError(f"history scan failed: {w.failure('a scan worker')}") from None
                        continue
                    for part in answers:
                        add(part, part.blobs + len(part.problems))
                        feed(w)
    finally:
        for w in workers:
            w.close()


# ---------------------------------------------------------------------------------------------
# attribution


@dataclass(frozen=True, slots=True)
class _Occurrence:
    pos: int  # position in the log, newest first: larger is older
    commit: str
    path: str
    raw_path: bytes
    blob: str
    finding: Finding


def _decode_path(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def _head_blobs(repo: Location) -> tuple[set[str], list[str]] | None:
    """Blob ids in HEAD's tree and submodule paths; None when there is no HEAD commit."""
    proc = gitrun.run(repo, "ls-tree", "-r", "-z", "--full-tree", "HEAD")
    if proc.returncode != 0:
        return None
    blobs: set[str] = set()
    gitlinks: list[str] = []
    for entry in proc.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        parts = meta.split(b" ")
        if len(parts) != 3:
            continue
        if parts[0] == b"160000":
            gitlinks.append(_decode_path(path))
        elif parts[1] == b"blob":
            blobs.add(parts[2].decode("ascii"))
    return blobs, gitlinks


def _commit_meta(repo: Location, shas: Iterable[str]) -> dict[str, tuple[str, str, str, str]]:
    """sha -> (author name, author email, author date ISO, subject)."""
    shas = list(dict.fromkeys(shas))
    if not shas:
        return {}
    out = run_git(
        repo, "log", "--no-walk=unsorted", "-z", "--format=%H%x00%an%x00%ae%x00%aI%x00%s", *shas, "--"
    )
    meta: dict[str, tuple[str, str, str, str]] = {}
    fields = out.decode("utf-8", "replace").split("\0")
    for i in range(0, len(fields) - 4, 5):
        sha = fields[i].strip("\n")
        meta[sha] = (fields[i + 1], fields[i + 2], fields[i + 3], fields[i + 4])
    return meta


def _refs_of(repo: Location, log: LogIndex | None, shas: list[str], revs: list[str] | None) -> dict[str, list[str]]:
    """sha -> every ref (refname order) whose tip reaches it, for all ``shas`` in one pass: the
    answer ``for-each-ref --contains SHA`` gives for each, without a walk per commit.

    A full scan's log pass walked ``--all``: its graph holds every ref tip. A range or branch
    scan walks ``--all`` once more, minus what the range's base side reaches (``^base``): a
    commit of the range is not reachable from there, so neither is any commit that reaches it.
    """
    if not shas:
        return {}
    tips = ref_tips(repo)
    if not tips:
        return {sha: [] for sha in shas}
    if log is not None and log.graph is not None and revs == ["--all"]:
        graph, order = log.graph, log.order
    else:
        graph = walk(repo, ["--all"], config=LOG_CONFIG, stdin_revs=_negatives(repo, revs or []))
        order = graph.topo_order()
    assert order is not None
    found = refs_containing(graph, order, [s.encode("ascii") for s in shas], tips)
    return {sha.decode("ascii"): refs for sha, refs in found.items()}


def _negatives(repo: Location, revs: list[str]) -> list[str]:
    """The ``^sha`` (excluded) side of ``revs``, as ``git rev-parse`` resolves it."""
    if not revs or revs == ["--all"]:
        return []
    proc = gitrun.run(repo, "rev-parse", *revs, "--")
    if proc.returncode != 0:
        return []
    return [line for line in proc.stdout.decode("ascii", "replace").split() if line.startswith("^")]


def _worktree_file(root: bytes, raw: bytes) -> bytes | None:
    """The work tree's file at repository path ``raw``, or None.

    Paths come from the scanned repository's trees, so they are not trusted: a path that
    leaves the work tree (``..``, absolute, or through a symlink) is never read.
    """
    parts = raw.split(b"/")
    if raw.startswith(b"/") or b".." in parts or b".git" in (p.lower() for p in parts):
        return None
    target = os.path.join(root, raw)
    real = os.path.realpath(target)
    if real != target and not real.startswith(root + b"/"):
        return None
    try:
        st = os.lstat(target)
        if stat.S_ISREG(st.st_mode) and st.st_size <= 64 * 1024 * 1024:
            with open(target, "rb") as fh:
                return fh.read()
    except OSError:
        pass
    return None


#: Secrets looked for with one ``in`` each; more are matched in one pass over the file.
_FEW_SECRETS = 16
_PREFIX = 32
_B64_RUN = re.compile(rb"[A-Za-z0-9+/=]{%d,}" % _PREFIX)


def _present(data: bytes, secrets: set[str]) -> set[str]:
    """Which of ``secrets`` occur in ``data``: linear in the file however many there are
    (a file of 50,000 keys is read once, not once per key)."""
    plain = {s for s in secrets if len(s) < _PREFIX or _B64_RUN.fullmatch(s.encode()) is None}
    indexed = secrets - plain if len(secrets) > _FEW_SECRETS else set()
    found = {s for s in secrets - indexed if s.encode() in data}
    if indexed:  # every secret is base64-alphabet text: it lies inside one run of it
        by_prefix: dict[bytes, list[bytes]] = {}
        for s in indexed:
            by_prefix.setdefault(s[:_PREFIX].encode(), []).append(s.encode())
        for m in _B64_RUN.finditer(data):
            run = m.group()
            for i in range(len(run) - _PREFIX + 1):
                for needle in by_prefix.get(run[i : i + _PREFIX], ()):
                    if run.startswith(needle, i):
                        found.add(needle.decode())
    return found


def _in_worktree(work_tree: Path | None, groups: list[tuple[list[bytes], str]]) -> list[bool | None]:
    """For each ``(repository paths, secret)``: does the work tree still hold the secret at one
    of those paths? Each file is read once for all the secrets asked of it."""
    if work_tree is None:
        return [None] * len(groups)
    root = os.fsencode(os.path.realpath(work_tree))
    wanted: dict[bytes, set[str]] = {}
    for raw_paths, secret in groups:
        for raw in raw_paths:
            wanted.setdefault(raw, set()).add(secret)
    holds: dict[bytes, set[str]] = {}
    for raw, secrets in wanted.items():
        data = _worktree_file(root, raw)
        holds[raw] = _present(data, secrets) if data is not None else set()
    return [any(secret in holds[raw] for raw in raw_paths) for raw_paths, secret in groups]


# ---------------------------------------------------------------------------------------------
# the entry point


def _check_rev(rev: str, what: str) -> None:
    if not rev or rev.startswith("-"):
        raise UsageError(f"invalid {what}: {rev!r}")


def _resolve(repo: Location, rev: str, what: str) -> str:
    _check_rev(rev, what)
    proc = gitrun.run(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if proc.returncode != 0:
        raise GitError(f"unknown {what} in {repo.path}: {rev}")
    return proc.stdout.decode().strip()


_OBJECT_ID = re.compile(r"[0-9a-fA-F]{7,64}")


def _is_zero(rev: str) -> bool:
    """The null object id (40 zeros, or 64 in a SHA-256 repository): "no commit" in a push."""
    return len(rev) in (40, 64) and set(rev) == {"0"}


def _exists(repo: Location, rev: str) -> bool:
    proc = gitrun.run(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return proc.returncode == 0


def remote_tips(repo: Location, remote: str | None = None, *, without: str | None = None) -> list[str]:
    """Commit ids of the remote-tracking refs (of ``remote`` only, if given); with ``without``,
    only the refs that do not already hold that commit.

    A remote name git cannot have (a URL pushed to directly, a glob) has no tracking refs: the
    answer is empty, and a push to it is checked whole.
    """
    if remote is not None:
        if not remote or remote.startswith("-") or any(c in remote for c in "*?[\\:\0\n") or ".." in remote:
            return []
        pattern = f"refs/remotes/{remote}/"
    else:
        pattern = "refs/remotes/"
    args = ["for-each-ref", "--format=%(objectname)"]
    if without is not None:
        args.append(f"--no-contains={without}")
    out = run_git(repo, *args, pattern)
    return list(dict.fromkeys(out.decode("ascii", "replace").split()))


def _boundary(repo: Location, revs: list[str]) -> str | None:
    """The newest commit just outside ``revs`` (``rev-list --boundary``): the base side of a
    set of new commits. None when they reach back to a root."""
    out = run_git(repo, "rev-list", "--boundary", *revs, "--", check=False)
    for line in out.decode("ascii", "replace").splitlines():
        if line.startswith("-"):
            return line[1:].strip()
    return None


@dataclass(frozen=True, slots=True)
class RangePlan:
    """How a range scan runs: the commits to read (``revs`` for ``git log``), the commit whose
    settings apply (``base``: None when no base side exists), the tip under review, and notes
    on how the range was read (a null or missing base)."""

    revs: tuple[str, ...]
    tip: str
    base: str | None
    notes: tuple[str, ...] = ()
    #: ``base`` is the range's own BASE (given by the caller), not a boundary keytrap computed
    #: for a null or missing base (which may be the tip of any branch, an attacker's included)
    from_range: bool = False


def plan_new_commits(repo: Location, tip: str, remote: str | None = None, *,
                     skip_holding: bool = False, notes: tuple[str, ...] = ()) -> RangePlan:
    """The commits of ``tip`` that no remote-tracking ref (of ``remote``, if given) holds; all
    of them when there is none. ``skip_holding``: refs that hold ``tip`` itself do not count
    (a CI checkout tracks the very branch that was pushed)."""
    tip_id = _resolve(repo, tip, "commit")
    refs = remote_tips(repo, remote, without=tip_id if skip_holding else None)
    revs = (tip_id, "--not", *refs) if refs else (tip_id,)
    base = _boundary(repo, list(revs)) if refs else None
    return RangePlan(revs, tip_id, base, notes)


def plan_range(repo: Path | str | Location, rev_range: str) -> RangePlan:
    """A ``BASE..TIP`` range (``A...B`` too). A null BASE (a new branch or tag: CI's
    ``before``) means the commits of TIP new to the remote-tracking branches; a BASE this clone
    lacks (a shallow checkout) gives the same scan with a note saying how to fetch it: a range
    is never skipped because its base is unknown. An unknown TIP is an error."""
    loc = repo if isinstance(repo, Location) else open_repo(repo).loc
    _check_rev(rev_range, "range")
    if ".." not in rev_range:
        raise UsageError(f"invalid range {rev_range!r}: expected BASE..HEAD")
    symmetric = "..." in rev_range
    base, _, tip = rev_range.partition("...") if symmetric else rev_range.partition("..")
    tip_id = _resolve(loc, tip or "HEAD", "revision in range")
    if base and _is_zero(base):
        note = (f"the range base is the null commit (a new branch or tag): scanned the commits of "
                f"{tip_id[:12]} that no other remote-tracking branch holds")
        return plan_new_commits(loc, tip_id, skip_holding=True, notes=(note,))
    _check_rev(base or "HEAD", "range")
    if base and _OBJECT_ID.fullmatch(base) and not _exists(loc, base):
        # a commit id this clone lacks (a shallow checkout): scan the new commits anyway;
        # a name that resolves to nothing (a typo) stays an error
        note = (f"base commit {base[:40]} is not in this clone (a shallow checkout?): fetch it "
                "(actions/checkout `fetch-depth: 0`, GitLab `GIT_DEPTH: 0`, or `git fetch --deepen`); "
                f"scanned instead the commits of {tip_id[:12]} that no other remote-tracking branch holds")
        return plan_new_commits(loc, tip_id, skip_holding=True, notes=(note,))
    base_id = _resolve(loc, base or "HEAD", "revision in range")
    if symmetric:
        out = run_git(loc, "merge-base", base_id, tip_id, check=False).decode().strip()
        base_id = out.split()[0] if out else base_id
    return RangePlan((rev_range,), tip_id, base_id, from_range=True)


# ---------------------------------------------------------------------------------------------
# which commit the settings of a range come from


def default_branch(repo: Location) -> tuple[str, str] | None:
    """(name, commit id) of the default branch as this clone knows it, ``origin/HEAD`` (set by
    ``git clone`` and ``git remote set-head``); None when it is not known."""
    proc = gitrun.run(repo, "rev-parse", "--verify", "--quiet", "refs/remotes/origin/HEAD^{commit}")
    if proc.returncode != 0:
        return None
    tip = proc.stdout.decode("ascii", "replace").strip()
    name = gitrun.run(repo, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    shown = name.stdout.decode("utf-8", "replace").strip() if name.returncode == 0 else ""
    return (shown or "origin/HEAD"), tip


def is_ancestor(repo: Location, commit: str, of: str) -> bool:
    return gitrun.run(repo, "merge-base", "--is-ancestor", commit, of).returncode == 0


def resolve_settings_rev(repo: Location, rev: str) -> str | None:
    """``--settings-from REV`` as a commit id; None for the null id (no trusted commit: the
    defaults). An unknown REV is an error, never a silent fall back to the defaults."""
    if _is_zero(rev):
        return None
    return _resolve(repo, rev, "--settings-from commit")


def settings_base(repo: Location, plan: RangePlan) -> tuple[str | None, str]:
    """The commit whose settings apply to ``plan`` when the caller names none
    (``--settings-from``), and why: (commit, "") or (None, the reason the defaults apply).

    Settings must come from a commit reviewers trust, never from the commits under review or
    another branch someone pushed: a first push of ``exclude = ["*"]`` passes with a warning,
    and would otherwise silence a second push whose base it is.

    * no base side at all (every commit is new): the defaults;
    * the default branch is known (``origin/HEAD``): the base applies only when it is on it
      (an ancestor of its tip); else the defaults;
    * it is not known: the range's own BASE applies (the caller chose it); a boundary keytrap
      computed for a null or missing base (which may be any branch's tip) does not: the defaults.
    """
    base = plan.base
    if base is None:
        return None, ""
    known = default_branch(repo)
    if known is not None:
        name, tip = known
        if is_ancestor(repo, base, tip):
            return base, ""
        return None, f"the base commit {base[:12]} is not on the default branch {name}"
    if plan.from_range:
        return base, ""
    return None, (f"the range has no base commit of its own and no default branch is known "
                  f"(origin/HEAD): the nearest pushed commit {base[:12]} may be anyone's")


def _scope(
    repo: Location,
    rev_range: str | None,
    since_commit: str | None,
    branch: str | None,
    new_to_remotes: str | None = None,
    plan: RangePlan | None = None,
) -> tuple[str, list[str]]:
    """(mode, revision arguments for git log / rev-list)."""
    given = [x for x in (rev_range, since_commit, branch, new_to_remotes, plan) if x is not None]
    if len(given) > 1:
        raise UsageError("give at most one of a range, --since-commit and --branch")
    if plan is not None:
        return "range", list(plan.revs)
    if new_to_remotes is not None:
        return "range", list(plan_new_commits(repo, new_to_remotes).revs)
    if rev_range is not None:
        _check_rev(rev_range, "range")
        if ".." not in rev_range:
            raise UsageError(f"invalid range {rev_range!r}: expected BASE..HEAD")
        base, _, tip = rev_range.replace("...", "..").partition("..")
        for rev in (base or "HEAD", tip or "HEAD"):
            _resolve(repo, rev, "revision in range")
        return "range", [rev_range]
    if since_commit is not None:
        _resolve(repo, since_commit, "commit")
        return "range", [f"{since_commit}..HEAD"]
    if branch is not None:
        _resolve(repo, branch, "branch")
        return "history", [branch]
    return "history", ["--all"]


def scan_history(
    repo: Path | Location,
    config: Config,
    *,
    rev_range: str | None = None,
    since_commit: str | None = None,
    branch: str | None = None,
    new_to_remotes: str | None = None,
    plan: RangePlan | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
    ledger: BlobLedger | None = None,
) -> ScanResult:
    """Scan the history of ``repo``: all of it, a range (``A..B``), ``X..HEAD``, one branch, the
    commits of a tip no remote-tracking ref holds (``new_to_remotes``), or a :class:`RangePlan`
    (whose notes join the result's).

    Returns one grouped Finding per secret, placed at the commit that first introduced it.
    Raises GitError (one line) when ``repo`` is not a readable git repository.
    With a ``ledger``, blobs in ``ledger.skip`` are not read (see :class:`BlobLedger`).
    ``jobs``: scan worker processes (and log diff processes), default :func:`available_cores`.
    """
    started = time.perf_counter()
    if jobs is None:
        jobs = available_cores()
    elif jobs < 1:
        raise UsageError("--jobs must be at least 1")
    info = open_repo(repo)
    loc = info.loc
    mode, revs = _scope(loc, rev_range, since_commit, branch, new_to_remotes, plan)
    result = _scan(loc, config, info, mode, revs, progress, jobs, started, ledger)
    if plan is not None and plan.notes:
        result = result._replace(stats=result.stats._replace(notes=plan.notes + result.stats.notes))
    return result


def _scan(
    repo: Location, config: Config, info: RepoInfo, mode: str, revs: list[str],
    progress: Progress | None, jobs: int, started: float, ledger: BlobLedger | None = None,
) -> ScanResult:
    full = revs == ["--all"]
    notes: list[str] = []
    skipped: list[Skipped] = []

    # 1. which blobs
    log: LogIndex | None = None
    early: _Early | None = None
    if not full or info.partial:
        # a partial clone lacks blobs on purpose: the log names them, so they can be listed
        log = read_log(repo, revs, jobs=jobs)
    else:
        # the commit graph, walked beside the listing (which leaves a core half idle): the
        # commit count, and the first half of a log pass should something be found
        early = _Early(repo)
    oversize: list[tuple[str, int]] = []
    corrupt: list[str] = []
    # a full scan needs the set of blobs in the store only to tell a partial clone's missing
    # ones, or to fill an audit's ledger (417k ids are ~50 MB on a 207k-commit history)
    keep_store = not full or info.partial or ledger is not None
    store: set[str] = set()

    def in_store() -> Iterator[tuple[str, int]]:
        """The blobs to read, as the listing finds them (the scan starts before it ends)."""
        for obj in iter_objects(repo, ("blob",)):
            if obj.type == "corrupt":
                corrupt.append(obj.oid)
                continue
            if not full and obj.oid not in log.blobs:  # type: ignore[union-attr]
                continue  # not in scope
            if keep_store:
                store.add(obj.oid)
            if ledger is not None and obj.oid in ledger.skip:
                continue  # read by an earlier scan
            if obj.size > config.max_file_size:
                oversize.append((obj.oid, obj.size))
            else:
                yield obj.oid, obj.size

    # 2. scan
    floor = config.with_(min_confidence="low")
    review = mode == "range"  # commits under review (CI, pre-push): nothing is left unread
    scanned = _scan_blobs(repo, in_store(), floor, jobs, progress, strings=review)
    big: dict[str, int] = {}
    if oversize and review:
        # the commits under review (CI, pre-push): a blob is never let through for its size;
        # it is streamed in windows, in bounded memory (a full audit lists it as skipped)
        big = dict(oversize)
        oversize = []
        _scan_big(repo, big, floor, scanned)
    missing: list[str] = []
    for oid, status in scanned.problems:
        if status != "too_large":
            (corrupt if status.startswith("corrupt") else missing).append(oid)
    problems = {oid for oid, _ in oversize} | set(corrupt) | set(missing)
    if log is None and (scanned.hits or problems):
        # a full scan reads the log only when something needs a commit or a path (measured
        # beside the scan on freqtrade: +0.6-1 s on 2 cores for nothing when all is clean),
        # and keeps only those blobs: the others are never looked up
        log = read_log(repo, revs, {oid for oid, _ in scanned.hits} | problems, jobs=jobs,
                       graph=early.result() if early is not None else None, partial=info.partial)
    elif log is not None and keep_store:
        bad = set(corrupt)
        missing.extend(oid for oid in log.blobs if oid not in store and oid not in bad)
    missing = sorted(set(missing))
    if ledger is not None:
        ledger.listed.update(store.difference(corrupt, missing))

    # 3. attribute the hits
    head = _head_blobs(repo)
    context = _repo_context(repo, scanned.hits, log) if any(needs_repo(f) for _, f in scanned.hits) else EMPTY
    findings = _attribute(repo, info, config, scanned.hits, log, head, big, strings=review, ledger=ledger,
                          revs=revs, context=context)

    # stats and notes
    where = (lambda oid: _where(log, oid))
    for oid, size in oversize:
        skipped.append(Skipped(where(oid), f"larger than max_file_size ({size} bytes)"))
    for oid in sorted(set(corrupt)):
        skipped.append(Skipped(where(oid), "corrupt object: cannot be read"))
    if missing:
        if info.partial:
            notes.append(f"partial clone: {len(missing)} blobs are not in the local store and were not fetched")
        for oid in missing:
            skipped.append(Skipped(where(oid), "missing object" + (" (partial clone, not fetched)" if info.partial else "")))
    if info.shallow:
        notes.append("shallow clone: history before the shallow boundary is not available")
    if scanned.binary_read:
        notes.append(f"{scanned.binary_read} binary blobs read (compiled Python, archives, printable strings)")
    if scanned.binary:
        notes.append(f"{scanned.binary} binary blobs skipped (nothing key-shaped in them)")
    gitlinks = sorted({*(head[1] if head else []), *(_decode_path(p) for p in (log.gitlinks if log else ()))})
    if gitlinks:
        shown = ", ".join(gitlinks[:5]) + (" …" if len(gitlinks) > 5 else "")
        notes.append(f"submodules not followed: {shown}")
    if full:
        notes.append("all blobs in the object store were scanned, including ones no ref reaches")
    # commits in scope: what the log pass or the early walk saw (no rev-list --count)
    graph = early.result() if log is None and early is not None else None
    commits = len(log.commits) if log is not None else len(graph) if graph is not None else 0

    stats = ScanStats(
        files_scanned=0,  # blobs are counted in blobs_scanned; files are working-tree files
        bytes_scanned=scanned.bytes,
        skipped=tuple(skipped),
        duration_s=time.perf_counter() - started,
        blobs_scanned=scanned.blobs,
        commits=commits,
        notes=tuple(notes),
        unreadable=len(set(corrupt)) + len(missing),
    )
    root = str(info.work_tree or info.git_dir)
    return ScanResult(root=root, findings=tuple(findings), stats=stats, mode=mode)


class _Early:
    """``walk(repo, --all)`` in a thread, started before the listing. A walk that fails (a
    corrupt commit) gives None: the scan goes on, and a log pass walks again and says why."""

    def __init__(self, repo: Location) -> None:
        self._graph: CommitGraph | None = None
        self._thread = threading.Thread(target=self._run, args=(repo,), daemon=True)
        self._thread.start()

    def _run(self, repo: Location) -> None:
        try:
            self._graph = walk(repo, ["--all"], config=LOG_CONFIG)
        except (GitError, OSError):
            self._graph = None

    def result(self) -> CommitGraph | None:
        self._thread.join()
        return self._graph


#: Commits whose trees are read for repository context (HEAD, then the commits introducing hits).
MAX_CONTEXT_COMMITS = 4
#: Files that are not code or settings give no context: not read for it.
_NOT_CONTEXT = (b".png", b".jpg", b".jpeg", b".gif", b".svg", b".ico", b".webp", b".woff", b".woff2", b".ttf",
                b".eot", b".otf", b".map", b".lock", b".csv", b".tsv", b".parquet", b".feather", b".pdf",
                b".mp4", b".zip", b".gz", b".whl", b".jar", b".pyc", b".so", b".dll", b".exe", b".min.js")
#: Blobs read for repository context, all trees together.
MAX_CONTEXT_BLOBS = 20_000


def _repo_context(repo: Location, hits: list[tuple[str, list[Finding]]], log: LogIndex | None) -> RepoContext:
    """What the repository's Binance code says about key files and networks
    (``candidates.keyfiles``), read from the trees of HEAD and of the commits that introduced
    the hits (the code next to a key when it was committed): only when a hit needs it, and
    bounded (``MAX_CONTEXT_COMMITS`` trees, ``MAX_CONTEXT_BLOBS`` blobs, each once, none larger
    than ``content.EVIDENCE_MAX``)."""
    revs = ["HEAD"]
    if log is not None:
        for oid, _found in hits:
            entries = log.blobs.get(oid)
            if entries:
                revs.append(log.commits[max(pos for pos, _ in entries)])  # its oldest introduction
    revs = list(dict.fromkeys(revs))[:MAX_CONTEXT_COMMITS]
    oids: dict[str, None] = {}
    for rev in revs:
        proc = gitrun.run(repo, "ls-tree", "-r", "-z", "-l", "--full-tree", rev)
        if proc.returncode != 0:
            continue
        for entry in proc.stdout.split(b"\0"):
            meta, _, path = entry.partition(b"\t")
            parts = meta.split()
            if path.lower().endswith(_NOT_CONTEXT):
                continue
            if len(parts) == 4 and parts[1] == b"blob" and parts[3].isdigit() and int(parts[3]) <= EVIDENCE_MAX:
                oids.setdefault(parts[2].decode("ascii"), None)
            if len(oids) >= MAX_CONTEXT_BLOBS:
                break
    ids = list(oids)
    if len(ids) < CONTEXT_SPLIT_MIN or available_cores() < 2:
        return _evidence(repo, ids)
    # two cat-files side by side; the evidence of the whole is the union of the halves' (``|``)
    first, second = in_halves(lambda part: _evidence(repo, part), ids)
    return first | second


#: From this many blobs on, repository context is read by two cat-file processes.
CONTEXT_SPLIT_MIN = 1000


def _evidence(repo: Location, ids: list[str]) -> RepoContext:
    with CatFile(repo, max_size=EVIDENCE_MAX) as cat:
        # every blob (pending=True): the attribution rescans each hit under its real path, and
        # a key file's name can matter there even when the pathless first pass left none pending
        return repo_evidence((blob.data if blob.status == "ok" else None for blob in cat.read_many(ids)),
                             pending=True)


def _scan_big(repo: Location, big: dict[str, int], config: Config, into: _ChunkResult) -> None:
    """Stream each blob over ``max_file_size`` through the window scanner (``sources.stream``)."""
    from keytrap.sources.gitcat import stream_blob
    from keytrap.sources.stream import scan_stream

    for oid, size in big.items():
        found, nbytes = scan_stream(lambda: stream_blob(repo, oid, size), "", config)  # noqa: B023
        into.blobs += 1
        into.bytes += nbytes
        if found:
            into.hits.append((oid, found))


def _scan_big_at(repo: Location, oid: str, size: int, path: str, config: Config) -> list[Finding]:
    from keytrap.sources.gitcat import stream_blob
    from keytrap.sources.stream import scan_stream

    return scan_stream(lambda: stream_blob(repo, oid, size), path, config)[0]


def _where(log: LogIndex | None, oid: str) -> str:
    """A readable name for a blob: its oldest path and commit, else its id."""
    if log is not None and oid in log.blobs:
        pos, raw = max(log.blobs[oid])
        return f"{_decode_path(raw)}@{log.commits[pos][:12]}"
    return f"blob {oid}"


def _attribute(
    repo: Location,
    info: RepoInfo,
    config: Config,
    hits: list[tuple[str, list[Finding]]],
    log: LogIndex | None,
    head: tuple[set[str], list[str]] | None,
    big: dict[str, int] | None = None,
    *,
    strings: bool = False,
    ledger: BlobLedger | None = None,
    revs: list[str] | None = None,
    context: RepoContext = EMPTY,
) -> list[Finding]:
    """Group the hits by secret and place each at its oldest introduction. Each hit blob is
    scanned again under each of its paths, with ``context`` (what the repository's Binance code
    says about key files: ``candidates.keyfiles``) settling the PEM blocks the first pass left
    pending."""
    if not hits:
        return []
    big = big or {}
    floor = CONFIDENCE_RANK[config.min_confidence]
    head_blobs = head[0] if head else set()
    # every (blob, path) occurrence, rescanned with its real path and the real config
    occurrences: dict[tuple[str, str], list[_Occurrence]] = {}
    unreachable: dict[tuple[str, str], list[tuple[str, Finding]]] = {}
    with CatFile(repo) as cat:
        for oid, first in hits:
            entries = log.blobs.get(oid, []) if log is not None else []
            if not entries and has_pending(first):  # no path to judge a key file by: settle it
                blob = cat.read(oid)
                first = scan_blob(blob.data, "", config.with_(min_confidence="low"), repo=context,
                                  everything=strings).findings \
                    if blob.data is not None else []
            if not entries:
                for f in first:
                    if CONFIDENCE_RANK[f.confidence] >= floor and f.fingerprint not in config.allow_fingerprints:
                        unreachable.setdefault((f.fingerprint, f.kind), []).append((oid, f))
                continue
            data: bytes | None = None
            if oid not in big:
                blob = cat.read(oid)
                data = blob.data
                if data is None:
                    continue
            by_path: dict[bytes, list[Finding]] = {}
            for pos, raw in entries:
                path = _decode_path(raw)
                if config.is_excluded(path):
                    continue
                if raw not in by_path:
                    by_path[raw] = with_repo_network(
                        scan_blob(data, path, config, repo=context, everything=strings).findings if data is not None
                        else _scan_big_at(repo, oid, big[oid], path, config),
                        context,
                    )
                for f in by_path[raw]:
                    occ = _Occurrence(pos, log.commits[pos], path, raw, oid, f)  # type: ignore[union-attr]
                    occurrences.setdefault((f.fingerprint, f.kind), []).append(occ)

    groups = [(key, occs) for key, occs in occurrences.items()]
    # oldest introduction first in each group; groups with the best confidence first
    for _, occs in groups:
        occs.sort(key=lambda o: (-o.pos, o.path, o.finding.line))
    groups.sort(key=lambda g: (-max(CONFIDENCE_RANK[o.finding.confidence] for o in g[1]), -g[1][0].pos))
    first_commits = [occs[0].commit for _, occs in groups]
    meta = _commit_meta(repo, first_commits)
    ref_cache = _refs_of(repo, log, list(dict.fromkeys(first_commits)), revs)

    in_worktree = _in_worktree(info.work_tree, [
        (list(dict.fromkeys(o.raw_path for o in occs))[:MAX_WORKTREE_PATHS], occs[0].finding.secret)
        for _, occs in groups
    ])
    out: list[Finding] = []
    for g, ((_fp, _kind), occs) in enumerate(groups):
        rep = occs[0]
        best = max(occs, key=lambda o: CONFIDENCE_RANK[o.finding.confidence]).finding.confidence
        author, email, date, subject = meta.get(rep.commit, ("", "", "", ""))
        commits = list(dict.fromkeys(o.commit for o in occs))
        paths = list(dict.fromkeys(o.path for o in occs))
        blobs = {o.blob for o in occs}
        if ledger is not None:
            ledger.holding.setdefault((_fp, _kind), set()).update(blobs)
        extra: dict[str, object] = {
            "commit_author": author,
            "commit_email": email,
            "commit_date": date,
            "commit_subject": subject,
            "blob": rep.blob,
            "occurrences": len(occs),
            "commits": len(commits),
            "blobs": len(blobs),
            "paths": tuple(paths[:MAX_OCCURRENCES_LISTED]),
            "introduced_in": tuple(
                (o.commit, o.path, o.finding.line) for o in occs[:MAX_OCCURRENCES_LISTED]
            ),
            "at_head": bool(blobs & head_blobs),
            "in_worktree": in_worktree[g],
            "reachable": True,
        }
        refs = ref_cache.get(rep.commit, [])
        extra["refs"] = tuple(refs[:MAX_REFS_LISTED])
        extra["refs_total"] = len(refs)
        out.append(rep.finding.with_(commit=rep.commit, confidence=best).with_extra(**extra))

    for (_fp, _kind), items in unreachable.items():
        oid, f = items[0]
        if ledger is not None:
            ledger.holding.setdefault((_fp, _kind), set()).update(o for o, _ in items)
        out.append(
            f.with_(path=f"(unreachable blob {oid[:12]})").with_extra(
                blob=oid, occurrences=len(items), blobs=len({o for o, _ in items}),
                at_head=False, in_worktree=None, reachable=False,
            )
        )
    return out
