"""Worker processes keytrap starts for itself: fresh, isolated interpreters that speak framed
pickles over their stdin and stdout.

The history scan (one worker per core, fed chunks of blob ids) and the local audit pool (one
repository per task) both use :class:`Child`. A child is ``python -I`` started from keytrap's own
package folder (``gitrun.python_argv``): no fork of a threaded parent (a rich progress bar has a
thread), no re-import of the caller's ``__main__`` (multiprocessing's spawn re-runs any script
without an ``if __name__ == "__main__"`` guard), and never a ``keytrap/`` package committed in a
scanned repository on ``sys.path``.

A message is an 8-byte little-endian length and a pickle. Pickles only ever travel between
keytrap and the children it started; nothing read from a scanned repository is unpickled.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from keytrap import gitrun

_HEAD = 8


def send(stream: BinaryIO, obj: object) -> None:
    """Write one message and flush it."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(_HEAD, "little") + data)
    stream.flush()


def recv(stream: BinaryIO) -> object:
    """Read one message; None when the stream ends."""
    head = stream.read(_HEAD)
    if len(head) < _HEAD:
        return None
    return pickle.loads(stream.read(int.from_bytes(head, "little")))


def child_streams() -> tuple[BinaryIO, BinaryIO]:
    """In a child: (messages in, messages out). Standard output is moved aside first, so a stray
    ``print`` lands on stderr and can never corrupt a message."""
    import sys

    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return sys.stdin.buffer, out


#: The child's input pipe is widened to this: the parent writes while its child may be busy
#: writing a large answer, so every message the parent keeps in flight (the history scan: two
#: chunks of at most 4,096 ids, ~190 KB each) must fit, or both would wait on each other.
PIPE_BYTES = 1 << 20


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count): the
    default number of workers."""
    count = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if count is not None:
        return count() or 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Child:
    """One worker process running ``code`` (a line of Python that calls the child's main loop).
    The parent sends with :meth:`send`, waits for :attr:`fd` to be readable (a selector), then
    takes whole answers from :meth:`answers`."""

    def __init__(self, code: str) -> None:
        self.errfile = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            gitrun.python_argv(code), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.errfile, cwd=gitrun.PACKAGE_ROOT,
        )
        self.fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        gitrun.widen_pipe(self.proc.stdin, (PIPE_BYTES, 512 * 1024))
        self.closed = False  # no more input will be sent
        self._buf = bytearray()

    def send(self, obj: object) -> bool:
        """Send one message; False if the child is gone (reading its output says why)."""
        if self.closed:
            return False
        try:
            send(self.proc.stdin, obj)  # type: ignore[arg-type]
            return True
        except (OSError, ValueError):
            self.closed = True
            return False

    def finish(self) -> None:
        """No more work: the child exits once it has answered what it holds."""
        if not self.closed:
            self.closed = True
            try:
                self.proc.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass

    def answers(self) -> Iterator[object]:
        """Whole answers among the bytes readable now (call when :attr:`fd` is readable).
        Raises EOFError when the child has closed its output."""
        data = os.read(self.fd, 1 << 20)
        if not data:
            raise EOFError
        self._buf += data
        while len(self._buf) >= _HEAD:
            size = int.from_bytes(self._buf[:_HEAD], "little")
            if len(self._buf) < _HEAD + size:
                break
            payload = bytes(self._buf[_HEAD : _HEAD + size])
            del self._buf[: _HEAD + size]
            yield pickle.loads(payload)

    def failure(self, what: str) -> str:
        """``what`` exited (code N): the last line it wrote on stderr."""
        code = self.proc.wait()
        self.errfile.seek(0)
        lines = [ln for ln in self.errfile.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        return f"{what} exited (code {code})" + (f": {lines[-1].strip()[:200]}" if lines else "")

    def close(self) -> None:
        """Stop the child (if it still runs) and release its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self.errfile.close()
