"""Scripted git repositories for tests: fixed identities and dates, fake keys made at test time."""

from __future__ import annotations

import os
import random
import string
import subprocess
from pathlib import Path

_ALNUM = string.ascii_letters + string.digits


def fake_key(seed: int | None = None) -> str:
    """A random 64-char [A-Za-z0-9] string: shaped like a Binance key, belongs to no one."""
    rng = random.Random(seed)
    while True:
        key = "".join(rng.choice(_ALNUM) for _ in range(64))
        if any(c.isdigit() for c in key) and any(c.isupper() for c in key) and any(c.islower() for c in key):
            return key


def env_file(key: str, secret: str | None = None) -> str:
    text = f"BINANCE_API_KEY={key}\n"
    if secret:
        text += f"BINANCE_SECRET_KEY={secret}\n"
    return text


class GitRepo:
    """A repository under ``path`` with helpers that commit at deterministic dates."""

    def __init__(self, path: Path, *, bare: bool = False, init: bool = True) -> None:
        self.path = path
        self._tick = 0
        if init:
            path.mkdir(parents=True, exist_ok=True)
            self.git("init", "-q", "-b", "main", *(["--bare"] if bare else []))

    def env(self) -> dict[str, str]:
        date = f"2024-01-01T00:{self._tick // 60:02d}:{self._tick % 60:02d}+00:00"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            GIT_AUTHOR_NAME="Alice Example", GIT_AUTHOR_EMAIL="alice@example.com",
            GIT_COMMITTER_NAME="Alice Example", GIT_COMMITTER_EMAIL="alice@example.com",
            GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date,
            GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
        )
        return env

    def git(self, *args: str, cwd: Path | None = None) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=cwd or self.path, env=self.env(), capture_output=True, check=False
        )
        if proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
        return proc.stdout.decode("utf-8", "surrogateescape").strip()

    def write(self, rel: str | bytes, content: str | bytes) -> None:
        target = Path(os.fsdecode(os.path.join(os.fsencode(self.path), os.fsencode(rel))))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)

    def commit(self, message: str, files: dict | None = None, remove: tuple[str, ...] = ()) -> str:
        for rel, content in (files or {}).items():
            self.write(rel, content)
        for rel in remove:
            self.git("rm", "-q", "--", rel)
        self.git("add", "-A")
        self._tick += 1
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def merge(self, branch: str, message: str) -> str:
        self._tick += 1
        self.git("merge", "-q", "--no-ff", "-m", message, branch)
        return self.head()
