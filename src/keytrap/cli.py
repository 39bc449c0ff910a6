"""Command line: parse, dispatch, and turn every failure into one line and an exit code.

Exit codes: 0 clean, 1 findings, 2 usage or fatal error (bad path, bad config, not a git
repository, corrupt objects), 3 unexpected internal error, 130 interrupted.

Only the stdlib and the engine are imported at start-up; rich and the history,
verification and reporting modules load inside the commands that use them.
"""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Sequence
    from typing import IO

from keytrap import __version__
from keytrap.errors import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    GitError,
    KeytrapError,
    UsageError,
)
from keytrap.findings import ScanResult, scrub_keyshaped, unreadable_summary
from keytrap.safetext import ascii_fallback, show

FORMATS = ("text", "json", "sarif", "github", "gitlab")

EPILOG = """\
exit codes: 0 no findings, 1 findings, 2 usage or fatal error, 3 internal error, 130 interrupted
docs: keytrap scan --help, README.md"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line + usage hint, exit 2
        # argv is echoed back: a key pasted into the wrong place is shortened like any other
        self.exit(EXIT_USAGE, show(scrub_keyshaped(f"keytrap: error: {message} (see '{self.prog} --help')")) + "\n")


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", "-f", choices=FORMATS, default="text", help="report format (default: text); gitlab: GitLab's secret-detection report")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour in text reports")
    p.add_argument("--verbose", "-v", action="store_true", help="list every skipped file")


def _add_filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="settings file (default: .keytrap.toml or [tool.keytrap] in pyproject.toml; "
                   "a range scan reads them from its base commit)")
    p.add_argument("--no-config", action="store_true", help="defaults only: no config file, no default baseline")
    p.add_argument("--min-confidence", choices=("low", "medium", "high"), help="report only findings at or above this confidence")
    p.add_argument("--max-size", type=_size, metavar="BYTES", help="files larger than this are skipped by tree scans and full audits, streamed in "
                   "windows by the hook, --staged and ranges (default 10 MiB; accepts K/M/G)")
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip paths matching GLOB (repeatable)")
    p.add_argument("--baseline", metavar="FILE", help="report only findings whose fingerprints are not in FILE "
                   "(default: .keytrap-baseline.json at the repository top, if there is one)")


SETTINGS_FROM_HELP = ("read the config and baseline as of commit REV, through git (never the working tree): a "
                      "commit reviewers trust, such as the merge-base of the default branch and the scanned tip; "
                      "0000... (the null id) for none: the defaults. Without it a range reads its base commit's "
                      "settings only when that is on the default branch (origin/HEAD, when known)")


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    mult = units.get(t[-1:], 1)
    num = t[:-1] if t[-1:] in units else t
    try:
        value = int(float(num) * mult)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"not a size: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive: {text!r}")
    return value


def _seconds(limit: float, what: str) -> Callable[[str], float]:
    """An argparse type: a number of seconds in (0, ``limit``] (nan and inf refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        if not 0 < value <= limit:
            raise argparse.ArgumentTypeError(f"{what} must be between 0 and {limit:g} seconds: {text!r}")
        return value

    return parse


_timeout = _seconds(60, "timeout")
_deadline = _seconds(3600, "deadline")


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of worker processes: {text!r}") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"--jobs must be between 1 and 256: {text!r}")
    return value


VERIFY_HELP = """\
Each API key found with its HMAC secret or its Ed25519/RSA private key gets one signed,
read-only GET, first to the network its context names (testnet=True, a testnet URL, ...;
mainnet otherwise), then to the others only if that one says the key does not exist:
  mainnet          GET /sapi/v1/account/apiRestrictions
  spot testnet     GET /api/v3/account?omitZeroBalances=true  (testnet.binance.vision)
  futures testnet  GET /fapi/v3/account                       (testnet.binancefuture.com)
  demo trading     GET /api/v3/account?omitZeroBalances=true  (demo-api.binance.com)
Sent: the X-MBX-APIKEY header, timestamp, recvWindow and the signature. Never sent: the
secret or the private key. URLs come from flags or environment variables only (https, or
http to loopback); once any URL is given, only the networks given one are asked. Ed25519/RSA signing needs: pip install 'keytrap[verify]'.
Severity: critical = live on mainnet with withdrawals on or no IP restriction; high = live
on mainnet otherwise; low = live on testnet/demo (no real funds: rotate it anyway);
info = revoked."""


def _columns() -> int:
    """``shutil.get_terminal_size().columns`` without importing shutil (and, through it, zlib,
    bz2 and lzma: ~1 ms of every commit), for the hook's help formatter."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _HookFormatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


class _HookTopFormatter(argparse.RawDescriptionHelpFormatter, _HookFormatter):
    pass


def _add_hook(sub, formatter=argparse.HelpFormatter) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
    hook = sub.add_parser(
        "hook", formatter_class=formatter, help="pre-commit entry point: scan what is staged (the index)",
        description="Scan what is staged: with no FILE (as the pre-commit framework runs it), "
                    "everything staged; with FILEs, their index content. Options are parsed as "
                    "usual; put `--` before file names that start with '-'.",
    )
    hook.add_argument("files", nargs="*", metavar="FILE", help="staged files to check (default: everything staged)")
    hook.add_argument("--pre-push", action="store_true", help="scan the commits about to be pushed")
    hook.add_argument("--settings-from", metavar="REV", help=SETTINGS_FROM_HELP)
    hook.add_argument("--verify", action="store_true", help="also verify found pairs (off by default)")
    hook.add_argument("--binance-url", metavar="URL", help=argparse.SUPPRESS)
    _add_filter_options(hook)
    hook.set_defaults(func=cmd_hook)
    return hook


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line. ``only="hook"``: the top level and the hook's subcommand alone (what
    every commit runs: the other subcommands' ~80 arguments cost ~4 ms to build)."""
    parser = _Parser(
        prog="keytrap",
        description="Find Binance API keys, secret keys and private keys before they leak.",
        epilog=EPILOG,
        formatter_class=_HookTopFormatter if only == "hook" else argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"keytrap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    if only == "hook":
        parser.hook_parser = _add_hook(sub, _HookFormatter)  # type: ignore[attr-defined]
        return parser

    scan = sub.add_parser("scan", help="scan files, folders, the staged index or git history", epilog=EPILOG,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    scan.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: .); - reads standard input")
    scan.add_argument("--stdin-name", metavar="NAME", help="with -: the name to report (and read path hints from) instead of -")
    mode = scan.add_argument_group("what to scan")
    mode.add_argument("--staged", action="store_true", help="scan what is staged in the index (run inside the repo)")
    mode.add_argument("--history", action="store_true", help="also scan every blob in the git history of all refs")
    mode.add_argument("--range", dest="rev_range", metavar="BASE..HEAD", help="scan only blobs introduced by commits in a range")
    mode.add_argument("--since-commit", metavar="REV", help="scan blobs introduced after REV (same as --range REV..HEAD)")
    mode.add_argument("--branch", metavar="REF", help="scan history reachable from REF only")
    mode.add_argument("--no-worktree", action="store_true", help="with --history: skip the working tree")
    mode.add_argument("--settings-from", metavar="REV", help=SETTINGS_FROM_HELP)
    mode.add_argument("--jobs", "-j", type=_jobs, metavar="N",
                      help="history scans: worker processes (default: the available cores)")
    mode.add_argument("--include-deps", action="store_true",
                      help="also walk virtualenvs, node_modules and tool caches (.tox, .mypy_cache, .pytest_cache), skipped by default")
    _add_filter_options(scan)
    _add_output_options(scan)
    ver = scan.add_argument_group("verification (opt-in, talks to Binance)", VERIFY_HELP)
    ver.add_argument("--verify", action="store_true", help="check found key pairs against Binance (one signed read-only GET per pair per network)")
    ver.add_argument("--only-verified", action="store_true", help="with --verify: report only the keys Binance confirmed live")
    ver.add_argument("--binance-url", metavar="URL", help="mainnet base URL (default: $KEYTRAP_BINANCE_URL or https://api.binance.com)")
    ver.add_argument("--binance-testnet-url", metavar="URL", help="spot testnet base URL (default: $KEYTRAP_BINANCE_TESTNET_URL or https://testnet.binance.vision)")
    ver.add_argument("--binance-futures-testnet-url", metavar="URL", help="futures testnet base URL (default: $KEYTRAP_BINANCE_FUTURES_TESTNET_URL or https://testnet.binancefuture.com)")
    ver.add_argument("--binance-demo-url", metavar="URL", help="demo trading base URL (default: $KEYTRAP_BINANCE_DEMO_URL or https://demo-api.binance.com)")
    ver.add_argument("--verify-timeout", type=_timeout, default=5.0, metavar="S", help="seconds for one whole request: connect, headers and body (default 5, at most 60)")
    ver.add_argument("--verify-deadline", type=_deadline, default=60.0, metavar="S", help="seconds for the whole --verify phase; pairs left are 'unverified: deadline' (default 60)")
    scan.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    scan.set_defaults(func=cmd_scan)

    _add_hook(sub)

    base = sub.add_parser("baseline", help="record current findings so that only new ones fail")
    base.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: .)")
    base.add_argument("--history", action="store_true", help="include findings from git history")
    base.add_argument("--include-deps", action="store_true", help="also walk virtualenvs, node_modules and tool caches")
    base.add_argument("--output", "-o", metavar="FILE", default=None, help="baseline file (default: .keytrap-baseline.json in the scanned folder)")
    _add_filter_options(base)
    base.set_defaults(func=cmd_baseline)

    inst = sub.add_parser("install", help="install keytrap as a native git pre-commit (and pre-push) hook")
    inst.add_argument("--pre-push", action="store_true", help="also install a pre-push hook")
    inst.add_argument("--force", action="store_true", help="chain an existing hook instead of refusing")
    inst.add_argument("--repo", default=".", help="repository (default: .)")
    inst.set_defaults(func=cmd_install)

    uninst = sub.add_parser("uninstall", help="remove the native git hooks keytrap installed")
    uninst.add_argument("--repo", default=".", help="repository (default: .)")
    uninst.set_defaults(func=cmd_uninstall)

    aud = sub.add_parser("audit", help="audit the full history of many repositories (folders, URLs, an org)",
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    aud.add_argument("targets", nargs="*", metavar="TARGET",
                     help="a repository, a folder of repositories, or a git URL (https://, ssh://, git://, file://)")
    src = aud.add_argument_group("where the repositories come from")
    src.add_argument("--repos", metavar="FILE", help="one TARGET a line ('#' starts a comment)")
    src.add_argument("--github-org", metavar="ORG", help="every repository of a GitHub organisation (token: $GITHUB_TOKEN)")
    src.add_argument("--gitlab-group", metavar="GROUP", help="every project of a GitLab group (token: $GITLAB_TOKEN)")
    src.add_argument("--github-api-url", metavar="URL", help="GitHub Enterprise API (default https://api.github.com)")
    src.add_argument("--gitlab-api-url", metavar="URL", help="self-hosted GitLab API (default https://gitlab.com/api/v4)")
    src.add_argument("--skip-forks", action="store_true", help="leave out forks listed by --github-org/--gitlab-group")
    src.add_argument("--skip-archived", action="store_true", help="leave out archived repositories")
    run = aud.add_argument_group("how it runs")
    run.add_argument("--cache", metavar="DIR", help="mirrors and scan state (default $KEYTRAP_CACHE or $XDG_CACHE_HOME/keytrap)")
    run.add_argument("--jobs", "-j", type=int, metavar="N", help="repositories at once (default: the available cores)")
    run.add_argument("--dask", metavar="ADDRESS", help="run on a Dask cluster (scheduler address, or 'local'); needs keytrap[dask]")
    _add_filter_options(aud)
    aud.add_argument("--format", "-f", choices=("text", "json", "sarif", "html"), default="text", help="report format (default: text)")
    aud.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    aud.add_argument("--verify", action="store_true", help="check each distinct key pair against Binance (one read-only request per pair)")
    aud.add_argument("--binance-url", metavar="URL", help="API base URL for --verify")
    aud.add_argument("--verify-timeout", type=_timeout, default=5.0, metavar="S", help="seconds per verification request")
    aud.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    aud.set_defaults(func=cmd_audit)

    doc = sub.add_parser("doctor", help="check repository hygiene: hooks, ignored .env files, config, baseline")
    doc.add_argument("path", nargs="?", default=".", help="repository (default: .)")
    doc.add_argument("--baseline", metavar="FILE", help="baseline file to check (default: .keytrap-baseline.json)")
    doc.set_defaults(func=cmd_doctor)
    return parser


# --- helpers ---------------------------------------------------------------------------------


def _load_config(args: argparse.Namespace, root: str, *, at_top: bool = False, default_baseline: bool = True):
    """Settings for a scan of ``root`` with the command line's overrides (see api.load_config);
    with ``--settings-from REV``, as of that commit of the repository holding ``root``."""
    from keytrap import api

    settings_from = getattr(args, "settings_from", None)
    if settings_from is not None:
        return api.load_config_from(root if os.path.isdir(root) else os.path.dirname(root) or os.curdir,
                                    settings_from, options=api.ConfigOptions.from_args(args))
    return api.load_config(root, at_top=at_top, default_baseline=default_baseline,
                           **api.ConfigOptions.from_args(args)._asdict())


def _say(lines: list[str]) -> None:
    """The ``keytrap: config: …`` and ``keytrap: warning: …`` lines, on stderr, once a scan has
    run (an error stays the one line it is)."""
    for line in lines:  # they quote paths and config values: redacted, then escaped
        print(show(scrub_keyshaped(f"keytrap: {line}")), file=sys.stderr)


def _render(result: ScanResult, args: argparse.Namespace, out: IO[str]) -> None:
    fmt = args.format
    if fmt == "text":
        from keytrap.reporters import text

        color = {"always": True, "never": False}.get(args.color)
        if color is None and (os.environ.get("NO_COLOR") or not out.isatty()):
            color = False
        text.render(result, out, color=color, verbose=args.verbose)
        return
    if fmt == "gitlab":
        import re

        from keytrap.reporters import gitlab

        head = os.environ.get("CI_COMMIT_SHA", "")  # the commit a GitLab pipeline tests
        out.write(gitlab.render(result, head=head if re.fullmatch(r"[0-9a-f]{7,64}", head) else None))
        return
    if fmt == "json":
        from keytrap.reporters import json_ as mod
    elif fmt == "sarif":
        from keytrap.reporters import sarif as mod  # type: ignore[no-redef]
    else:
        from keytrap.reporters import github as mod  # type: ignore[no-redef]
    out.write(mod.render(result))


def _emit(result: ScanResult, args: argparse.Namespace) -> None:
    from pathlib import Path

    if args.output == "":
        raise UsageError("--output needs a file name")
    if args.output:
        import io

        from keytrap.baseline import write_atomic

        buf = io.StringIO()
        _render(result, args, buf)
        write_atomic(Path(args.output), buf.getvalue())
        # the report is in a file: the log still says what happened, in one line
        print(show(scrub_keyshaped(output_summary(result, args.format, args.output))), file=sys.stderr)
        return
    try:
        _render(result, args, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (`| head`): the exit code still tells findings from clean
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass


def output_summary(result: ScanResult, fmt: str, path: str) -> str:
    """The one line on stderr when the report goes to a file: counts, where, and what was read."""
    from keytrap.reporters.text import summary_line

    findings = result.findings
    n = len(findings)
    if n:
        counts = [f"{sum(f.confidence == c for f in findings)} {c}" for c in ("high", "medium", "low")]
        head = f"{n} Binance secret{'s' if n != 1 else ''} found ({', '.join(counts)} confidence)"
    else:
        head = "no Binance secrets found"
    return f"keytrap: {head}; {fmt} report written to {path}. {summary_line(result)}"


def _progress(args: argparse.Namespace):  # -> context manager yielding a callback or None
    import contextlib

    if getattr(args, "no_progress", False) or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    return _RichProgress()


class _RichProgress:
    """A transient progress bar on stderr (only when stderr is a terminal)."""

    def __enter__(self):  # -> Callable[[int, int], None]
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._p = Progress(
            TextColumn("[bold]keytrap[/bold] scanning"), BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), transient=True, console=Console(stderr=True),
        )
        self._p.start()
        self._task = self._p.add_task("scan", total=None)

        def update(done: int, total: int) -> None:
            self._p.update(self._task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        self._p.stop()


# --- commands --------------------------------------------------------------------------------


def _scan_result(args: argparse.Namespace, log: list[str], *, default_baseline: bool = True) -> ScanResult:
    """Run the scan the options ask for; ``log`` collects the lines for stderr."""
    from keytrap import api

    paths = list(args.paths) or [os.curdir]
    rev_range = getattr(args, "rev_range", None)
    since_commit = getattr(args, "since_commit", None)
    branch = getattr(args, "branch", None)
    history = bool(args.history or rev_range or since_commit or branch)
    settings_from = getattr(args, "settings_from", None)
    if getattr(args, "staged", False):
        if history:
            raise UsageError("--staged cannot be combined with --history/--range/--since-commit/--branch")
        if args.paths:
            raise UsageError("--staged scans the index of the current repository; give no PATH")
        from keytrap.sources.staged import repo_top

        top = repo_top(os.curdir)
        conf = _load_config(args, top, at_top=True, default_baseline=default_baseline)
        log.append(f"config: {conf.describe()}")
        return api.scan_staged(top, conf)
    if "-" in paths:
        return _scan_stdin(args, paths, history, log)
    if getattr(args, "stdin_name", None):
        raise UsageError("--stdin-name goes with - (standard input) as PATH")
    from keytrap.sources.files import default_root

    for p in paths:
        if not os.path.lexists(p):
            raise UsageError(f"path not found: {p}")
    if history:
        if len(paths) != 1 or not os.path.isdir(paths[0]):
            raise UsageError("--history/--range take one repository folder as PATH")
        conf = None
        if not (rev_range or since_commit or settings_from):  # a range reads its settings through git
            conf = _load_config(args, paths[0], default_baseline=default_baseline)
            log.append(f"config: {conf.describe()}")
        with _progress(args) as progress:
            return api.scan_history(
                paths[0], conf, rev_range=rev_range, since_commit=since_commit, branch=branch,
                include_worktree=not getattr(args, "no_worktree", False), progress=progress,
                options=api.ConfigOptions.from_args(args), log=log.append, settings_from=settings_from,
                jobs=getattr(args, "jobs", None),
            )
    conf = _load_config(args, default_root(paths), default_baseline=default_baseline)
    log.append(f"config: {conf.describe()}")
    with _progress(args) as progress:
        return api.scan_paths(paths, conf, progress=progress, include_deps=getattr(args, "include_deps", False))


def _scan_stdin(args: argparse.Namespace, paths: list[str], history: bool, log: list[str]) -> ScanResult:
    """``keytrap scan -``: the bytes on standard input, as one file named ``--stdin-name``."""
    from keytrap import api

    if len(paths) != 1 or history:
        raise UsageError("- (standard input) is scanned alone: no other PATH, no --history/--range")
    name = args.stdin_name or "-"
    conf = _load_config(args, os.curdir)
    log.append(f"config: {conf.describe()}")
    if sys.stdin is None:  # fd 0 closed (`<&-`): nothing was read, so nothing may pass as clean
        raise UsageError("standard input is closed: nothing to scan (pipe the content into `keytrap scan -`)")
    try:
        data = sys.stdin.buffer.read(conf.max_file_size + 1)
    except OSError as exc:
        raise UsageError(f"cannot read standard input: {exc.strerror or exc}") from None
    return api.scan_data(data, name, conf)


def _verify(result: ScanResult, args: argparse.Namespace) -> dict | None:
    """Opt-in only: without --verify nothing is imported and nothing is sent."""
    if not getattr(args, "verify", False):
        return None
    from keytrap import api

    return api.verify(
        result,
        base_url=getattr(args, "binance_url", None),
        testnet_url=getattr(args, "binance_testnet_url", None),
        futures_testnet_url=getattr(args, "binance_futures_testnet_url", None),
        demo_url=getattr(args, "binance_demo_url", None),
        timeout=getattr(args, "verify_timeout", None),
        deadline=getattr(args, "verify_deadline", None),
    )


def cmd_scan(args: argparse.Namespace) -> int:
    from keytrap import api

    if args.only_verified and not args.verify:
        raise UsageError("--only-verified needs --verify")
    log: list[str] = []
    result = _scan_result(args, log).printable()  # a non-UTF-8 file name must not break a report
    result = api.assess(result, _verify(result, args))
    if args.only_verified:
        from keytrap.verify import only_live

        result = only_live(result)
    _emit(result, args)
    if args.format == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        _append_step_summary(result, os.environ["GITHUB_STEP_SUMMARY"])
    unreadable = result.stats.unreadable
    if unreadable and result.mode != "range":
        # a full audit goes on past an object it cannot read (one must not hide the rest of
        # history); it says so, and lists each one as skipped
        log.append(f"warning: {unreadable_summary(result.stats)}; each is listed as skipped")
    _say(log)  # after the report: an output error stays the one line it is
    if unreadable and result.mode == "range":
        # commits under review (CI): fail closed, after the report (which lists them)
        raise GitError(f"{unreadable_summary(result.stats)}: the range was not fully scanned")
    return EXIT_FINDINGS if result.findings else EXIT_CLEAN


def _append_step_summary(result: ScanResult, path: str) -> None:
    """GitHub's job summary: appended to (other steps write there too), never fatal."""
    from keytrap.reporters import github

    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(github.step_summary(result))
    except OSError as exc:
        print(f"keytrap: warning: cannot write the step summary: {exc.strerror or exc}", file=sys.stderr)


def cmd_hook(args: argparse.Namespace) -> int:
    from keytrap import hook
    from keytrap.sources.staged import repo_top

    top = repo_top(os.curdir)
    # a push applies the settings of each range's base commit: hook.run reads them
    config = None if args.pre_push or hook.push_context() else _load_config(args, top, at_top=True)
    return hook.run(args, top, config)


def cmd_baseline(args: argparse.Namespace) -> int:
    from pathlib import Path

    from keytrap import baseline

    args.rev_range = args.since_commit = args.branch = None
    args.staged = False
    args.no_progress = True
    args.baseline = None
    log: list[str] = []
    result = _scan_result(args, log, default_baseline=False)  # record every finding, old ones too
    paths = list(args.paths) or [os.curdir]
    folder = paths[0] if os.path.isdir(paths[0]) else os.curdir
    if args.output:
        target = Path(args.output)
    else:  # where scans look for it: the config's `baseline = "path"`, else the default name
        conf = _load_config(args, folder, default_baseline=False)
        named = os.path.join(conf.base or folder, conf.baseline) if conf.baseline else None
        target = Path(named) if named else Path(folder) / baseline.DEFAULT_NAME
    baseline.write_atomic(target, baseline.render(result.findings))
    _say(log)
    n = len({f.fingerprint for f in result.findings})
    print(f"keytrap: wrote {n} fingerprint{'s' if n != 1 else ''} to {show(scrub_keyshaped(str(target)))}", file=sys.stderr)
    return EXIT_CLEAN


def cmd_install(args: argparse.Namespace) -> int:
    from pathlib import Path

    from keytrap import install

    return install.install(Path(args.repo), pre_push=args.pre_push, force=args.force)


def cmd_uninstall(args: argparse.Namespace) -> int:
    from pathlib import Path

    from keytrap import install

    return install.uninstall(Path(args.repo))


def cmd_audit(args: argparse.Namespace) -> int:
    from keytrap import api
    from keytrap.reporters import audit_text

    if args.output == "":
        raise UsageError("--output needs a file name")
    progress = None
    if not args.no_progress and (args.format == "text" or sys.stderr.isatty()):
        def progress(p) -> None:  # type: ignore[no-untyped-def]
            print(audit_text.progress_line(p.done, p.total, p.report.target, p.report.status,
                                           p.blobs_scanned, p.blobs_per_s, p.report.error),
                  file=sys.stderr, flush=True)

    result = api.audit(
        args.targets, _load_config(args, os.curdir, at_top=True), repos_file=args.repos,
        github_org=args.github_org, gitlab_group=args.gitlab_group, github_api_url=args.github_api_url,
        gitlab_api_url=args.gitlab_api_url, skip_forks=args.skip_forks, skip_archived=args.skip_archived,
        cache=args.cache, jobs=args.jobs, dask=args.dask, verify=args.verify,
        binance_url=args.binance_url, verify_timeout=args.verify_timeout, progress=progress,
    )
    if args.format == "text":
        import io

        buf = io.StringIO()
        audit_text.render(result, buf)
        text = buf.getvalue()
    elif args.format == "json":
        from keytrap.reporters import audit_json

        text = audit_json.render(result)
    elif args.format == "sarif":
        from keytrap.reporters import audit_sarif

        text = audit_sarif.render(result)
    else:
        from keytrap.reporters import audit_html

        text = audit_html.render(result)
    if args.output:
        from pathlib import Path

        from keytrap.baseline import write_atomic

        write_atomic(Path(args.output), text)
    else:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            try:
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            except OSError:
                pass
    if result.secrets:
        return EXIT_FINDINGS
    return EXIT_USAGE if result.stats.repos_failed else EXIT_CLEAN


def cmd_doctor(args: argparse.Namespace) -> int:
    from pathlib import Path

    from keytrap import doctor

    checks = doctor.run_doctor(Path(args.path), baseline=Path(args.baseline) if args.baseline else None)
    sys.stdout.write(doctor.render_doctor(checks))
    return doctor.exit_code(checks)


# --- entry point -----------------------------------------------------------------------------


def _guard_std_streams() -> None:
    """Started with stdin, stdout or stderr closed (``keytrap scan . >&-``): put ``/dev/null``
    on the closed descriptor, so no file keytrap opens later takes its number (a git child's
    warnings would land in a report being written), and give Python a stream to write to. A
    closed stdout discards the report, as a reader that went away does; the exit code still
    tells findings from clean."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                got = os.open(os.devnull, os.O_RDWR)
                if got != fd:
                    os.dup2(got, fd)
                    os.close(got)
            except OSError:
                pass
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            try:
                setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
            except OSError:
                pass


def main(argv: Sequence[str] | None = None) -> int:
    _guard_std_streams()
    ascii_fallback(sys.stdout)  # a latin-1 or ASCII terminal gets "..." for "…", never a crash
    ascii_fallback(sys.stderr)
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser("hook" if argv[:1] == ["hook"] else None)
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(args.func(args))
    except KeytrapError as exc:
        print(show(scrub_keyshaped(f"keytrap: error: {exc}")), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("keytrap: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        print("keytrap: error: output closed before the report was written", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into one line
        if os.environ.get("KEYTRAP_DEBUG"):
            raise
        detail = show(scrub_keyshaped(f"{type(exc).__name__}: {exc}"))[:300]
        print(f"keytrap: internal error: {detail} (set KEYTRAP_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_UNEXPECTED
