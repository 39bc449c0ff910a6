#!/usr/bin/env python3
"""Adversarial inputs: time ``scan_bytes`` on each case of tests/adversarial.py at 1x and 4x.

A linear stage takes about 4x as long on 4x the input; a quadratic one about 16x. Each case
runs in a child process (so a slow one can be cut off with --timeout) and is timed --rounds
times; the table shows the minimum.

  python3 bench/bench_adversarial.py                 # 256 KiB and 1 MiB
  python3 bench/bench_adversarial.py --size 2M --src /path/to/other/checkout/src
  python3 bench/bench_adversarial.py --case pem_begins_no_end --case tokens_one_per_line

``--src`` benchmarks another checkout's engine (before/after comparisons). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from adversarial import CASES  # noqa: E402

CHILD = r"""
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from adversarial import make
from keytrap.engine import scan_bytes
name, n, rounds = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
path, data = make(name, n)
best = None
for _ in range(rounds):
    t = time.perf_counter()
    found = scan_bytes(data, path)
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(json.dumps({"bytes": len(data), "s": best, "findings": len(found)}))
"""


def size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2}
    t = text.lower().rstrip("ib")
    return int(float(t[:-1]) * units[t[-1]]) if t[-1:] in units else int(t)


def run(src: str, name: str, n: int, rounds: int, timeout: float) -> dict | None:
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, src, os.path.join(ROOT, "tests"), name, str(n), str(rounds)],
            capture_output=True, text=True, timeout=timeout, check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    return json.loads(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="256K", help="the 1x input size (default 256K; 4x is also run)")
    ap.add_argument("--src", default=os.path.join(ROOT, "src"), help="the keytrap source folder to import")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs per case and size (minimum shown)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds before a case is cut off")
    ap.add_argument("--case", action="append", help="run only these cases (repeatable)")
    ap.add_argument("--json-out", help="also write the numbers to this file")
    args = ap.parse_args(argv)
    n = size(args.size)
    names = args.case or list(CASES)
    rows, raw = [], {}
    print(f"keytrap engine from {args.src}; 1x = {n} bytes; min of {args.rounds}\n", file=sys.stderr)
    print("| case | 1x bytes | 1x s | 4x s | 4x/1x | findings (4x) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        one = run(args.src, name, n, args.rounds, args.timeout)
        four = run(args.src, name, 4 * n, args.rounds, args.timeout) if one else None
        raw[name] = {"1x": one, "4x": four}
        t1 = f"{one['s']:.3f}" if one else f">{args.timeout:.0f}"
        t4 = f"{four['s']:.3f}" if four else f">{args.timeout:.0f}"
        ratio = f"{four['s'] / one['s']:.1f}" if one and four and one["s"] > 0 else "-"
        found = four["findings"] if four else "-"
        line = f"| {name} | {one['bytes'] if one else '-'} | {t1} | {t4} | {ratio} | {found} |"
        rows.append(line)
        print(line, flush=True)
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(raw, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
