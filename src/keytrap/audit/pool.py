"""The local backend: a pool of worker processes, one repository at a time each.

Workers are fresh, isolated interpreters (``python -I``, started from keytrap's own package
folder, like the history scan's workers): no fork of a threaded parent, no re-import of the
caller's ``__main__``, and no ``keytrap/`` package from an audited folder on ``sys.path``.
Tasks and reports travel as length-prefixed pickles over the worker's stdin/stdout; both are
keytrap's own records (no secrets). A worker that dies fails the repository it held, and a new
worker takes its place.
"""

from __future__ import annotations

import os
import pickle
import selectors
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence

from keytrap import gitrun
from keytrap.audit.records import STATUS_FAILED, RepoReport, RepoStats
from keytrap.audit.worker import RepoTask, audit_repo

_CODE = "from keytrap.audit.pool import worker_main; worker_main()"


def _send(stream, obj: object) -> None:  # type: ignore[no-untyped-def]
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "little") + data)
    stream.flush()


def _recv(stream) -> object:  # type: ignore[no-untyped-def]
    head = stream.read(8)
    if len(head) < 8:
        return None
    return pickle.loads(stream.read(int.from_bytes(head, "little")))


def worker_main() -> None:
    """Read tasks until stdin closes; answer each with a RepoReport."""
    stdin = sys.stdin.buffer
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not corrupt the answers
    while True:
        task = _recv(stdin)
        if task is None:
            break
        _send(out, audit_repo(task))  # type: ignore[arg-type]


class _Worker:
    def __init__(self) -> None:
        self.errfile = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            gitrun.python_argv(_CODE), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.errfile, cwd=gitrun.PACKAGE_ROOT,
        )
        self.fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        self.buf = bytearray()
        self.task: RepoTask | None = None

    def give(self, task: RepoTask | None) -> None:
        self.task = task
        try:
            if task is None:
                self.proc.stdin.close()  # type: ignore[union-attr]
            else:
                _send(self.proc.stdin, task)
        except (OSError, ValueError):
            pass  # it died: reading its output says so

    def answers(self) -> Iterator[RepoReport]:
        data = os.read(self.fd, 1 << 20)
        if not data:
            raise EOFError
        self.buf += data
        while len(self.buf) >= 8:
            size = int.from_bytes(self.buf[:8], "little")
            if len(self.buf) < 8 + size:
                break
            payload = bytes(self.buf[8 : 8 + size])
            del self.buf[: 8 + size]
            yield pickle.loads(payload)

    def failure(self) -> str:
        code = self.proc.wait()
        self.errfile.seek(0)
        lines = [ln for ln in self.errfile.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        return f"audit worker exited (code {code})" + (f": {lines[-1].strip()[:200]}" if lines else "")

    def close(self) -> None:
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


def run_local(tasks: Sequence[RepoTask], jobs: int) -> Iterator[RepoReport]:
    """Reports as repositories finish. ``jobs`` <= 1 runs in this process (no workers)."""
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield audit_repo(task)
        return
    queue = list(reversed(tasks))
    workers: list[_Worker] = []
    try:
        with selectors.DefaultSelector() as sel:
            def start() -> None:
                w = _Worker()
                workers.append(w)
                w.give(queue.pop())
                sel.register(w.fd, selectors.EVENT_READ, w)

            for _ in range(min(jobs, len(queue))):
                start()
            live = len(workers)
            while live:
                for key, _ in sel.select():
                    w: _Worker = key.data
                    try:
                        answers = list(w.answers())
                    except EOFError:
                        sel.unregister(w.fd)
                        live -= 1
                        if w.task is not None:  # died holding a repository
                            task, w.task = w.task, None
                            yield RepoReport(target=task.target.name, status=STATUS_FAILED,
                                             error=w.failure(), stats=RepoStats(), key=task.target.key)
                            if queue:
                                start()
                                live += 1
                        continue
                    for report in answers:
                        yield report
                        w.give(queue.pop() if queue else None)
    finally:
        for w in workers:
            w.close()


Progress = Callable[[RepoReport], None]
