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


def test_python310_strict_base64_matches_strict_mode() -> None:
    """decode_b64 (the Python 3.10 path) accepts and rejects what strict_mode does, for the
    chunks decode_run hands it (a length that is a multiple of 4)."""
    import base64
    import binascii
    import random

    from keytrap.candidates.prefilter import decode_b64

    rng = random.Random(7)
    cases = [b"", b"QQ==", b"QUI=", b"QUJD", b"Q===", b"=QQ=", b"QQ=", b"Q", b"QQ==QQ==", b"QU-D", b"QU_D",
             b"QU\nD", b"QUJD\n"]
    for _ in range(300):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        enc = base64.b64encode(raw)
        cases += [enc, enc[:-1], enc + b"=", enc.replace(b"A", b"-")]
    for chunk in (c for c in cases if len(c) % 4 == 0):
        try:
            want = binascii.a2b_base64(chunk, strict_mode=True)  # novermin
        except binascii.Error:
            want = None
        try:
            got = decode_b64(chunk)
        except binascii.Error:
            got = None
        assert got == want, chunk
