"""Exceptions that map to exit codes. Raised anywhere, turned into one line in ``cli.main``."""

from __future__ import annotations

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_UNEXPECTED = 3
EXIT_INTERRUPTED = 130


class KeytrapError(Exception):
    """An expected failure with a one-line message for the user."""

    exit_code = EXIT_USAGE


class UsageError(KeytrapError):
    """Bad arguments, bad config, bad paths: exit 2."""


class GitError(KeytrapError):
    """Not a repository, a git command failed, corrupt objects: exit 2."""
