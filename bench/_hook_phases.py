"""Where `keytrap hook FILES` spends its time, taken without changing keytrap (bench_hook.py --breakdown).

    VENV_PYTHON bench/_hook_phases.py FILE...      (cwd = the repository top, as pre-commit runs it)

Run with the interpreter that has keytrap installed. Wraps the functions of
``keytrap.sources.staged`` that ``scan_staged`` looks up at call time, then runs
``keytrap.cli.main(["hook", *FILES])`` in this process and prints one JSON object:

  import     importing keytrap.cli and keytrap.hook (what the entry point loads first)
  diff       ``git diff --cached --raw`` (and ``ls-files -s`` for unstaged names), git calls
  parse      parse_raw
  read       ``read_blobs``: one cat-file --batch-command for the staged blobs (and bases)
  scan       decode + ``scan_bytes`` over every staged blob
  config     ``cli._load_config``: finding and reading .keytrap.toml / pyproject.toml
  rest       everything else inside main(): argument parsing, config, path matching, report
  main       cli.main in all
Interpreter start-up is not in here: bench_hook.py times `python -c pass` beside it.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time

T0 = time.perf_counter()
import keytrap.cli as cli  # noqa: E402
import keytrap.hook  # noqa: E402,F401
from keytrap.sources import staged as S  # noqa: E402

T_IMPORT = time.perf_counter() - T0
times: dict[str, float] = {}


def timed(name: str, fn):  # type: ignore[no-untyped-def]
    def wrapper(*a, **k):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            times[name] = times.get(name, 0.0) + time.perf_counter() - t
    return wrapper


S._git = timed("diff", S._git)
S.parse_raw = timed("parse", S.parse_raw)
S.read_blobs = timed("read", S.read_blobs)
S._scan_blob = timed("scan", S._scan_blob)
cli._load_config = timed("config", cli._load_config)


def main() -> int:
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main(["hook", *sys.argv[1:]])
    total = time.perf_counter() - t
    times["rest"] = total - sum(times.values())
    times["main"] = total
    times["import"] = T_IMPORT
    json.dump({"rc": rc, "files": len(sys.argv) - 1, "times": times}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
