"""Precision and recall of the engine on the THIRD HOLDOUT corpus (``tests/holdout3.py``).

The engine was never tuned on these contexts. A finding is a true positive when its
(path, line, kind) matches a ground-truth row, each row matching once. A kind-agnostic variant
matches on (path, line) only, so a key/secret label swap shows up there as a hit.

Thresholds: precision >= 0.98 and recall >= 0.98 (strict and kind-agnostic), over
``KEYTRAP_HOLDOUT3_SEEDS`` (default: seeds 1..20). On failure a per-context table of misses and
false positives is printed; secrets appear redacted only (first 4 + last 4 characters).

These assertions are deliberately left honest: if they fail, the engine has to be fixed, not
the holdout.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import holdout3 as H  # noqa: E402

import scoring  # noqa: E402
from keytrap.engine import scan_bytes  # noqa: E402
from scoring import Evaluation  # noqa: E402

_DEFAULT_SEEDS = ",".join(str(i) for i in range(1, 21))
SEEDS = [int(s) for s in os.environ.get("KEYTRAP_HOLDOUT3_SEEDS", _DEFAULT_SEEDS).split(",")]
MIN_PRECISION = 0.98
MIN_RECALL = 0.98


def evaluate(files: list[H.HoldoutFile], kind_agnostic: bool = False) -> Evaluation:
    return scoring.evaluate(files, kind_agnostic, seeds=len(SEEDS))


@pytest.fixture(scope="module")
def holdout3_files() -> list[H.HoldoutFile]:
    files: list[H.HoldoutFile] = []
    for seed in SEEDS:
        for f in H.build_holdout3(seed):
            path = f"s{seed}/{f.path}"
            files.append(
                H.HoldoutFile(
                    f.context,
                    path,
                    f.data,
                    f.positive,
                    [H.Truth(path, t.line, t.kind) for t in f.truths],
                    f.hardness,
                    f.needles,
                )
            )
    return files


@pytest.fixture(scope="module")
def strict(holdout3_files: list[H.HoldoutFile]) -> Evaluation:
    return evaluate(holdout3_files)


@pytest.fixture(scope="module")
def agnostic(holdout3_files: list[H.HoldoutFile]) -> Evaluation:
    return evaluate(holdout3_files, kind_agnostic=True)


# ------------------------------------------------------------------------------------------
# the holdout itself


def test_holdout3_size() -> None:
    assert len(H.POSITIVE) >= 25
    assert len(H.NEGATIVE) >= 20


def test_no_key_shaped_literal_in_holdout_source() -> None:
    src = Path(H.__file__).read_text()
    tokens = set(re.findall(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])", src))
    assert tokens <= {H.DOC_API_KEY, H.DOC_SECRET_KEY}, "key-shaped literal in holdout3.py"


def test_holdout3_deterministic_and_fresh(holdout3_files: list[H.HoldoutFile]) -> None:
    again = H.build_holdout3(SEEDS[0])
    first = [f for f in holdout3_files if f.path.startswith(f"s{SEEDS[0]}/")]
    assert [f.data for f in first] == [f.data for f in again]
    seen: set[str] = set()
    for seed in SEEDS:
        secrets = {
            n
            for f in holdout3_files
            if f.path.startswith(f"s{seed}/")
            for n in f.needles
            if not n.startswith("-----")
        }
        assert secrets and not secrets & seen
        seen |= secrets


def test_holdout3_disjoint_from_tuned_corpora() -> None:
    """No context name, and no secret for the same seed, is shared with the earlier corpora."""
    import corpus as C
    import holdout as H1
    import holdout2 as H2

    tuned = (
        set(C.POSITIVE) | set(C.NEGATIVE) | set(H1.POSITIVE) | set(H1.NEGATIVE)
        | set(H2.POSITIVE) | set(H2.NEGATIVE)
    )
    assert not (set(H.POSITIVE) | set(H.NEGATIVE)) & tuned
    assert not set(H.POSITIVE) & set(H.NEGATIVE)
    assert H.Gen.SALT not in {H1.Gen.SALT, H2.Gen.SALT, C.Gen.SALT if hasattr(C.Gen, "SALT") else None}

    def secrets(files: list) -> set[str]:
        return {n for f in files for n in f.needles if not n.startswith("-----")}

    mine = secrets(H.build_holdout3(SEEDS[0]))
    assert not mine & secrets(H1.build_holdout(SEEDS[0]))
    assert not mine & secrets(H2.build_holdout2(SEEDS[0]))


def test_ground_truth_lines_hold_their_needle(holdout3_files: list[H.HoldoutFile]) -> None:
    for f in holdout3_files:
        lines = f.data.decode("utf-8").split("\n")
        for t, needle in zip(f.truths, f.needles):
            assert needle in lines[t.line - 1], (f.context, t.line)
        assert f.positive == bool(f.truths), f.context


def test_doc_example_pair_only_in_negatives(holdout3_files: list[H.HoldoutFile]) -> None:
    assert any(H.DOC_API_KEY.encode() in f.data for f in holdout3_files)
    for f in holdout3_files:
        if H.DOC_API_KEY.encode() in f.data or H.DOC_SECRET_KEY.encode() in f.data:
            assert not f.positive, f.context


# ------------------------------------------------------------------------------------------
# the engine against it


def test_precision_and_recall_strict(strict: Evaluation) -> None:
    print(strict.table(only_bad=False))
    ok = strict.precision >= MIN_PRECISION and strict.recall >= MIN_RECALL
    assert ok, "\n" + strict.table()


def test_precision_and_recall_kind_agnostic(agnostic: Evaluation) -> None:
    print(agnostic.table(only_bad=False))
    ok = agnostic.precision >= MIN_PRECISION and agnostic.recall >= MIN_RECALL
    assert ok, "\n" + agnostic.table()


def test_doc_example_pair_never_reported(holdout3_files: list[H.HoldoutFile]) -> None:
    for f in holdout3_files:
        for x in scan_bytes(f.data, f.path):
            assert x.secret not in (H.DOC_API_KEY, H.DOC_SECRET_KEY), f.context


if __name__ == "__main__":  # quick report: python tests/test_holdout3.py
    fs: list[H.HoldoutFile] = []
    for seed in SEEDS:
        for f in H.build_holdout3(seed):
            p = f"s{seed}/{f.path}"
            fs.append(H.HoldoutFile(f.context, p, f.data, f.positive,
                                    [H.Truth(p, t.line, t.kind) for t in f.truths], f.hardness))
    for ev in (evaluate(fs), evaluate(fs, kind_agnostic=True)):
        print(ev.table())
        print()
