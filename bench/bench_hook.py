#!/usr/bin/env python3
"""Pre-commit benchmark: keytrap vs peers on a repository with a staged change.

Runs, with cwd = REPO, N interleaved rounds (order rotated each round) of:

  keytrap scan --staged --format json
  keytrap hook FILE...                       (the staged files)
  gitleaks git --staged REPO --no-banner --report-format json --report-path TMP --exit-code 0
  betterleaks git --staged REPO --no-banner --output TMP.json --exit-code 0
  kingfisher scan REPO --staged --no-validate --no-update-check --format json --output TMP
  detect-secrets-hook FILE...

plus the bare floors, timed in the same rounds:

  PYTHON -c pass            PYTHON = the interpreter in keytrap's '#!' line (the venv
                            python), not a pyenv shim, which adds ~0.1 s by itself
  git diff --cached --raw   (GIT_OPTIONAL_LOCKS=0)
  unshare -n true           the cost of the no-network namespace the peers run in

and prints a markdown table with median and min wall time, median peak RSS,
and the ratio against betterleaks measured in the same run.  The staged
change is not modified; the script checks that the index and working-tree
status are identical before and after.  Reports go to a private temp dir;
no tool is ever given /dev/null as an output path.

With --staged-files N [N ...] it instead builds, for each N, a copy of REPO
(`git clone` of its HEAD) with N staged text files (half of them, up to the
number of small tracked files, modified tracked files; the rest new files whose
content is a tracked file's, so sizes and text are the repository's own) and
times keytrap scan --staged, keytrap hook FILES, betterleaks git --staged and
gitleaks git --staged (plus the floors) on each; --breakdown adds where
`keytrap hook` spends its time (bench/_hook_phases.py, run in-process with
timing wrappers; nothing in src/ changes).

Standard library only.  Target: keytrap <= 0.08 s median and <= 0.7x betterleaks
(issue 16: keytrap hook <= 0.7x betterleaks at 1, 10, 100, 1,000 and 5,000 files).
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

DEFAULT_REPO = "/work/bench-data/python-binance-hook"
TARGET_ABS = 0.08
TARGET_VS_BETTERLEAKS = 0.7


def staged_files(repo: str) -> list[str]:
    out = B.git_out(["diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR"], repo)
    return [f for f in (out or "").split("\0") if f]


def repo_state(repo: str) -> tuple:
    return (B.git_out(["diff", "--cached", "--raw", "--no-abbrev"], repo),
            B.git_out(["status", "--porcelain", "--untracked-files=all"], repo))


#: Largest tracked file used as a template for generated staged files.
TEMPLATE_MAX = 64 * 1024
#: Comment syntax by extension, for the line appended to a modified tracked file.
_COMMENT = {".py": "#", ".toml": "#", ".cfg": "#", ".ini": "#", ".txt": "#", ".yml": "#",
            ".yaml": "#", ".sh": "#", ".rst": "..", ".md": "<!--", ".js": "//"}


def make_staged_copy(src: str, n: int, dest: str) -> list[str]:
    """Clone SRC's HEAD to DEST and stage N text files there; return their paths."""
    subprocess.run(["git", "clone", "-q", src, dest], check=True)
    ls = B.git_out(["ls-files", "-z"], dest) or ""
    templates = []
    for path in ls.split("\0"):
        full = os.path.join(dest, path)
        if not path or os.path.islink(full) or not os.path.isfile(full):
            continue
        if os.path.getsize(full) > TEMPLATE_MAX:
            continue
        with open(full, "rb") as fh:
            data = fh.read()
        if b"\0" in data[:8000] or not data.strip():
            continue
        templates.append((path, data))
    templates.sort()
    if not templates:
        raise SystemExit(f"no text files to use as templates in {src}")
    n_mod = min(n // 2, len(templates)) if n > 1 else 0
    staged = []
    for i in range(n):
        path, data = templates[i % len(templates)]
        stem, ext = os.path.splitext(os.path.basename(path))
        mark = _COMMENT.get(ext, "#")
        line = f"{mark} staged change {i}: adjust retry and timeout handling\n".encode()
        if i < n_mod:
            target = path
            content = data + (b"" if data.endswith(b"\n") else b"\n") + line
        else:
            target = f"generated/{i // 250:03d}/{stem}_{i:05d}{ext}"
            content = line + data
        os.makedirs(os.path.dirname(os.path.join(dest, target)), exist_ok=True)
        with open(os.path.join(dest, target), "wb") as fh:
            fh.write(content)
        staged.append(target)
    for i in range(0, len(staged), 1000):
        subprocess.run(["git", "add", "--", *staged[i:i + 1000]], cwd=dest, check=True)
    return staged


#: ``--keytrap-before CMD``: an older keytrap's hook, timed in the same rounds.
KEYTRAP_BEFORE = ""


def build_cases(repo: str, files: list[str], tools: dict, rp, py, peer_ns: bool, kt_ns: bool,
                peers: tuple[str, ...]) -> list:
    kt, gl, bl, kf, ds = (tools[k].path for k in
                          ("keytrap", "gitleaks", "betterleaks", "kingfisher",
                           "detect-secrets-hook"))
    count = B.count_json_list_or_findings
    git_env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")
    cases = [
        B.Case("keytrap scan --staged", "keytrap",
               kt and [kt, "scan", "--staged", "--format", "json"], cwd=repo,
               netns=kt_ns, ok_rcs=(0, 1), count=count),
        B.Case(f"keytrap hook <{len(files)} files>", "keytrap",
               kt and [kt, "hook", *files], cwd=repo, netns=kt_ns, ok_rcs=(0, 1)),
        B.Case(f"keytrap before: hook <{len(files)} files>", "keytrap",
               KEYTRAP_BEFORE and [*KEYTRAP_BEFORE.split(), "hook", *files], cwd=repo,
               netns=kt_ns, ok_rcs=(0, 1)),
        B.Case("gitleaks git --staged", "gitleaks",
               gl and [gl, "git", "--staged", repo, "--no-banner", "--report-format", "json",
                       "--report-path", rp("gl.json"), "--exit-code", "0"],
               cwd=repo, netns=peer_ns, count=count, report=rp("gl.json")),
        B.Case("betterleaks git --staged", "betterleaks",
               bl and [bl, "git", "--staged", repo, "--no-banner", "--output", rp("bl.json"),
                       "--exit-code", "0"],
               cwd=repo, netns=peer_ns, count=count, report=rp("bl.json")),
        B.Case("kingfisher scan --staged", "kingfisher",
               kf and [kf, "scan", repo, "--staged", "--no-validate", "--no-update-check",
                       "--format", "json", "--output", rp("kf.json")],
               cwd=repo, netns=peer_ns, ok_rcs=(0, 200, 205), count=count,
               report=rp("kf.json")),
        B.Case(f"detect-secrets-hook <{len(files)} files>", "detect-secrets-hook",
               ds and [ds, *files], cwd=repo, netns=peer_ns, ok_rcs=(0, 1),
               count=B.count_detect_secrets),
        B.Case("floor: python -c pass", "floor",
               py and [py, "-c", "pass"], cwd=repo, netns=kt_ns,
               skip_note="" if py else "no interpreter (pass --python)"),
        B.Case("floor: git diff --cached --raw", "floor",
               ["git", "diff", "--cached", "--raw"], cwd=repo, netns=kt_ns, env=git_env),
    ]
    cases = [c for c in cases if (c.tool in ("keytrap", "floor") or c.tool in peers)
             and (KEYTRAP_BEFORE or not c.label.startswith("keytrap before"))]
    if peer_ns:
        cases.append(B.Case("floor: unshare -n true", "floor", [shutil.which("true") or "true"],
                            cwd=repo, netns=True))
    for c in cases:
        if c.argv is None and not c.skip_note:
            c.skip_note = tools[c.tool].note
    return cases


def check_targets(cases: list, files: list[str], top: str, abs_target: bool) -> int:
    med = {c.label: B.med([r.wall for r in c.runs]) for c in cases if c.runs}
    bl_med = med.get("betterleaks git --staged")
    status = 0
    for label in ("keytrap scan --staged", f"keytrap hook <{len(files)} files>"):
        m = med.get(label)
        if m is None:
            print(f"Target for {label}: not measurable (skipped)")
            status = 2
            continue
        abs_ok = m <= TARGET_ABS or not abs_target
        rel = (m / bl_med) if bl_med else None
        rel_ok = rel is not None and rel <= TARGET_VS_BETTERLEAKS
        verdict = "PASS" if abs_ok and rel_ok else "FAIL"
        what = f"≤ {TARGET_ABS} s median and " if abs_target else ""
        print(f"Target {label} {what}≤ {TARGET_VS_BETTERLEAKS}× "
              f"betterleaks ({os.path.basename(top)}, same run): {m:.3f} s, "
              f"{'–' if rel is None else f'{rel:.2f}×'} → **{verdict}**")
    return status


BREAKDOWN = ["import", "config", "diff", "parse", "read", "scan", "rest", "main"]


def breakdown(py: str, repo: str, files: list[str], rounds: int) -> dict:
    """Median phase times of `keytrap hook FILES` (bench/_hook_phases.py), in REPO."""
    driver = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_hook_phases.py")
    runs = []
    for _ in range(rounds):
        r = subprocess.run([py, driver, *files], cwd=repo, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, check=True)
        runs.append(json.loads(r.stdout)["times"])
    return {k: B.med([x.get(k, 0.0) for x in runs]) for k in BREAKDOWN}


def header(tools: dict, py, peer_ns: bool, kt_ns: bool, netns_ok: bool, netns_arg: str) -> None:
    print(f"- network: {'peers' if peer_ns and not kt_ns else 'all tools' if kt_ns else 'no tool'}"
          f" run under `unshare -n`{'' if netns_ok or netns_arg == 'none' else ' (unshare -n unavailable)'}")
    print(f"- floor interpreter: {py or '–'}")
    print()
    print("\n".join(B.tool_lines(tools)))
    print(flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Peers are found by flag, then env var (KEYTRAP_BENCH_GITLEAKS, "
               "KEYTRAP_BENCH_BETTERLEAKS, KEYTRAP_BENCH_KINGFISHER, "
               "KEYTRAP_BENCH_DETECT_SECRETS_HOOK), then the bundled binary inside "
               "--peer-venv, then PATH; each must identify itself (a `gitleaks` that "
               "is really betterleaks is rejected). A missing peer becomes a "
               "'skipped' row.")
    ap.add_argument("repo", nargs="?", default=DEFAULT_REPO,
                    help=f"git repository with a staged change (default: {DEFAULT_REPO})")
    ap.add_argument("--files", nargs="+", metavar="FILE",
                    help="files for `keytrap hook` / detect-secrets-hook "
                         "(default: the staged added/copied/modified/renamed files)")
    ap.add_argument("--staged-files", nargs="+", type=int, metavar="N",
                    help="instead: one run per N on a copy of REPO's HEAD with N generated "
                         "staged files (e.g. 1 10 100 1000 5000)")
    ap.add_argument("--breakdown", action="store_true",
                    help="also time the phases of `keytrap hook` (with --staged-files)")
    ap.add_argument("-n", "--rounds", type=int, default=10, help="timed rounds (default 10)")
    ap.add_argument("--warmup", type=int, default=1,
                    help="untimed warm-up rounds first (default 1)")
    ap.add_argument("--keytrap", help="keytrap executable (default: $KEYTRAP_BENCH_KEYTRAP, "
                    "keytrap next to sys.executable, PATH, /work/venv/bin/keytrap)")
    ap.add_argument("--python", help="interpreter for the `-c pass` floor (default: the one "
                    "in keytrap's '#!' line)")
    ap.add_argument("--gitleaks")
    ap.add_argument("--betterleaks")
    ap.add_argument("--kingfisher")
    ap.add_argument("--detect-secrets-hook", dest="detect_secrets_hook")
    B.add_run_args(ap, timeout=120, before_help=(
        "also time this keytrap command line's hook (space-separated, e.g. "
        "'env PYTHONPATH=/old/src python -m keytrap'): before/after in one run"))
    args = ap.parse_args(argv)
    global KEYTRAP_BEFORE
    KEYTRAP_BEFORE = args.keytrap_before

    repo = os.path.abspath(args.repo)
    top = B.git_out(["rev-parse", "--show-toplevel"], repo) if os.path.isdir(repo) else None
    if not top:
        ap.error(f"not a git repository: {repo}")
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")
    files = [] if args.staged_files else (args.files or staged_files(repo))
    if not files and not args.staged_files:
        ap.error(f"nothing staged in {repo} (and no --files given)")

    netns_ok = args.netns != "none" and B.have_unshare_net()
    peer_ns = netns_ok
    kt_ns = netns_ok and args.netns == "all"
    probe_prefix = B.netns_prefix(peer_ns)

    tools = {"keytrap": B.locate_keytrap(args.keytrap)}
    for name in ("gitleaks", "betterleaks", "kingfisher", "detect-secrets-hook"):
        tools[name] = B.locate_peer(name, getattr(args, name.replace("-", "_")),
                                    args.peer_venv, probe_prefix)
    py = args.python or (tools["keytrap"].path and B.interpreter_of(tools["keytrap"].path))

    tmp = tempfile.mkdtemp(prefix="keytrap-bench-hook-")
    raw: dict = {"tools": {k: vars(v) for k, v in tools.items()}, "runs": []}
    status = 0
    if args.staged_files:
        print("# keytrap pre-commit benchmark at several staged-change sizes\n")
        print(f"- machine: {B.machine_line()}; load average at start {B.loadavg()}")
        print(f"- source repo: {top} HEAD {B.git_out(['rev-parse', 'HEAD'], repo)}; each size "
              "is a fresh clone of its HEAD with N staged files (half modified tracked files, "
              "the rest new files holding a tracked file's text)")
        print(f"- rounds: {args.rounds} timed per size, interleaved, order rotated each round; "
              f"{args.warmup} warm-up round(s) not counted; cwd = the copy")
        header(tools, py, peer_ns, kt_ns, netns_ok, args.netns)
        summary = []
        for n in args.staged_files:
            copy = os.path.join(tmp, f"repo-{n}")
            names = make_staged_copy(top, n, copy)
            stat = B.git_out(["diff", "--cached", "--shortstat"], copy)
            print(f"\n## {n} staged files ({stat})\n", flush=True)
            rp = lambda x, n=n: os.path.join(tmp, f"{n}.{x}")  # noqa: E731
            cases = build_cases(copy, names, tools, rp, py, peer_ns, kt_ns,
                                ("gitleaks", "betterleaks"))
            B.run_rounds(cases, args.rounds, args.warmup, tmp, args.timeout)
            med = {c.label: B.med([r.wall for r in c.runs]) for c in cases if c.runs}
            print("\n".join(B.table(cases, "command",
                                    [("× betterleaks", med.get("betterleaks git --staged"))])))
            print()
            status = max(status, check_targets(cases, names, top, abs_target=False))
            row = {"n": n, "med": med, "hook": med.get(f"keytrap hook <{n} files>")}
            if args.breakdown and py:
                row["breakdown"] = breakdown(py, copy, names, args.rounds)
            summary.append(row)
            raw["runs"].append({"n": n, "cases": [{"label": c.label, "findings": c.findings,
                                                   "runs": [vars(r) for r in c.runs]}
                                                  for c in cases],
                                "breakdown": row.get("breakdown")})
        print(f"\n## Summary (load average at end {B.loadavg()})\n")
        print("| staged files | keytrap hook s | keytrap scan --staged s | betterleaks s | "
              "gitleaks s | hook × betterleaks | staged × betterleaks | hook ≤ 0.7× | "
              "before: hook s | before × betterleaks |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for row in summary:
            m, n = row["med"], row["n"]
            h, st = m.get(f"keytrap hook <{n} files>"), m.get("keytrap scan --staged")
            bl, gl = m.get("betterleaks git --staged"), m.get("gitleaks git --staged")
            hb = m.get(f"keytrap before: hook <{n} files>")
            ok = h is not None and bl and h / bl <= TARGET_VS_BETTERLEAKS
            print(f"| {n:,} | {B.fmt_s(h or float('nan'))} | {B.fmt_s(st or float('nan'))} | "
                  f"{B.fmt_s(bl or float('nan'))} | {B.fmt_s(gl or float('nan'))} | "
                  f"{B.fmt_ratio(h, bl)} | {B.fmt_ratio(st, bl)} | {'PASS' if ok else 'FAIL'} | "
                  f"{B.fmt_s(hb) if hb else '–'} | {B.fmt_ratio(hb, bl) if hb else '–'} |")
        if args.breakdown:
            print("\n`keytrap hook` in-process breakdown (median s; interpreter start-up is the "
                  "`python -c pass` floor above):\n")
            print("| staged files | " + " | ".join(BREAKDOWN) + " |")
            print("|---" * (1 + len(BREAKDOWN)) + "|")
            for row in summary:
                b = row.get("breakdown") or {}
                print(f"| {row['n']:,} | " + " | ".join(B.fmt_s(b.get(k, float('nan')))
                                                        for k in BREAKDOWN) + " |")
    else:
        head = B.git_out(["rev-parse", "HEAD"], repo)
        branch = B.git_out(["rev-parse", "--abbrev-ref", "HEAD"], repo)
        stat = B.git_out(["diff", "--cached", "--shortstat"], repo)
        sizes = []
        for f in files:
            try:
                sizes.append(f"{f} ({os.path.getsize(os.path.join(top, f)):,} B)")
            except OSError:
                sizes.append(f)
        before = repo_state(repo)
        rp = lambda n: os.path.join(tmp, n)  # noqa: E731
        cases = build_cases(repo, files, tools, rp, py, peer_ns, kt_ns,
                            ("gitleaks", "betterleaks", "kingfisher", "detect-secrets-hook"))

        print("# keytrap pre-commit (staged change) benchmark\n")
        print(f"- machine: {B.machine_line()}; load average at start {B.loadavg()}")
        print(f"- repo: {top} ({branch}) HEAD {head}")
        print(f"- staged change: {stat}; files: {', '.join(sizes)}")
        print(f"- rounds: {args.rounds} timed, interleaved, order rotated each round; "
              f"{args.warmup} warm-up round(s) not counted; cwd = repo")
        header(tools, py, peer_ns, kt_ns, netns_ok, args.netns)

        B.run_rounds(cases, args.rounds, args.warmup, tmp, args.timeout)
        print(f"\nLoad average at end: {B.loadavg()} (other load on the machine slows every "
              "tool; compare ratios, not absolute times, across runs)")
        after = repo_state(repo)

        med = {c.label: B.med([r.wall for r in c.runs]) for c in cases if c.runs}
        print()
        print("\n".join(B.table(cases, "command",
                                [("× betterleaks", med.get("betterleaks git --staged"))])))
        print()
        print(f"Peak RSS: {B.RSS_METHOD}; the largest single process, which can be a git "
              "child. CPU = user+sys of the tool and its children. gitleaks/betterleaks scan the staged diff; kingfisher, "
              "detect-secrets and keytrap read the whole staged files. detect-secrets exits 1 "
              "on pre-existing high-entropy strings (no baseline).")
        print()
        status = check_targets(cases, files, top, abs_target=True)
        if before != after:
            print("\nWARNING: the repository's index or status changed during the run; "
                  "results may not be comparable.")
            status = 3
        raw["runs"].append({"repo": top, "head": head, "files": files,
                            "cases": [{"label": c.label, "argv": c.argv, "findings": c.findings,
                                       "bytes_scanned": c.scanned,
                                       "runs": [vars(r) for r in c.runs]} for c in cases]})

    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(raw, fh, indent=1)
    if args.keep:
        print(f"\n(outputs kept in {tmp})")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
