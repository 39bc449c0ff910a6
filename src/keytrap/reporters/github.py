"""GitHub Actions workflow commands: one annotation per finding, then a summary notice.

    ::error file=app/config.py,line=3,col=17,title=Binance API key leaked::Binance API key ab…yz leaked (...)

Escaping follows GitHub's actions/toolkit (``escapeData`` / ``escapeProperty``): in messages
``%`` ``\\r`` ``\\n`` become ``%25`` ``%0D`` ``%0A``; in properties ``:`` and ``,`` also become
``%3A`` and ``%2C``. High and medium confidence give ``::error``, low gives ``::warning``.
"""

from __future__ import annotations

from keytrap.findings import Finding, ScanResult
from keytrap.reporters._common import Scrubber, display_path, kind_label, message, ordered
from keytrap.safetext import show

COMMANDS: dict[str, str] = {"high": "error", "medium": "error", "low": "warning"}


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
    return command(COMMANDS.get(f.confidence, "error"), props, show(scrub(message(f)), keep="\r\n"))


def summary(result: ScanResult) -> str:
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
    return command("notice", {"title": "keytrap"}, text)


def render(result: ScanResult) -> str:
    """One workflow command per line, ending in a newline; deterministic order."""
    findings = ordered(result.findings)
    scrub = Scrubber(findings)
    lines = [annotation(f, scrub) for f in findings]
    lines.append(summary(result))
    return "\n".join(lines) + "\n"
