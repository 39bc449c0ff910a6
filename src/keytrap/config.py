"""Settings: one frozen record, loaded from ``.keytrap.toml`` or ``[tool.keytrap]``.

An unknown key or a wrong type is an error that names it: for a security tool a misspelled
allow-list entry must never silently widen what is exempt.
"""

from __future__ import annotations

import os
from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path
    from typing import Any

from keytrap.errors import UsageError

CONFIDENCES = ("low", "medium", "high")
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024


class Config(
    namedtuple(
        "Config",
        "min_confidence max_file_size exclude allow_fingerprints example_keys source base "
        "baseline applied notes",
        defaults=("low", DEFAULT_MAX_FILE_SIZE, (), frozenset(), frozenset(), None, None, None, None, ()),
    )
):
    """Settings for one scan; ``source`` says where they were loaded from (None: defaults).

    ``baseline`` is the ``baseline = "path"`` setting (relative to the config file's folder);
    ``applied`` says, for people, which config file and baseline a scan applied (None: the
    defaults, no baseline); ``notes`` are remarks on how they were chosen (a range whose commits
    change them), for the result's notes.
    """

    __slots__ = ()
    min_confidence: str
    max_file_size: int
    exclude: tuple[str, ...]
    allow_fingerprints: frozenset[str]
    example_keys: frozenset[str]
    source: str | None
    base: str | None  # the folder exclude globs are relative to: the config file's, if any
    baseline: str | None
    applied: str | None
    notes: tuple[str, ...]

    def with_(self, **changes: Any) -> Config:
        return self._replace(**changes)

    def describe(self) -> str:
        """Which settings apply, in one phrase: ``defaults``, or the config file and baseline."""
        return self.applied or "defaults"

    def excludes(self, abs_path: str, rel_path: str, is_dir: bool = False) -> bool:
        """Exclusion for a file met on a walk. A glob matches the path relative to the scan root
        or relative to the config file's folder, so ``scan .`` and ``scan tests`` agree on the
        config's globs and ``--exclude`` keeps its meaning whether a config file exists."""
        if not self.exclude:
            return False
        if self.is_excluded(rel_path, is_dir):  # relative to the scan root (how --exclude reads)
            return True
        if self.base is not None:  # relative to the config file's folder
            rel = os.path.relpath(abs_path, self.base)
            if not rel.startswith(os.pardir):
                return self.is_excluded(rel.replace(os.sep, "/"), is_dir)
        return False

    def is_excluded(self, rel_path: str, is_dir: bool = False) -> bool:
        """gitignore semantics (see :mod:`keytrap.excludes`) against the /-separated path: a
        pattern excludes a path when it matches the path or one of its parent folders; the last
        matching pattern wins, so ``!pattern`` re-includes. Linear in the path's depth."""
        if not self.exclude:
            return False
        from keytrap.excludes import excluded

        parts = [p for p in rel_path.split("/") if p not in ("", ".")]
        return excluded(_compiled(self.exclude), parts, is_dir)


_CACHE: dict[tuple[str, ...], tuple] = {}


def _compiled(patterns: tuple[str, ...]) -> tuple:
    got = _CACHE.get(patterns)
    if got is None:
        from keytrap.excludes import compile_all

        got = compile_all(patterns)
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[patterns] = got
    return got


DEFAULT = Config()

# key -> (type check, description) ; kept explicit so errors can name the expected type
_SCHEMA: dict[str, tuple[type, str]] = {
    "min_confidence": (str, "one of low, medium, high"),
    "max_file_size": (int, "a number of bytes"),
    "exclude": (list, "a list of glob strings"),
    "allow_fingerprints": (list, "a list of fingerprint strings"),
    "example_keys": (list, "a list of strings"),
    "baseline": (str, "a path to a baseline file"),
}


