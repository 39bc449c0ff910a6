#!/usr/bin/env python3
"""Full-history benchmark: keytrap against the cat-file floors, kingfisher and gitleaks.

    python bench/bench_history.py REPO [REPO ...] [-n ROUNDS] [--once gitleaks] [--phases]

For each REPO (a bare or non-bare git repository), N interleaved rounds (order rotated each
round, one warm-up round first) of:

  floor 1 reader   git cat-file --batch-all-objects --batch --unordered > /dev/null
  floor 2 readers  list every blob (--batch-all-objects --batch-check), split the pack-ordered
                   list into two contiguous halves of equal bytes, then two
                   `git cat-file --batch` readers over the halves, concurrently
  floor readers+log  the git work of a scan that hands every blob to a reader process and
                   attributes what it finds, with no scanning: the two-reader floor with each
                   reader piped into a Python process that reads and drops (the pipe is a cost
                   no consumer avoids: /dev/null is not a reader), then the log pass,
                   `rev-list --all` split in two for two `diff-tree --stdin -r -c --root`
                   processes (what a scan with findings must walk). Not a peer: the lower
                   bound of keytrap's design on this machine, so that a ratio that cannot be
                   met shows as such (ansible: 2.1x the two-reader floor by itself)
  keytrap          keytrap scan REPO --history --no-worktree --format json --no-progress
  kingfisher       kingfisher scan REPO --git-history full --no-validate --no-update-check
                   --format json --output TMP
  gitleaks         gitleaks git REPO --no-banner --report-format json --report-path TMP
                   --exit-code 0

Peers run under `unshare -n` (no network) when it works. Each run is timed from spawn to reap
(wall), CPU is user+sys of the whole tree (os.wait4), and peak RSS is that of the LARGEST SINGLE
PROCESS of the tree, git children of keytrap's workers included: the larger of GNU time's %M
(which covers every descendant that was waited for) and a /proc sampler that reads VmHWM of
every process in the run's session every 0.1 s (which covers orphans too). The table names
the largest process and gives the whole tree's peak summed RSS.

Ratios are against the two-reader floor, the one-reader floor and kingfisher measured in the
same run. Targets (issue 16): keytrap <= 2.0x the two-reader floor, <= 0.5x kingfisher, and no
process above 200 MB RSS (200e6 bytes = 190.7 MiB).

--phases: instead of the peers, run keytrap's scan_history under bench/_history_phases.py
(timing wrappers around its internal functions; nothing in src/ changes) for each REPO and
print one table of phase times against repository size, with each phase's time per million
blobs and per GB so that growth faster than linear shows.

Standard library only; the keytrap under test is found as in the other scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _benchlib as B  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_VS_FLOOR2 = 2.0
TARGET_VS_KINGFISHER = 0.5
TARGET_RSS_BYTES = 200e6

FLOOR1 = 'git -C "$1" cat-file --batch-all-objects --batch --unordered > /dev/null'
# Byte-balanced contiguous halves of the pack-ordered blob list ($2.a, $2.b).
HALVES = r"""set -e
git -C "$1" cat-file --batch-all-objects --unordered \
    --batch-check='%(objecttype) %(objectsize) %(objectname)' |
  awk -v a="$2.a" -v b="$2.b" '$1 == "blob" { n++; id[n] = $3; sz[n] = $2; tot += $2 }
    END { s = 0; printf "" > a; printf "" > b
          for (i = 1; i <= n; i++) { s += sz[i]; print id[i] > (s <= tot / 2 ? a : b) } }'
