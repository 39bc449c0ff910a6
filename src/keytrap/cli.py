"""Command line: parse, dispatch, and turn every failure into one line and an exit code.

Exit codes: 0 clean, 1 findings, 2 usage or fatal error (bad path, bad config, not a git
repository, corrupt objects), 3 unexpected internal error, 130 interrupted.

Only the stdlib and the engine are imported at start-up; rich, GitPython and the history,
verification and reporting modules load inside the commands that use them.
"""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence
    from typing import IO

from keytrap import __version__
from keytrap.errors import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    KeytrapError,
    UsageError,
)
from keytrap.findings import ScanResult, scrub_keyshaped
from keytrap.safetext import ascii_fallback, show

FORMATS = ("text", "json", "sarif", "github")

EPILOG = """\
exit codes: 0 no findings, 1 findings, 2 usage or fatal error, 3 internal error, 130 interrupted
docs: keytrap scan --help, README.md"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line + usage hint, exit 2
        self.exit(EXIT_USAGE, f"keytrap: error: {message} (see '{self.prog} --help')\n")


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", "-f", choices=FORMATS, default="text", help="report format (default: text)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour in text reports")
    p.add_argument("--verbose", "-v", action="store_true", help="list every skipped file")


def _add_filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="settings file (default: .keytrap.toml or [tool.keytrap] in pyproject.toml)")
    p.add_argument("--min-confidence", choices=("low", "medium", "high"), help="report only findings at or above this confidence")
    p.add_argument("--max-size", type=_size, metavar="BYTES", help="skip files larger than this (default 10 MiB; accepts K/M/G)")
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip paths matching GLOB (repeatable)")
    p.add_argument("--baseline", metavar="FILE", help="report only findings whose fingerprints are not in FILE")


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


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 60:  # also rejects nan and inf
        raise argparse.ArgumentTypeError(f"timeout must be between 0 and 60 seconds: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="keytrap",
        description="Find Binance API keys, secret keys and private keys before they leak.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"keytrap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    scan = sub.add_parser("scan", help="scan files, folders, the staged index or git history", epilog=EPILOG,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    scan.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: .)")
    mode = scan.add_argument_group("what to scan")
    mode.add_argument("--staged", action="store_true", help="scan what is staged in the index (run inside the repo)")
    mode.add_argument("--history", action="store_true", help="also scan every blob in the git history of all refs")
    mode.add_argument("--range", dest="rev_range", metavar="BASE..HEAD", help="scan only blobs introduced by commits in a range")
    mode.add_argument("--since-commit", metavar="REV", help="scan blobs introduced after REV (same as --range REV..HEAD)")
    mode.add_argument("--branch", metavar="REF", help="scan history reachable from REF only")
    mode.add_argument("--no-worktree", action="store_true", help="with --history: skip the working tree")
    _add_filter_options(scan)
    _add_output_options(scan)
    ver = scan.add_argument_group("verification (opt-in, talks to Binance)")
    ver.add_argument("--verify", action="store_true", help="check found key pairs against Binance (one read-only request per pair)")
    ver.add_argument("--binance-url", metavar="URL", help="API base URL for --verify (default: $KEYTRAP_BINANCE_URL or https://api.binance.com)")
    ver.add_argument("--verify-timeout", type=_timeout, default=5.0, metavar="S", help="seconds per verification request (default 5, at most 60)")
    scan.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    scan.set_defaults(func=cmd_scan)

    hook = sub.add_parser("hook", help="pre-commit entry point: scan what is staged for the given files")
    hook.add_argument("files", nargs="*", metavar="FILE", help="staged files to check (default: all staged)")
    hook.add_argument("--pre-push", action="store_true", help="scan the commits about to be pushed")
    hook.add_argument("--verify", action="store_true", help="also verify found pairs (off by default)")
    hook.add_argument("--binance-url", metavar="URL", help=argparse.SUPPRESS)
    _add_filter_options(hook)
    hook.set_defaults(func=cmd_hook)

    base = sub.add_parser("baseline", help="record current findings so that only new ones fail")
    base.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: .)")
    base.add_argument("--history", action="store_true", help="include findings from git history")
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

    doc = sub.add_parser("doctor", help="check repository hygiene: hooks, ignored .env files, config, baseline")
    doc.add_argument("path", nargs="?", default=".", help="repository (default: .)")
    doc.add_argument("--baseline", metavar="FILE", help="baseline file to check (default: .keytrap-baseline.json)")
    doc.set_defaults(func=cmd_doctor)
    return parser


# --- helpers ---------------------------------------------------------------------------------


def _load_config(args: argparse.Namespace, root: str, *, at_top: bool = False):  # -> Config
    """Settings for a scan of ``root`` with the command line's overrides (see api.load_config)."""
    from keytrap import api

    return api.load_config(
        root,
        explicit=getattr(args, "config", None),
        at_top=at_top,
        min_confidence=getattr(args, "min_confidence", None),
        max_file_size=getattr(args, "max_size", None),
        exclude=getattr(args, "exclude", None) or (),
        baseline=getattr(args, "baseline", None),
    )