def _show(value: object) -> str:
    """A value for an error message: short, and never a whole key (``example_keys`` hold keys)."""
    from keytrap.findings import scrub_keyshaped

    text = scrub_keyshaped(repr(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _check_str_list(name: str, value: list[Any], where: str) -> tuple[str, ...]:
    for item in value:
        if not isinstance(item, str):
            raise UsageError(f"{where}: '{name}' must be a list of strings, got {_show(item)}")
    return tuple(value)


def parse(table: dict[str, Any], where: str, base: str | None = None) -> Config:
    """Turn a TOML table into a Config, rejecting unknown keys and wrong types."""
    for key in table:
        if key not in _SCHEMA:
            known = ", ".join(sorted(_SCHEMA))
            raise UsageError(f"{where}: unknown setting '{key}' (known: {known})")
    values: dict[str, Any] = {}
    for key, value in table.items():
        expected, desc = _SCHEMA[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise UsageError(f"{where}: '{key}' must be {desc}, got {_show(value)}")
        if key == "min_confidence":
            if value not in CONFIDENCES:
                raise UsageError(f"{where}: 'min_confidence' must be {desc}, got {_show(value)}")
            values[key] = value
        elif key == "max_file_size":
            if value <= 0:
                raise UsageError(f"{where}: 'max_file_size' must be positive, got {value}")
            values[key] = value
        elif key == "exclude":
            values[key] = _check_str_list(key, value, where)
        elif key == "allow_fingerprints":
            values[key] = frozenset(_check_str_list(key, value, where))
        elif key == "example_keys":
            values[key] = frozenset(_check_str_list(key, value, where))
        elif key == "baseline":
            if not value or "\0" in value:
                raise UsageError(f"{where}: 'baseline' must be {desc}, got {_show(value)}")
            values[key] = value
    return Config(source=where, base=base, **values)


#: The most a config file (``.keytrap.toml``, ``pyproject.toml``, ``--config``) may hold.
CONFIG_FILE_LIMIT = 4 * 1024 * 1024


def _read_bytes(path: str) -> bytes:
    """A config file's bytes: a regular file of at most :data:`CONFIG_FILE_LIMIT` bytes, read
    without blocking (a FIFO or ``/dev/zero`` is refused, never read)."""
    from keytrap.boundedfile import Refused, read_regular

    try:
        return read_regular(path, CONFIG_FILE_LIMIT)
    except Refused as exc:
        raise UsageError(f"cannot read config {path}: it is {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot read config {path}: {exc.strerror or exc}") from None


def _read_toml(path: str) -> dict[str, Any]:
    return parse_toml(_read_bytes(path), path)


def may_name_keytrap(data: bytes) -> bool:
    """Can this ``pyproject.toml`` hold a ``[tool.keytrap]`` table? Only if the word is in it,
    or a quoted key spells it with escapes (``"key\\u0074rap"``). One that cannot is not
    parsed: settings it cannot hold, and TOML errors in it, are none of keytrap's business."""
    return b"keytrap" in data or b"\\u" in data or b"\\U" in data


def parse_toml(data: bytes, where: str) -> dict[str, Any]:
    """A TOML document from bytes (a file, or a blob read from a commit)."""
    try:
        import tomllib  # novermin
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10 (a conditional dependency)
        import tomli as tomllib  # type: ignore[no-redef]

    try:
        return tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{where}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{where}: invalid TOML: not UTF-8") from None


def keytrap_table(data: dict[str, Any], where: str, pyproject: bool) -> dict[str, Any] | None:
    """The settings table of a parsed file: the whole of a ``.keytrap.toml``, ``[tool.keytrap]``
    of a ``pyproject.toml`` (None when it has none)."""
    if not pyproject:
        return dedicated_table(data, where)
    tool = data.get("tool", {})
    table = tool.get("keytrap") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise UsageError(f"{where}: [tool.keytrap] must be a table")
    return table


def dedicated_table(data: dict[str, Any], where: str) -> dict[str, Any]:
    """The settings of a ``.keytrap.toml``: its top level, or its ``[tool.keytrap]`` table when
    that is all it holds (a table copied from pyproject.toml keeps working)."""
    tool = data.get("tool")
    if set(data) == {"tool"} and isinstance(tool, dict) and "keytrap" in tool:
        others = sorted(k for k in tool if k != "keytrap")
        if others:
            raise UsageError(f"{where}: unknown table [tool.{others[0]}] (only [tool.keytrap] is read)")
        if not isinstance(tool["keytrap"], dict):
            raise UsageError(f"{where}: [tool.keytrap] must be a table")
        return tool["keytrap"]
    return data


def load(root: str | Path, explicit: str | Path | None = None) -> Config:
    """Load ``explicit``, else ``ROOT/.keytrap.toml``, else ``[tool.keytrap]`` of pyproject."""
    if explicit is not None:
        explicit = os.fspath(explicit)
        if not os.path.exists(explicit) or os.path.isdir(explicit):
            raise UsageError(f"config file not found: {explicit}")
        data = _read_toml(explicit)
        is_pyproject = os.path.basename(explicit) == "pyproject.toml"
        if is_pyproject:
            tool = data.get("tool", {})
            if not isinstance(tool, dict):
                raise UsageError(f"{explicit}: [tool] must be a table")
            table = tool.get("keytrap", data)
        else:
            table = dedicated_table(data, explicit)
        if not isinstance(table, dict):
            raise UsageError(f"{explicit}: [tool.keytrap] must be a table")
        return parse(table, explicit, os.path.dirname(os.path.abspath(explicit)))
    dedicated = os.path.join(root, ".keytrap.toml")
    if os.path.isfile(dedicated):
        return parse(dedicated_table(_read_toml(dedicated), dedicated), dedicated, os.path.abspath(root))
    pyproject = os.path.join(root, "pyproject.toml")
    if os.path.isfile(pyproject):
        data = _read_bytes(pyproject)
        if not may_name_keytrap(data):
            return DEFAULT  # cannot hold [tool.keytrap]: not parsed (tomllib costs the hook ~5 ms)
        table = keytrap_table(parse_toml(data, pyproject), pyproject, pyproject=True)
        if table is None:
            return DEFAULT
        return parse(table, f"{pyproject} [tool.keytrap]", os.path.abspath(root))
    return DEFAULT
