"""Baselines hold salted fingerprints only, and parse strictly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import random_secret

from keytrap import baseline
from keytrap.baseline import parse, render
from keytrap.errors import UsageError
from keytrap.findings import Finding


def test_render_holds_no_secret_and_no_path() -> None:
    key = random_secret()
    f = Finding("binance-hmac-key", "api_key", f"keys/{key}.json", 1, 1, "high", key)
    text = render([f, f])
    doc = json.loads(text)
    assert doc["fingerprints"] == [{"fingerprint": f.fingerprint, "rule": f.rule, "kind": "api_key"}]
    assert key[:9] not in text and key[-9:] not in text


def test_parse_roundtrip_and_plain_strings() -> None:
    f = Finding("binance-hmac-key", "api_key", "a", 1, 1, "high", random_secret())
    assert parse(render([f]), "b") == frozenset({f.fingerprint})
    assert parse('{"fingerprints": ["abc"]}', "b") == frozenset({"abc"})


@pytest.mark.parametrize("text", ["{", "[]", '{"fingerprints": 3}', '{"fingerprints": [""]}', '{"fingerprints": [{}]}'])
def test_malformed(text: str) -> None:
    with pytest.raises(UsageError, match="malformed baseline"):
        parse(text, "b")


# --- a baseline or output path that is not a regular file --------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "huge"])
def test_baseline_that_is_not_a_small_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    """Never read unbounded, never wait for a writer: one line, exit 2."""
    from test_cli import one_line_error, run

    target = tmp_path / "bl.json"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "huge":
        with open(target, "wb") as fh:
            fh.truncate(baseline.BASELINE_LIMIT + 1)
    name = "/dev/zero" if kind == "dev-zero" else str(target)
    (tmp_path / "scan").mkdir()
    for args in (("--baseline", name), ()):
        if not args:
            (tmp_path / "scan" / ".keytrap.toml").write_text(f'baseline = "{name}"\n')
        proc = run("scan", str(tmp_path / "scan"), *args)  # 120 s timeout: a hang fails
        assert proc.returncode == 2, proc.stderr
        line = one_line_error(proc, ignore="keytrap: config")
        assert line.startswith(f"keytrap: error: cannot read baseline {name}: it is "), line
        assert ("limit" if kind == "huge" else "not a regular file") in line


def test_output_to_a_fifo_nobody_reads_is_an_error_not_a_hang(tmp_path: Path) -> None:
    from test_cli import one_line_error, run

    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "scan").mkdir()
    proc = run("scan", str(tmp_path / "scan"), "-o", str(tmp_path / "fifo"))
    assert proc.returncode == 2
    assert one_line_error(proc) == f"keytrap: error: cannot write {tmp_path / 'fifo'}: a FIFO that no process is reading"
