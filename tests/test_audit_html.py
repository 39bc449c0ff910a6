"""The HTML audit report: self-contained, escaped, redacted; opened in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitrepo import GitRepo, env_file
from helpers import assert_redacted, random_secret
from keytrap import api
from keytrap.config import DEFAULT
from keytrap.reporters import audit_html

KEYTRAP = str(Path(sys.executable).with_name("keytrap"))
HOSTILE = '<img src=x onerror=alert(1)>"\'&'


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("html")
    secrets = []
    names = []
    for i in range(3):
        repo = GitRepo(root / f"svc-{i}")
        k, s = random_secret(), random_secret()
        secrets += [k, s]
        repo.commit("init", {"README.md": "# x\n"})
        path = f"cfg/{HOSTILE}.env" if i == 0 else "config/.env"
        repo.commit("keys", {path: env_file(k, s)})
        if i == 1:
            repo.commit("remove", remove=("config/.env",))
        names.append(str(repo.path))
    out = root / "report.html"
    proc = subprocess.run([KEYTRAP, "audit", *names, "--cache", str(root / "cache"), "--format", "html",
                           "--output", str(out), "--no-progress"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    return out, out.read_text(encoding="utf-8"), secrets


def test_the_report_is_self_contained_escaped_and_redacted(report) -> None:  # type: ignore[no-untyped-def]
    _, html, secrets = report
    assert_redacted(html, secrets)
    assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html.lower()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    assert csp and "default-src 'none'" in csp.group(1) and "unsafe-inline" not in csp.group(1)
    # nothing to fetch: no src/href attributes, no url(...) in CSS, no @import
    tags = re.findall(r"<[A-Za-z][^<>]*>", html)  # escaped text has no '<': these are real tags
    assert tags and not [t for t in tags if re.search(r"\s(src|href|xlink:href|srcset|action|on\w+)\s*=", t)]
    assert "url(" not in html and "@import" not in html
    assert "style=" not in html  # inline style attributes would need 'unsafe-inline'
    assert html.count('class="timeline"') == 1 and html.count("<rect") == 6


def test_timeline_handles_no_dates() -> None:
    from datetime import datetime, timezone

    assert "No dated" in audit_html.timeline((), datetime.now(timezone.utc))


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (.ci/run installs Debian's package)")
def test_the_report_opens_in_headless_chromium_without_network(report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, _, secrets = report
    flags = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
             '--host-resolver-rules=MAP * ~NOTFOUND', "--enable-logging=stderr", "--v=0",
             "--window-size=1280,1600"]
    shot = tmp_path / "shot.png"
    proc = subprocess.run([*flags, f"--screenshot={shot}", path.as_uri()], capture_output=True, text=True,
                          timeout=120)
    assert shot.exists(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    dom = subprocess.run([*flags, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120)
    text = re.sub(r"<[^>]+>", " ", dom.stdout)
    for words in ("keytrap audit report", "Summary", "Exposure timeline", "Secrets by severity",
                  "Repositories", "still at HEAD", "removed"):
        assert words in text, words
    assert "<svg" in dom.stdout and "<rect" in dom.stdout
    assert_redacted(dom.stdout, secrets)
    logs = proc.stderr + dom.stderr
    assert "Content Security Policy" not in logs and "Refused to" not in logs
    assert "ERR_NAME_NOT_RESOLVED" not in logs  # nothing tried to reach a host
