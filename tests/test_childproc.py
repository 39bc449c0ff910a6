"""keytrap.childproc: framed messages, isolated children, failures reported with their reason."""

from __future__ import annotations

import io
import selectors

import pytest

from keytrap import childproc

_ECHO = (
    "from keytrap import childproc\n"
    "inp, out = childproc.child_streams()\n"
    "while True:\n"
    "    msg = childproc.recv(inp)\n"
    "    if msg is None: break\n"
    "    print('stray output must not corrupt a message')\n"
    "    childproc.send(out, (msg, __import__('sys').flags.isolated))\n"
)


def _collect(child: childproc.Child, want: int) -> list[object]:
    got: list[object] = []
    with selectors.DefaultSelector() as sel:
        sel.register(child.fd, selectors.EVENT_READ)
        while len(got) < want:
            sel.select(timeout=30)
            got.extend(child.answers())
    return got


def test_frames_round_trip_in_memory() -> None:
    buf = io.BytesIO()
    for obj in ({"a": 1}, [b"\x00" * 5], None):
        childproc.send(buf, obj)
    buf.seek(0)
    assert childproc.recv(buf) == {"a": 1} and childproc.recv(buf) == [b"\x00" * 5]
    assert childproc.recv(buf) is None  # a message holding None reads like the end: never sent
    assert childproc.recv(io.BytesIO(b"\x01\x00")) is None  # a cut header is the end


def test_child_answers_in_order_isolated_and_ignores_stray_prints() -> None:
    child = childproc.Child(_ECHO)
    try:
        big = "x" * (3 << 20)  # larger than one read: answers are reassembled across reads
        for msg in ("one", big, ("three", 3)):
            assert child.send(msg)
        assert _collect(child, 3) == [("one", 1), (big, 1), (("three", 3), 1)]
        child.finish()
        with pytest.raises(EOFError):
            _collect(child, 4)
        assert child.send("late") is False  # nothing is sent after finish()
    finally:
        child.close()


def test_a_dead_child_reports_its_last_stderr_line() -> None:
    child = childproc.Child("import sys; sys.stderr.write('first\\nlast words\\n'); sys.exit(7)")
    try:
        with pytest.raises(EOFError):
            _collect(child, 1)
        assert child.failure("a test worker") == "a test worker exited (code 7): last words"
    finally:
        child.close()


def test_available_cores_follow_the_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 3, 5}, raising=False)
    assert childproc.available_cores() == 3
