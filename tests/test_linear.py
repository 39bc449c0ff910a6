"""Every stage is linear in its input: adversarial inputs, operation counts, equivalences.

The timed cases compare 1x with 4x the input (a quadratic stage takes ~16x, a linear one ~4x)
and each case with plain key-shaped tokens of the same size (a stage with a huge constant, such
as a 16 KB regex window per PEM BEGIN line, costs 10-100x more). Timings are the minimum of
three runs, with wide margins; the paths that were quadratic also have exact operation counts.
The timed table with larger inputs is bench/bench_adversarial.py.
"""

from __future__ import annotations

import gc
import random
import re
import time

import pytest
from adversarial import CASES, make, token
from hypothesis import given, settings
from hypothesis import strategies as st

from keytrap import engine
from keytrap.engine import _pair, _private_pem_blocks, scan_bytes

SIZE = 32 * 1024


def _best(name: str, n: int) -> float:
    """Minimum of three runs, with the cyclic GC paused: its full collections walk every object
    the earlier tests left alive, which is noise here, not the engine's cost. Each run starts
    with no token verdict remembered (``engine._VERDICTS``): the cost of an input seen once."""
    path, data = make(name, n)
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            engine._VERDICTS.clear()
            started = time.perf_counter()
            scan_bytes(data, path)
            best = min(best, time.perf_counter() - started)
    finally:
        gc.enable()
    return best


@pytest.mark.parametrize("name", sorted(CASES))
def test_adversarial_input_scales_linearly(name: str) -> None:
    one, four = _best(name, SIZE), _best(name, 4 * SIZE)
    assert four < 8 * one or four < 0.02, f"{name}: 4x input took {four / one:.1f}x ({one:.3f}s -> {four:.3f}s)"


@pytest.fixture(scope="module")
def reference() -> float:
    """Plain key-shaped tokens, one after another: every one a candidate, the costliest normal input."""
    return _best("tokens_one_line", 4 * SIZE)


@pytest.mark.parametrize("name", sorted(CASES))
def test_adversarial_input_costs_no_more_than_plain_tokens(name: str, reference: float) -> None:
    cost = _best(name, 4 * SIZE)
    assert cost < 3 * reference + 0.01, f"{name}: {cost:.3f}s, plain tokens {reference:.3f}s"


# --- exact operation counts for the paths that were quadratic ----------------------------------


class _Counting(list):  # type: ignore[type-arg]
    reads = 0

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        type(self).reads += 1
        return super().__getitem__(i)


def test_pairing_many_values_of_one_kind_on_one_line_is_linear() -> None:
    """Each value used to look at every later value on its line: n^2/2 reads for a minified
    file of secrets. Now each per-kind queue is read front to back once."""
    from keytrap.engine import Candidate

    reads = []
    for n in (500, 2000):
        cands = _Counting(Candidate(f"s{i}", i, i + 1, 1, i, "secret_key", "secret") for i in range(n))
        _Counting.reads = 0
        _pair(cands)
        reads.append(_Counting.reads)
        assert not any(c.paired for c in cands)  # nothing to pair with: all secrets
    assert reads[1] <= 4 * reads[0] + 10 and reads[1] < 10 * 2000


def _old_pair(cands) -> None:  # type: ignore[no-untyped-def]
    """The pairing as it was (quadratic pass 2), the reference for the new one."""
    from keytrap.engine import PAIR_WINDOW, _link

    for c in cands:
        if c.role in ("api_key", "secret_key"):
            c.kind = c.role
    for i, a in enumerate(cands):
        if a.paired or a.kind is None:
            continue
        for b in cands[i + 1 : i + 4]:
            if b.line - a.line > PAIR_WINDOW or b.paired:
                break
            if b.role == "other":
                continue
            if b.kind is not None and b.kind != a.kind:
                _link(a, b)
            break
    for i, a in enumerate(cands):
        if a.paired:
            continue
        for j in range(i + 1, len(cands)):
            b = cands[j]
            if b.line - a.line > PAIR_WINDOW:
                break
            if b.paired or (a.kind is not None and a.kind == b.kind):
                continue
            if a.kind is None and b.kind is None:
                a.kind, b.kind = "api_key", "secret_key"
            elif a.kind is None:
                a.kind = "api_key" if b.kind == "secret_key" else "secret_key"
            elif b.kind is None:
                b.kind = "api_key" if a.kind == "secret_key" else "secret_key"
            _link(a, b)
            break
    for c in cands:
        if c.kind is None:
            c.kind = "api_key"


@given(st.lists(st.tuples(st.sampled_from(["api_key", "secret_key", "call", "other", "none"]),
                          st.integers(0, 12)), max_size=40))
