"""Exclude patterns: git's semantics, and a cost linear in the path's depth."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import git_ignored

from keytrap.config import Config
from keytrap.excludes import Steps, compile_all, compile_pattern, excluded


def _reference(patterns: tuple[str, ...], rel_path: str, is_dir: bool = False) -> bool:
    """The former matcher (one regex per pattern, run on every parent folder): cubic in the
    depth, kept here as an oracle for paths shallow enough to afford it."""

    def regex(pattern: str):
        pat = pattern
        if not pat.strip() or pat.startswith("#"):
            return None
        negated = pat.startswith("!")
        pat = pat[1:] if negated else pat
        dir_only = pat.endswith("/")
        pat = pat.rstrip("/")
        anchored = "/" in pat
        pat = pat.lstrip("/") if anchored else pat
        out, i, n = [], 0, len(pat)
        while i < n:
            c = pat[i]
            if c == "*":
                j = i
                while j < n and pat[j] == "*":
                    j += 1
                at_start = i == 0 or pat[i - 1] == "/"
                at_end = j == n or pat[j] == "/"
                if j - i >= 2 and at_start and at_end:
                    if j == n:
                        out.append(".*")
                    else:
                        out.append("(?:[^/]*/)*")
                        j += 1
                else:
                    out.append("[^/]*")
                i = j
                continue
            out.append("[^/]" if c == "?" else re.escape(c))
            i += 1
        return negated, dir_only, re.compile(("" if anchored else "(?:.*/)?") + "".join(out) + r"\Z", re.S)

    compiled = [c for c in map(regex, patterns) if c is not None]
    parts = [p for p in rel_path.split("/") if p]
    for depth in range(1, len(parts) + 1):
        cand, cand_dir, verdict = "/".join(parts[:depth]), depth < len(parts) or is_dir, False
        for negated, dir_only, rx in compiled:
            if (cand_dir or not dir_only) and rx.match(cand):
                verdict = not negated
        if verdict:
            return True
    return False


DEEP_PATTERNS = [
    "**/test/**/fixtures/**", "**/a/**/b/**/c", "*.lock", "test/**/x.txt", "**/fixtures",
    "a/*/b/**", "**/t?st/*.txt", "!**/keep/**", "build/", "**", "te*t/**/te*t/f*", "/x.txt",
]


def _deep_paths(depth: int) -> list[str]:
    out = []
    for seg in ("test", "fixtures", "a", "b", "c"):
        out.append("/".join([seg] * depth) + "/x.txt")
        out.append("/".join([seg] * depth) + "/fixtures")
    out.append("/".join(["test"] * depth + ["fixtures"] + ["q"] * depth) + "/y.lock")
    out.append("/".join(["a", "b"] * depth + ["c"]))
    out.append("/".join(["a", "x", "b"] * depth) + "/c")
    out.append("/".join(["keep"] * depth + ["test", "fixtures", "x"]))
    return out


@pytest.mark.parametrize("pattern", DEEP_PATTERNS)
def test_deep_paths_match_the_former_matcher(pattern: str) -> None:
    for depth in (1, 2, 3, 7, 30):
        for path in _deep_paths(depth):
            for is_dir in (False, True):
                ours = Config(exclude=(pattern,)).is_excluded(path, is_dir)
                assert ours == _reference((pattern,), path, is_dir), (pattern, depth, path, is_dir)
    mixed = tuple(DEEP_PATTERNS[:8])
    for path in _deep_paths(12):
        assert Config(exclude=mixed).is_excluded(path) == _reference(mixed, path), path


def test_cost_is_linear_in_depth() -> None:
    """The work done per path is bounded by (components x pattern parts) component matches,
    each over one name. The former matcher ran a regex over every parent folder's full path
    (quadratic characters) with nested backtracking inside: 700 s for 40 files 900 deep."""
    patterns = compile_all(["**/test/**/fixtures/**", "**/a/**/b/**/c", "*.lock", "**/x/**/y/**/z/**"])
    parts_total = sum(len(p.parts) for p in patterns)
    for depth in (100, 3000):
        for seg in ("test", "fixtures", "a", "x"):
            parts = [seg] * depth + ["f.txt"]
            steps = Steps()
            excluded(patterns, parts, steps=steps)
            assert steps.globs <= len(parts) * parts_total
            assert steps.chars <= sum(map(len, parts)) * parts_total
    steps = Steps()
    assert excluded(patterns, ["test"] * 5000 + ["fixtures", "k.env"], steps=steps)
    assert steps.globs <= 5002 * parts_total


def test_many_stars_in_one_name_do_not_backtrack() -> None:
    """``*a*a*a*b`` over a long name of ``a``: each piece is found at its first occurrence."""
    pat = compile_pattern("*a*a*a*a*a*b")
    assert pat is not None
    name = "a" * 100_000
    assert not excluded([pat], [name]) and excluded([pat], [name + "b"])


# --- classes and escapes: what git check-ignore says ---------------------------------------------

CLASS_PATTERNS = [
    "[z-a]", "[!z-a]", "[[:alpha:]]*", "[[:bogus:]]*", "*[", "a[\\]]", "[a-]", "[]a]", "[!]a]",
    "a[/]b", "a\\/b", "[\\\\]", "[[:digit:]-z]", "[a-[:digit:]]", "x[[]", "[[:alpha:]", "[!-]",
    "[--0]", "ab[", "[a\\-c]", "[^a]", "a\\", "[[:]", "[[:a]", "[]-a]", "[&&]*", "[~~|]",
    "[[:upper:][:digit:]]*", "[[:space:]]", "[[:punct:]]",
]
CLASS_PATHS = [
    "z", "a", "b", "]", "-", "5", "q", "a/b", "a/xb", "a\\", "\\", "a]", "x[", "[", "ab[", ".",
    "c", "Ab", "9z", "&x", "~", "|", " ", "!", "d]",
]


@pytest.mark.parametrize("pattern", CLASS_PATTERNS)
def test_classes_match_git_check_ignore(tmp_path: Path, pattern: str) -> None:
    conf = Config(exclude=(pattern,))
    assert {p for p in CLASS_PATHS if conf.is_excluded(p)} == git_ignored(tmp_path, [pattern], CLASS_PATHS)


def test_no_pattern_is_an_error() -> None:
    """Every string compiles (no re.error, no warning): bad input cannot crash a scan."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for pattern in CLASS_PATTERNS + ["[", "[!", "[\\", "[a-\\", "[[:", "\\", "**/[", "(", ")*+{"]:
            got = compile_pattern(pattern)
            if got is not None:
                excluded([got], ["a", "b"])
