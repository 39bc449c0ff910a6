"""The log pass alone on each repository, to check its growth against the sum of its parts.

    VENV_PYTHON bench/_log_growth.py REPO [REPO ...] [--rounds N] [--jobs 2]

A full history scan runs the log pass only when something is found, so a clean repository
(freqtrade, git.git) never shows it in the phase table. This driver runs it on every
repository with one made-up wanted blob id (nothing matches: the whole output is skimmed, as
in a scan with few findings) and prints wall and CPU seconds (this process plus the git
processes), interleaved rounds, medians. combined.git holds the four histories, so its log pass
should cost about the sum of theirs. Nothing is written anywhere.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

from keytrap.gitrun import locate
from keytrap.sources import history as H


def cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ru.ru_utime + ru.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("repos", nargs="+")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    out: dict[str, list[tuple[float, float, int]]] = {r: [] for r in args.repos}
    for _ in range(args.rounds):
        for repo in args.repos:
            loc = locate(repo)
            t, c = time.perf_counter(), cpu()
            log = H.read_log(loc, ["--all"], {"1234567890abcdef1234567890abcdef12345678"}, jobs=args.jobs)
            out[repo].append((time.perf_counter() - t, cpu() - c, len(log.commits)))
    print(f"| repository | commits | log wall s | log CPU s | CPU s / 100k commits |  (median of {args.rounds}, jobs {args.jobs}, load {os.getloadavg()[0]:.2f})")
    print("|---|---|---|---|---|")
    for repo, runs in out.items():
        w = statistics.median(r[0] for r in runs)
        c = statistics.median(r[1] for r in runs)
        n = runs[0][2]
        print(f"| {os.path.basename(repo.rstrip('/'))} | {n:,} | {w:.2f} | {c:.2f} | {c / n * 1e5:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
