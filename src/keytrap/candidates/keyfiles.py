"""Repository-level evidence for private-key files: what the Binance code of a repository says
about the key files next to it.

A Binance signing key usually sits in a file of its own (``Night_stalker.pem``,
``test-prv-key.pem``) that says nothing about Binance; the script that signs with it does
(``PRIVATE_KEY_PATH="Night_stalker.pem"`` next to ``api.binance.com``). Each file that speaks of
Binance contributes a little :class:`RepoContext` (the ``.pem`` names it mentions, whether it
loads a key from a path, its network); the contexts of all files merge into one. Collecting
costs a few ``bytes.find`` per file (more only in files that speak of Binance), and merging is a
union. The sources collect it only when some finding needs it (a pending key file, or a key
whose own file names no network): a scan with nothing to settle pays nothing for it.

The engine reads the merged context for PEM blocks that have no evidence of their own
(``engine.scan_bytes(…, repo=…)``). A first pass that does not have it yet asks for those blocks
as *pending* (``PENDING``); the sources settle them once every file has been read.
"""

from __future__ import annotations

import re
from collections import namedtuple

#: A key file named in code: ``"Night_stalker.pem"``, ``./keys/test-prv-key.pem``.
_PEM_NAME = re.compile(rb"([A-Za-z0-9_.\-]{1,120}\.pem)\b")
#: Code that loads a private key from a path it is given (the file then holds the key).
_KEY_PATH = re.compile(rb"(?i)private[_\-]?key[_\-]?(?:path|file)")
#: Binance's own naming of key files (its docs and key generator: ``test-prv-key.pem``).
_PRV_NAME = re.compile(r"(?:^|[^a-z])prv[_\-]?key")
#: A generic private-key file name (``private_key.pem``, ``Private_key.pem``, ``privkey.pem``).
_PRIVATE_NAME = re.compile(r"(?:^|[^a-z])priv(?:ate)?[_\-]?key")


class RepoContext(
    namedtuple("RepoContext", "key_files key_path_var binance networks pending key_networks",
               defaults=((), False, False, (), False, ()))
):
    """What a repository's Binance code says about key files. Immutable; merge with ``|``.

    ``key_files``: (lower-case base name of a ``.pem`` file, network of the file naming it or
    None) pairs; ``key_path_var``: some Binance file loads a private key from a path;
    ``binance``: some file speaks of Binance; ``networks``: the networks Binance files point to;
    ``pending``: a first pass, before the context is known (see the module docstring).

    ``network`` (all Binance files agree on one) is the weakest network evidence: a key whose
    own file says nothing (a committed ``.env``) gets the network of the code that uses it.
    """

    __slots__ = ()
    key_files: tuple[tuple[str, str | None], ...]
    key_path_var: bool
    binance: bool
    networks: tuple[str, ...]
    pending: bool
    key_networks: tuple[str, ...]  # the networks of the Binance files that load a key from a file

    def __or__(self, other: RepoContext) -> RepoContext:  # type: ignore[override]
        if not other.binance:
            return self
        if not self.binance:
            return other._replace(pending=self.pending)
        files = dict(self.key_files)
        for name, net in other.key_files:
            files[name] = net if files.get(name, net) == net else None
        return RepoContext(
            tuple(sorted(files.items(), key=lambda kv: kv[0])),
            self.key_path_var or other.key_path_var,
            True,
            tuple(sorted(set(self.networks) | set(other.networks))),
            self.pending,
            tuple(sorted(set(self.key_networks) | set(other.key_networks))),
        )

    def named(self, basename: str) -> tuple[bool, str | None]:
        """(is a file of this name mentioned by Binance code, the network there)."""
        for name, net in self.key_files:
            if name == basename:
                return True, net
        return False, None

    @property
    def network(self) -> str | None:
        """The network every Binance file agrees on, if they all point to one."""
        return self.networks[0] if len(self.networks) == 1 else None

    @property
    def key_network(self) -> str | None:
        """The network of the code that loads keys from files, if it agrees (else ``network``)."""
        if self.key_networks:
            return self.key_networks[0] if len(self.key_networks) == 1 else None
        return self.network


EMPTY = RepoContext()
#: For a first pass: PEM blocks only repository context can decide are reported as pending.
PENDING = RepoContext(pending=True)


def speaks_of_binance(data: bytes) -> bool:
    return b"inance" in data and (b"binance" in data or b"Binance" in data) or b"BINANCE" in data


def file_evidence(data: bytes) -> RepoContext:
    """The evidence one file (its text) gives; ``EMPTY`` for a file that is not Binance code."""
    if not speaks_of_binance(data):
        return EMPTY
    names = {m.group(1).decode("ascii").lower().rsplit("/", 1)[-1] for m in _PEM_NAME.finditer(data)} if b".pem" in data else set()
    low = data.lower()
    key_path = (b"key_path" in low or b"keypath" in low or b"key_file" in low or b"keyfile" in low
                or b"key-path" in low or b"key-file" in low) and _KEY_PATH.search(low) is not None
    from keytrap import network

    net = network.file_network(data)
    nets = (net,) if net else ()
    return RepoContext(
        tuple(sorted((n, net) for n in names)), key_path, True, nets, False,
        nets if (names or key_path) else (),
    )


def key_file_name(path: str) -> tuple[bool, bool]:
    """(named as Binance names key files, named as a private key at all) for a file path."""
    base = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return bool(_PRV_NAME.search(base)), bool(_PRIVATE_NAME.search(base) or _PRV_NAME.search(base))