@settings(max_examples=300, deadline=None)
def test_pairing_is_what_it_was(values: list[tuple[str, int]]) -> None:
    from keytrap.engine import Candidate

    line, made = 1, []
    for i, (role, gap) in enumerate(values):
        line += gap // 3  # several values a line, and gaps wider than the pair window
        made.append((f"v{i}", i, line, role))
    old = [Candidate(s, p, p + 1, ln, 1, r, "") for s, p, ln, r in made]
    new = [Candidate(s, p, p + 1, ln, 1, r, "") for s, p, ln, r in made]
    _old_pair(old)
    _pair(new)
    assert [(c.kind, c.pair) for c in new] == [(c.kind, c.pair) for c in old]


def test_history_reads_each_work_tree_file_once(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``in_worktree`` read the whole file again for every secret in it (a file of 15,000 keys
    was read 15,000 times)."""
    from keytrap.sources import history

    rng = random.Random(3)
    keys = [token(rng) for _ in range(300)]
    (tmp_path / "keys.txt").write_text("\n".join(keys[:200]) + "\n")
    (tmp_path / "other.txt").write_text(keys[0] + "\n")
    reads: list[bytes] = []
    real = history._worktree_file
    monkeypatch.setattr(history, "_worktree_file", lambda root, raw: reads.append(raw) or real(root, raw))
    groups = [([b"keys.txt", b"other.txt"], k) for k in keys] + [([b"../escape", b"gone.txt"], keys[0])]
    answers = history._in_worktree(tmp_path, groups)
    assert answers == [True] * 200 + [False] * 100 + [False]
    assert sorted(reads) == [b"../escape", b"gone.txt", b"keys.txt", b"other.txt"]


@given(st.lists(st.sampled_from(["k", "x", "+/", "=", "\n", "K-"]), max_size=60), st.integers(0, 2**32))
@settings(max_examples=200, deadline=None)
def test_present_matches_in(pieces: list[str], seed: int) -> None:
    from keytrap.sources.history import _present

    rng = random.Random(seed)
    secrets = [token(rng) for _ in range(20)] + ["AbCdEfGh+/" * 5]
    text = "".join(rng.choice(secrets) if p == "k" else p for p in pieces).encode()
    assert _present(text, set(secrets)) == {s for s in secrets if s.encode() in text}


def test_scrubbing_many_private_keys_is_linear() -> None:
    """The scrubber looked for every PEM body in every string it was given: 10,000 private keys
    made a SARIF report take 20 s. Now long base64 runs are looked up by prefix."""
    from helpers import random_pem_body

    from keytrap.findings import Finding
    from keytrap.reporters._common import Scrubber

    timings = []
    for n in (300, 1200):
        findings = [Finding("binance-private-key", "private_key", f"k{i}.pem", 1, 1, "high",
                            random_pem_body(2).replace("\n", "")) for i in range(n)]
        scrub = Scrubber(findings)
        texts = [f"k{i}.pem: private key leaked" for i in range(n)] + [f"path/{findings[-1].secret}/x"]
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            out = [scrub(t) for t in texts]
            best = min(best, time.perf_counter() - started)
        timings.append(best)
        assert findings[-1].secret not in out[-1] and out[-1].startswith("path/")
    assert timings[1] < 8 * timings[0] or timings[1] < 0.02


# --- the PEM search finds what the old regex found --------------------------------------------

_OLD_PRIVATE_PEM = re.compile(  # a body holds no other armour ("-----")
    rb"-----BEGIN ((?:RSA |ENCRYPTED )?PRIVATE KEY)-----((?:(?!-----).){16,16384}?)-----END \1-----", re.DOTALL
)
_PIECES = [
    b"-----BEGIN PRIVATE KEY-----", b"-----BEGIN RSA PRIVATE KEY-----", b"-----BEGIN ENCRYPTED PRIVATE KEY-----",
    b"-----BEGIN EC PRIVATE KEY-----", b"-----END PRIVATE KEY-----", b"-----END RSA PRIVATE KEY-----",
    b"-----END ENCRYPTED PRIVATE KEY-----", b"\n", b"MC4CAQAw", b"A" * 20, b"B" * 5000, b"-----",
]


@given(st.lists(st.sampled_from(range(len(_PIECES))), max_size=40))
@settings(max_examples=300, deadline=None)
def test_private_pem_blocks_equal_the_regex(picks: list[int]) -> None:
    data = b"".join(_PIECES[i] for i in picks)
    old = [(m.start(), m.group(1), m.group(2)) for m in _OLD_PRIVATE_PEM.finditer(data)]
    assert list(_private_pem_blocks(data)) == old