def _render(result: ScanResult, args: argparse.Namespace, out: IO[str]) -> None:
    fmt = args.format
    if fmt == "text":
        from keytrap.reporters import text

        color = {"always": True, "never": False}.get(args.color)
        if color is None and (os.environ.get("NO_COLOR") or not out.isatty()):
            color = False
        text.render(result, out, color=color, verbose=args.verbose)
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


def _scan_result(args: argparse.Namespace) -> ScanResult:
    from keytrap import api

    paths = list(args.paths) or [os.curdir]
    rev_range = getattr(args, "rev_range", None)
    since_commit = getattr(args, "since_commit", None)
    branch = getattr(args, "branch", None)
    history = bool(args.history or rev_range or since_commit or branch)
    if getattr(args, "staged", False):
        if history:
            raise UsageError("--staged cannot be combined with --history/--range/--since-commit/--branch")
        if args.paths:
            raise UsageError("--staged scans the index of the current repository; give no PATH")
        from keytrap.sources.staged import repo_top

        top = repo_top(os.curdir)
        return api.scan_staged(top, _load_config(args, top, at_top=True))
    from keytrap.sources.files import default_root

    for p in paths:
        if not os.path.lexists(p):
            raise UsageError(f"path not found: {p}")
    root = default_root(paths)
    conf = _load_config(args, root)
    if history:
        if len(paths) != 1 or not os.path.isdir(paths[0]):
            raise UsageError("--history/--range take one repository folder as PATH")
        with _progress(args) as progress:
            return api.scan_history(
                paths[0], conf, rev_range=rev_range, since_commit=since_commit, branch=branch,
                include_worktree=not getattr(args, "no_worktree", False), progress=progress,
            )
    with _progress(args) as progress:
        return api.scan_paths(paths, conf, progress=progress)


def _verify(result: ScanResult, args: argparse.Namespace) -> dict | None:
    """Opt-in only: without --verify nothing is imported and nothing is sent."""
    if not getattr(args, "verify", False):
        return None
    from keytrap import api

    return api.verify(result, base_url=getattr(args, "binance_url", None),
                      timeout=getattr(args, "verify_timeout", None))


def cmd_scan(args: argparse.Namespace) -> int:
    from keytrap import api

    result = _scan_result(args).printable()  # a non-UTF-8 file name must not break a report
    result = api.assess(result, _verify(result, args))
    _emit(result, args)
    return EXIT_FINDINGS if result.findings else EXIT_CLEAN


def cmd_hook(args: argparse.Namespace) -> int:
    from keytrap import hook
    from keytrap.sources.staged import repo_top

    top = repo_top(os.curdir)
    return hook.run(args, top, _load_config(args, top, at_top=True))


def cmd_baseline(args: argparse.Namespace) -> int:
    from pathlib import Path

    from keytrap import baseline

    args.rev_range = args.since_commit = args.branch = None
    args.staged = False
    args.no_progress = True
    args.baseline = None
    result = _scan_result(args)
    paths = list(args.paths) or [os.curdir]
    target = Path(args.output) if args.output else Path(paths[0] if os.path.isdir(paths[0]) else os.curdir) / baseline.DEFAULT_NAME
    baseline.write_atomic(target, baseline.render(result.findings))
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


def cmd_doctor(args: argparse.Namespace) -> int:
    from pathlib import Path

    from keytrap import doctor

    checks = doctor.run_doctor(Path(args.path), baseline=Path(args.baseline) if args.baseline else None)
    sys.stdout.write(doctor.render_doctor(checks))
    return doctor.exit_code(checks)


# --- entry point -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    ascii_fallback(sys.stdout)  # a latin-1 or ASCII terminal gets "..." for "…", never a crash
    ascii_fallback(sys.stderr)
    parser = build_parser()
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
