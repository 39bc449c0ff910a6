"""Peak memory of a scan stays bounded: measured in a fresh parent process so that no earlier
child of the test run counts (``RUSAGE_CHILDREN`` keeps the largest child's peak RSS).

Measured here (Linux, CPython 3.11): interpreter + keytrap ~25 MB; a 30 MB one-line file
~85 MB; in general about 2x the largest file scanned (its bytes + one translated copy for the
prefilter), never the sum of all files. See docs/bad-input.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import random_secret

resource = pytest.importorskip("resource")

LIMIT_MB = 250
SIZE = 30 * 1024 * 1024

_MEASURE = """
import json, resource, subprocess, sys
proc = subprocess.run([sys.executable, "-m", "keytrap", *sys.argv[1:]], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(json.dumps({"rc": proc.returncode, "peak_kib": peak, "stdout": proc.stdout, "stderr": proc.stderr}))
"""


def peak_rss(*args: str) -> tuple[int, float, str]:
    out = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True, env=os.environ, check=True)
    import json

    doc = json.loads(out.stdout)
    assert "Traceback" not in doc["stderr"], doc["stderr"]
    kib = doc["peak_kib"] if sys.platform != "darwin" else doc["peak_kib"] / 1024
    return doc["rc"], kib / 1024, doc["stdout"]


def test_30mb_single_line_peak_rss_bounded(tmp_path: Path) -> None:
    key = random_secret()
    tail = f" BINANCE_API_SECRET={key} ".encode()
    with open(tmp_path / "one-line.txt", "wb") as fh:
        fh.write(b"z" * (SIZE - len(tail)))
        fh.write(tail)
    rc, mb, stdout = peak_rss("scan", str(tmp_path), "--max-size", "40M", "-f", "json")
    assert rc == 1, stdout
    assert '"line": 1' in stdout
    assert mb < LIMIT_MB, f"peak RSS {mb:.0f} MB"


def test_many_candidates_on_one_long_line_bounded(tmp_path: Path) -> None:
    """2 MB of key-shaped tokens on one line (~30k candidates): linear time, bounded memory.

    Was quadratic before the engine fix: 8 MB took 595 s, now ~5 s; 2 MB now ~1.5 s.
    """
    import random

    rnd = random.Random(3)
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    tokens = " ".join("".join(rnd.choices(alnum, k=64)) for _ in range(2 * 1024 * 1024 // 65))
    (tmp_path / "tokens.txt").write_text(tokens)
    import time

    started = time.monotonic()
    rc, mb, _ = peak_rss("scan", str(tmp_path / "tokens.txt"), "-f", "json", "-o", str(tmp_path / "r.json"))
    assert time.monotonic() - started < 20
    assert rc == 1
    assert mb < LIMIT_MB, f"peak RSS {mb:.0f} MB"
