#!/usr/bin/env python3
"""Candidate prefilters for the history scan loop, on real blob bytes (issue 16 research).

    PYTHON bench/prefilter_candidates.py REPO [--limit-mb 300] [--rounds 3]
    PYTHON bench/prefilter_candidates.py REPO --worker-profile [--limit-mb 300]

Reads the first --limit-mb MB of text blobs of REPO in pack order (``git cat-file --batch``, the
order the workers read them; binary blobs are dropped as ``decode_for_scan`` drops them), then:

* **candidates** (default): times each candidate prefilter over all of those blobs, one
  thread, best and median of --rounds (interleaved: every round runs every candidate once,
  the order rotated each round; one more than 5x slower than the current path is timed once),
  and checks that it yields exactly the runs that
  ``keytrap.candidates.prefilter.find_runs`` yields (start, end, kind) on every blob. A
  candidate whose module is not installed is listed as skipped. Also prints how the corpus
  looks to a prefilter: the share of blobs and bytes with no 64-byte base64 run at all
  (what a blob-level skip could save at best).
* **--worker-profile**: runs the scan worker's loop in this process on the same slice of the
  store (``CatFile.read_many`` -> ``decode_for_scan`` -> ``scan_bytes``) and splits its time into
  pipe read (waiting for and copying cat-file's output), decode, prefilter (``find_runs``, timed
  separately on the same bytes) and engine (``scan_bytes`` minus its prefilter), plus the CPU
  that the cat-file child used (RUSAGE_CHILDREN).

keytrap's source is imported from ../src (nothing there changes). Run it with an interpreter
that has the optional modules: regex, google-re2 (``re2``), hyperscan.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
from keytrap.candidates import prefilter as P  # noqa: E402

KEY_LEN = P.KEY_LEN
_TABLE = P._TABLE
_NEEDLE = P._NEEDLE
_SPACE = P._SPACE
B64_CLASS = rb"[A-Za-z0-9+/]"


# ---- corpus -----------------------------------------------------------------------------------

def load_blobs(repo: str, limit: int) -> list[bytes]:
    """Text blobs (as decode_for_scan returns them) in pack order, up to ``limit`` bytes."""
    from keytrap.sources.files import decode_for_scan
    from keytrap.sources.gitcat import CatFile, iter_objects

    oids, total = [], 0
    for obj in iter_objects(repo, ("blob",)):
        if obj.size > 10 * 2**20:
            continue
        oids.append(obj.oid)
        total += obj.size
        if total >= limit * 1.3:  # binary ones are dropped below
            break
    out, got = [], 0
    with CatFile(repo) as cat:
        for blob in cat.read_many(oids):
            data = decode_for_scan(blob.data) if blob.data is not None else None
            if data is None:
                continue
            out.append(data)
            got += len(data)
            if got >= limit:
                break
    return out


# ---- the shared tail: one maximal base64 run -> a Run or nothing (find_runs' rules) -----------

def classify(data: bytes, pos: int, end: int, n: int):  # type: ignore[no-untyped-def]
    length = end - pos
    start = pos
    if length == KEY_LEN + 1 and start > 0 and data[start - 1] == 0x5C and data[start] in b"nrt":
        start += 1
        length -= 1
    if length == KEY_LEN:
        token = data[start:end]
        if (token.isalnum() and not (start > 0 and data[start - 1] in P._BAD_BEFORE)
                and not (end < n and data[end] in P._BAD_AFTER)):
            return P.Run(start, end, "raw")
        return None
    if P.MIN_ENCODED <= length <= P.MAX_ENCODED:
        return P.Run(start, end, "b64")
    return None


def runs_from_spans(data: bytes, spans) -> list:  # type: ignore[no-untyped-def]
    n = len(data)
    out = []
    for pos, end in spans:
        r = classify(data, pos, end, n)
        if r is not None:
            out.append(r)
    return out


# ---- candidates -------------------------------------------------------------------------------

def c_current(data: bytes) -> list:
    return list(P.find_runs(data))


_RE_RUN = re.compile(B64_CLASS + rb"{64,}")


def c_re(data: bytes) -> list:
    return runs_from_spans(data, (m.span() for m in _RE_RUN.finditer(data)))


_RE_64 = re.compile(B64_CLASS + rb"{64}")


def c_re_gate_translate(data: bytes) -> list:
    """re.search for any 64-run first; translate+find only for blobs that have one."""
    if _RE_64.search(data) is None:
        return []
    return list(P.find_runs(data))


_RE_LONGLINE = re.compile(rb"[^\n]{64}")


def c_longline_gate(data: bytes) -> list:
    """Necessary condition: some line of 64+ bytes (a cheaper class: only LF breaks it)."""
    if _RE_LONGLINE.search(data) is None:
        return []
    return list(P.find_runs(data))


def c_maxline_gate(data: bytes) -> list:
    """Necessary condition via bytes.find only: walk lines, skip blobs whose lines are all short."""
    n = len(data)
    pos = 0
    while True:
        nl = data.find(b"\n", pos)
        if nl == -1:
            if n - pos >= KEY_LEN:
                break
            return []
        if nl - pos >= KEY_LEN:
            break
        pos = nl + 1
    return list(P.find_runs(data))


def _stride_gate(step: int):  # type: ignore[no-untyped-def]
    """Necessary condition on every STEP-th byte: a 64-run holds 64/STEP consecutive samples
    in the base64 class (a 1/STEP-size translate instead of a full one)."""
    need = b"A" * (KEY_LEN // step)  # a 64-window holds exactly 64/STEP multiples of STEP

    def fn(data: bytes) -> list:
        if data[::step].translate(_TABLE).find(need) == -1:
            return []
        return list(P.find_runs(data))

    fn.__name__ = f"stride{step}_gate"
    return fn


def c_chunked(data: bytes, chunk: int = 256 * 1024) -> list:
    """translate in cache-sized chunks; a run open at a chunk's end is carried over."""
    n = len(data)
    if n <= chunk:
        return list(P.find_runs(data))
    spans = []
    open_start = -1  # start of an A-run that reaches the end of the previous chunk
    for base in range(0, n, chunk):
        tr = data[base:base + chunk].translate(_TABLE)
        m = len(tr)
        i = 0
        if open_start != -1:
            sp = tr.find(_SPACE)
            if sp == -1:
                continue  # the whole chunk continues the run
            if base + sp - open_start >= KEY_LEN:
                spans.append((open_start, base + sp))
            open_start, i = -1, sp
        while True:
            pos = tr.find(_NEEDLE, i)
            if pos == -1:
                tail = tr.rfind(_SPACE, i) + 1  # the A-run (shorter than 64) at the end, if any
                if i > 0 and tail == 0:
                    tail = i
                if tail < m:
                    open_start = base + tail
                break
            sp = tr.find(_SPACE, pos + KEY_LEN)
            if sp == -1:
                open_start = base + pos
                break
            spans.append((base + pos, base + sp))
            i = sp
    if open_start != -1 and n - open_start >= KEY_LEN:
        spans.append((open_start, n))
    return runs_from_spans(data, spans)


