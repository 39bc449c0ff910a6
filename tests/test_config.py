"""Settings: strict parsing, where they are found, and excludes that do not depend on the root."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import git_ignored
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


# --- excludes: gitignore semantics, checked against git itself ----------------------------------


import pytest  # noqa: E402

from keytrap.config import Config  # noqa: E402

PATTERNS = [
    "docs/*.md", "*.md", "docs/", "/docs", "docs", "a/**/b.txt", "**/b.txt", "foo/**", "**/foo",
    "d?c", "[ab]*.env", "[!a]x.env", "build/", "x/*/z", "*.min.js", "tests/fixtures/**", "\\#hash",
    "name with space.txt", "a/b", "/top.txt", "**", "*/b.txt",
]
PATHS = [
    "docs/a.md", "docs/a/b.md", "x/docs/a.md", "docs", "README.md", "a/b.txt", "a/x/y/b.txt",
    "b.txt", "c/a/q/b.txt", "foo/x", "foo", "q/foo", "q/foo/z", "doc", "dac/x", "a1.env", "bx.env",
    "ax.env", "build/out.js", "src/build/x", "x/y/z", "x/y/w/z", "app.min.js", "tests/fixtures/k/e.env",
    "#hash", "name with space.txt", "a/b", "a/b/c", "top.txt", "sub/top.txt", "q/b.txt",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_exclude_matches_git_check_ignore(tmp_path, pattern):
    conf = Config(exclude=(pattern,))
    ours = {p for p in PATHS if conf.is_excluded(p)}
    assert ours == git_ignored(tmp_path, [pattern], PATHS)


def test_exclude_negation_and_order_match_git(tmp_path):
    patterns = ["*.env", "!keep.env", "foo/**", "!foo/keep", "logs/", "!logs/important.log"]
    paths = ["a.env", "keep.env", "sub/keep.env", "foo/a", "foo/keep", "foo/keep/x", "logs/important.log", "logs/x"]
    conf = Config(exclude=tuple(patterns))
    assert {p for p in paths if conf.is_excluded(p)} == git_ignored(tmp_path, patterns, paths)


def test_exclude_star_does_not_cross_folders():
    conf = Config(exclude=("docs/*.md",))
    assert conf.is_excluded("docs/a.md") and not conf.is_excluded("docs/a/b.md")
    assert Config(exclude=("docs/**/*.md",)).is_excluded("docs/a/b.md")


def test_dir_only_pattern_needs_a_folder():
    conf = Config(exclude=("build/",))
    assert conf.is_excluded("build", is_dir=True) and not conf.is_excluded("build")
    assert conf.is_excluded("build/x.py")


def test_exclude_through_the_walk(tmp_path, key):
    for rel in ("docs/a.md", "docs/sub/b.md", "src/c.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"BINANCE_API_KEY={key}\n")
    from keytrap import api

    result = api.scan_paths([str(tmp_path)], api.load_config(str(tmp_path), exclude=["docs/*.md"]))
    assert sorted(f.path for f in result.findings) == ["docs/sub/b.md", "src/c.py"]


def test_dedicated_file_may_use_a_tool_keytrap_header(tmp_path):
    (tmp_path / ".keytrap.toml").write_text('[tool.keytrap]\nmin_confidence = "high"\nexclude = ["x/**"]\n')
    conf = load(tmp_path)
    assert conf.min_confidence == "high" and conf.exclude == ("x/**",)
    (tmp_path / ".keytrap.toml").write_text('[tool.keytrap]\nmin_confidense = "high"\n')
    with pytest.raises(UsageError, match="unknown setting 'min_confidense'"):
        load(tmp_path)
    (tmp_path / ".keytrap.toml").write_text('[tool.keytrap]\nmin_confidence = "high"\n[tool.black]\nx = 1\n')
    with pytest.raises(UsageError, match=r"unknown table \[tool.black\]"):
        load(tmp_path)
    (tmp_path / ".keytrap.toml").write_text('[tool.other]\nx = 1\n')
    with pytest.raises(UsageError, match="unknown setting 'tool'"):
        load(tmp_path)


def test_pyproject_that_cannot_name_keytrap_is_not_parsed(tmp_path: Path) -> None:
    """The hook reads pyproject.toml on every commit: one that cannot hold [tool.keytrap] is
    not parsed (a TOML error in it is not keytrap's), one that can still is, escapes included."""
    from keytrap.config import DEFAULT, load

    (tmp_path / "pyproject.toml").write_text("[project\nname = broken\n")
    assert load(tmp_path) is DEFAULT
    (tmp_path / "pyproject.toml").write_text('[tool."key\\u0074rap"]\nmin_confidence = "high"\n')
    assert load(tmp_path).min_confidence == "high"
    (tmp_path / "pyproject.toml").write_text("[tool.keytrap\n")
    with pytest.raises(UsageError, match="invalid TOML"):
        load(tmp_path)


# --- config files that are not small regular files, and type errors ----------------------------


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge"])
def test_config_that_is_not_a_small_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    from test_cli import one_line_error

    from keytrap.config import CONFIG_FILE_LIMIT

    target = tmp_path / "kt.toml"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "huge":
        with open(target, "wb") as fh:
            fh.truncate(CONFIG_FILE_LIMIT + 1)
    name = "/dev/zero" if kind == "dev-zero" else str(target)
    proc = run("scan", str(tmp_path), "--config", name)  # 120 s timeout: a hang fails
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert line.startswith(f"keytrap: error: cannot read config {name}: it is ")
    if kind == "huge":  # found by itself as .keytrap.toml too
        os.rename(target, tmp_path / ".keytrap.toml")
        proc = run("scan", str(tmp_path))
        assert proc.returncode == 2 and "limit" in one_line_error(proc)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tool = 3\n", "[tool] must be a table"),
        ("[tool]\nkeytrap = 3\n", "[tool.keytrap] must be a table"),
        ("[tool.keytrap]\nexclude = [[1]]\n", "'exclude' must be a list of strings"),
        ("[tool.keytrap]\nbaseline = 1979-05-27\n", "'baseline' must be a path"),
    ],
)
def test_type_errors_in_an_explicit_pyproject_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    from test_cli import one_line_error

    (tmp_path / "pyproject.toml").write_text(text)
    proc = run("scan", str(tmp_path), "--config", str(tmp_path / "pyproject.toml"))
    assert proc.returncode == 2 and message in one_line_error(proc)


@pytest.mark.parametrize("pattern", ["[z-a]", "[[:alpha:]]*", "[[:bogus:]]", "a[\\\\]", "*[", "[", "\\"])
def test_any_exclude_pattern_is_accepted(tmp_path: Path, pattern: str, key: str) -> None:
    """Exclude patterns follow git, where no pattern is an error: never exit 3."""
    (tmp_path / "prod.env").write_text(f"BINANCE_API_KEY={key}\n")
    for args in (("--exclude", pattern), ()):
        if not args:
            (tmp_path / ".keytrap.toml").write_text(f"exclude = [{json.dumps(pattern)}]\n")
        proc = run("scan", str(tmp_path), *args)
        assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
        assert "error" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr
