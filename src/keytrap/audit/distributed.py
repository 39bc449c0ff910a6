"""The Dask backend (``keytrap audit --dask ADDRESS|local``): one task per repository.

Imported only by ``--dask``. Each task runs :func:`keytrap.audit.worker.audit_repo` on a worker:
the worker clones or fetches into its own cache (``--cache`` if given, else its
``$KEYTRAP_CACHE`` / ``$XDG_CACHE_HOME/keytrap``), reads tokens from its own environment, and
returns a compact, secret-free :class:`RepoReport`. A repository is pinned to one host by
rendezvous hashing over the cluster's hosts (other workers may take it when that host is busy or
gone), so re-runs find their mirror and their incremental state on the same machine.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from collections.abc import Iterator, Sequence
from typing import Any

from keytrap.audit.records import STATUS_FAILED, RepoReport, RepoStats
from keytrap.audit.worker import RepoTask, audit_repo, verify_here
from keytrap.errors import UsageError

MISSING = "--dask needs the optional Dask extra: pip install 'keytrap[dask]'"


def _imports() -> Any:
    try:
        from dask import distributed
    except ImportError:
        raise UsageError(MISSING) from None
    return distributed


class DaskBackend:
    """A client on an existing scheduler (``tcp://host:8786``) or on a LocalCluster."""

    def __init__(self, address: str, jobs: int) -> None:
        distributed = _imports()
        self.cluster = None
        try:
            if address == "local":
                self.cluster = distributed.LocalCluster(
                    n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=logging.ERROR,
                )
                self.client = distributed.Client(self.cluster)
            else:
                self.client = distributed.Client(address, timeout=30)
        except OSError as exc:
            self.close()
            raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self._as_completed = distributed.as_completed

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {})) or 1

    def _hosts(self) -> dict[str, list[str]]:
        hosts: dict[str, list[str]] = {}
        for addr, info in self.client.scheduler_info().get("workers", {}).items():
            hosts.setdefault(str(info.get("host") or addr), []).append(addr)
        return hosts

    def _pin(self, key: str, hosts: dict[str, list[str]]) -> list[str] | None:
        if not hosts:
            return None
        best = max(hosts, key=lambda h: hashlib.sha256(f"{h}\0{key}".encode()).digest())
        return hosts[best]

    def run(self, tasks: Sequence[RepoTask]) -> Iterator[RepoReport]:
        hosts = self._hosts()
        futures = {}
        for task in tasks:
            fut = self.client.submit(
                audit_repo, task, pure=False, key=f"keytrap-audit-{task.target.key}-{id(task):x}",
                workers=self._pin(task.target.key, hosts), allow_other_workers=True,
            )
            futures[fut] = task
        for fut in self._as_completed(list(futures)):
            task = futures[fut]
            try:
                report = fut.result()
                yield replace(report, host=self._host_of(fut) or report.host)
            except Exception as exc:  # noqa: BLE001 - a lost worker fails one repository
                yield RepoReport(target=task.target.name, status=STATUS_FAILED,
                                 error=f"Dask task failed: {type(exc).__name__}: {exc}"[:300],
                                 stats=RepoStats(), key=task.target.key)

    def _host_of(self, fut: Any) -> str | None:
        try:
            addrs = self.client.who_has([fut]).get(fut.key) or []
            info = self.client.scheduler_info().get("workers", {})
            return str(info[addrs[0]].get("host")) if addrs and addrs[0] in info else None
        except Exception:  # noqa: BLE001 - only a hint for --verify
            return None

    def verify(self, host: str | None, *args: object) -> dict[str, object]:
        """Verify on the machine that holds the mirror (the secrets never cross the network)."""
        hosts = self._hosts()
        workers = hosts.get(host or "") or None
        fut = self.client.submit(verify_here, *args, pure=False, workers=workers, allow_other_workers=False
                                 if workers else True)
        return fut.result()

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self.cluster is not None:
            self.cluster.close()
