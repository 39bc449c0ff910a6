"""The real pre-commit framework runs keytrap's hook from this checkout (`pre-commit try-repo`).

pre-commit builds its own virtualenv for the hook and installs keytrap from this repository
into it (dependencies come from the package index), so this test is slow (~20 s) and needs the
package index: set KEYTRAP_SKIP_NETWORK_TESTS=1 on a machine without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git
from helpers import assert_redacted, random_secret

import keytrap

ROOT = Path(keytrap.__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(
        not (ROOT / ".pre-commit-hooks.yaml").is_file() or shutil.which("git") is None,
        reason="needs a source checkout of keytrap (pip install -e .)",
    ),
    pytest.mark.skipif(
        os.environ.get("KEYTRAP_SKIP_NETWORK_TESTS") == "1",
        reason="needs the package index (pre-commit installs the hook's dependencies)",
    ),
]


def precommit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=300,
    )


def test_try_repo_blocks_key_and_passes_clean_commit(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    home = tmp_path / "pre-commit-home"
    repo = tmp_path / "app"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "main.py").write_text("import os\nKEY = os.environ['BINANCE_API_KEY']\n")
    git(repo, "add", "main.py")
    clean = precommit("try-repo", str(ROOT), "keytrap", cwd=repo, home=home)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout

    key, secret = random_secret(), random_secret()
    (repo / "config.json").write_text(
        '{"exchange": {"name": "binance", "key": "%s", "secret": "%s"}}\n' % (key, secret)
    )
    git(repo, "add", "config.json")
    leak = precommit("try-repo", str(ROOT), "keytrap", cwd=repo, home=home)
    assert leak.returncode == 1, leak.stdout + leak.stderr
    assert "Failed" in leak.stdout
    assert "commit refused: 2 Binance secrets found" in leak.stdout
    assert "config.json:1" in leak.stdout
    assert_redacted(leak.stdout + leak.stderr, [key, secret])