def _optional(name: str):  # type: ignore[no-untyped-def]
    try:
        return __import__(name)
    except ImportError:
        return None


regex_mod = _optional("regex")
re2_mod = _optional("re2")
hs_mod = _optional("hyperscan")


def make_optional() -> dict:
    out: dict = {}
    if regex_mod is not None:
        rx = regex_mod.compile(B64_CLASS + rb"{64,}")
        out["regex finditer"] = lambda d: runs_from_spans(d, (m.span() for m in rx.finditer(d)))
        rx64 = regex_mod.compile(B64_CLASS + rb"{64}")
        out["regex gate + translate"] = lambda d: [] if rx64.search(d) is None else list(P.find_runs(d))
    else:
        out["regex finditer"] = "not installed"
    if re2_mod is not None:
        opts = re2_mod.Options()
        opts.max_mem = 64 << 20
        r2 = re2_mod.compile(B64_CLASS + rb"{64,}", opts)
        out["re2 finditer"] = lambda d: runs_from_spans(d, (m.span() for m in r2.finditer(d)))
        r64 = re2_mod.compile(B64_CLASS + rb"{64}", opts)
        out["re2 gate + translate"] = lambda d: [] if r64.search(d) is None else list(P.find_runs(d))
    else:
        out["re2 finditer"] = "not installed"
    if hs_mod is not None:
        db = hs_mod.Database(mode=hs_mod.HS_MODE_BLOCK)
        db.compile(expressions=[B64_CLASS + rb"{64}"], ids=[1],
                   flags=[hs_mod.HS_FLAG_SINGLEMATCH])
        hit = []

        def on_match(*_a):  # type: ignore[no-untyped-def]
            hit.append(1)
            return True  # stop at the first match

        def hs_gate(d: bytes) -> list:
            hit.clear()
            try:
                db.scan(d, match_event_handler=on_match)
            except hs_mod.ScanTerminated:
                pass
            return list(P.find_runs(d)) if hit else []

        out["hyperscan gate + translate"] = hs_gate
    else:
        out["hyperscan gate + translate"] = "not installed"
    return out


