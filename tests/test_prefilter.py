from __future__ import annotations

import base64

from helpers import random_secret

from keytrap.candidates.prefilter import MAX_ENCODED, WINDOW_OVERLAP, decode_run, decode_windows, find_runs


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


def test_a_long_base64_run_is_decoded_in_bounded_overlapping_windows() -> None:
    text = b"".join(b"line %07d of a long encoded file\n" % i for i in range(40_000))  # 1.3 MB
    data = b"blob: " + base64.b64encode(text) + b"\n"
    (run,) = [r for r in find_runs(data) if r.kind == "b64"]
    assert run.end - run.start > 4 * MAX_ENCODED  # the whole run, not its first 256 KiB
    windows = list(decode_windows(data, run))
    assert [w[:2] for w in windows] == [(True, False)] + [(False, False)] * (len(windows) - 2) + [(False, True)]
    assert all(len(w[2]) <= MAX_ENCODED * 3 // 4 for w in windows)
    step = (MAX_ENCODED - WINDOW_OVERLAP) * 3 // 4
    for i, (_first, _last, piece) in enumerate(windows):  # each window is its slice of the text
        assert piece == text[i * step : i * step + len(piece)]
    assert windows[-1][2].endswith(text[-100:])
    # a window of binary in the middle is passed over; the text after it is still decoded
    mixed = text[:300_000] + bytes(range(256)) * 1200 + text[:300_000]
    data = base64.b64encode(mixed)
    (run,) = list(find_runs(data))
    got = list(decode_windows(data, run))
    assert got[0][2].startswith(b"line 0000000") and got[-1][2].endswith(text[:300_000][-200:])
    assert len(got) < len(list(range(0, len(data), (MAX_ENCODED - WINDOW_OVERLAP))))
    # a run cut short (at a streamed window's edge) is decoded up to its last whole quantum
    cut = base64.b64encode(text)[: 3 * MAX_ENCODED + 2]
    (run,) = list(find_runs(cut))
    assert list(decode_windows(cut, run))[-1][2].endswith(text[: (len(cut) // 4) * 3][-50:])


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
