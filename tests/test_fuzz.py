"""A short fuzz run in the test suite (about 2.5 s): random and mutated inputs through the
engine, the decoders, the prefilter, the staged-diff parser and the config/baseline parsers.

No target may raise anything but the documented ``UsageError`` (which the targets catch).
``bench/fuzz.py`` runs the same targets for longer: ``python bench/fuzz.py --seconds 300``.
"""

from __future__ import annotations

import os
import random
import time

import pytest
from fuzz_targets import TARGETS, random_input, run_one, seeds

BUDGET_S = float(os.environ.get("KEYTRAP_FUZZ_SECONDS", "0.4"))  # per target: 6 targets
SEED = int(os.environ.get("KEYTRAP_FUZZ_SEED", "20240601"))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_target(name: str) -> None:
    rnd = random.Random(f"{SEED}:{name}")
    pool = seeds(rnd)[TARGETS[name][1]]
    for data in pool:  # the seeds themselves first
        assert run_one(name, data) is None
    tried, deadline = 0, time.monotonic() + BUDGET_S
    while time.monotonic() < deadline:
        data = random_input(rnd, pool)
        exc = run_one(name, data)
        assert exc is None, f"{name} raised {type(exc).__name__}: {exc} on input {data[:200]!r}"
        tried += 1
    assert tried > 20
