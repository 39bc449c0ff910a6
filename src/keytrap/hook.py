"""``keytrap hook``: the pre-commit / pre-push entry point.

Kept to the stdlib and the engine: a clean commit imports neither rich nor GitPython. Under the
pre-commit framework the files named in argv are checked in their *index* version (what will
be committed), whatever the working tree holds.
"""

from __future__ import annotations

import argparse
import os
import sys

from keytrap.config import Config
from keytrap.errors import EXIT_CLEAN, EXIT_FINDINGS, UsageError
from keytrap.findings import ScanResult, scrub_keyshaped


def _is_zero(sha: str) -> bool:
    """The null object id (40 zeros for SHA-1 repositories, 64 for SHA-256 ones)."""
    return bool(sha) and set(sha) == {"0"}


def _report(result: ScanResult, header: str, what: str = "commit") -> None:
    """Plain, redacted, readable: what pre-commit shows when it refuses a commit."""
    from keytrap.remediation import CHECKLIST, DELETE_NOW

    import io

    from keytrap.reporters._common import Scrubber
    from keytrap.safetext import guard_lines, show

    result = result.printable()
    scrub = Scrubber(result.findings)
    out = io.StringIO()  # scrubbed again at the end: the second line of defence
    n = len(result.findings)
    out.write(f"keytrap: {header}: {n} Binance secret{'s' if n != 1 else ''} found\n")
    for f in result.findings:  # repository text is redacted, then escaped, before it is placed
        where = f"{show(scrub(f.path))}:{f.line}:{f.column}"
        if f.commit:
            where += f" (commit {show(f.commit[:10])})"
        name = f" as {show(scrub(f.name))}" if f.name else ""
        enc = f", {f.encoding}-encoded" if f.encoding else ""
        out.write(
            f"  {where}: {f.kind.replace('_', ' ')} {f.secret_redacted}{name} "
            f"[{f.confidence} confidence{enc}]\n"
        )
        verification = f.get("verification")
        if verification:
            out.write(f"    binance says: {show(scrub(str(verification)))}\n")
    out.write(
        f"\nThe {what} was refused. Remove the key from the file and load it from the environment "
        "or a secret manager.\nIf it was ever pushed or shared:\n"
    )
    for item in (DELETE_NOW + ".", *CHECKLIST):
        out.write(f"  - {item}\n")
    out.write(
        "Not a secret? Add a `keytrap: allow` comment on its line, or run `keytrap baseline`.\n"
    )
    sys.stdout.write(guard_lines(scrub(out.getvalue())))


def _push_ranges(stdin_text: str | None) -> list[str]:
    """Revision ranges to scan for a push, from pre-commit's env or git's pre-push stdin."""
    from_ref = os.environ.get("PRE_COMMIT_FROM_REF") or os.environ.get("PRE_COMMIT_SOURCE")
    to_ref = os.environ.get("PRE_COMMIT_TO_REF") or os.environ.get("PRE_COMMIT_ORIGIN")
    if from_ref and to_ref:
        return [to_ref if _is_zero(from_ref) else f"{from_ref}..{to_ref}"]
    ranges = []
    for line in (stdin_text or "").splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        _local_ref, local_sha, _remote_ref, remote_sha = parts
        if _is_zero(local_sha):
            continue  # deleting a remote branch: nothing is sent
        ranges.append(local_sha if _is_zero(remote_sha) else f"{remote_sha}..{local_sha}")
    return ranges


def run(args: argparse.Namespace, top: str, config: Config) -> int:
    """The hook at the repository top ``top`` with ``config`` (the command line built both)."""
    from keytrap import api

    if args.pre_push:
        stdin_text = None if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
        result = api.scan_push(top, _push_ranges(stdin_text), config)
        if not result.findings:
            return EXIT_CLEAN
        _report(result, "push refused", "push")
        return EXIT_FINDINGS
    if args.files and os.path.realpath(os.curdir) != os.path.realpath(top):
        raise UsageError("keytrap hook expects to run at the repository top (as pre-commit does)")
    result = api.scan_staged(top, config, only=args.files or None)
    if getattr(args, "verify", False) and result.findings:
        result = api.assess(result, api.verify(result, base_url=getattr(args, "binance_url", None)))
    for sk in result.stats.skipped:  # never silent: a file keytrap could not read is said
        if sk.reason != "binary":
            from keytrap.safetext import show

            print(show(scrub_keyshaped(f"keytrap: warning: {sk.path} not scanned: {sk.reason}")), file=sys.stderr)
    if not result.findings:
        return EXIT_CLEAN
    _report(result, "commit refused")
    return EXIT_FINDINGS
