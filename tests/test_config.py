"""Settings: strict parsing, where they are found, and excludes that do not depend on the root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import run

from keytrap.config import DEFAULT, load, parse
from keytrap.errors import UsageError


def test_defaults() -> None:
    assert DEFAULT.min_confidence == "low" and DEFAULT.max_file_size == 10 * 1024 * 1024
    assert load(Path("/nonexistent-folder")) == DEFAULT


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"min_confidence": "urgent"}, "'min_confidence' must be one of low, medium, high"),
        ({"max_file_size": "big"}, "'max_file_size' must be a number of bytes"),
        ({"max_file_size": True}, "'max_file_size' must be a number of bytes"),
        ({"max_file_size": 0}, "must be positive"),
        ({"exclude": "tests/"}, "'exclude' must be a list of glob strings"),
        ({"exclude": [1]}, "'exclude' must be a list of strings"),
        ({"allowlist": []}, "unknown setting 'allowlist'"),
    ],
)
def test_strict_parsing(table: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(table, "cfg")


def test_error_never_echoes_a_key(key: str) -> None:
    with pytest.raises(UsageError) as err:
        parse({"example_keys": key}, "cfg")
    assert key not in str(err.value) and key[:4] in str(err.value)


def test_dedicated_file_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.keytrap]\nmin_confidence = "high"\n')
    assert load(tmp_path).min_confidence == "high"
    (tmp_path / ".keytrap.toml").write_text('min_confidence = "medium"\n')
    conf = load(tmp_path)
    assert conf.min_confidence == "medium" and conf.base == str(tmp_path.resolve())


def test_pyproject_without_section_is_default(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load(tmp_path) == DEFAULT


def test_exclude_globs_match_path_and_parents() -> None:
    conf = parse({"exclude": ["tests/fixtures/**", "*.min.js", "vendor"]}, "cfg")
    assert conf.is_excluded("tests/fixtures/a/b.env")
    assert conf.is_excluded("web/app.min.js")
    assert conf.is_excluded("vendor/lib/x.py")
    assert not conf.is_excluded("src/app.py")


def test_excludes_are_relative_to_the_config_not_the_scan_root(repo: Path, key: str) -> None:
    fixtures = repo / "tests" / "fixtures"
    fixtures.mkdir(parents=True)
    (fixtures / "k.env").write_text(f"BINANCE_API_KEY={key}\n")
    (repo / ".keytrap.toml").write_text('exclude = ["tests/fixtures/**"]\n')
    for target, cwd in ((".", repo), ("tests", repo), (".", repo / "tests")):
        proc = run("scan", target, "-f", "json", cwd=cwd)
        assert proc.returncode == 0, (target, cwd, proc.stdout)
        assert json.loads(proc.stdout)["findings"] == []
