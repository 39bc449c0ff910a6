"""The sdist carries what its tests need (conftest, helpers, data, fixtures, docs, recipes), built
offline with the setuptools in the test environment, from a copy of the tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not (ROOT / "pyproject.toml").is_file(), reason="needs a source tree")


def test_sdist_has_the_test_suite_and_recipes(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    src = tmp_path / "src-copy"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", ".hypothesis", "build", "dist"))
    out = tmp_path / "dist"
    code = f"from setuptools import build_meta as b; print(b.build_sdist({str(out)!r}))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=src, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    name = proc.stdout.strip().splitlines()[-1]
    with tarfile.open(out / name) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    for needed in (
        "tests/conftest.py", "tests/helpers.py", "tests/gitrepo.py", "tests/ci_harness.py", "tests/corpus.py",
        "tests/data/sarif-schema-2.1.0.json", "tests/data/gitlab-secret-detection-report-format-15.0.7.json",
        "fixtures/expected.json", "fixtures/README.md", "docs/ci.md", "docs/bad-input.md",
        "action.yml", "Dockerfile", ".pre-commit-hooks.yaml", "README.md", "LICENSE",
        "src/keytrap/cli.py", "src/keytrap/reporters/gitlab.py",
    ):
        assert needed in members, needed
    assert any(m.startswith("fixtures/positives/") for m in members)
    assert not any("__pycache__" in m or m.endswith(".pyc") for m in members)
