"""``keytrap audit --format html``: one self-contained HTML file.

Opening it fetches nothing: the CSS is inline and allowed by its hash in a strict
Content-Security-Policy (``default-src 'none'``: no script, no image, no font, no connection),
the timeline is inline SVG styled by class, and there is no script at all. Every string that
comes from a repository (names, paths, errors) is HTML-escaped after any key-shaped run in it
is redacted; secrets appear only in their redacted form.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone
from html import escape

import keytrap
from keytrap.audit.records import STATUS_FAILED, AuditResult, Secret
from keytrap.findings import scrub_keyshaped
from keytrap.remediation import CHECKLIST

#: Rows drawn on the timeline; the table lists every secret.
MAX_TIMELINE_ROWS = 300

CSS = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dee7;--bg:#f6f7fa;--critical:#8e0c1c;--high:#c9302c;
--medium:#e08a00;--low:#4a7ab5}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#1d2330;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c6ccd8}
main{padding:20px 32px;max-width:1400px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin-bottom:20px}
h2{font-size:17px;margin:0 0 12px}
.cards{display:flex;gap:16px;flex-wrap:wrap}
.card{flex:1 1 160px;border:1px solid var(--line);border-radius:8px;padding:12px 16px}
.card .n{font-size:28px;font-weight:700}
.card .l{color:var(--muted)}
.card.alert .n{color:var(--high)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
ul.locs{margin:0;padding-left:16px}
.sev{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.sev.critical{background:var(--critical)}.sev.high{background:var(--high)}
.sev.medium{background:var(--medium)}.sev.low{background:var(--low)}
.badge{display:inline-block;padding:0 6px;border-radius:4px;font-size:11px;border:1px solid var(--line);color:var(--muted)}
.badge.head{border-color:var(--high);color:var(--high)}
.failed{color:var(--high)}
.muted{color:var(--muted)}
svg.timeline{width:100%;height:auto;font:12px system-ui,sans-serif}
svg .axis{stroke:#9aa3b2;stroke-width:1}
svg .grid{stroke:#eceff4;stroke-width:1}
svg .tick{fill:#5b6475}
svg .label{fill:#1d2330}
svg .bar{stroke-width:0}
svg .bar.critical,svg .dot.critical{fill:var(--critical)}
svg .bar.high,svg .dot.high{fill:var(--high)}
svg .bar.medium,svg .dot.medium{fill:var(--medium)}
svg .bar.low,svg .dot.low{fill:var(--low)}
svg .open{fill-opacity:.55}
svg .now{stroke:#1d2330;stroke-dasharray:4 3}
footer{color:var(--muted);padding:0 32px 24px}
""".strip()


def _csp(css: str) -> str:
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
    return (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'none'; script-src 'none'; "
            "connect-src 'none'; font-src 'none'; base-uri 'none'; form-action 'none'; frame-src 'none'")


def esc(text: object) -> str:
    """Repository text for HTML: key-shaped runs redacted, then escaped (quotes too)."""
    from keytrap.safetext import show

    return escape(show(scrub_keyshaped(str(text))), quote=True)  # no bidi or control character


def _parse(date: str | None) -> datetime | None:
    if not date:
        return None
    try:
        d = datetime.fromisoformat(date)
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def _day(date: str | None) -> str:
    return esc(date[:10]) if date else "?"


def timeline(secrets: tuple[Secret, ...], now: datetime) -> str:
    """An SVG row per secret: introduced -> removed from HEAD (solid), or still there (to now)."""
    rows = [s for s in secrets if _parse(s.introduced_at)][:MAX_TIMELINE_ROWS]
    if not rows:
        return '<p class="muted">No dated introductions to draw.</p>'
    starts = [_parse(s.introduced_at) for s in rows]
    t0 = min(d for d in starts if d)
    t1 = max([now, *(d for s in rows if (d := _parse(s.removed_at)))])
    span = max((t1 - t0).total_seconds(), 86400.0)
    left, width, row_h, top = 250, 960, 22, 30
    plot = width - left - 20
    height = top + row_h * len(rows) + 10

    def x(d: datetime) -> float:
        return left + plot * (d - t0).total_seconds() / span

    out = [f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="exposure timeline">']
    for i in range(6):
        tx = left + plot * i / 5
        when = datetime.fromtimestamp(t0.timestamp() + span * i / 5, tz=timezone.utc)
        out.append(f'<line class="grid" x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{height - 6}"/>')
        anchor = "start" if i == 0 else "end" if i == 5 else "middle"
        out.append(f'<text class="tick" x="{tx:.1f}" y="{top - 12}" text-anchor="{anchor}">{when:%Y-%m-%d}</text>')
    out.append(f'<line class="axis" x1="{left}" y1="{top - 6}" x2="{left + plot}" y2="{top - 6}"/>')
    nx = x(now)
    out.append(f'<line class="now" x1="{nx:.1f}" y1="{top - 6}" x2="{nx:.1f}" y2="{height - 6}"/>')
    for n, s in enumerate(rows):
        y = top + n * row_h
        start = _parse(s.introduced_at) or t0
        end = now if s.at_head else (_parse(s.removed_at) or start)
        x0, x1 = x(start), max(x(end), x(start) + 3)
        state = "still at HEAD" if s.at_head else (f"removed {_day(s.removed_at)}" if s.removed_at else "never on HEAD")
        label = f"{s.kind.replace('_', ' ')} {s.secret_redacted}"
        tip = (f"{s.severity} {s.kind} {s.secret_redacted}: introduced {_day(s.introduced_at)}, {state}; "
               f"{len(s.repos)} repositories")
        out.append(f'<g><title>{esc(tip)}</title>')
        out.append(f'<text class="label" x="{left - 8}" y="{y + 14}" text-anchor="end">{esc(label)}</text>')
        cls = f"bar {s.severity}" + (" open" if s.at_head else "")
        out.append(f'<rect class="{cls}" x="{x0:.1f}" y="{y + 5}" width="{x1 - x0:.1f}" height="11" rx="2"/>')
        out.append(f'<circle class="dot {s.severity}" cx="{x0:.1f}" cy="{y + 10.5}" r="4"/>')
        if s.at_head:
            out.append(f'<polygon class="dot {s.severity}" points="{x1:.1f},{y + 3} {x1 + 8:.1f},{y + 10.5} {x1:.1f},{y + 18}"/>')
        out.append("</g>")
    out.append("</svg>")
    more = len([s for s in secrets if _parse(s.introduced_at)]) - len(rows)
    if more > 0:
        out.append(f'<p class="muted">{more} more secrets are listed below but not drawn.</p>')
    return "\n".join(out)


def render(result: AuditResult) -> str:
    st = result.stats
    now = _parse(result.started) or datetime.now(timezone.utc)
    verified = any(s.verification_status for s in result.secrets)
    at_head = sum(1 for s in result.secrets if s.at_head)
    failed = [r for r in result.repos if r.status == STATUS_FAILED]
    p: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_csp(CSS)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>keytrap audit report</title>",
        f"<style>{CSS}</style></head><body>",
        "<header><h1>keytrap audit report</h1>",
        f"<p>Binance API keys in {st.repos} repositories &middot; generated {esc(result.started)} by keytrap "
        f"{esc(keytrap.__version__)}</p></header><main>",
        '<section id="summary"><h2>Summary</h2><div class="cards">',
        f'<div class="card"><div class="n">{st.repos}</div><div class="l">repositories '
        f'({st.repos_scanned} scanned, {st.repos_failed} failed)</div></div>',
        f'<div class="card{" alert" if result.secrets else ""}"><div class="n">{st.secrets}</div>'
        f'<div class="l">secrets</div></div>',
        f'<div class="card{" alert" if st.live else ""}"><div class="n">{st.live if verified else "&ndash;"}</div>'
        f'<div class="l">live keys{"" if verified else " (not verified: run with --verify)"}</div></div>',
        f'<div class="card{" alert" if at_head else ""}"><div class="n">{at_head}</div>'
        '<div class="l">still at HEAD</div></div>',
        f'<div class="card"><div class="n">{st.blobs_scanned:,}</div><div class="l">blobs scanned '
        f'({st.blobs_total:,} in all) in {st.duration_s:.1f} s</div></div>',
        "</div></section>",
        '<section id="timeline"><h2>Exposure timeline</h2>',
        '<p class="muted">From the first commit that introduced each secret to the commit that removed it '
        "from HEAD; a bar that runs to the dashed line (now) is still at HEAD.</p>",
        timeline(result.secrets, now),
        "</section>",
        '<section id="secrets"><h2>Secrets by severity</h2>',
    ]
    if result.secrets:
        p.append("<table><thead><tr><th>severity</th><th>kind</th><th>secret</th><th>verification</th>"
                 "<th>introduced</th><th>exposure</th><th>locations</th></tr></thead><tbody>")
        for s in result.secrets:
            exposure = "still at HEAD" if s.at_head else (f"removed {_day(s.removed_at)}" if s.removed_at else "not on HEAD")
            locs = []
            for loc in s.locations:
                head = '<span class="badge head">at HEAD</span>' if loc.at_head else '<span class="badge">removed</span>'
                commit = esc((loc.commit or "")[:12]) or "unreachable"
                locs.append(f"<li><code>{esc(loc.repo)}</code> &middot; <code>{esc(loc.path)}:{loc.line}</code> "
                            f'&middot; <code>{commit}</code> <span class="muted">{_day(loc.date)}</span> {head}</li>')
            ver = esc(s.verification) if s.verification else '<span class="muted">not verified</span>'
            p.append(
                f'<tr><td><span class="sev {esc(s.severity)}">{esc(s.severity)}</span></td>'
                f"<td>{esc(s.kind.replace('_', ' '))}</td><td><code>{esc(s.secret_redacted)}</code>"
                f'<br><span class="muted">{esc(s.confidence)} confidence'
                f'{", " + esc(s.network) if s.network else ""}</span></td>'
                f"<td>{ver}</td><td>{_day(s.introduced_at)}</td><td>{exposure}</td>"
                f'<td><ul class="locs">{"".join(locs)}</ul></td></tr>'
            )
        p.append("</tbody></table>")
    else:
        p.append("<p>No secrets found.</p>")
    p.append("</section>")
    p.append('<section id="repos"><h2>Repositories</h2><table><thead><tr><th>repository</th><th>status</th>'
             "<th>blobs scanned / total</th><th>secrets</th><th>time</th><th>note</th></tr></thead><tbody>")
    for r in result.repos:
        cls = ' class="failed"' if r.status == STATUS_FAILED else ""
        p.append(
            f"<tr><td><code>{esc(r.target)}</code></td><td{cls}>{esc(r.status)}</td>"
            f"<td>{r.stats.blobs_scanned:,} / {r.stats.blobs_total:,}</td>"
            f"<td>{len({f.key for f in r.findings})}</td><td>{r.stats.duration_s:.2f} s</td>"
            f"<td>{esc(r.error or '')}</td></tr>"
        )
    p.append("</tbody></table>")
    if failed:
        p.append(f'<p class="failed">{len(failed)} repositories could not be audited.</p>')
    for note in result.notes:
        p.append(f'<p class="muted">{esc(note)}</p>')
    p.append("</section>")
    p.append('<section id="advice"><h2>What to do</h2><ol>'
             "<li>Delete every listed key in Binance API Management now: removing it from the code or "
             "rewriting history does not make it safe, clones and forks keep it.</li>"
             + "".join(f"<li>{escape(item)}</li>" for item in CHECKLIST) + "</ol></section>")
    p.append("</main><footer>keytrap audit &middot; secrets are shown redacted (at most 8 characters)</footer>")
    p.append("</body></html>")
    return "\n".join(p) + "\n"