"""
# The halves, then two readers at once.
FLOOR2 = HALVES + r"""git -C "$1" cat-file --batch < "$2.a" > /dev/null & p1=$!
git -C "$1" cat-file --batch < "$2.b" > /dev/null & p2=$!
wait $p1; wait $p2
"""
# The two readers with a reading process behind each ($3 -c $SINK), then the log pass in two halves.
FLOOR_ATTR = HALVES + r"""git -C "$1" cat-file --batch < "$2.a" | "$3" -I -S -c "$SINK" & p1=$!
git -C "$1" cat-file --batch < "$2.b" | "$3" -I -S -c "$SINK" & p2=$!
wait $p1; wait $p2
git -C "$1" rev-list --all > "$2.c"
h=$(($(wc -l < "$2.c") / 2))
head -n "$h" "$2.c" > "$2.c1"; tail -n +"$((h + 1))" "$2.c" > "$2.c2"
DIFF="diff-tree --stdin -r -c --root --raw --no-renames --no-abbrev -z"
git -C "$1" $DIFF < "$2.c1" > /dev/null & p1=$!
git -C "$1" $DIFF < "$2.c2" > /dev/null & p2=$!
wait $p1; wait $p2
"""
#: What each reader process runs: read the pipe in 1 MiB pieces and drop them.
SINK = "import os\nb = bytearray(1 << 20)\nwhile os.readv(0, [b]): pass\n"


def repo_facts(repo: str) -> dict:
    """Commits, blobs and blob bytes of REPO (one listing, one rev-list)."""
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")
    out = subprocess.run(["git", "-C", repo, "cat-file", "--batch-all-objects", "--unordered",
                          "--batch-check=%(objecttype) %(objectsize)"],
                         capture_output=True, env=env, check=True).stdout
    blobs = nbytes = 0
    for line in out.splitlines():
        kind, _, size = line.partition(b" ")
        if kind == b"blob":
            blobs += 1
            nbytes += int(size)
    commits = int(B.git_out(["rev-list", "--all", "--count"], repo) or 0)
    pack = sum(os.path.getsize(os.path.join(dp, f))
               for dp, _, fs in os.walk(os.path.join(git_dir(repo), "objects")) for f in fs)
    return {"commits": commits, "blobs": blobs, "blob_bytes": nbytes, "store_bytes": pack,
            "head": B.git_out(["rev-parse", "HEAD"], repo) or "?"}


def git_dir(repo: str) -> str:
    return B.git_out(["rev-parse", "--absolute-git-dir"], repo) or repo


def describe(name: str, facts: dict) -> str:
    return (f"{name}: {facts['commits']:,} commits, {facts['blobs']:,} blobs, "
            f"{facts['blob_bytes'] / 1e9:.2f} GB of blobs, {facts['store_bytes'] / 2**20:.0f} MiB "
            f"object store, HEAD {facts['head'][:12]}")


def bench_repo(repo: str, args, tools: dict, tmp: str, netns: bool) -> dict:
    facts = repo_facts(repo)
    name = os.path.basename(repo.rstrip("/"))
    print(f"\n## {describe(name, facts)}\n", flush=True)
    print(f"- rounds: {args.rounds} timed, interleaved, order rotated each round; {args.warmup} "
          f"warm-up round(s) not counted; {', '.join(sorted(args.once)) or 'no tool'} timed in "
          f"round 1 only; load average at start {B.loadavg()}", flush=True)
    kt, kf, gl = (tools[k].path for k in ("keytrap", "kingfisher", "gitleaks"))
    rp = lambda n: os.path.join(tmp, f"{name}.{n}")  # noqa: E731
    count = B.count_json_list_or_findings
    cases = [
        B.Case("floor: 2 cat-file readers", "floor", ["sh", "-c", FLOOR2, "floor2", repo, rp("ids")]),
        B.Case("floor: 1 cat-file reader", "floor", ["sh", "-c", FLOOR1, "floor1", repo]),
        B.Case("floor: readers + log pass", "floor",
               ["env", f"SINK={SINK}", "sh", "-c", FLOOR_ATTR, "floorattr", repo, rp("attr"), sys.executable]),
        B.Case("keytrap scan --history", "keytrap",
               kt and [kt, "scan", repo, "--history", "--no-worktree", "--format", "json",
                       "--no-progress"], ok_rcs=(0, 1), count=count),
        B.Case("keytrap before (--keytrap-before)", "keytrap",
               args.keytrap_before and [*args.keytrap_before.split(), "scan", repo, "--history",
                                        "--no-worktree", "--format", "json", "--no-progress"],
               ok_rcs=(0, 1), count=count),
        B.Case("kingfisher scan (full history)", "kingfisher",
               kf and [kf, "scan", repo, "--git-history", "full", "--no-validate",
                       "--no-update-check", "--format", "json", "--output", rp("kf.json")],
               netns=netns, ok_rcs=(0, 200, 205), count=count, report=rp("kf.json")),
        B.Case("gitleaks git", "gitleaks",
               gl and [gl, "git", repo, "--no-banner", "--report-format", "json",
                       "--report-path", rp("gl.json"), "--exit-code", "0"],
               netns=netns, count=count, report=rp("gl.json")),
    ]
    keys = ["floor2", "floor1", "floorattr", "keytrap", "before", "kingfisher", "gitleaks"]
    skip = set(args.skip) | (set() if args.keytrap_before else {"before"})
    cases = [c for k, c in zip(keys, cases) if k not in skip]
    for c, k in zip(cases, [k for k in keys if k not in skip]):
        c.once = k in args.once
        if c.argv is None:
            c.skip_note = tools[c.tool].note
    B.run_rounds(cases, args.rounds, args.warmup, tmp, args.timeout, sample_tree=True)
    print(f"\nLoad average at end: {B.loadavg()}\n")
    med = {c.label: B.med([r.wall for r in c.runs]) for c in cases if c.runs}
    f2 = med.get("floor: 2 cat-file readers")
    f1 = med.get("floor: 1 cat-file reader")
    fa = med.get("floor: readers + log pass")
    kfm = med.get("kingfisher scan (full history)")
    print("\n".join(B.table(cases, "command", [("× 2-reader floor", f2), ("× 1-reader floor", f1),
                                               ("× readers + log", fa), ("× kingfisher", kfm)],
                             tree=True)))
    print()
    verdicts = {}
    ktc = next((c for c in cases if c.tool == "keytrap" and c.runs), None)
    if ktc is not None:
        ktm = med[ktc.label]
        peak = max(r.maxrss_kb for r in ktc.runs) * 1024
        checks = [
            (f"≤ {TARGET_VS_FLOOR2}× two-reader floor", f2 and ktm / f2,
             f2 and ktm / f2 <= TARGET_VS_FLOOR2),
            (f"≤ {TARGET_VS_KINGFISHER}× kingfisher", kfm and ktm / kfm,
             kfm and ktm / kfm <= TARGET_VS_KINGFISHER),
        ]
        if fa and f2:
            print(f"- Lower bound of the design (readers + log pass, {name}, same run): {fa:.2f} s, "
                  f"{fa / f2:.2f}× the two-reader floor; keytrap is {ktm / fa:.2f}× it")
        for what, ratio, ok in checks:
            verdicts[what] = bool(ok) if ratio else None
            shown = f"{ratio:.2f}×" if ratio else "not measured"
            print(f"- Target keytrap {what} ({name}, same run): {ktm:.2f} s, {shown} → "
                  f"**{'PASS' if ok else 'FAIL' if ratio else 'n/a'}**")
        top = max(ktc.runs, key=lambda r: r.maxrss_kb)
        ok = peak <= TARGET_RSS_BYTES
        verdicts["rss"] = ok
        print(f"- Target no keytrap process (git children included) above 200 MB RSS: largest "
              f"{peak / 1e6:.0f} MB ({top.peak_proc}) → **{'PASS' if ok else 'FAIL'}**")
    return {"repo": repo, "facts": facts, "verdicts": verdicts,
            "cases": [{"label": c.label, "argv": c.argv, "findings": c.findings,
                       "bytes_scanned": c.scanned, "runs": [vars(r) for r in c.runs]}
                      for c in cases]}


# ---- --phases ---------------------------------------------------------------------------------

CPU_PHASES = ["listing", "scan", "log", "log.walk", "log.diff", "attribute.refs"]
PHASES = ["listing", "scan", "log", "log.walk", "log.diff", "head", "attribute.context", "attribute",
          "attribute.rescan", "attribute.meta", "attribute.refs", "attribute.grouping", "open_repo", "import",
          "total"]


def growth_table(rows: list[dict], what: str, unit: dict) -> None:
    """Per-unit cost of each phase, relative to the smallest repository where it ran."""
    def per(r: dict, p: str) -> float:
        key, scale, _ = unit[p]
        return r[what][p] / (r["facts"][key] / scale) if r["facts"][key] else 0.0

    print("| repository | " + " | ".join(f"{p} ({u[2]}) | rel." for p, u in unit.items()) + " |")
    print("|---" * (1 + 2 * len(unit)) + "|")
    base = {p: next((per(r, p) for r in rows if per(r, p) > 0), 0.0) for p in unit}
    for r in rows:
        cells = [f"{per(r, p):.3f} | {per(r, p) / base[p]:.2f}" if base[p] and per(r, p)
                 else f"{per(r, p):.3f} | –" for p in unit]
        print(f"| {os.path.basename(r['repo'].rstrip('/'))} | " + " | ".join(cells) + " |")


def run_phases(repos: list[str], args, tools: dict) -> list[dict]:
    py = B.interpreter_of(tools["keytrap"].path or "")
    if not py:
        raise SystemExit("--phases needs keytrap's interpreter (a venv keytrap script)")
    facts = {repo: repo_facts(repo) for repo in repos}
    runs: dict[str, list] = {repo: [] for repo in repos}
    loads = [B.loadavg()]
    if args.phases_from:  # re-render the tables of an earlier --json-out
        with open(args.phases_from) as fh:
            saved = {r["repo"]: r for r in json.load(fh)["phases"]}
        facts = {repo: saved[repo]["facts"] for repo in repos}
        runs = {repo: saved[repo]["runs"] for repo in repos}
        args.rounds = len(next(iter(runs.values())))
    for i in range(0 if args.phases_from else args.rounds):  # interleaved: every repository once per round
        for repo in repos:
            with tempfile.TemporaryFile() as err:
                r = subprocess.run([py, os.path.join(HERE, "_history_phases.py"), repo,
                                    "--jobs", str(args.jobs)], stdout=subprocess.PIPE,
                                   stderr=err, check=False)
                if r.returncode != 0:
                    err.seek(0)
                    raise SystemExit(f"phase driver failed on {repo}: {err.read()[-500:]!r}")
            runs[repo].append(json.loads(r.stdout))
            loads.append(B.loadavg())
            print(f"  phases {os.path.basename(repo)} round {i + 1}/{args.rounds}: "
                  f"{runs[repo][-1]['times']['total']:.2f} s (load {loads[-1]})", file=sys.stderr)
    rows = []
    for repo in repos:
        rr = runs[repo]
        times = {p: B.med([x["times"].get(p, 0.0) for x in rr]) for p in PHASES}
        cpu = {p: B.med([x.get("cpu", {}).get(p, 0.0) for x in rr]) for p in CPU_PHASES}
        rows.append({"repo": repo, "facts": facts[repo], "times": times, "cpu": cpu,
                     "sizes": rr[0]["sizes"], "runs": rr})
    rows.sort(key=lambda r: r["facts"]["blobs"])
    name = lambda r: os.path.basename(r["repo"].rstrip("/"))  # noqa: E731
    print(f"\n## keytrap history phases (median of {args.rounds}; jobs={args.jobs}; load average "
          f"now {B.loadavg()})\n")
    print("| repository | commits | blobs | blob GB | findings | "
          + " | ".join(PHASES) + " |")
    print("|---" * (5 + len(PHASES)) + "|")
    for r in rows:
        f = r["facts"]
        print(f"| {name(r)} | {f['commits']:,} | {f['blobs']:,} | {f['blob_bytes'] / 1e9:.2f} | "
              f"{r['sizes'].get('findings', 0)} | "
              + " | ".join(B.fmt_s(r["times"][p]) for p in PHASES) + " |")
    print("\nGrowth: each phase's time per unit of the size it should scale with, relative to "
          "the smallest repository where the phase ran (1.00 = linear; a value that climbs with size means "
          "faster than linear). listing per blob, scan and total per blob byte, log and "
          "count per commit; attribute depends on the number of hit blobs and groups, shown "
          "above.\n")
    unit = {"listing": ("blobs", 1e6, "s / M blobs"), "scan": ("blob_bytes", 1e9, "s / GB"),
            "log": ("commits", 1e5, "s / 100k commits"),
            "log.walk": ("commits", 1e5, "s / 100k commits"),
            "log.diff": ("commits", 1e5, "s / 100k commits"),
            "total": ("blob_bytes", 1e9, "s / GB")}
    growth_table(rows, "times", unit)
    print("\nThe same growth in CPU seconds (keytrap's process plus the git and worker "
          "processes it reaped during the phase), steadier than wall time on a loaded machine:\n")
    cunit = {"listing": ("blobs", 1e6, "CPU s / M blobs"), "scan": ("blob_bytes", 1e9, "CPU s / GB"),
             "log": ("commits", 1e5, "CPU s / 100k commits"),
             "log.walk": ("commits", 1e5, "CPU s / 100k commits"),
             "log.diff": ("commits", 1e5, "CPU s / 100k commits")}
    growth_table(rows, "cpu", cunit)
    print(f"\nLoad average before and after each run: {'; '.join(loads)}")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repos", nargs="+", metavar="REPO", help="git repositories (several per run)")
    ap.add_argument("-n", "--rounds", type=int, default=3, help="timed rounds (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed warm-up rounds (default 1)")
    ap.add_argument("--once", default="gitleaks",
                    help="comma list of tools timed in round 1 only, no warm-up "
                         "(default: gitleaks, which takes minutes)")
    ap.add_argument("--skip", default="",
                    help="comma list: floor2,floor1,floorattr,keytrap,kingfisher,gitleaks")
    ap.add_argument("--phases", action="store_true",
                    help="keytrap phase times against size instead of the tool comparison")
    ap.add_argument("--jobs", type=int, default=2, help="--phases: scan_history jobs (default 2)")
    ap.add_argument("--phases-from", metavar="JSON",
                    help="--phases: print the tables of an earlier run's --json-out instead of running")
    ap.add_argument("--keytrap")
    ap.add_argument("--keytrap-before", metavar="CMD",
                    help="also time this keytrap command line (space-separated, e.g. "
                         "'env PYTHONPATH=/old/src python -m keytrap') in the same rounds: before/after in one run")
    ap.add_argument("--gitleaks")
    ap.add_argument("--kingfisher")
    ap.add_argument("--peer-venv", default=os.environ.get("KEYTRAP_BENCH_PEER_VENV",
                                                          B.DEFAULT_PEER_VENV))
    ap.add_argument("--netns", choices=["peers", "none"], default="peers")
    ap.add_argument("--timeout", type=float, default=3600, help="per-run timeout in s")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with the reports")
    ap.add_argument("--json-out", help="also write raw per-run results to this JSON file")
    args = ap.parse_args(argv)
    args.once = set(filter(None, args.once.split(",")))
    args.skip = set(filter(None, args.skip.split(",")))
    repos = [os.path.abspath(r) for r in args.repos]
    for r in repos:
        if not B.git_out(["rev-parse", "--git-dir"], r):
            ap.error(f"not a git repository: {r}")

    netns = args.netns == "peers" and B.have_unshare_net()
    tools = {"keytrap": B.locate_keytrap(args.keytrap)}
    for peer in ("kingfisher", "gitleaks"):
        tools[peer] = B.locate_peer(peer, getattr(args, peer), args.peer_venv,
                                    B.netns_prefix(netns))
    print("# keytrap full-history benchmark\n")
    print(f"- machine: {B.machine_line()}; load average at start {B.loadavg()}")
    print(f"- network: peers {'run under `unshare -n`' if netns else 'NOT isolated'}")
    print(f"- peak RSS: largest single process of the tool's tree: max of {B.RSS_METHOD} and "
          "a /proc VmHWM sampler over the run's session\n")
    print("\n".join(B.tool_lines(tools)), flush=True)

    if args.phases:
        out = {"phases": run_phases(repos, args, tools)}
    else:
        tmp = tempfile.mkdtemp(prefix="keytrap-bench-history-")
        out = {"repos": [bench_repo(r, args, tools, tmp, netns) for r in repos]}
        if args.keep:
            print(f"\n(outputs kept in {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json_out:
        out["tools"] = {k: vars(v) for k, v in tools.items()}
        with open(args.json_out, "w") as fh:
            json.dump(out, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
