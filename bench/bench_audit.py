"""Time an org-wide audit: ``keytrap audit`` against a sequential clone + scan loop and kingfisher.

    python bench/bench_audit.py [--sizes 50,500] [--rounds 1] [--jobs N] [--keep] [--json-out FILE]

For each size N, N small repositories are generated locally with ``git fast-import`` (10-30
commits, ~40-120 blobs each; every 6th holds a key pair, some only in deleted history, one pair
shared by three repositories). Then, in the same run:

* **sequential loop**: for each repository, ``git clone --mirror file://…`` then
  ``keytrap scan MIRROR --history --format json`` (what a script around ``scan`` would do);
* **keytrap audit (cold)**: ``keytrap audit --repos LIST`` with every repository as a ``file://``
  URL and an empty cache (so it clones the same mirrors);
* **keytrap audit (warm)**: the same audit again: fetch every mirror, scan nothing new;
* **keytrap audit (1 new commit)**: after one commit in one repository;
* **keytrap audit (local paths)**: the same repositories named by path: scanned in place, no
  clone (what kingfisher's multi-path mode does);
* **kingfisher** (multi-path mode: ``kingfisher scan PATH…`` over the local repositories, full
  history, no clone), when it is installed. trufflehog is not installed on the benchmark machine.

Wall time, CPU (user+sys of the whole process tree) and the peak RSS of the largest single
process (GNU time) are reported, with ratios against the sequential loop.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchlib as bl  # noqa: E402

ALNUM = string.ascii_letters + string.digits
SITE = Path("/work/benchenv/lib/python3.11/site-packages")


def _key(rng: random.Random) -> str:
    while True:
        k = "".join(rng.choice(ALNUM) for _ in range(64))
        if (any(c.isupper() for c in k) and any(c.islower() for c in k) and any(c.isdigit() for c in k)
                and not any(k[i] * 4 == k[i:i + 4] for i in range(60))):
            return k


def _blob(data: str) -> bytes:
    raw = data.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def make_repo(path: Path, rng: random.Random, keys: tuple[str, str] | None, delete: bool) -> None:
    """One repository through ``git fast-import``: commits that edit a handful of source files."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    stream = bytearray()
    commits = rng.randint(10, 30)
    files = [f"src/pkg/mod{j}.py" for j in range(rng.randint(4, 10))]
    key_at = rng.randint(2, commits - 2) if keys else -1
    for c in range(commits):
        stream += b"commit refs/heads/main\n"
        stream += b"committer Bench <bench@example.invalid> %d +0000\n" % (1_600_000_000 + c * 3600)
        stream += _blob(f"change {c}")  # consecutive commits to one branch chain by themselves
        for f in rng.sample(files, k=min(len(files), rng.randint(1, 4))):
            body = "".join(f"def f{i}(x):\n    return x * {rng.randint(0, 10**6)}\n" for i in range(rng.randint(5, 40)))
            stream += f"M 100644 inline {f}\n".encode() + _blob(body)
        if c == key_at and keys:
            stream += b"M 100644 inline deploy/binance.env\n" + _blob(f"BINANCE_API_KEY={keys[0]}\nBINANCE_API_SECRET={keys[1]}\n")
        if c == key_at + 1 and keys and delete:
            stream += b"D deploy/binance.env\n"
        stream += b"\n"
    subprocess.run(["git", "--git-dir", str(path), "fast-import", "--quiet"], input=bytes(stream), check=True)


