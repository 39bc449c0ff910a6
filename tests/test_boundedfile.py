"""Reading small files a repository may have planted: no hang, no unbounded read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keytrap.boundedfile import Refused, read_regular


def test_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 100)
    assert read_regular(tmp_path / "f", 100) == b"x" * 100
    with pytest.raises(Refused, match=r"larger than the 99 byte limit \(100 bytes\)"):
        read_regular(tmp_path / "f", 99)


def test_fifo_without_writer_is_refused_not_waited_for(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(Refused, match="a FIFO, not a regular file"):
        read_regular(tmp_path / "fifo", 1024)


@pytest.mark.parametrize(("path", "what"), [("/dev/zero", "a character device"), ("/", "a folder")])
def test_devices_and_folders_are_refused(path: str, what: str) -> None:
    with pytest.raises(Refused, match=what):
        read_regular(path, 1024)


def test_sparse_file_is_refused_by_size(tmp_path: Path) -> None:
    with open(tmp_path / "big", "wb") as fh:
        fh.truncate(1 << 30)
    with pytest.raises(Refused, match=r"larger than the 1 MiB limit \(1073741824 bytes\)"):
        read_regular(tmp_path / "big", 1 << 20)


def test_missing_file_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "nope", 10)
