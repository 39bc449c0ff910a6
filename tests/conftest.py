"""Shared fixtures: an isolated git identity, fresh fake keys, a small repo builder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from helpers import random_secret  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _git_identity() -> None:
    """Tests never read or write the user's git config; commits get a fixed identity."""
    os.environ.update(
        {
            "GIT_AUTHOR_NAME": "keytrap tests",
            "GIT_AUTHOR_EMAIL": "tests@keytrap.invalid",
            "GIT_COMMITTER_NAME": "keytrap tests",
            "GIT_COMMITTER_EMAIL": "tests@keytrap.invalid",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "NO_COLOR": "1",
        }
    )
    # no test ever talks to Binance: every network points at a closed loopback port unless
    # the test points it at a local fake server
    for var in ("KEYTRAP_BINANCE_URL", "KEYTRAP_BINANCE_TESTNET_URL",
                "KEYTRAP_BINANCE_FUTURES_TESTNET_URL", "KEYTRAP_BINANCE_DEMO_URL"):
        os.environ[var] = "http://127.0.0.1:9"


@pytest.fixture
def key() -> str:
    return random_secret()


@pytest.fixture
def secret() -> str:
    return random_secret()


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path
