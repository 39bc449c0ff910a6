"""Files as a commit holds them, read from git's object store, never from the working tree.

A range scan (CI, pre-push) applies the settings of its *base* side: the commits under review
must not choose how they are reviewed (a pull request adding ``exclude = ["*"]`` to its own
``.keytrap.toml``). Reads go through :mod:`keytrap.gitrun` like every git call.
"""

from __future__ import annotations

from collections.abc import Iterable

from keytrap.errors import GitError
from keytrap.gitrun import Location

#: The files that hold settings, at the top of a commit's tree.
CONFIG_FILE = ".keytrap.toml"
PYPROJECT = "pyproject.toml"


def read_at(repo: Location, rev: str, paths: Iterable[str]) -> dict[str, bytes | None]:
    """path -> content of ``rev:path`` (None when the commit has no such file). ``rev`` is a
    full commit id; paths are relative to the top, with ``/``. Raises GitError for an object git
    cannot read."""
    from keytrap.sources.gitcat import CatFile

    out: dict[str, bytes | None] = {}
    with CatFile(repo) as cat:
        for path in dict.fromkeys(paths):
            blob = cat.read(f"{rev}:{path}")
            if blob.status == "ok":
                out[path] = blob.data if blob.type == "blob" else None
            elif blob.status == "missing":
                out[path] = None
            else:
                raise GitError(f"cannot read {path} at {rev[:12]}: {blob.status}")
    return out
