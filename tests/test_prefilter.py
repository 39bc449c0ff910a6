from __future__ import annotations

import base64

from helpers import random_secret

from keytrap.candidates.prefilter import decode_run, find_runs


def test_raw_run_boundaries() -> None:
    k = random_secret()
    data = f"a={k}\nb={k}Z\nc=_{k}\nd={k}==\n\\n{k}\"".encode()
    runs = [(r.kind, data[r.start:r.end].decode()) for r in find_runs(data)]
    raws = [t for kind, t in runs if kind == "raw"]
    assert raws == [k, k]  # first line and the JSON-escaped "\n" one


def test_base64_run_decodes() -> None:
    k = random_secret()
    enc = base64.b64encode(k.encode()).decode()
    data = f"value: {enc}\n".encode()
    (run,) = [r for r in find_runs(data) if r.kind == "b64"]
    assert decode_run(data, run) == k.encode()


def test_binary_base64_not_decoded() -> None:
    enc = base64.b64encode(bytes(range(256))).decode()
    data = f"img: {enc}\n".encode()
    assert [decode_run(data, r) for r in find_runs(data) if r.kind == "b64"] == [None]


def test_no_runs_in_plain_text() -> None:
    assert list(find_runs(b"def f(x):\n    return x + 1\n" * 100)) == []
