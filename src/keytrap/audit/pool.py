"""The local backend: a pool of worker processes, one repository at a time each.

Workers are ``childproc.Child`` processes, like the history scan's: fresh, isolated
interpreters (``python -I``, started from keytrap's own package folder), so no ``keytrap/``
package from an audited folder is ever imported. Tasks and reports travel as framed pickles;
both are keytrap's own records (no secrets). A worker that dies fails the repository it held, and a new
worker takes its place.
"""

from __future__ import annotations

import selectors
from collections.abc import Callable, Iterator, Sequence

from keytrap import childproc
from keytrap.audit.records import STATUS_FAILED, RepoReport, RepoStats
from keytrap.audit.worker import RepoTask, audit_repo

_CODE = "from keytrap.audit.pool import worker_main; worker_main()"


def worker_main() -> None:
    """Read tasks until stdin closes; answer each with a RepoReport."""
    stdin, out = childproc.child_streams()
    while True:
        task = childproc.recv(stdin)
        if task is None:
            break
        childproc.send(out, audit_repo(task))  # type: ignore[arg-type]


class _Worker(childproc.Child):
    """An audit worker (``childproc.Child``) that remembers the repository it holds."""

    def __init__(self) -> None:
        super().__init__(_CODE)
        self.task: RepoTask | None = None

    def give(self, task: RepoTask | None) -> None:
        self.task = task
        if task is None:
            self.finish()
        else:
            self.send(task)


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
                                             error=w.failure("audit worker"), stats=RepoStats(), key=task.target.key)
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
