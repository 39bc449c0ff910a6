"""GitHub Actions workflow commands: one annotation per finding, then a summary notice.

    ::error file=app/config.py,line=3,col=17,title=Binance API key leaked::Binance API key ab…yz leaked (...)

Escaping follows GitHub's actions/toolkit (``escapeData`` / ``escapeProperty``): in messages
``%`` ``\\r`` ``\\n`` become ``%25`` ``%0D`` ``%0A``; in properties ``:`` and ``,`` also become
``%3A`` and ``%2C``. High and medium confidence give ``::error``, low gives ``::warning``; with
``--verify``, a key live only on a test network is a ``::warning`` and a revoked one a
``::notice``.

GitHub shows at most 10 error and 10 warning annotations per step and drops the rest, so at
most ``MAX_PER_LEVEL`` of each are written (the most confident first); the others are listed as
plain log lines, and the closing notice gives the total. ``step_summary`` is the Markdown for
``$GITHUB_STEP_SUMMARY``: every finding in a table, redacted and escaped.
"""

from __future__ import annotations

from keytrap.findings import Finding, ScanResult
from keytrap.reporters._common import Scrubber, display_path, kind_label, level, message, ordered
from keytrap.safetext import show

#: Workflow command for each result level (see ``_common.level``).
COMMANDS: dict[str, str] = {"error": "error", "warning": "warning", "note": "notice"}
#: GitHub keeps this many annotations of each level per step, and silently drops the rest.
MAX_PER_LEVEL = 10
#: Rows in the step summary table (the summary file is limited to 1 MiB).
MAX_SUMMARY_ROWS = 500
_CONF_ORDER = {"high": 0, "medium": 1, "low": 2}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, props: dict[str, object], msg: str) -> str:
    prop_text = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items())
    sep = " " if prop_text else ""
    return f"::{name}{sep}{prop_text}::{escape_data(msg)}"


def annotation(f: Finding, scrub: Scrubber) -> str:
    props = {
        "file": show(scrub(display_path(f.path)), keep="\r\n"),  # redacted; no raw controls
        "line": max(1, f.line),
        "col": max(1, f.column),
        "title": f"Binance {kind_label(f.kind)} leaked",
    }
    return command(_command(f), props, show(scrub(message(f)), keep="\r\n"))


def _command(f: Finding) -> str:
    return COMMANDS[level(f.confidence, f.get("severity"))]


def summary(result: ScanResult, hidden: int = 0) -> str:
    findings = result.findings
    counts = {c: sum(1 for f in findings if f.confidence == c) for c in ("high", "medium", "low")}
    stats = result.stats
    where = f"{stats.files_scanned} files"
    if result.mode == "history":
        where = f"{stats.blobs_scanned} blobs in {stats.commits} commits"
    if findings:
        n = len(findings)
        text = (
            f"keytrap found {n} leaked Binance secret{'s' if n != 1 else ''} "
            f"({counts['high']} high, {counts['medium']} medium, {counts['low']} low confidence) "
            f"in {where}."
        )
    else:
        text = f"keytrap found no Binance secrets in {where}."
    if stats.skipped:
        n = len(stats.skipped)
        text += f" {n} file{'s' if n != 1 else ''} skipped."
    if hidden:
        text += (
            f" GitHub shows at most {MAX_PER_LEVEL} annotations of each level per step: "
            f"{hidden} more are listed in the log and the job summary."
        )
    return command("notice", {"title": "keytrap"}, text)


def _by_importance(findings: list[Finding]) -> list[Finding]:
    """Most confident first, then the usual path order (``ordered`` is stable input)."""
    return sorted(findings, key=lambda f: _CONF_ORDER.get(f.confidence, 3))


def render(result: ScanResult) -> str:
    """At most ``MAX_PER_LEVEL`` workflow commands per level, then the others as plain log
    lines, then the summary notice; one per line, ending in a newline; deterministic order."""
    findings = ordered(result.findings)
    scrub = Scrubber(findings)
    shown: dict[str, int] = {}
    annotated: set[int] = set()
    for i, f in sorted(enumerate(findings), key=lambda p: _CONF_ORDER.get(p[1].confidence, 3)):
        name = _command(f)
        if shown.get(name, 0) < MAX_PER_LEVEL:
            shown[name] = shown.get(name, 0) + 1
            annotated.add(i)
    lines = [annotation(f, scrub) for i, f in enumerate(findings) if i in annotated]
    rest = [f for i, f in enumerate(findings) if i not in annotated]
    for f in rest:  # plain text: a log line that does not start with "::" is not a command
        where = f"{display_path(f.path)}:{max(1, f.line)}:{max(1, f.column)}"
        lines.append("keytrap: not annotated: " + escape_data(show(scrub(f"{where}: {message(f)}"), keep="\r\n")))
    lines.append(summary(result, hidden=len(rest)))
    return "\n".join(lines) + "\n"


# --- $GITHUB_STEP_SUMMARY --------------------------------------------------------------------

_MD_SPECIAL = "\\`*_{}[]()#+-.!|<>~"


def md_cell(value: object) -> str:
    """``value`` as literal text in a Markdown table cell: one line, every Markdown and HTML
    special character escaped, so a file name cannot add links, images, HTML or cells."""
    text = show(" ".join(str(value).split()))  # newlines and tabs would end the row; controls escaped
    out = []
    for ch in text:
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def step_summary(result: ScanResult) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY`` (appended to by the caller): a heading, every
    finding in a table (up to ``MAX_SUMMARY_ROWS``), what to do. Secrets redacted; paths,
    names and messages escaped."""
    findings = _by_importance(ordered(result.findings))
    scrub = Scrubber(findings)
    stats = result.stats
    where = f"{stats.files_scanned} files"
    if result.mode in ("history", "range"):
        where = f"{stats.blobs_scanned} blobs in {stats.commits} commits"
    if not findings:
        return f"### keytrap: no Binance secrets found\n\nScanned {md_cell(where)}.\n\n"
    n = len(findings)
    lines = [
        f"### keytrap: {n} leaked Binance secret{'s' if n != 1 else ''} found",
        "",
        f"Scanned {md_cell(where)}. Secrets are shown redacted (at most 8 characters).",
        "",
        "| severity | confidence | kind | file | line | secret | commit |",
        "| --- | --- | --- | --- | ---: | --- | --- |",
    ]
    for f in findings[:MAX_SUMMARY_ROWS]:
        cells = (
            f.get("severity") or "", f.confidence, kind_label(f.kind), scrub(display_path(f.path)),
            max(1, f.line), f.secret_redacted, (f.commit or "")[:12],
        )
        lines.append("| " + " | ".join(md_cell(scrub(str(c))) for c in cells) + " |")
    if n > MAX_SUMMARY_ROWS:
        lines.append("")
        lines.append(f"… and {n - MAX_SUMMARY_ROWS} more: run keytrap locally for the full list.")
    from keytrap.remediation import DELETE_NOW

    lines += [
        "",
        f"**What to do now:** {md_cell(DELETE_NOW)}. Not a secret? Add a `keytrap: allow` comment "
        "on its line, or record it with `keytrap baseline`.",
        "",
    ]
    return "\n".join(lines) + "\n"
