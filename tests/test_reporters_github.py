"""GitHub Actions workflow-command reporter: format, escaping, redaction, determinism."""

from __future__ import annotations

import random
import re

from helpers import assert_redacted, random_secret, sample_result
from keytrap.findings import Finding, ScanResult, ScanStats
from keytrap.reporters import github

LINE = re.compile(r"^::(error|warning|notice) ([^:]*)::(.*)$")


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    m = LINE.match(line)
    assert m, line
    props = dict(p.split("=", 1) for p in m.group(2).split(","))
    return m.group(1), props, m.group(3)


def _unescape(value: str) -> str:
    return (value.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n")
            .replace("%0D", "\r").replace("%25", "%"))


def test_one_command_per_finding_then_notice():
    result, _ = sample_result()
    out = github.render(result)
    assert out.endswith("\n")
    lines = out.splitlines()
    assert len(lines) == len(result.findings) + 1
    kind, props, msg = _parse(lines[-1])
    assert kind == "notice" and props == {"title": "keytrap"}
    assert "6 leaked Binance secrets" in msg and "3 high, 2 medium, 1 low" in msg
    for line in lines[:-1]:
        kind, props, msg = _parse(line)
        assert list(props) == ["file", "line", "col", "title"]
        assert re.fullmatch(r"Binance (API|secret|private) key leaked", props["title"])
        assert "Binance API Management" in msg


def test_levels_and_fields():
    result, _ = sample_result()
    parsed = [_parse(line) for line in github.render(result).splitlines()[:-1]]
    by_place = {(_unescape(p["file"]), int(p["line"]), int(p["col"])): (k, m)
                for k, p, m in parsed}
    for f in result.findings:
        kind, msg = by_place[(f.path.replace("\\", "/"), f.line, f.column)]
        assert kind == {"high": "error", "medium": "error", "low": "warning"}[f.confidence]
        assert f.secret_redacted in msg
        if f.commit:
            assert f.commit[:12] in msg


def test_property_escaping():
    s = random_secret()
    f = Finding("binance-hmac-key", "api_key", "we,ird:dir/100%\nfile,x:y.env", 2, 3, "high", s)
    out = github.render(ScanResult(root=".", findings=(f,), stats=ScanStats(files_scanned=1)))
    first = out.splitlines()[0]
    assert first.startswith(
        "::error file=we%2Cird%3Adir/100%25%0Afile%2Cx%3Ay.env,line=2,col=3,"
        "title=Binance API key leaked::"
    )
    _, props, _ = _parse(first)
    assert _unescape(props["file"]) == f.path
    assert len(out.splitlines()) == 2  # the newline in the path did not split the command


def test_message_escaping():
    assert github.escape_data("50%\r\nx:y,z") == "50%25%0D%0Ax:y,z"
    assert github.escape_property("50%\r\nx:y,z") == "50%25%0D%0Ax%3Ay%2Cz"
    line = github.command("notice", {"title": "a:b,c"}, "1%\n2")
    assert line == "::notice title=a%3Ab%2Cc::1%25%0A2"


def test_no_secret_leaks():
    result, secrets = sample_result()
    assert_redacted(github.render(result), secrets)
    s = random_secret()
    f = Finding("binance-hmac-key", "secret_key", f"dump/{s}", 1, 1, "low", s)
    assert_redacted(github.render(ScanResult(".", (f,), ScanStats())), [s])


def test_empty_and_history_summary():
    out = github.render(ScanResult(".", (), ScanStats(files_scanned=3)))
    assert out == "::notice title=keytrap::keytrap found no Binance secrets in 3 files.\n"
    out = github.render(ScanResult(".", (), ScanStats(blobs_scanned=9, commits=4), "history"))
    assert "9 blobs in 4 commits" in out


def test_deterministic():
    result, _ = sample_result()
    first = github.render(result)
    assert github.render(result) == first
    shuffled = list(result.findings)
    random.shuffle(shuffled)
    assert github.render(ScanResult(result.root, tuple(shuffled), result.stats)) == first


