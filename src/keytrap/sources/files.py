"""Working-tree source: walk paths, read files safely, hand bytes to the engine.

Rules of the walk: ``.git`` is never entered; symlinks are never followed (a symlink named on
the command line is followed only when its target stays inside the scan root); binary, huge,
unreadable and special files are skipped with a reason that the report lists; nothing is
ever written.
"""

from __future__ import annotations

import codecs
import os
import stat
import time
from collections.abc import Callable, Iterator
from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import BinaryIO

from keytrap.config import Config
from keytrap.errors import UsageError
from keytrap.findings import Finding, ScanResult, ScanStats, Skipped
# BINARY_SNIFF: git's own rule, a NUL byte in the first 8000 bytes makes a file binary (the same
# for every source); kept importable from here
from keytrap.sources.content import BINARY_SNIFF, plain_text

SKIP_DIRS = frozenset({".git", ".hg", ".svn"})
#: Folders a walk skips unless asked (``--include-deps``): installed dependencies and tool caches,
#: not the project's code. ``__pycache__`` is not among them (a committed .pyc can hold a key),
#: nor are ``dist``/``build`` (what gets published). A virtualenv is known by its ``pyvenv.cfg``,
#: whatever its name.
DEPENDENCY_DIRS: dict[str, str] = {
    "node_modules": "node_modules",
    ".tox": "tool cache",
    ".nox": "tool cache",
    ".mypy_cache": "tool cache",
    ".pytest_cache": "tool cache",
    ".ruff_cache": "tool cache",
}
_DEPS_HINT = " (--include-deps scans it)"


def dependency_dir(path: str, name: str) -> str | None:
    """Why a folder met on a walk holds dependencies or caches (a skip reason), or None."""
    kind = DEPENDENCY_DIRS.get(name)
    if kind is None and os.path.isfile(os.path.join(path, "pyvenv.cfg")):
        kind = "virtualenv"
    return None if kind is None else kind + _DEPS_HINT


class FileEntry(namedtuple("FileEntry", "abs_path rel_path size")):
    __slots__ = ()
    abs_path: str
    rel_path: str
    size: int


def rel_to(path: str, root: str) -> str:
    """``path`` relative to ``root`` with / separators; absolute when outside the root."""
    rel = os.path.relpath(path, root)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        rel = os.path.abspath(path)
    return rel.replace(os.sep, "/")


def _inside(path: str, root: str) -> bool:
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def walk(
    paths: list[str], root: str, config: Config, skipped: list[Skipped], include_deps: bool = False
) -> Iterator[FileEntry]:
    """Yield regular files under ``paths`` in a stable order; record what is skipped.

    Folders of dependencies and caches met on the way are skipped (listed, with the reason)
    unless ``include_deps``; a path named on the command line is always walked."""
    for top in paths:
        if not os.path.lexists(top):
            raise UsageError(f"path not found: {top}")
        rel_top = rel_to(top, root)
        try:
            st = os.lstat(top)
        except OSError as exc:
            raise UsageError(f"cannot access {top}: {exc.strerror}") from None
        if stat.S_ISLNK(st.st_mode):
            if not os.path.exists(top):
                skipped.append(Skipped(rel_top, "broken symlink"))
                continue
            if not _inside(top, root):
                skipped.append(Skipped(rel_top, "symlink pointing outside the scan root"))
                continue
            st = os.stat(top)
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(top, root, config, skipped, include_deps)
        elif stat.S_ISREG(st.st_mode):
            if not config.excludes(os.path.abspath(top), rel_top):
                yield FileEntry(top, rel_top, st.st_size)
        else:
            skipped.append(Skipped(rel_top, "not a regular file"))


def _walk_dir(
    top: str, root: str, config: Config, skipped: list[Skipped], include_deps: bool = False
) -> Iterator[FileEntry]:
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(rel_to(folder, root), f"unreadable folder: {exc.strerror}"))
            continue
        subdirs = []
        for entry in entries:
            rel = rel_to(entry.path, root)
            try:
                if entry.is_symlink():
                    skipped.append(Skipped(rel, "symlink (not followed)"))
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in SKIP_DIRS or config.excludes(entry.path, rel, is_dir=True):
                        continue
                    reason = None if include_deps else dependency_dir(entry.path, entry.name)
                    if reason is not None:
                        skipped.append(Skipped(rel, reason))
                    else:
                        subdirs.append(entry.path)
                    continue
                if config.excludes(entry.path, rel):
                    continue
                if not entry.is_file(follow_symlinks=False):
                    skipped.append(Skipped(rel, "not a regular file"))
                    continue
                size = entry.stat(follow_symlinks=False).st_size
            except OSError as exc:
                skipped.append(Skipped(rel, f"unreadable: {exc.strerror}"))
                continue
            yield FileEntry(entry.path, rel, size)
        stack.extend(reversed(subdirs))


