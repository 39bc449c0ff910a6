"""``keytrap hook``: the pre-commit / pre-push entry point.

Kept to the stdlib and the engine: a clean commit imports neither rich nor the history code. The
pre-commit framework runs it with no file names (``pass_filenames: false``): everything staged
is checked in its *index* version (what will be committed), whatever the working tree holds.
No file name from the repository ever reaches the command line, so none can be read as an
option (a file named ``--no-config`` would otherwise cancel the user's ``args: [--no-config]``).

The hook fails closed: what it cannot read (a corrupt or missing object, a broken config) refuses
the commit or push with one line that names the way to bypass it once (``SKIP=keytrap`` under
the pre-commit framework, ``KEYTRAP_SKIP=1`` or ``--no-verify`` for the native hooks). A push is
checked against the remote it goes to (git gives the hook its name), with the settings of the
commits that remote already has.
"""

from __future__ import annotations

import argparse
import os
import sys

from keytrap.config import Config
from keytrap.errors import EXIT_CLEAN, EXIT_FINDINGS, GitError, KeytrapError, UsageError
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
        network = f.get("network")
        if network in ("testnet", "demo"):
            enc += f", {network} key"
        out.write(
            f"  {where}: {f.kind.replace('_', ' ')} {f.secret_redacted}{name} "
            f"[{f.confidence} confidence{enc}]\n"
        )
        verification = f.get("verification")
        if verification:
            out.write(f"    binance says: {show(scrub(str(verification)))}\n")
    if what == "push":
        from keytrap.remediation import rewrite_steps

        oldest = next((f.commit for f in result.findings if f.commit), None)
        last, earlier = rewrite_steps(oldest)
        out.write(
            "\nThe push was refused. The key is in a commit: deleting it from the file now leaves it "
            f"in history. Take it out of the commits first:\n  - {last};\n  - {earlier}.\n"
            "Then load the key from the environment or a secret manager, and push again.\n"
            "If it was ever pushed or shared:\n"
        )
    else:
        out.write(
            f"\nThe {what} was refused. Remove the key from the file and load it from the environment "
            "or a secret manager.\nIf it was ever pushed or shared:\n"
        )
    for item in (DELETE_NOW + ".", *CHECKLIST):
        out.write(f"  - {item}\n")
    out.write(
        "Not a secret? Add a `keytrap: allow` comment on its line, or run `keytrap baseline` and commit "
        ".keytrap-baseline.json (every keytrap command reads it).\n"
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
    if not ranges and os.environ.get("PRE_COMMIT_REMOTE_NAME"):
        # pre-commit runs pre-push hooks with neither refs nor stdin when the pushed branch
        # shares no commit with the remote (a new repository's first push): everything the
        # local branch reaches that the remote lacks is being pushed
        ranges.append(os.environ.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD")
    return ranges


def bypass(what: str) -> str:
    """How to let one commit or push through anyway, for the way the hook was started."""
    if os.environ.get("PRE_COMMIT") == "1":  # set by the pre-commit framework for its hooks
        hook_id = "keytrap-pre-push" if what == "push" else "keytrap"
        return f"to bypass it once: SKIP={hook_id} git {what} ..."
    return f"to bypass it once: KEYTRAP_SKIP=1 git {what} ..., or git {what} --no-verify"


def push_remote() -> str | None:
    """The remote a push goes to: pre-commit's ``PRE_COMMIT_REMOTE_NAME``, or the native hook's
    ``KEYTRAP_PUSH_REMOTE`` (git's first argument to a pre-push hook). None when unknown."""
    return os.environ.get("PRE_COMMIT_REMOTE_NAME") or os.environ.get("KEYTRAP_PUSH_REMOTE") or None


def push_context() -> bool:
    """Is this hook run by ``git push``? The native pre-push script exports
    ``KEYTRAP_PUSH_REMOTE`` and pre-commit sets ``PRE_COMMIT_REMOTE_NAME`` for pre-push hooks
    only. Then the hook checks the push whatever its arguments say: a file a repository names
    ``--pre-push`` is a file name, and must not turn the push check into a commit check."""
    return "KEYTRAP_PUSH_REMOTE" in os.environ or "PRE_COMMIT_REMOTE_NAME" in os.environ


def _say(lines: list[str]) -> None:
    from keytrap.safetext import show

    for line in lines:  # they quote paths and config values: redacted, then escaped
        print(show(scrub_keyshaped(f"keytrap: {line}")), file=sys.stderr)


def run(args: argparse.Namespace, top: str, config: Config | None) -> int:
    """The hook at the repository top ``top`` with ``config`` (the command line built both).
    For ``--pre-push``, ``config`` None applies the settings of each range's base commit."""
    from keytrap import api

    if args.pre_push or push_context():
        stdin_text = None if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
        lines: list[str] = []
        try:
            result = api.scan_push(
                top, _push_ranges(stdin_text), config, remote=push_remote(),
                options=api.ConfigOptions.from_args(args), log=lines.append,
                settings_from=getattr(args, "settings_from", None),
            )
        except KeytrapError as exc:
            raise type(exc)(f"push refused: {exc}; {bypass('push')}") from None
        _say(lines)
        if result.stats.unreadable:  # never let unread content through
            from keytrap.findings import unreadable_summary

            sk = result.stats.skipped[0]
            raise GitError(f"push refused: {unreadable_summary(result.stats)}, first {sk.path}; "
                           f"{bypass('push')}")
        if result.stats.skipped:
            sk = result.stats.skipped[0]
            raise GitError(f"push refused: cannot scan {sk.path}: {sk.reason}; {bypass('push')}")
        if not result.findings:
            return EXIT_CLEAN
        _report(result, "push refused", "push")
        return EXIT_FINDINGS
    if config is None:
        raise UsageError("keytrap hook needs its settings")  # pragma: no cover - cli builds them
    if args.files and os.path.realpath(os.curdir) != os.path.realpath(top):
        raise UsageError("keytrap hook expects to run at the repository top (as pre-commit does)")
    try:
        result = api.scan_staged(top, config, only=args.files or None)
    except GitError as exc:  # unreadable staged content: refuse rather than let it through
        raise GitError(f"commit refused: {exc}; {bypass('commit')}") from None
    if getattr(args, "verify", False) and result.findings:
        result = api.assess(result, api.verify(result, base_url=getattr(args, "binance_url", None)))
    if not result.findings:
        return EXIT_CLEAN
    _say([f"config: {config.describe()}"])
    _report(result, "commit refused")
    return EXIT_FINDINGS
