"""The human report (rich): grouped by file, redacted, with what to do now.

rich is imported here only, so commands that print nothing never pay for it.
"""

from __future__ import annotations

from collections import Counter
from typing import IO

from keytrap.findings import Finding, ScanResult, scrub_keyshaped
from keytrap.safetext import guard_lines, show

_STATUS_NOTE = {
    "tracked": "tracked by git: committed or about to be",
    "untracked": "untracked and not ignored: one `git add .` away from a leak",
    "ignored": "ignored by git: not committed, but in plain text on disk",
}
_CONF_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}
_SEV_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
#: Networks worth saying in a report (mainnet is the default and goes unsaid).
_SHOWN_NETWORKS = {"testnet": "testnet key", "demo": "demo-trading key"}
_VERIFIED_ON = {"testnet": "the spot testnet", "futures-testnet": "the futures testnet", "demo": "demo trading"}
#: "What to do now" lists at most this many keys, most severe first.
TODO_LIMIT = 15
_KIND_LABEL = {"api_key": "API key", "secret_key": "secret key", "private_key": "private key"}


#: What the two columns mean; printed under every report with findings.
LEGEND = (
    "confidence: how sure keytrap is that this is a Binance key (high: named or paired and in "
    "Binance context; medium: one of the two; low: a bare key-shaped token).\n"
    "severity: how urgent it is (critical: live with withdrawals on and no IP restriction; "
    "high: committed to git, or confirmed live; medium: only on disk, not committed; "
    "low: rejected by Binance). Verification (--verify) refines it."
)


def _human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_line(result: ScanResult) -> str:
    s = result.stats
    what = _n(s.files_scanned, "file")
    if result.mode in ("history", "range"):
        # a bare repository, a range or --no-worktree read no working tree: say nothing of one
        what = f"{_n(s.blobs_scanned, 'blob')} in {_n(s.commits, 'commit')}" + (
            f" and {_n(s.files_scanned, 'working-tree file')}" if s.files_scanned else ""
        )
    line = f"Scanned {what} ({_human_bytes(s.bytes_scanned)}) in {s.duration_s:.2f} s"
    if s.skipped:
        reasons = Counter(show(sk.reason.split(" (")[0].split(":")[0]) for sk in s.skipped)
        detail = ", ".join(f"{n} {r}" for r, n in reasons.most_common())
        line += f"; skipped {len(s.skipped)} ({detail})"
    return line + "."


def _where(f: Finding) -> str:
    """Where a secret lives: the commit that introduced it and whether HEAD still has it."""
    if not f.commit:
        return ""
    bits = [f"{f.commit[:10]}"]
    date = f.get("commit_date")
    if isinstance(date, str):
        bits[0] += f" ({date[:10]})"
    at_head = f.get("at_head")
    if at_head is True:
        bits.append("still at HEAD")
    elif at_head is False:
        bits.append("removed from HEAD, still in history")
    commits = f.get("commits")
    if isinstance(commits, int) and commits > 1:
        bits.append(f"in {commits} commits")
    return ", ".join(bits)


