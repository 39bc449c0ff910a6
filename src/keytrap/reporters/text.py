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
_SEV_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "dim"}
_KIND_LABEL = {"api_key": "API key", "secret_key": "secret key", "private_key": "private key"}


def _human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def summary_line(result: ScanResult) -> str:
    s = result.stats
    what = f"{s.files_scanned} files"
    if result.mode in ("history", "range"):
        what = f"{s.blobs_scanned} blobs in {s.commits} commits" + (
            f" and {s.files_scanned} working-tree files" if s.files_scanned else ""
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
        lines += [f"  skipped {safe(sk.path)}: {safe(sk.reason)}" for sk in (skipped if verbose else skipped[:5])]
        if len(skipped) > 5 and not verbose:
            lines.append(f"  … and {len(skipped) - 5} more (--verbose lists all)")
        lines += [f"note: {safe(note)}" for note in result.stats.notes]
        out.write(guard_lines(scrub_keyshaped("\n".join(lines) + "\n")))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    import io

    from keytrap.reporters._common import Scrubber

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
                bits.append(f"{f.encoding}-encoded")
            if f.pair:
                bits.append(f"pair {f.pair[:6]}")
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

    console.print("\n[bold]What to do now[/bold]")
    for i, item in enumerate((DELETE_NOW + ".", *CHECKLIST), 1):
        console.print(f"  {i}. {escape(item)}")
    console.print(
        "\n[dim]Not a secret? Add a `keytrap: allow` comment on its line, or record it with "
        "`keytrap baseline`.[/dim]"
    )
    console.print(safe(summary_line(result)))
    _print_skipped(console, result, verbose, safe)
    for note in result.stats.notes:
        console.print(f"[dim]note: {safe(note)}[/dim]")
    final.write(guard_lines(scrub(out.getvalue())))


def _print_skipped(console: object, result: ScanResult, verbose: bool, safe: object) -> None:
    skipped = result.stats.skipped
    if not skipped:
        return
    shown = skipped if verbose else skipped[:5]
    for sk in shown:
        console.print(f"[dim]  skipped {safe(sk.path)}: {safe(sk.reason)}[/dim]")  # type: ignore[attr-defined,operator]
    if len(skipped) > len(shown):
        console.print(f"[dim]  … and {len(skipped) - len(shown)} more (--verbose lists all)[/dim]")  # type: ignore[attr-defined]
