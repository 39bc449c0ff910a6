#!/usr/bin/env python3
"""Working-tree benchmark: keytrap vs gitleaks, kingfisher and betterleaks.

Times, on the same tree and in the same run, N interleaved rounds of:

  keytrap scan TREE --format json
  KEYTRAP_BEFORE scan TREE --format json   (with --keytrap-before: an older keytrap, same rounds)
  gitleaks dir TREE --no-banner --report-format json --report-path TMP --exit-code 0
  kingfisher scan TREE --git-history none --no-validate --no-update-check --format json --output TMP
  kingfisher ... the same plus --no-extract-archives
  betterleaks fs TREE --no-banner --output TMP.json --exit-code 0

and prints a markdown table: median/min wall time, median peak RSS (os.wait4
ru_maxrss), median CPU, findings (from each tool's JSON), exit codes, and
ratios against gitleaks and against keytrap.  Peers run inside `unshare -n`
(no network) when available.  Reports go to a private temp dir; no tool is
ever given /dev/null as an output path.

Standard library only.  Target: keytrap <= 0.5x gitleaks' median wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _benchlib as B  # noqa: E402

DEFAULT_TREE = "/work/bench-data/freqtrade-tree"
DEFAULT_SOURCE = "/work/bench-data/freqtrade"
TARGET_VS_GITLEAKS = 0.5


def tree_stats(root: str) -> tuple[int, int]:
    """Regular files and their bytes under ROOT, not following symlinks, .git skipped."""
    files = size = 0
    for dirpath, dirnames, filenames in os.walk(root):
        if ".git" in dirnames:
            dirnames.remove(".git")
        for name in filenames:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if os.path.isfile(os.path.join(dirpath, name)) and not os.path.islink(
                    os.path.join(dirpath, name)):
                files += 1
                size += st.st_size
    return files, size


def describe_origin(tree: str, source: str | None) -> str:
    top = B.git_out(["rev-parse", "--show-toplevel"], tree)
    if top:
        head = B.git_out(["rev-parse", "HEAD"], tree) or "?"
        dirty = B.git_out(["status", "--porcelain", "--untracked-files=no"], tree)
        note = " (.git present: betterleaks fs / kingfisher also read it)" if \
            os.path.isdir(os.path.join(tree, ".git")) else ""
        return (f"git work tree of {top} at commit {head}"
                f"{' (with uncommitted changes)' if dirty else ''}{note}")
    if source and os.path.isdir(source):
        head = B.git_out(["rev-parse", "HEAD"], source)
        branch = B.git_out(["rev-parse", "--abbrev-ref", "HEAD"], source)
        if head:
            return (f"plain export (no .git) declared to come from {source} "
                    f"({branch}) HEAD {head}")
    return "plain directory (no git metadata; pass --source-repo to name its origin)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Peers are found by flag, then env var (KEYTRAP_BENCH_GITLEAKS, "
               "KEYTRAP_BENCH_KINGFISHER, KEYTRAP_BENCH_BETTERLEAKS), then the bundled "
               "binary inside --peer-venv, then PATH; each must identify itself "
               "(a `gitleaks` that is really betterleaks is rejected). A missing peer "
               "becomes a 'skipped' row.")
    ap.add_argument("tree", nargs="?", default=DEFAULT_TREE,
                    help=f"directory to scan (default: {DEFAULT_TREE})")
    ap.add_argument("--source-repo", default=None,
                    help="repo the tree was exported from, printed with its HEAD "
                         f"(default: {DEFAULT_SOURCE} when the default tree is used)")
    ap.add_argument("-n", "--rounds", type=int, default=5, help="timed rounds (default 5)")
    ap.add_argument("--warmup", type=int, default=1,
                    help="untimed warm-up rounds first (default 1; warms the page "
                         "cache and kingfisher's rule cache)")
    ap.add_argument("--keytrap", help="keytrap executable (default: $KEYTRAP_BENCH_KEYTRAP, "
                    "keytrap next to sys.executable, PATH, /work/venv/bin/keytrap)")
    ap.add_argument("--gitleaks")
    ap.add_argument("--kingfisher")
    ap.add_argument("--betterleaks")
    B.add_run_args(ap, timeout=600, before_help=(
        "also time this keytrap command line (space-separated, e.g. "
        "/old/.venv/bin/keytrap) in the same rounds: before/after in one run"))
    args = ap.parse_args(argv)

    tree = os.path.abspath(args.tree)
    if not os.path.isdir(tree):
        ap.error(f"tree not found: {tree}")
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")
    source = args.source_repo or (DEFAULT_SOURCE if tree == DEFAULT_TREE else None)

    netns_ok = args.netns != "none" and B.have_unshare_net()
    peer_ns = netns_ok
    kt_ns = netns_ok and args.netns == "all"
    probe_prefix = B.netns_prefix(peer_ns)

    tools = {"keytrap": B.locate_keytrap(args.keytrap)}
    for name in ("gitleaks", "kingfisher", "betterleaks"):
        tools[name] = B.locate_peer(name, getattr(args, name), args.peer_venv, probe_prefix)

    tmp = tempfile.mkdtemp(prefix="keytrap-bench-tree-")
    rp = lambda n: os.path.join(tmp, n)  # noqa: E731
    kt, gl, kf, bl = (tools[k].path for k in ("keytrap", "gitleaks", "kingfisher", "betterleaks"))
    count = B.count_json_list_or_findings
    kf_base = ["scan", tree, "--git-history", "none", "--no-validate", "--no-update-check",
               "--format", "json", "--output", rp("kf.json")]
    cases = [
        B.Case("keytrap scan", "keytrap",
               kt and [kt, "scan", tree, "--format", "json"], netns=kt_ns,
               ok_rcs=(0, 1), count=count),
        *([B.Case("keytrap (before)", "keytrap", [*args.keytrap_before.split(), "scan", tree, "--format", "json"],
                  netns=kt_ns, ok_rcs=(0, 1), count=count)] if args.keytrap_before else []),
        B.Case("gitleaks dir", "gitleaks",
               gl and [gl, "dir", tree, "--no-banner", "--report-format", "json",
                       "--report-path", rp("gl.json"), "--exit-code", "0"],
               netns=peer_ns, count=count, report=rp("gl.json")),
        B.Case("kingfisher --git-history none", "kingfisher",
               kf and [kf] + kf_base, netns=peer_ns, ok_rcs=(0, 200, 205),
               count=count, report=rp("kf.json")),
        B.Case("kingfisher … --no-extract-archives", "kingfisher",
               kf and [kf] + kf_base[:-4] + ["--no-extract-archives"] + kf_base[-4:],
               netns=peer_ns, ok_rcs=(0, 200, 205), count=count, report=rp("kf.json")),
        B.Case("betterleaks fs", "betterleaks",
               bl and [bl, "fs", tree, "--no-banner", "--output", rp("bl.json"),
                       "--exit-code", "0"],
               netns=peer_ns, count=count, report=rp("bl.json")),
    ]
    for c in cases:
        if c.argv is None:
            c.skip_note = tools[c.tool].note

    files, size = tree_stats(tree)
    print("# keytrap working-tree benchmark\n")
    print(f"- machine: {B.machine_line()}; load average at start {B.loadavg()}")
    print(f"- tree: {tree}: {files} files, {size:,} bytes ({size / 2**20:.1f} MiB), .git excluded")
    print(f"- origin: {describe_origin(tree, source)}")
    print(f"- rounds: {args.rounds} timed, interleaved, order rotated each round; "
          f"{args.warmup} warm-up round(s) not counted")
    print(f"- network: {'peers' if peer_ns and not kt_ns else 'all tools' if kt_ns else 'no tool'}"
          f" run under `unshare -n`{'' if netns_ok or args.netns == 'none' else ' (unshare -n unavailable)'}")
    print()
    print("\n".join(B.tool_lines(tools)))
    print(flush=True)

    B.run_rounds(cases, args.rounds, args.warmup, tmp, args.timeout)
    print(f"\nLoad average at end: {B.loadavg()} (other load on the machine slows every "
          "tool; compare ratios, not absolute times, across runs)")

    rows = {c.label: B.med([r.wall for r in c.runs]) for c in cases if c.runs}
    gl_med = rows.get("gitleaks dir")
    kt_med = rows.get("keytrap scan")
    print()
    print("\n".join(B.table(cases, "tool", [("× gitleaks", gl_med), ("× keytrap", kt_med)])))
    print()
    print(f"Peak RSS: {B.RSS_METHOD}; the largest single process, which for a tool that "
          "spawns git can be the git child. CPU = user+sys of the tool and its children. Bytes scanned are as each tool reports them (kingfisher and "
          "betterleaks also count extracted archive members). Findings are whatever each tool reports with its "
          "default rules (peers have no Binance rule, so their counts are other secrets).")
    print()
    if kt_med is not None and gl_med:
        ratio = kt_med / gl_med
        verdict = "PASS" if ratio <= TARGET_VS_GITLEAKS else "FAIL"
        print(f"Target keytrap ≤ {TARGET_VS_GITLEAKS}× gitleaks dir (median wall, same run, "
              f"{os.path.basename(tree)}): {ratio:.2f}× → **{verdict}**")
        status = 0
    else:
        print("Target keytrap ≤ 0.5× gitleaks: not measurable (keytrap or gitleaks skipped)")
        status = 2

    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump({"tree": tree, "files": files, "bytes": size,
                       "origin": describe_origin(tree, source),
                       "tools": {k: vars(v) for k, v in tools.items()},
                       "cases": [{"label": c.label, "argv": c.argv, "findings": c.findings,
                                  "bytes_scanned": c.scanned, "runs": [vars(r) for r in c.runs]} for c in cases]},
                      fh, indent=1)
    before = rows.get("keytrap (before)")
    if before and kt_med is not None:
        print(f"\nkeytrap now / before (median wall, same rounds): {kt_med / before:.2f}×")
    if args.keep:
        print(f"\n(outputs kept in {tmp})")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