def candidates() -> dict:
    out = {
        "current: translate + find": c_current,
        "re finditer [b64]{64,}": c_re,
        "re gate [b64]{64} + translate": c_re_gate_translate,
        "re gate [^\\n]{64} + translate": c_longline_gate,
        "find-LF line-length gate + translate": c_maxline_gate,
        "stride-8 sample gate + translate": _stride_gate(8),
        "stride-16 sample gate + translate": _stride_gate(16),
        "chunked translate (256 KiB)": c_chunked,
    }
    out.update(make_optional())
    return out


# ---- measuring --------------------------------------------------------------------------------

def time_candidate(fn, blobs: list[bytes], rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        for d in blobs:
            fn(d)
        times.append(time.perf_counter() - t)
    return times


def corpus_shape(blobs: list[bytes]) -> dict:
    no_run = no_run_bytes = 0
    no_line = no_line_bytes = 0
    for d in blobs:
        if d.translate(_TABLE).find(_NEEDLE) == -1:
            no_run += 1
            no_run_bytes += len(d)
        if _RE_LONGLINE.search(d) is None:
            no_line += 1
            no_line_bytes += len(d)
    return {"no_run": no_run, "no_run_bytes": no_run_bytes, "no_line": no_line,
            "no_line_bytes": no_line_bytes}


def run_candidates(blobs: list[bytes], rounds: int) -> None:
    total = sum(map(len, blobs))
    ref = [list(P.find_runs(d)) for d in blobs]
    nruns = sum(map(len, ref))
    shape = corpus_shape(blobs)
    print(f"- corpus: {len(blobs):,} text blobs, {total / 1e6:.1f} MB, {nruns:,} runs from find_runs "
          f"({sum(1 for r in ref if r):,} blobs with one)")
    print(f"- blobs with no 64-byte base64 window: {shape['no_run']:,} "
          f"({shape['no_run'] / len(blobs):.0%} of blobs, {shape['no_run_bytes'] / total:.0%} of "
          f"bytes) — the most a blob-level skip can save")
    print(f"- blobs with no line of 64+ bytes: {shape['no_line']:,} "
          f"({shape['no_line'] / len(blobs):.0%} of blobs, {shape['no_line_bytes'] / total:.0%} of bytes)")
    # the two halves of the current hot path
    tr_t = time_candidate(lambda d: d.translate(_TABLE), blobs, rounds)
    trs = [d.translate(_TABLE) for d in blobs]
    t = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for x in trs:
            x.find(_NEEDLE)
        t.append(time.perf_counter() - t0)
    del trs
    print(f"- current path split: translate alone {total / min(tr_t) / 1e6:.0f} MB/s, "
          f"find(64×'A') alone on translated bytes {total / min(t) / 1e6:.0f} MB/s\n")
    cands = candidates()
    live = {k: f for k, f in cands.items() if not isinstance(f, str)}
    wrong = {}
    for name, fn in live.items():
        bad = 0
        for d, r in zip(blobs, ref):
            try:
                if fn(d) != r:
                    bad += 1
            except Exception:  # noqa: BLE001 - a broken candidate is a result, not a crash
                bad += 1
        wrong[name] = bad
    # interleaved: each round times every candidate once, in an order rotated each round, so
    # a change in machine load hits all of them alike
    times: dict[str, list[float]] = {k: [] for k in live}
    names = list(live)
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            if r and times[name] and times[name][0] > 5 * times[names[0]][0]:
                continue  # far off the pace: one timing says enough
            times[name] += time_candidate(live[name], blobs, 1)
    base = statistics.median(times[names[0]])
    print(f"| candidate | best s | median s | MB/s (median) | × current | same runs as find_runs |")
    print("|---|---|---|---|---|---|")
    for name, fn in cands.items():
        if isinstance(fn, str):
            print(f"| {name} | skipped | | | | {fn} |")
            continue
        best, medt, bad = min(times[name]), statistics.median(times[name]), wrong[name]
        print(f"| {name} | {best:.3f} | {medt:.3f} | {total / medt / 1e6:.0f} | "
              f"{medt / base:.2f}× | {'yes' if not bad else f'NO: {bad:,} blobs differ'} |",
              flush=True)


def worker_profile(repo: str, limit: int) -> None:
    """The worker loop, in-process, split into pipe read / decode / prefilter / engine."""
    from keytrap.config import load
    from keytrap.engine import scan_bytes
    from keytrap.sources.files import decode_for_scan
    from keytrap.sources.gitcat import CatFile, iter_objects

    config = load(repo).with_(min_confidence="low")
    oids, total = [], 0
    t = time.perf_counter()
    for obj in iter_objects(repo, ("blob",)):
        if obj.size > config.max_file_size:
            continue
        oids.append(obj.oid)
        total += obj.size
        if total >= limit:
            break
    t_list = time.perf_counter() - t
    # each part's wall time (perf_counter) and this process's CPU time (process_time): on a
    # loaded machine the wall shares include time the worker was not running at all
    wall_t = dict.fromkeys(("read", "decode", "prefilter", "engine"), 0.0)
    cpu_t = dict.fromkeys(wall_t, 0.0)
    nbytes = nblobs = binary = 0
    clock, cpu = time.perf_counter, time.process_time
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    self0, wall0 = cpu(), clock()

    def mark(part: str, w0: float, c0: float) -> tuple[float, float]:
        w1, c1 = clock(), cpu()
        wall_t[part] += w1 - w0
        cpu_t[part] += c1 - c0
        return w1, c1

    with CatFile(repo, max_size=config.max_file_size) as cat:
        it = cat.read_many(oids)
        while True:
            w, c = clock(), cpu()
            try:
                blob = next(it)
            except StopIteration:
                break
            w, c = mark("read", w, c)
            if blob.data is None or blob.type != "blob":
                continue
            nblobs += 1
            data = decode_for_scan(blob.data)
            w, c = mark("decode", w, c)
            if data is None:
                binary += 1
                continue
            nbytes += len(data)
            for _ in P.find_runs(data):
                pass
            w, c = mark("prefilter", w, c)
            scan_bytes(data, "", config)
            mark("engine", w, c)
    wall = clock() - wall0
    self_cpu = cpu() - self0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    git_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    wall_t["loop"] = wall - sum(wall_t.values())
    cpu_t["loop"] = self_cpu - sum(cpu_t.values())
    # scan_bytes runs find_runs itself, so the separate prefilter pass above is extra work:
    # the engine's own part is the difference, and the real worker is that much cheaper
    wall_t["engine"] -= wall_t["prefilter"]
    cpu_t["engine"] -= cpu_t["prefilter"]
    wall -= wall_t["prefilter"]
    self_cpu -= cpu_t["prefilter"]
    # what the clocks themselves cost: 5 perf_counter/process_time pairs a blob
    c0 = cpu()
    for _ in range(10000):
        clock(), cpu()
    per_pair = (cpu() - c0) / 10000
    clocks = per_pair * 5 * len(oids)
    print(f"- slice: first {len(oids):,} blobs in pack order, {total / 1e6:.0f} MB listed "
          f"({t_list:.2f} s to list); {nblobs:,} read, {binary:,} binary, {nbytes / 1e6:.0f} MB scanned")
    print(f"- one worker, in-process, its cat-file beside it; wall {wall:.2f} s, worker CPU "
          f"{self_cpu:.2f} s (incl. the id-writer thread; the extra prefilter pass taken out), cat-file CPU {git_cpu:.2f} s; "
          f"load average {os.getloadavg()[0]:.2f}\n")
    print("| part | wall s | CPU s | share of worker CPU | MB/s of CPU |")
    print("|---|---|---|---|---|")
    labels = {"read": "pipe read (read_many: header parse + copy; wall includes waiting)",
              "decode": "decode_for_scan", "prefilter": "prefilter (find_runs)",
              "engine": "engine (scan_bytes − its prefilter)",
              "loop": f"loop, writer thread, rest (of which ~{clocks:.2f} s reading the clocks)"}
    for key, label in labels.items():
        c = cpu_t[key]
        print(f"| {label} | {wall_t[key]:.2f} | {c:.2f} | {c / self_cpu:.0%} | "
              f"{nbytes / c / 1e6 if c > 0.005 else float('inf'):.0f} |")
    print(f"| cat-file child (decompress, deltas, write) | – | {git_cpu:.2f} | – | "
          f"{total / git_cpu / 1e6 if git_cpu else 0:.0f} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo")
    ap.add_argument("--limit-mb", type=float, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--worker-profile", action="store_true")
    args = ap.parse_args(argv)
    limit = int(args.limit_mb * 1e6)
    head = subprocess.run(["git", "-C", args.repo, "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    print(f"# prefilter research on {os.path.basename(args.repo.rstrip('/'))} (HEAD {head[:12]}), "
          f"first {args.limit_mb:.0f} MB of text blobs in pack order; Python "
          f"{sys.version.split()[0]}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    if args.worker_profile:
        worker_profile(args.repo, limit)
        return 0
    t = time.perf_counter()
    blobs = load_blobs(args.repo, limit)
    print(f"- loaded in {time.perf_counter() - t:.1f} s; timing: one thread, {args.rounds} rounds")
    run_candidates(blobs, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
