"""Settings: one frozen record, loaded from ``.keytrap.toml`` or ``[tool.keytrap]``.

An unknown key or a wrong type is an error that names it: for a security tool a misspelled
allow-list entry must never silently widen what is exempt.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from keytrap.errors import UsageError

CONFIDENCES = ("low", "medium", "high")
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Config:
    min_confidence: str = "low"
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    exclude: tuple[str, ...] = ()
    allow_fingerprints: frozenset[str] = frozenset()
    example_keys: frozenset[str] = frozenset()
    source: str | None = field(default=None, compare=False)  # where it was loaded from

    def with_(self, **changes: Any) -> Config:
        return replace(self, **changes)

    def is_excluded(self, rel_path: str) -> bool:
        """Glob match against the /-separated path and each of its parent folders."""
        if not self.exclude:
            return False
        parts = rel_path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        for pattern in self.exclude:
            pat = pattern.rstrip("/")
            for candidate in prefixes:
                if fnmatch.fnmatchcase(candidate, pat) or fnmatch.fnmatchcase(
                    candidate.rsplit("/", 1)[-1], pat
                ):
                    return True
        return False


DEFAULT = Config()

# key -> (type check, description) ; kept explicit so errors can name the expected type
_SCHEMA: dict[str, tuple[type, str]] = {
    "min_confidence": (str, "one of low, medium, high"),
    "max_file_size": (int, "a number of bytes"),
    "exclude": (list, "a list of glob strings"),
    "allow_fingerprints": (list, "a list of fingerprint strings"),
    "example_keys": (list, "a list of strings"),
}


def _check_str_list(name: str, value: list[Any], where: str) -> tuple[str, ...]:
    for item in value:
        if not isinstance(item, str):
            raise UsageError(f"{where}: '{name}' must be a list of strings, got {item!r}")
    return tuple(value)


def parse(table: dict[str, Any], where: str) -> Config:
    """Turn a TOML table into a Config, rejecting unknown keys and wrong types."""
    for key in table:
        if key not in _SCHEMA:
            known = ", ".join(sorted(_SCHEMA))
            raise UsageError(f"{where}: unknown setting '{key}' (known: {known})")
    values: dict[str, Any] = {}
    for key, value in table.items():
        expected, desc = _SCHEMA[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise UsageError(f"{where}: '{key}' must be {desc}, got {value!r}")
        if key == "min_confidence":
            if value not in CONFIDENCES:
                raise UsageError(f"{where}: 'min_confidence' must be {desc}, got {value!r}")
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
    return Config(source=where, **values)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: invalid TOML: not UTF-8") from None


def load(root: Path, explicit: Path | None = None) -> Config:
    """Load ``explicit``, else ``ROOT/.keytrap.toml``, else ``[tool.keytrap]`` of pyproject."""
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"config file not found: {explicit}")
        data = _read_toml(explicit)
        table = data.get("tool", {}).get("keytrap", data) if explicit.name == "pyproject.toml" else data
        if not isinstance(table, dict):
            raise UsageError(f"{explicit}: [tool.keytrap] must be a table")
        return parse(table, str(explicit))
    dedicated = root / ".keytrap.toml"
    if dedicated.is_file():
        return parse(_read_toml(dedicated), os.fspath(dedicated))
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = _read_toml(pyproject)
        tool = data.get("tool", {})
        table = tool.get("keytrap") if isinstance(tool, dict) else None
        if table is None:
            return DEFAULT
        if not isinstance(table, dict):
            raise UsageError(f"{pyproject}: [tool.keytrap] must be a table")
        return parse(table, f"{pyproject} [tool.keytrap]")
    return DEFAULT