def test_assert_redacted_catches_leaks():
    import pytest

    s = random_secret()
    assert_redacted(f"x{s[:8]}…{s[-8:]}x", [s])  # 8 characters at a time is allowed
    for i in range(0, len(s) - 9):
        with pytest.raises(AssertionError):
            assert_redacted(f"x{s[i:i + 9]}x", [s])


def _many(n_error: int, n_warning: int) -> ScanResult:
    findings = [
        Finding("binance-hmac-key", "api_key", f"src/f{i:02d}.py", i + 1, 1, "high" if i % 2 else "medium",
                random_secret())
        for i in range(n_error)
    ] + [
        Finding("binance-hmac-key", "api_key", f"data/t{i:02d}.txt", 1, 1, "low", random_secret())
        for i in range(n_warning)
    ]
    return ScanResult(".", tuple(findings), ScanStats(files_scanned=n_error + n_warning))


def test_at_most_ten_annotations_per_level_then_a_notice_with_the_total():
    result = _many(14, 12)
    lines = github.render(result).splitlines()
    errors = [ln for ln in lines if ln.startswith("::error ")]
    warnings = [ln for ln in lines if ln.startswith("::warning ")]
    plain = [ln for ln in lines if ln.startswith("keytrap: not annotated: ")]
    assert (len(errors), len(warnings), len(plain)) == (github.MAX_PER_LEVEL, github.MAX_PER_LEVEL, 6)
    kind, _, msg = _parse(lines[-1])
    assert kind == "notice" and "26 leaked Binance secrets" in msg and "6 more" in msg
    # the most confident are the ones annotated: every high finding got an annotation
    assert sum("confidence high" in ln for ln in errors) == 7
    assert all(not ln.startswith("::") for ln in plain)
    assert_redacted("\n".join(lines), [f.secret for f in result.findings])


def test_no_cap_notice_under_the_limit():
    lines = github.render(_many(10, 10)).splitlines()
    assert len(lines) == 21 and "more are listed" not in lines[-1]


def test_step_summary_lists_every_finding_redacted_and_escaped():
    s = random_secret()
    evil = Finding("binance-hmac-key", "secret_key", "a|b/<img src=x>[l](http://x)\n| x |.env", 2, 1, "high", s)
    result, secrets = sample_result()
    result = result._replace(findings=result.findings + (evil,))
    md = github.step_summary(result)
    assert_redacted(md, secrets + [s])
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and "---" not in ln][1:]
    assert len(rows) == len(result.findings)
    evil_row = next(r for r in rows if "img" in r)
    assert "<img" not in evil_row and "&lt;img" in evil_row
    assert "](http" not in evil_row and evil_row.count(" | ") == 6  # no extra cells
    assert md.startswith("### keytrap: 7 leaked Binance secrets found")


def test_step_summary_clean():
    md = github.step_summary(ScanResult(".", (), ScanStats(files_scanned=3)))
    assert md.startswith("### keytrap: no Binance secrets found")


def test_verdicts_set_the_level():
    """A key Binance rejected is a notice, one live only on a test network a warning; without a
    verdict the confidence decides (also in SARIF)."""
    from keytrap.reporters import sarif

    base = Finding("binance-hmac-key", "api_key", "a.env", 1, 1, "high", random_secret())
    cases = {
        "error": base.with_extra(severity="critical"),
        "warning": base.with_extra(severity="low", network="testnet"),
        "notice": base.with_extra(severity="info", verification_status="revoked"),
    }
    for command, f in cases.items():
        result = ScanResult("/r", (f,), ScanStats(files_scanned=1))
        assert github.render(result).startswith(f"::{command} file=a.env"), command
        level = sarif.to_sarif(result)["runs"][0]["results"][0]["level"]
        assert level == {"notice": "note"}.get(command, command)
    low = base.with_(confidence="low")
    assert github.render(ScanResult("/r", (low,), ScanStats())).startswith("::warning ")