def render(result: ScanResult, out: IO[str], *, color: bool | None = None, verbose: bool = False) -> None:
    findings = result.findings
    if not findings:  # the common case stays plain: no rich import on a clean run
        # repository text (paths, reasons, notes) is redacted and escaped before it is placed
        safe = lambda text: show(scrub_keyshaped(text))  # noqa: E731
        lines = [f"No Binance secrets found. {summary_line(result)}"]
        skipped = result.stats.skipped
        if verbose:
            lines += [f"  skipped {safe(sk.path)}: {safe(sk.reason)}" for sk in skipped]
        elif skipped:  # the counts by reason are in the summary line
            lines.append("  (--verbose lists every skipped file)")
        lines += [f"note: {safe(note)}" for note in result.stats.notes]
        out.write(guard_lines(scrub_keyshaped("\n".join(lines) + "\n")))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    import io

    from keytrap.reporters._common import Scrubber, how_found

    scrub = Scrubber(findings)

    def safe(text: object) -> str:
        """Repository text for rich: redacted first (a table cell may be cut short, and a cut
        secret is no longer recognised), then escaped (controls, rich markup)."""
        return escape(show(scrub(str(text))))

    width = None if out.isatty() else 140  # logs and pipes: wide enough not to wrap rows
    final, out = out, io.StringIO()  # scrubbed again at the end: the second line of defence
    console = Console(
        file=out, force_terminal=color, no_color=color is False, highlight=False, soft_wrap=True, width=width,
        emoji=False,  # ":warning:" in a file name stays text
    )
    pairs = {f.pair for f in findings if f.pair}
    files = sorted({f.path for f in findings})
    console.print(
        f"[bold red]keytrap found {len(findings)} Binance secret"
        f"{'s' if len(findings) != 1 else ''}[/bold red] in {len(files)} "
        f"{'file' if len(files) == 1 else 'files'}"
        + (f" ({len(pairs)} credential pair{'s' if len(pairs) != 1 else ''})" if pairs else "")
    )
    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.path, []).append(f)
    for path in files:
        group = by_file[path]
        status = group[0].git_status
        header = f"\n[bold]{safe(path)}[/bold]"
        if status:
            style = "red" if status != "ignored" else "yellow"
            header += f"  [{style}]({_STATUS_NOTE.get(status, status)})[/{style}]"
        console.print(header)
        table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="dim")
        for title in ("  line", "kind", "confidence", "secret", "severity", "details"):
            table.add_column(title)
        for f in group:
            conf = f"[{_CONF_STYLE[f.confidence]}]{f.confidence}[/]"
            bits = []
            if f.name:
                bits.append(f"as {show(scrub(f.name))}")
            if f.encoding:
                bits.append(escape(how_found(f)))
            if f.pair:
                bits.append(f"pair {f.pair[:6]}")
            network = f.get("network")
            if network in _SHOWN_NETWORKS:
                bits.append(_SHOWN_NETWORKS[str(network)])
            if f.get("location") == "working tree only":
                bits.append("working tree only, not in history")
            severity = f.get("severity")
            table.add_row(
                f"  {f.line}:{f.column}",
                _KIND_LABEL.get(f.kind, f.kind),
                conf,
                safe(f.secret_redacted),
                f"[{_SEV_STYLE.get(str(severity), '')}]{safe(severity)}[/]" if severity else "",
                escape(", ".join(bits)),
            )
        console.print(table)
        seen: set[str] = set()
        for f in group:
            where = _where(f)
            if where:
                subject = f.get("commit_subject")
                author = f.get("commit_author")
                line = f"introduced in {where}"
                if subject:
                    line += f': "{subject}"'
                if author:
                    line += f" by {author}"
                if line not in seen:
                    seen.add(line)
                    console.print(f"    [dim]{safe(line)}[/dim]")
            value = f.get("verification")
            if value and f"binance:{value}" not in seen:
                seen.add(f"binance:{value}")
                console.print(f"    binance says: {safe(value)}")
        for f in group:
            actions = f.get("actions")
            for act in actions if isinstance(actions, (list, tuple)) else ():
                if act not in seen:
                    seen.add(act)
                    console.print(f"    [cyan]→[/cyan] {safe(act)}")
    from keytrap.remediation import CHECKLIST, DELETE_NOW

    console.print(f"\n[dim]{escape(LEGEND)}[/dim]")
    console.print("\n[bold]What to do now[/bold]")
    todo = todo_items(findings)
    for i, (severity, line) in enumerate(todo[:TODO_LIMIT], 1):
        label = f"[{_SEV_STYLE[severity]}]{severity:<8}[/]" if severity in _SEV_STYLE else f"{severity:<8}"
        console.print(f"  {i}. {label} {safe(line)}")  # names a path: redacted and escaped
    if len(todo) > TODO_LIMIT:
        console.print(f"  … and {len(todo) - TODO_LIMIT} more (listed above)")
    console.print("  For every key:" if todo else "")
    for item in (DELETE_NOW + ".", *CHECKLIST):
        console.print(f"  - {escape(item)}")
    console.print(
        "\n[dim]Not a secret? Add a `keytrap: allow` comment on its line, or record it with "
        "`keytrap baseline`.[/dim]"
    )
    console.print(safe(summary_line(result)))
    _print_skipped(console, result, verbose, safe)
    for note in result.stats.notes:
        console.print(f"[dim]note: {safe(note)}[/dim]")
    final.write(guard_lines(scrub(out.getvalue())))


def todo_items(findings: tuple[Finding, ...] | list[Finding]) -> list[tuple[str, str]]:
    """One ``(severity, line)`` per credential (both halves of a pair count once), most severe
    first. Says which keys Binance confirmed live, and where."""
    from keytrap.remediation import SEVERITY_RANK

    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.pair or f.fingerprint, []).append(f)
    items: list[tuple[int, str, int, str, str]] = []
    for members in groups.values():
        lead = max(members, key=lambda m: (SEVERITY_RANK.get(str(m.get("severity")), -1), m.kind == "api_key"))
        severity = str(lead.get("severity") or "")
        rank = SEVERITY_RANK.get(severity, -1)
        kinds = " + ".join(dict.fromkeys(_KIND_LABEL.get(m.kind, m.kind) for m in members))
        first = min(members, key=lambda m: (m.path, m.line))
        what = f"{kinds} {first.secret_redacted} ({first.path}:{first.line})"
        actions = lead.get("actions")
        action = str(actions[0]) if isinstance(actions, (list, tuple)) and actions else ""
        status = lead.get("verification_status")
        said = str(lead.get("verification") or "").split(": ", 1)[-1]
        if status == "live" and lead.get("network") in _SHOWN_NETWORKS:
            where = _VERIFIED_ON.get(str(lead.get("verified_on")), "a Binance test network")
            line = f"{what}: Binance confirmed it LIVE on {where} (no real funds): delete it there anyway"
        elif status == "live":
            line = f"{what}: Binance confirmed it LIVE on mainnet ({said}): delete it in Binance API Management now"
        elif status == "revoked":
            line = f"{what}: revoked ({said}): it no longer works; remove it from the files"
        else:
            line = f"{what}: {action}"
        items.append((-rank, first.path, first.line, severity or "-", line.rstrip(". ") + "."))
    items.sort()
    return [(sev, line) for _r, _p, _l, sev, line in items]


def _print_skipped(console: object, result: ScanResult, verbose: bool, safe: object) -> None:
    skipped = result.stats.skipped
    if not skipped:
        return
    if not verbose:  # the counts by reason are in the summary line
        console.print("[dim]  (--verbose lists every skipped file)[/dim]")  # type: ignore[attr-defined]
        return
    for sk in skipped:
        console.print(f"[dim]  skipped {safe(sk.path)}: {safe(sk.reason)}[/dim]")  # type: ignore[attr-defined,operator]
