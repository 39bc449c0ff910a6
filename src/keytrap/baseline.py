"""Baselines: the fingerprints of known findings, so CI fails only on new ones.

A baseline holds hashes, never secrets, not even redacted. Fingerprints carry no path or line,
so moving the line or renaming the file keeps a finding in the baseline.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from keytrap.errors import UsageError
from keytrap.findings import Finding

DEFAULT_NAME = ".keytrap-baseline.json"
VERSION = 1


def render(findings: Iterable[Finding]) -> str:
    entries: dict[str, dict[str, str]] = {}
    for f in findings:
        # no path: a file can be named after its key, and paths churn on renames anyway
        entries.setdefault(f.fingerprint, {"fingerprint": f.fingerprint, "rule": f.rule, "kind": f.kind})
    doc = {
        "version": VERSION,
        "tool": "keytrap",
        "note": "Fingerprints are salted hashes of findings; no secret is stored here.",
        "fingerprints": [entries[k] for k in sorted(entries)],
    }
    return json.dumps(doc, indent=2) + "\n"


def parse(text: str, where: str) -> frozenset[str]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: malformed baseline: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("fingerprints"), list):
        raise UsageError(f"{where}: malformed baseline: expected an object with a 'fingerprints' list")
    out = set()
    for item in doc["fingerprints"]:
        fp = item.get("fingerprint") if isinstance(item, dict) else item
        if not isinstance(fp, str) or not fp:
            raise UsageError(f"{where}: malformed baseline: bad entry {item!r}")
        out.add(fp)
    return frozenset(out)


#: The most a baseline file may hold (about 400,000 fingerprints).
BASELINE_LIMIT = 64 * 1024 * 1024


def load(path: Path) -> frozenset[str]:
    """The fingerprints of a baseline file: a regular file of at most :data:`BASELINE_LIMIT`
    bytes, read without blocking (a FIFO, ``/dev/zero`` or a folder is refused, never read)."""
    from keytrap.boundedfile import Refused, read_regular

    try:
        text = read_regular(path, BASELINE_LIMIT).decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"baseline not found: {path}") from None
    except Refused as exc:
        raise UsageError(f"cannot read baseline {path}: it is {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read baseline {path}: {exc}") from None
    return parse(text, str(path))


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename: an interrupted run leaves no partial file.

    Devices and pipes (``/dev/stdout``, ``/dev/null``, a FIFO) are written in place: renaming
    over them would replace the device with a regular file. A path that cannot be written
    (missing folder, a directory, no space) is a one-line UsageError.
    """
    try:
        _write_atomic(path, text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_atomic(path: Path, text: str) -> None:
    if path.exists() and not path.is_file():
        # a device or a pipe: opened without blocking, so a FIFO nobody reads is an error
        # (ENXIO) instead of a hang
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                raise UsageError(f"cannot write {path}: a FIFO that no process is reading") from None
            raise
        os.set_blocking(fd, True)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
