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


def _config(rev: str, args: list[str] | None) -> str:
    text = f"repos:\n  - repo: {ROOT}\n    rev: {rev}\n    hooks:\n      - id: keytrap\n"
    if args is not None:
        text += f"        args: [{', '.join(args)}]\n"
    return text


def test_baseline_and_args_through_the_framework(tmp_path: Path) -> None:
    """`repo:` pointing at this checkout's committed HEAD. The hook gets no file names
    (`pass_filenames: false`) and scans everything staged: a committed key recorded with
    `keytrap baseline` no longer blocks when it is staged again, a new key does,
    `args: [--min-confidence, high]` is honoured, and a committed file named `--no-config` next
    to a weakening `.keytrap.toml` cannot cancel `args: [--no-config]`."""
    pytest.importorskip("pre_commit")
    rev = git(ROOT, "rev-parse", "HEAD").strip()
    home = tmp_path / "pre-commit-home"
    repo = tmp_path / "app"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    old_key, old_secret = random_secret(), random_secret()
    legacy = f"# binance bot\nBINANCE_API_KEY = '{old_key}'\nBINANCE_API_SECRET = '{old_secret}'\n"
    (repo / "bot.py").write_text(legacy)
    (repo / "high.yaml").write_text(_config(rev, ["--min-confidence", "high"]))
    (repo / "plain.yaml").write_text(_config(rev, None))
    (repo / "strict.yaml").write_text(_config(rev, ["--no-config"]))
    git(repo, "add", "bot.py", "high.yaml", "plain.yaml", "strict.yaml")
    git(repo, "commit", "-qm", "legacy keys")  # no hook installed yet: the key is in history

    def run_all(config: str) -> subprocess.CompletedProcess:
        return precommit("run", "-c", config, "--all-files", cwd=repo, home=home)

    (repo / "bot_copy.py").write_text(legacy)  # the old keys, staged again in a new file
    git(repo, "add", "bot_copy.py")
    before = run_all("plain.yaml")
    assert before.returncode == 1 and "bot_copy.py:2" in before.stdout, before.stdout + before.stderr
    assert subprocess.run([sys.executable, "-m", "keytrap", "baseline"], cwd=repo).returncode == 0
    git(repo, "add", ".keytrap-baseline.json")
    after = run_all("plain.yaml")
    assert after.returncode == 0, after.stdout + after.stderr
    git(repo, "commit", "-qm", "baseline the legacy keys")

    low = random_secret()
    (repo / "notes.txt").write_text(f"{low}\n")  # a bare token: low confidence
    git(repo, "add", "notes.txt")
    assert run_all("high.yaml").returncode == 0  # args: [--min-confidence, high]
    plain = run_all("plain.yaml")
    assert plain.returncode == 1 and "notes.txt:1" in plain.stdout, plain.stdout + plain.stderr
    git(repo, "rm", "-q", "--cached", "notes.txt")

    new_key = random_secret()
    (repo / "-leak.py").write_text(f"# binance\nBINANCE_API_KEY = '{new_key}'\n")
    git(repo, "add", "--", "-leak.py")
    leak = run_all("high.yaml")
    assert leak.returncode == 1, leak.stdout + leak.stderr
    assert "commit refused: 1 Binance secret found" in leak.stdout and "-leak.py:2" in leak.stdout
    assert "bot.py" not in leak.stdout.split("commit refused")[1]

    # a hostile change: a config that excludes everything, and a file named like the user's option
    (repo / ".keytrap.toml").write_text('exclude = ["*"]\n')
    (repo / "--no-config").write_text("x\n")
    git(repo, "add", "--", ".keytrap.toml", "--no-config")
    assert run_all("plain.yaml").returncode == 0  # the repository's own settings, as configured
    strict = run_all("strict.yaml")  # args: [--no-config]
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "commit refused: 1 Binance secret found" in strict.stdout and "-leak.py:2" in strict.stdout
    assert_redacted(before.stdout + leak.stdout + plain.stdout + leak.stderr + strict.stdout + strict.stderr,
                    [old_key, old_secret, low, new_key])
