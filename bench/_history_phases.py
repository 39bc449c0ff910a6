"""Phase times of one ``scan_history`` call, taken without changing keytrap (bench_history.py --phases).

    VENV_PYTHON bench/_history_phases.py REPO [--jobs N]

Run with the interpreter that has keytrap installed. It imports ``keytrap.sources.history`` and
replaces the module-level functions that ``_scan`` looks up at call time with timing wrappers,
then calls ``scan_history(REPO, config)`` once, as ``keytrap scan REPO --history --no-worktree``
does (the CLI's start-up and report rendering are the difference to bench_history's wall time).
Prints one JSON object on stdout:

  import      importing keytrap.sources.history and keytrap.config
  open_repo   rev-parse and config probes
  listing     ``iter_objects``: cat-file --batch-all-objects --batch-check and the loop over it
  scan        ``_scan_blobs``: the workers (each with its cat-file) over every blob
  log         ``read_log``: the git log --raw -c pass (full scans run it only after a hit)
  head        ``_head_blobs``: ls-tree -r HEAD
  attribute   ``_attribute`` in all, split into rescan (scan_bytes under each path), commit
              meta (one git log --no-walk), refs (for-each-ref --contains, 2 threads: wall
              span) and grouping (the rest: sorting, building findings, work tree checks)
  count       rev-list --count --all, which runs beside the scan (time to its exit)
  total       the whole scan_history call
``cpu`` has the CPU seconds of listing, scan, log and head: this process plus the children
reaped during the phase (for ``scan``, the workers and their cat-files). The ref lookups run in
threads and are not in it (see attribute.refs wall). On a loaded machine CPU is the steadier
measure of growth. Plus the sizes (blobs listed, bytes, hits, commits, groups). Nothing is written anywhere.
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


spans: list[tuple[float, float]] = []


def refs_containing(repo, sha):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    try:
        return _orig_refs(repo, sha)
    finally:
        spans.append((t, time.perf_counter()))


def scan_bytes(*a, **k):  # type: ignore[no-untyped-def]
    if not getattr(_in_attribute, "on", False):
        return _orig_scan_bytes(*a, **k)
    t = time.perf_counter()
    try:
        return _orig_scan_bytes(*a, **k)
    finally:
        _add("attribute.rescan", time.perf_counter() - t)


def attribute(repo, info, config, hits, log, head):  # type: ignore[no-untyped-def]
    sizes["hit_blobs"] = len(hits)
    _in_attribute.on = True
    t = time.perf_counter()
    try:
        out = _orig_attribute(repo, info, config, hits, log, head)
    finally:
        _in_attribute.on = False
        _add("attribute", time.perf_counter() - t)
    sizes["groups"] = len(out)
    return out


def scan_blobs(repo, blobs, config, jobs, progress):  # type: ignore[no-untyped-def]
    sizes["blobs_to_scan"] = len(blobs)
    sizes["bytes_to_scan"] = sum(s for _, s in blobs)
    t, c = time.perf_counter(), _cpu_now()
    try:
        return _orig_scan_blobs(repo, blobs, config, jobs, progress)
    finally:
        _add("scan", time.perf_counter() - t)
        _add_cpu("scan", c)  # the workers and their cat-files are reaped by then


def count_commits(repo, revs):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    proc = _orig_count(repo, revs)

    def watch() -> None:  # poll /proc: waiting here would race _scan's communicate()
        path = f"/proc/{proc.pid}/stat"
        while True:
            try:
                with open(path, "rb") as fh:
                    state = fh.read().rsplit(b")", 1)[1].split()[0]
            except (OSError, IndexError):
                break
            if state in (b"Z", b"X"):
                break
            time.sleep(0.005)
        _add("count", time.perf_counter() - t)

    threading.Thread(target=watch, daemon=True).start()
    return proc


_orig_refs = H._refs_containing
_orig_scan_bytes = H.scan_bytes
_orig_attribute = H._attribute
_orig_scan_blobs = H._scan_blobs
_orig_count = H._count_commits
H.open_repo = timed("open_repo", H.open_repo)
H.iter_objects = timed_iter("listing", H.iter_objects)
H._scan_blobs = scan_blobs
H.read_log = timed("log", H.read_log)
H._head_blobs = timed("head", H._head_blobs)
H._commit_meta = timed("attribute.meta", H._commit_meta)
H._refs_containing = refs_containing
H.scan_bytes = scan_bytes
H._attribute = attribute
H._count_commits = count_commits


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    repo = Path(args.repo)
    t = time.perf_counter()
    result = H.scan_history(repo, load(repo), jobs=args.jobs)
    total = time.perf_counter() - t
    time.sleep(0.05)  # let the count watcher report
    if spans:
        times["attribute.refs"] = max(e for _, e in spans) - min(s for s, _ in spans)
        sizes["ref_lookups"] = len(spans)
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
