"""Longer fuzzing of keytrap's parsers and engine: ``python bench/fuzz.py --seconds 300``.

Runs every target in ``tests/fuzz_targets.py`` in turn (round-robin, one input each) until the
time budget is spent, prints inputs tried per target and every failure (the input is saved
under ``--crashes DIR`` as ``<target>-<n>.bin`` for replay with ``--replay FILE --target T``).
With ``--atheris`` (and ``pip install atheris``) one target runs under coverage guidance.
Exit status: 0 when nothing failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent / "src"))

from fuzz_targets import TARGETS, random_input, run_one, seeds  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="time budget (default 60)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: time-based, printed)")
    ap.add_argument("--target", choices=sorted(TARGETS), action="append", help="only these targets (repeatable)")
    ap.add_argument("--crashes", default="fuzz-crashes", help="folder for failing inputs")
    ap.add_argument("--replay", metavar="FILE", help="run one saved input through --target and show the traceback")
    ap.add_argument("--atheris", action="store_true", help="coverage-guided run of the first --target with atheris")
    args = ap.parse_args(argv)
    names = args.target or sorted(TARGETS)

    if args.replay:
        data = Path(args.replay).read_bytes()
        TARGETS[names[0]][0](data)
        print("no failure")
        return 0
    if args.atheris:
        import atheris  # type: ignore[import-not-found]

        func = TARGETS[names[0]][0]
        atheris.instrument_all()  # keytrap is already imported: instrument its bytecode now
        atheris.Setup([sys.argv[0], f"-max_total_time={int(args.seconds)}"], func)
        atheris.Fuzz()
        return 0

    seed = args.seed if args.seed is not None else int(time.time())
    print(f"seed {seed}, {args.seconds:.0f} s, targets: {', '.join(names)}")
    rnd = random.Random(seed)
    pools = {n: seeds(rnd)[TARGETS[n][1]] for n in names}
    tried: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    seen: set[tuple[str, str, str]] = set()
    crash_dir = Path(args.crashes)
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        for name in names:
            data = random_input(rnd, pools[name])
            exc = run_one(name, data)
            tried[name] += 1
            if exc is None:
                continue
            failures[name] += 1
            sig = (name, type(exc).__name__, str(exc)[:80])
            if sig in seen:
                continue
            seen.add(sig)
            crash_dir.mkdir(exist_ok=True)
            out = crash_dir / f"{name}-{failures[name]}.bin"
            out.write_bytes(data)
            print(f"FAIL {name}: {type(exc).__name__}: {exc} (input saved to {out})")
            traceback.print_exception(exc, limit=-3, file=sys.stdout)
            if len(data) < 20_000:  # grow the pool with inputs near a bug
                pools[name].append(data)
    total = sum(tried.values())
    print(f"inputs tried: {total} ({', '.join(f'{n} {tried[n]}' for n in names)})")
    print(f"failures: {sum(failures.values())} ({len(seen)} distinct)")
    return 1 if failures else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
