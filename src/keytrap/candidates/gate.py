"""A blob-level gate for history scans: does this blob need the engine at all?

``scan_bytes`` returns nothing for a blob with no candidate run (``find_runs``: 64 base64
characters in a row at least) and no ``PRIVATE KEY-----`` marker: it checks both first, in two
passes over the bytes (``translate`` + ``find``, then ``in``). On history blobs 95 % of blobs
(84 % of the bytes) have neither, so those two passes are most of a scan worker's own CPU.

With the optional ``hyperscan`` module (``pip install 'keytrap[fast]'``; Intel's Hyperscan, a
6 MB x86-64 wheel) one SIMD pass answers both questions and only blobs that pass go on to
``scan_bytes``, which then runs exactly as before. The gate is a necessary condition of any
finding, so a scan with it and one without return the same findings; without the module (or
with ``KEYTRAP_PREFILTER=python``) every blob goes to ``scan_bytes`` as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable

#: Any 64 base64-alphabet bytes in a row (what ``find_runs`` needs for any run) and the marker
#: ``scan_bytes`` looks for before it reads PEM blocks.
_PATTERNS = (rb"[A-Za-z0-9+/]{64}", rb"PRIVATE KEY-----")


def hyperscan_gate() -> Callable[[bytes], bool] | None:
    """A function telling whether a blob may hold a finding, or None when hyperscan is not
    installed (or ``KEYTRAP_PREFILTER=python``): then every blob goes to the engine."""
    if os.environ.get("KEYTRAP_PREFILTER", "").lower() == "python":
        return None
    try:
        import hyperscan  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=list(_PATTERNS), ids=list(range(len(_PATTERNS))),
                   flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(_PATTERNS))
    except Exception:  # noqa: BLE001 - an unusable build (no SSSE3, …): the stdlib path
        return None
    hit: list[int] = []
    stop = hyperscan.ScanTerminated

    def on_match(*_args: object) -> bool:
        hit.append(1)
        return True  # one match decides: stop the scan

    def may_hold(data: bytes) -> bool:
        hit.clear()
        try:
            db.scan(data, match_event_handler=on_match)
        except stop:
            pass
        return bool(hit)

    return may_hold
