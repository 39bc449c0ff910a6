"""``keytrap audit``: many repositories, each secret once, incremental through a cache.

* :mod:`~keytrap.audit.targets` and :mod:`~keytrap.audit.forges`: what to audit;
* :mod:`~keytrap.audit.worker`: one repository (clone/fetch, scan new blobs, merge with the cache);
* :mod:`~keytrap.audit.pool` (local processes) and :mod:`~keytrap.audit.distributed` (Dask):
  many repositories at once;
* :mod:`~keytrap.audit.run`: the orchestration behind ``keytrap.api.audit``;
* :mod:`~keytrap.audit.records`: what comes out (no secrets in any of it).
"""