def make_fleet(root: Path, n: int, seed: int = 7) -> tuple[list[Path], int]:
    rng = random.Random(seed)
    shared = (_key(rng), _key(rng))
    repos: list[Path] = []
    planted: set[str] = set()
    for i in range(n):
        path = root / f"repo-{i:04d}.git"
        keys = None
        if i in (0, n // 2, n - 1):
            keys = shared
        elif i % 6 == 3:
            keys = (_key(rng), _key(rng))
        if keys:
            planted.update(keys)
        make_repo(path, rng, keys, delete=bool(keys) and i % 4 == 1)
        repos.append(path)
    return repos, len(planted)


def _count_secrets(path: str) -> int | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return len(json.load(fh).get("secrets", []))
    except (OSError, ValueError):
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="50,500")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=None, help="keytrap audit --jobs (default: its own)")
    ap.add_argument("--keytrap", default=None)
    ap.add_argument("--kingfisher", default=str(SITE / "kingfisher/bin/kingfisher"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json-out", default=None)
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args()
    keytrap = bl.locate_keytrap(args.keytrap)
    if not keytrap.path:
        print(keytrap.note, file=sys.stderr)
        return 2
    git = shutil.which("git") or "git"
    kingfisher = args.kingfisher if os.access(args.kingfisher, os.X_OK) else None
    tmp = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    print(f"# keytrap audit benchmark\n\n{bl.machine_line()}; load at start {bl.loadavg()}\n", flush=True)
    print(f"keytrap: {keytrap.path} ({keytrap.note}); peak RSS: {bl.RSS_METHOD}\n")
    raw: dict[str, list[dict]] = {}
    summary = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        root = tmp / f"n{n}"
        fleet = root / "repos"
        fleet.mkdir(parents=True)
        t0 = time.perf_counter()
        repos, planted = make_fleet(fleet, n)
        print(f"## {n} repositories (generated in {time.perf_counter() - t0:.1f} s; {planted} planted secrets)\n",
              flush=True)
        listing = root / "list.txt"
        listing.write_text("".join(r.as_uri() + "\n" for r in repos))
        loop = root / "loop.sh"
        loop.write_text(
            "set -u\nmkdir -p \"$1/m\" \"$1/o\"\ni=0\nwhile read -r url; do\n  i=$((i+1))\n"
            f"  {git} clone -q --mirror \"$url\" \"$1/m/$i.git\"\n"
            f"  {keytrap.path} scan \"$1/m/$i.git\" --history --format json > \"$1/o/$i.json\"\n"
            "done < \"$2\"\n"
        )
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        cases: list[tuple[str, list[str], str | None]] = []
        rows: list[dict] = []
        for r in range(args.rounds):
            work = root / f"round{r}"
            for sub in ("loop", "cache", "cache-local"):
                shutil.rmtree(work / sub, ignore_errors=True)
            (work / "loop").mkdir(parents=True)
            cases = [
                ("sequential: git clone --mirror + keytrap scan --history", ["sh", str(loop), str(work / "loop"), str(listing)], None),
                ("keytrap audit (cold cache)", [keytrap.path, "audit", "--repos", str(listing), "--cache", str(work / "cache"),
                                                "--format", "json", "-o", str(work / "cold.json"), "--no-progress", *jobs], str(work / "cold.json")),
                ("keytrap audit (warm: fetch all, nothing new)", [keytrap.path, "audit", "--repos", str(listing), "--cache",
                                                                  str(work / "cache"), "--format", "json", "-o", str(work / "warm.json"),
                                                                  "--no-progress", *jobs], str(work / "warm.json")),
                ("keytrap audit (after 1 new commit)", [keytrap.path, "audit", "--repos", str(listing), "--cache",
                                                        str(work / "cache"), "--format", "json", "-o", str(work / "inc.json"),
                                                        "--no-progress", *jobs], str(work / "inc.json")),
            ]
            paths = root / "paths.txt"
            paths.write_text("".join(f"{r}\n" for r in repos))
            cases.append(("keytrap audit (local paths, no clone, cold cache)",
                          [keytrap.path, "audit", "--repos", str(paths), "--cache", str(work / "cache-local"),
                           "--format", "json", "-o", str(work / "local.json"), "--no-progress", *jobs],
                          str(work / "local.json")))
            if kingfisher:
                cases.append(("kingfisher scan PATH… (local repos, no clone)",
                              [kingfisher, "scan", *map(str, repos), "--no-validate", "--no-update-check", "--format",
                               "json", "--output", str(work / "kingfisher.json")], None))
            for label, cmd, report in cases:
                if label.startswith("keytrap audit (after"):
                    _new_commit(repos[n // 3], r)
                so, se = str(work / "out.txt"), str(work / "err.txt")
                run = bl.timed_run(cmd, None, so, se, args.timeout)
                found = _count_secrets(report) if report else None
                blobs = _blobs(report) if report else None
                rows.append({"n": n, "round": r, "label": label, "wall": run.wall, "cpu": run.cpu,
                             "rss_kb": run.maxrss_kb, "rc": run.rc, "secrets": found, "blobs_scanned": blobs})
                print(f"  {label}: {run.wall:.2f} s, rc {run.rc}" + (f", {found} secrets" if found is not None else ""),
                      file=sys.stderr, flush=True)
        raw[str(n)] = rows
        base = bl.med([x["wall"] for x in rows if x["label"].startswith("sequential")])
        print("| case | median wall s | CPU s | peak RSS MiB | secrets (planted %d) | blobs scanned | × sequential | exit |" % planted)
        print("|---|---|---|---|---|---|---|---|")
        for label, _, _ in cases:
            mine = [x for x in rows if x["label"] == label]
            w = bl.med([x["wall"] for x in mine])
            line = (f"| {label} | {bl.fmt_s(w)} | {bl.fmt_s(bl.med([x['cpu'] for x in mine]))} | "
                    f"{bl.med([x['rss_kb'] for x in mine]) / 1024:.0f} | {mine[0]['secrets'] if mine[0]['secrets'] is not None else '–'} | "
                    f"{mine[0]['blobs_scanned'] if mine[0]['blobs_scanned'] is not None else '–'} | {bl.fmt_ratio(w, base)} | "
                    f"{','.join(sorted({str(x['rc']) for x in mine}))} |")
            print(line)
            summary.append((n, label, w, bl.med([x["rss_kb"] for x in mine]) / 1024))
        print(flush=True)
    sizes = sorted({s[0] for s in summary})
    if len(sizes) > 1:
        print("## Growth\n")
        print("| case | " + " | ".join(f"{n} repos: s (MiB)" for n in sizes) + " | time per repo |")
        print("|---|" + "---|" * (len(sizes) + 1))
        for label in dict.fromkeys(s[1] for s in summary):
            cells = {n: (w, m) for n, lab, w, m in summary if lab == label}
            per = " → ".join(f"{cells[n][0] / n * 1000:.0f} ms" for n in sizes if n in cells)
            print(f"| {label} | " + " | ".join(f"{cells[n][0]:.2f} ({cells[n][1]:.0f})" if n in cells else "–" for n in sizes)
                  + f" | {per} |")
        print()
    print(f"load at end {bl.loadavg()}; trufflehog: not installed on this machine (not run)")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(raw, indent=1))
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"kept {tmp}")
    return 0


def _new_commit(repo: Path, r: int) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@example.invalid", GIT_COMMITTER_NAME="b",
               GIT_COMMITTER_EMAIL="b@example.invalid")
    stream = (b"commit refs/heads/main\ncommitter Bench <bench@example.invalid> 1700000000 +0000\n"
              + _blob(f"new {r}") + b"from refs/heads/main^0\n"
              + f"M 100644 inline notes/new-{r}.txt\n".encode() + _blob(f"new work {time.time()}") + b"\n")
    subprocess.run(["git", "--git-dir", str(repo), "fast-import", "--quiet"], input=stream, check=True, env=env)


def _blobs(report: str) -> int | None:
    try:
        with open(report, encoding="utf-8") as fh:
            return json.load(fh)["stats"]["blobs_scanned"]
    except (OSError, ValueError, KeyError):
        return None


if __name__ == "__main__":
    sys.exit(main())
