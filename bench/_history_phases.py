"""Phase times of one ``scan_history`` call, taken without changing keytrap (bench_history.py --phases).

    VENV_PYTHON bench/_history_phases.py REPO [--jobs N]

Run with the interpreter that has keytrap installed. It imports ``keytrap.sources.history`` and
replaces the module-level functions that ``_scan`` looks up at call time with timing wrappers,
then calls ``scan_history(REPO, config)`` once, as ``keytrap scan REPO --history --no-worktree``
does (the CLI's start-up and report rendering are the difference to bench_history's wall time).
Prints one JSON object on stdout:

  import      importing keytrap.sources.history and keytrap.config
  open_repo   rev-parse and config probes
  listing     ``iter_objects``: cat-file --batch-all-objects --batch-check and the loop over it,
              from its start to its end; it runs in a thread while the scan has started
  scan        ``_scan_blobs``: the workers (each with one long-lived cat-file) over every blob,
              the listing's tail included (its CPU includes the listing's)
  log         ``read_log``: the log pass (full scans run it only after a hit), split into
              log.walk (rev-list --parents, the graph and git's topological order) and
              log.diff (diff-tree --stdin over every commit, ``jobs`` processes)
  head        ``_head_blobs``: ls-tree -r HEAD
  attribute   ``_attribute`` in all, split into rescan (scan_blob under each path), commit
              meta (one git log --no-walk), refs (every finding's refs: for-each-ref once and
              one pass over the graph) and grouping (the rest)
  total       the whole scan_history call
``cpu`` has the CPU seconds of listing, scan, log and attribute.refs: this process plus the
children reaped during the phase (for ``scan``, the workers and their cat-files). On a loaded
machine CPU is the steadier measure of growth. Plus the sizes (blobs listed, bytes, hits,
commits, groups). Nothing is written anywhere.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time

T0 = time.perf_counter()
from pathlib import Path  # noqa: E402

import keytrap.sources.history as H  # noqa: E402
from keytrap.config import load  # noqa: E402

T_IMPORT = time.perf_counter() - T0

times: dict[str, float] = {}
cpu: dict[str, float] = {}  # CPU of this process plus the children reaped meanwhile
sizes: dict[str, int] = {}
_in_attribute = threading.local()


def _add(name: str, dt: float) -> None:
    times[name] = times.get(name, 0.0) + dt


def _cpu_now() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ru.ru_utime + ru.ru_stime


def _add_cpu(name: str, c0: float) -> None:
    cpu[name] = cpu.get(name, 0.0) + _cpu_now() - c0


def timed(name: str, fn):  # type: ignore[no-untyped-def]
    def wrapper(*a, **k):  # type: ignore[no-untyped-def]
        t, c = time.perf_counter(), _cpu_now()
        try:
            return fn(*a, **k)
        finally:
            _add(name, time.perf_counter() - t)
            _add_cpu(name, c)
    return wrapper


def timed_iter(name: str, fn):  # type: ignore[no-untyped-def]
    """A generator's time from the call to its exhaustion (the consumer's loop included)."""
    def wrapper(*a, **k):  # type: ignore[no-untyped-def]
        t, c = time.perf_counter(), _cpu_now()
        n = 0
        try:
            for item in fn(*a, **k):
                n += 1
                yield item
        finally:
            _add(name, time.perf_counter() - t)
            _add_cpu(name, c)
            sizes["objects_listed"] = sizes.get("objects_listed", 0) + n
    return wrapper


def scan_blob(*a, **k):  # type: ignore[no-untyped-def]
    if not getattr(_in_attribute, "on", False):
        return _orig_scan_blob(*a, **k)
    t = time.perf_counter()
    try:
        return _orig_scan_blob(*a, **k)
    finally:
        _add("attribute.rescan", time.perf_counter() - t)


def attribute(repo, info, config, hits, log, head, *a, **k):  # type: ignore[no-untyped-def]
    sizes["hit_blobs"] = len(hits)
    _in_attribute.on = True
    t = time.perf_counter()
    try:
        out = _orig_attribute(repo, info, config, hits, log, head, *a, **k)
    finally:
        _in_attribute.on = False
        _add("attribute", time.perf_counter() - t)
    sizes["groups"] = len(out)
    return out


def scan_blobs(repo, blobs, config, jobs, progress, *a, **k):  # type: ignore[no-untyped-def]
    sizes["blobs_to_scan"] = sizes["bytes_to_scan"] = 0

    listing = blobs

    def counted():  # type: ignore[no-untyped-def]  # blobs may be the listing, still running
        for oid, size in listing:
            sizes["blobs_to_scan"] += 1
            sizes["bytes_to_scan"] += size
            yield oid, size

    blobs = counted()
    t, c = time.perf_counter(), _cpu_now()
    try:
        return _orig_scan_blobs(repo, blobs, config, jobs, progress, *a, **k)
    finally:
        _add("scan", time.perf_counter() - t)
        _add_cpu("scan", c)  # the workers and their cat-files are reaped by then


def read_log(*a, **k):  # type: ignore[no-untyped-def]
    t, c = time.perf_counter(), _cpu_now()
    try:
        out = _orig_read_log(*a, **k)
    finally:
        _add("log", time.perf_counter() - t)
        _add_cpu("log", c)
    sizes["log_commits"] = len(out.commits)
    sizes["log_blobs_indexed"] = len(out.blobs)
    return out


_orig_scan_blob = H.scan_blob
_orig_attribute = H._attribute
_orig_scan_blobs = H._scan_blobs
_orig_read_log = H.read_log
H.open_repo = timed("open_repo", H.open_repo)
H.iter_objects = timed_iter("listing", H.iter_objects)
H._scan_blobs = scan_blobs
H.read_log = read_log
H.walk = timed("log.walk", H.walk)  # read_log's graph (and a range scan's ref graph)
H._diff_walk = timed("log.diff", H._diff_walk)
H._head_blobs = timed("head", H._head_blobs)
H._commit_meta = timed("attribute.meta", H._commit_meta)
H._refs_of = timed("attribute.refs", H._refs_of)
H.scan_blob = scan_blob
H._repo_context = timed("attribute.context", H._repo_context)
H._attribute = attribute


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args()
    repo = Path(args.repo)
    t = time.perf_counter()
    kw = {} if args.jobs is None else {"jobs": args.jobs}
    result = H.scan_history(repo, load(repo), **kw)
    total = time.perf_counter() - t
    if "attribute" in times:
        times["attribute.grouping"] = times["attribute"] - sum(
            times.get(k, 0.0) for k in ("attribute.rescan", "attribute.meta", "attribute.refs"))
    times["import"] = T_IMPORT
    times["total"] = total
    sizes.update(findings=len(result.findings), commits=result.stats.commits,
                 blobs_scanned=result.stats.blobs_scanned, bytes_scanned=result.stats.bytes_scanned)
    json.dump({"repo": os.path.abspath(args.repo), "times": times, "cpu": cpu, "sizes": sizes},
              sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