def text_codec(head: bytes) -> str | None:
    """The codec a file's first bytes call for: UTF-16/32 by their BOM, or UTF-16/32 without
    one (NULs in alternate positions, or three NULs in four: ``content.bomless_codec``); None
    for UTF-8 / binary."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return codec
    if b"\x00" in head:
        from keytrap.sources.content import bomless_codec

        return bomless_codec(head)
    return None


def decode_for_scan(data: bytes) -> bytes | None:
    """Bytes the engine can read, or None for binary. UTF-16/32 with or without a BOM
    become UTF-8 (invalid code units become U+FFFD, as invalid UTF-8 is tolerated)."""
    if plain_text(data):
        return data  # ``text_codec`` would say None, and no NUL makes it binary
    head = data[:BINARY_SNIFF]
    codec = text_codec(head)
    if codec is not None:
        # a stray odd byte or lone surrogate must not hide the rest of the file
        return data.decode(codec, "replace").encode("utf-8")
    if b"\x00" in head:
        return None
    return data


def _read_limited(fh: BinaryIO, size: int, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes. ``read(n)`` allocates n bytes up front, so ask for what the
    file holds (``--max-size 30G`` must not mean a 30 GB buffer per file); read on in 1 MiB
    steps only if it holds more than stat said (it grew, or /proc reports 0)."""
    data = fh.read(min(limit, size) + 1)
    if len(data) <= size or len(data) > limit:
        return data
    parts, total = [data], len(data)
    while total <= limit:
        chunk = fh.read(min(1 << 20, limit + 1 - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def read_entry(entry: FileEntry, config: Config) -> tuple[bytes | None, str | None]:
    """(the file's bytes, None) or (None, reason to skip). Text or binary alike: how the bytes
    are read is ``content.scan_blob``'s business, the same for every source."""
    if entry.size > config.max_file_size:
        return None, f"larger than the {config.max_file_size} byte limit ({entry.size} bytes)"
    try:
        with open(entry.abs_path, "rb") as fh:
            data = _read_limited(fh, entry.size, config.max_file_size)
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    if len(data) > config.max_file_size:
        return None, f"larger than the {config.max_file_size} byte limit"
    return data, None


def scan_paths(
    paths: list[str],
    root: str,
    config: Config,
    progress: Callable[[int, int], None] | None = None,
    include_deps: bool = False,
) -> ScanResult:
    from keytrap.candidates.keyfiles import EMPTY, PENDING
    from keytrap.sources.content import has_pending, needs_repo, repo_evidence, scan_blob, settled, with_repo_network

    started = time.perf_counter()
    skipped: list[Skipped] = []
    entries = list(walk(paths, root, config, skipped, include_deps))
    from keytrap.sources.gitstatus import toplevel

    top = toplevel(root) if entries else None  # path hints read repository-relative paths
    per_file: list[list[Finding]] = []
    pending: list[tuple[int, FileEntry, str]] = []
    files = nbytes = 0
    for i, entry in enumerate(entries):
        data, reason = read_entry(entry, config)
        if data is None:
            skipped.append(Skipped(entry.rel_path, reason or "skipped"))
        else:
            context = rel_to(entry.abs_path, top) if top else entry.rel_path
            got = scan_blob(data, entry.rel_path, config, context_path=context, repo=PENDING)
            if not got.read:
                skipped.append(Skipped(entry.rel_path, "binary"))  # nothing in it worth reading
            else:
                files += 1
                nbytes += got.nbytes
                if has_pending(got.findings):
                    pending.append((len(per_file), entry, context))
                per_file.append(got.findings)
        if progress is not None:
            progress(i + 1, len(entries))
    # key files with no evidence of their own, and keys whose file names no network, judged by
    # what the repository's Binance code says: read again only when some finding needs it
    repo = settled(EMPTY)
    if any(needs_repo(found) for found in per_file):
        repo = repo_evidence((read_entry(entry, config)[0] for entry in entries), bool(pending))
    for index, entry, context in pending:
        data, _reason = read_entry(entry, config)
        per_file[index] = (
            scan_blob(data, entry.rel_path, config, context_path=context, repo=repo).findings if data else []
        )
    findings = with_repo_network([f for found in per_file for f in found], repo)
    stats = ScanStats(
        files_scanned=files,
        bytes_scanned=nbytes,
        skipped=tuple(skipped),
        duration_s=time.perf_counter() - started,
    )
    return ScanResult(root=root, findings=tuple(findings), stats=stats, mode="worktree")


def default_root(paths: list[str]) -> str:
    """Reports are relative to the single folder scanned, else to the current folder."""
    if len(paths) == 1 and os.path.isdir(paths[0]):
        return paths[0]
    return os.curdir
