"""Scoring shared by the evaluation corpora (tests/corpus.py and the red-team holdouts): precision and recall per context, redacted tables.

A finding is a true positive when its (path, line, kind) matches a ground-truth row, each row
matching once; the kind-agnostic variant matches on (path, line) only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from keytrap.engine import scan_bytes


def redact_short(secret: str) -> str:
    return f"{secret[:4]}…{secret[-4:]}" if len(secret) > 12 else "*" * len(secret)


@dataclass
class Row:
    context: str
    positive: bool
    hardness: str
    expected: int = 0
    tp: int = 0
    fn: list[str] = field(default_factory=list)
    fp: list[str] = field(default_factory=list)


@dataclass
class Evaluation:
    label: str
    rows: dict[str, Row]
    tp: int
    fp: int
    fn: int
    seeds: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def summary(self) -> str:
        return (
            f"[{self.label}] precision={self.precision:.4f} recall={self.recall:.4f} "
            f"(TP={self.tp} FP={self.fp} FN={self.fn}, {self.seeds} seeds)"
        )

    def table(self, only_bad: bool = True) -> str:
        out = [
            self.summary(),
            f"{'context':42} {'type':9} {'exp':>4} {'TP':>4} {'FN':>4} {'FP':>4}",
        ]
        for name, r in sorted(self.rows.items(), key=lambda kv: (not kv[1].positive, kv[0])):
            if only_bad and not r.fn and not r.fp:
                continue
            typ = "pos" if r.positive else f"neg/{r.hardness}"
            out.append(
                f"{name:42} {typ:9} {r.expected:>4} {r.tp:>4} {len(r.fn):>4} {len(r.fp):>4}"
            )
            for m in r.fn[:3]:
                out.append(f"    missed: {m}")
            for m in r.fp[:3]:
                out.append(f"    false:  {m}")
        return "\n".join(out)


SWAP = {"api_key": "secret_key", "secret_key": "api_key"}


def evaluate(files: list, kind_agnostic: bool = False, seeds: int = 0) -> Evaluation:
    """Score ``scan_bytes`` on each file against its truth rows.

    A file with ``ambiguous_kind`` set (two unlabelled values, e.g. a bare keys.txt) also
    accepts a key/secret swap, matched only after every exact match.
    """
    rows: dict[str, Row] = {}
    tp = fp = fn = 0

    def key(line: int, kind: str) -> tuple:
        return (line,) if kind_agnostic else (line, kind)

    for f in files:
        row = rows.setdefault(f.context, Row(f.context, f.positive, getattr(f, "hardness", "")))
        row.expected += len(f.truths)
        remaining = Counter(key(t.line, t.kind) for t in f.truths)
        unmatched = []
        for x in scan_bytes(f.data, f.path):
            k = key(x.line, x.kind)
            if remaining[k] > 0:
                remaining[k] -= 1
                row.tp += 1
                tp += 1
            else:
                unmatched.append(x)
        if getattr(f, "ambiguous_kind", False):
            still = []
            for x in unmatched:
                k = key(x.line, SWAP.get(x.kind, x.kind))
                if remaining[k] > 0:
                    remaining[k] -= 1
                    row.tp += 1
                    tp += 1
                else:
                    still.append(x)
            unmatched = still
        for x in unmatched:
            fp += 1
            row.fp.append(
                f"{x.path}:{x.line} {x.kind} {x.confidence} {redact_short(x.secret)}"
                + (f" enc={x.encoding}" if x.encoding else "")
            )
        for k, n in remaining.items():
            for _ in range(n):
                fn += 1
                row.fn.append(f"{f.path}:{k[0]}" + ("" if kind_agnostic else f" {k[1]}"))
    return Evaluation("kind-agnostic" if kind_agnostic else "strict", rows, tp, fp, fn, seeds)
