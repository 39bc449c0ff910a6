"""Exclude patterns: gitignore(5) semantics, matched one path component at a time.

A scanned repository chooses its paths; the user (or a trusted config) chooses the patterns.
Paths can be thousands of folders deep, so the cost of a match must grow linearly with the
path, never with a power of it: translating a whole pattern to one regex and running it on
every parent folder of a path (``(?:[^/]*/)*`` groups backtracking over a prefix, once per
prefix) took minutes for a few files 900 folders deep.

Here a pattern is split at its ``/`` into component globs and ``**`` runs, and all patterns
walk the path's components together, once, as small automata (a set of positions per
pattern). After each component every pattern knows whether it matches that parent folder, so
"a pattern matches the path or one of its parents; the last match wins" costs
O(components x pattern parts). A component glob is a regex over one name whose ``*`` runs
cannot backtrack into each other (each fixed piece between two ``*`` is taken at its first
occurrence, as ``fnmatch`` does), so one name costs O(len(name) x len(glob)).

The rules are git's (``wildmatch`` with ``WM_PATHNAME``; the tests compare with
``git check-ignore``): ``*`` and ``?`` never match ``/``; ``[...]`` is a class (``!`` or ``^``
negates it, a ``]`` first is literal, ``a-z`` ranges, a reversed range ``z-a`` holds only its
first character, ``[:alpha:]`` and the other POSIX classes, ``\\`` escapes); a class that is
never closed, an unknown POSIX class name or a trailing ``\\`` make a pattern that matches
nothing, as in git. No pattern is an error.

Stdlib only: the pre-commit hook applies excludes on every commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

#: A pattern part that spans zero or more folders (``**`` between slashes).
ANY_DEPTH = None

_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t-\\r ",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}

_SLASH, _STAR = object(), object()


class _Never(Exception):
    """The pattern can match nothing (git's ``WM_ABORT_ALL``)."""


class Pattern(NamedTuple):
    """One exclude line, compiled. ``parts`` holds a regex per path component, or
    :data:`ANY_DEPTH` for ``**``; an unanchored pattern has one part, matched against the
    last component (the name) of each parent folder."""

    text: str
    negated: bool
    dir_only: bool
    anchored: bool
    parts: tuple[re.Pattern[str] | None, ...]


def compile_pattern(pattern: str) -> Pattern | None:
    """One gitignore line, or None when it matches nothing (blank, a comment, or a pattern git
    would never match)."""
    pat = pattern.rstrip("\n\r")
    if not pat.strip() or pat.startswith("#"):
        return None
    while pat.endswith(" ") and not pat.endswith("\\ "):  # trailing spaces, unless escaped
        pat = pat[:-1]
    negated = pat.startswith("!")
    if negated:
        pat = pat[1:]
    elif pat.startswith("\\!") or pat.startswith("\\#"):
        pat = pat[1:]
    dir_only = pat.endswith("/")
    pat = pat.rstrip("/")
    if not pat:
        return None
    anchored = "/" in pat
    if anchored:
        pat = pat.lstrip("/")
    try:
        tokens = _tokens(pat)
    except _Never:
        return None
    components: list[list[object]] = [[]]
    for tok in tokens:
        if tok is _SLASH:
            components.append([])
        else:
            components[-1].append(tok)
    parts: list[re.Pattern[str] | None] = []
    for comp in components:
        if len(comp) == 1 and isinstance(comp[0], tuple) and comp[0][1] >= 2:  # "**"
            parts.append(ANY_DEPTH)
        else:
            parts.append(_glob(comp))
    if not anchored:
        only = parts[0]
        parts = [only if only is not ANY_DEPTH else _glob([(_STAR, 1)])]
    elif parts[-1] is ANY_DEPTH:  # a trailing "**": everything inside, at least one name
        parts[-1:] = [_glob([(_STAR, 1)]), ANY_DEPTH]
    return Pattern(pattern, negated, dir_only, anchored, tuple(parts))


def _tokens(pat: str) -> list[object]:
    """``/`` as :data:`_SLASH`, ``*`` runs as ``(_STAR, count)``, everything else as a regex
    fragment for one character."""
    out: list[object] = []
    i, n = 0, len(pat)
    while i < n:
        c = pat[i]
        if c == "/":
            out.append(_SLASH)
        elif c == "*":
            j = i
            while j < n and pat[j] == "*":
                j += 1
            out.append((_STAR, j - i))
            i = j
            continue
        elif c == "?":
            out.append(".")
        elif c == "[":
            frag, i = _class(pat, i)
            out.append(frag)
        elif c == "\\":
            i += 1
            if i >= n:
                raise _Never  # a trailing backslash: git matches nothing
            out.append(_SLASH if pat[i] == "/" else re.escape(pat[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return out


def _class(pat: str, i: int) -> tuple[str, int]:
    """The class opening at ``pat[i] == "["`` as a regex fragment, and the index of its ``]``.
    Follows git's wildmatch loop item by item (so ``[]a]``, ``[z-a]``, ``[a-]`` and
    ``[[:alpha:]]`` mean what they mean to git)."""
    n = len(pat)
    j = i + 1
    negated = j < n and pat[j] in "!^"
    if negated:
        j += 1
    items: list[str] = []
    prev: str | None = None
    first = True
    while True:
        if j >= n:
            raise _Never  # never closed
        c = pat[j]
        if c == "]" and not first:
            break
        first = False
        if c == "\\":
            j += 1
            if j >= n:
                raise _Never
            items.append(_in_class(pat[j]))
            prev = pat[j]
        elif c == "-" and prev is not None and j + 1 < n and pat[j + 1] != "]":
            j += 1
            hi = pat[j]
            if hi == "\\":
                j += 1
                if j >= n:
                    raise _Never
                hi = pat[j]
            if prev <= hi:
                items.append(f"{_in_class(prev)}-{_in_class(hi)}")
            prev = None  # a reversed range holds only its first character, already added
        elif c == "[" and j + 1 < n and pat[j + 1] == ":":
            k = j + 2
            while k < n and pat[k] != "]":
                k += 1
            if k >= n:
                raise _Never
            if k - (j + 2) - 1 < 0 or pat[k - 1] != ":":  # no ":]": a plain "["
                items.append(_in_class("["))
                prev = "["
            else:
                name = pat[j + 2 : k - 1]
                if name not in _POSIX:
                    raise _Never
                items.append(_POSIX[name])
                prev = None
                j = k
        else:
            items.append(_in_class(c))
            prev = c
        j += 1
    body = "".join(items)
    if not body:  # cannot happen (a class holds at least its first character); be safe
        return ("." if negated else "(?!)"), j
    return ("[^" if negated else "[") + body + "]", j


def _in_class(c: str) -> str:
    return re.escape(c)  # escapes "]", "^", "-", "[", "\\" and the set operators "&", "~", "|"


def _glob(tokens: Sequence[object]) -> re.Pattern[str]:
    """A regex for one path component. Each fixed piece after a ``*`` is found at its first
    occurrence (an atomic lookahead), as ``fnmatch`` does: no backtracking between stars."""
    pieces: list[list[str]] = [[]]
    for tok in tokens:
        if isinstance(tok, tuple):  # a "*" run (a "**" inside a name is a "*")
            if pieces[-1] or len(pieces) == 1:
                pieces.append([])
        else:
            pieces[-1].append(tok)  # type: ignore[arg-type]
    if len(pieces) == 1:
        regex = "".join(pieces[0])
    else:
        out = ["".join(pieces[0])]
        for n, middle in enumerate(pieces[1:-1]):
            fixed = "".join(middle)
            out.append(f"(?=(?P<g{n}>.*?{fixed}))(?P=g{n})")
        out.append(".*" + "".join(pieces[-1]))
        regex = "".join(out)
    return re.compile(regex + r"\Z", re.DOTALL)


def compile_all(patterns: Sequence[str]) -> tuple[Pattern, ...]:
    return tuple(p for p in (compile_pattern(text) for text in patterns) if p is not None)


class Steps:
    """Counts the work of :func:`excluded`: component names handed to a glob, and the
    characters in them. Tests use it to bound the cost by the path's length."""

    __slots__ = ("globs", "chars")

    def __init__(self) -> None:
        self.globs = 0
        self.chars = 0


def excluded(patterns: Sequence[Pattern], parts: Sequence[str], is_dir: bool = False,
             steps: Steps | None = None) -> bool:
    """Does a pattern exclude the path ``parts`` (its components) or one of its parent
    folders? At each folder the last matching pattern wins (``!`` re-includes); an excluded
    folder excludes everything below it (as in git: nothing inside is re-included)."""
    if not patterns or not parts:
        return False
    states: list[set[int] | None] = [
        _closure(p.parts, {0}) if p.anchored else None for p in patterns
    ]
    last = len(parts)
    for depth, name in enumerate(parts, 1):
        is_folder = depth < last or is_dir
        verdict = False
        for idx, pat in enumerate(patterns):
            if pat.anchored:
                current = states[idx]
                if not current:
                    continue  # this pattern can no longer match anything below
                nxt: set[int] = set()
                for pos in current:
                    if pos == len(pat.parts):
                        continue
                    part = pat.parts[pos]
                    if part is ANY_DEPTH:
                        nxt.add(pos)
                    else:
                        if steps is not None:
                            steps.globs += 1
                            steps.chars += len(name)
                        if part.match(name):
                            nxt.add(pos + 1)
                current = _closure(pat.parts, nxt)
                states[idx] = current
                hit = len(pat.parts) in current
            else:
                if steps is not None:
                    steps.globs += 1
                    steps.chars += len(name)
                hit = pat.parts[0].match(name) is not None  # type: ignore[union-attr]
            if hit and (is_folder or not pat.dir_only):
                verdict = not pat.negated
        if verdict:
            return True
    return False


def _closure(parts: tuple[re.Pattern[str] | None, ...], positions: set[int]) -> set[int]:
    """Add the positions reachable by letting each ``**`` span no folder."""
    out = set(positions)
    todo = list(positions)
    while todo:
        pos = todo.pop()
        if pos < len(parts) and parts[pos] is ANY_DEPTH and pos + 1 not in out:
            out.add(pos + 1)
            todo.append(pos + 1)
    return out
