"""The commit graph of a history scan: git's order, parents as ints, refs that hold a commit.

One ``git rev-list --parents`` walk gives every commit in scope, in git's date order, with its
parents. From it, without asking git again:

* :meth:`CommitGraph.topo_order` is the order ``git log --topo-order`` prints, reproduced
  exactly (the same algorithm as git's ``sort_in_topological_order`` in graph order, run on the
  walk's output): a secret's "oldest introduction" keeps git's tie-breaks, while git itself
  never holds the whole graph sorted (``--topo-order`` made ``git log`` hold every commit:
  283 MiB on a 207k-commit history).
* :func:`refs_containing` answers "which refs contain commit C" for any number of commits in
  one pass: a bitmask of target commits flows from parents to children in topological order
  and is read at each ref tip (``for-each-ref`` once, tags peeled). The same answer as one
  ``for-each-ref --contains C`` per commit, which walks the history again for every commit
  (13.7 s for one commit of git.git without a commit-graph).

Memory stays in ints: a sha is kept once (as bytes), parents are int arrays, masks are Python
ints shared along single-parent chains (only merges and targets make new ones).
"""

from __future__ import annotations

import subprocess
from array import array
from collections.abc import Iterable, Sequence

from keytrap import gitrun
from keytrap.errors import GitError
from keytrap.gitrun import Location


class CommitGraph:
    """Commits in the order a walk printed them; each has a node id (first sight, as a commit
    or as a parent). ``walk`` lists node ids in the walk's order; parents of walk entry ``k``
    are ``parents[pstart[k]:pstart[k + 1]]`` (node ids)."""

    __slots__ = ("ids", "shas", "walk", "pstart", "parents")

    def __init__(self) -> None:
        self.ids: dict[bytes, int] = {}  # sha (hex, as git prints it) -> node id
        self.shas: list[bytes] = []  # node id -> sha
        self.walk = array("i")  # node ids in the walk's order
        self.pstart = array("i", [0])
        self.parents = array("i")

    def node(self, sha: bytes) -> int:
        ids = self.ids
        got = ids.get(sha)
        if got is None:
            got = ids[sha] = len(self.shas)
            self.shas.append(sha)
        return got

    def add(self, line: bytes) -> None:
        """One ``rev-list --parents`` line: ``sha parent…``."""
        parts = line.split()
        if not parts:
            return
        node = self.node
        self.walk.append(node(parts[0]))
        self.parents.extend([node(p) for p in parts[1:]])
        self.pstart.append(len(self.parents))

    def __len__(self) -> int:
        return len(self.walk)

    def topo_order(self) -> array:
        """Walk indices in ``git log --topo-order`` order (newest first).

        git's ``sort_in_topological_order`` (graph order): every commit of the walk starts with
        in-degree 1 plus one per child in the walk; tips (no child in the walk) go on a stack
        in walk order, first tip on top; a commit is emitted when popped, and a parent is
        pushed when its last child has been emitted. Parents outside the walk are ignored.
        """
        n = len(self.walk)
        at = array("i", [-1]) * len(self.shas)  # node id -> walk index
        for k, node in enumerate(self.walk):
            at[node] = k
        pstart, parents = self.pstart, self.parents
        # the walk index of each parent, -1 outside the walk
        par = array("i", [at[p] for p in parents])
        indeg = array("i", [1]) * n
        for q in par:
            if q >= 0:
                indeg[q] += 1
        stack = [k for k in range(n - 1, -1, -1) if indeg[k] == 1]
        out = array("i")
        emit = out.append
        push = stack.append
        pop = stack.pop
        while stack:
            k = pop()
            for i in range(pstart[k], pstart[k + 1]):
                q = par[i]
                if q < 0 or not indeg[q]:
                    continue
                indeg[q] -= 1
                if indeg[q] == 1:
                    push(q)
            indeg[k] = 0
            emit(k)
        return out


def walk(repo: Location, revs: Sequence[str], *, config: Sequence[str] = (),
         stdin_revs: Iterable[str] = ()) -> CommitGraph:
    """``git rev-list --parents REVS`` (plus ``stdin_revs``, e.g. ``^sha`` lines) as a graph."""
    graph = CommitGraph()
    stdin_list = list(stdin_revs)
    args = [*config, "rev-list", "--parents", *revs]
    if stdin_list:
        args.append("--stdin")
    proc, errfile = gitrun.popen_logged(repo, *args, "--", stdout=subprocess.PIPE,
                                        stdin=subprocess.PIPE if stdin_list else subprocess.DEVNULL)
    assert proc.stdout is not None
    try:
        if stdin_list:
            assert proc.stdin is not None
            try:  # a few hundred ids at most: far below a pipe buffer
                proc.stdin.write("".join(f"{r}\n" for r in stdin_list).encode())
                proc.stdin.close()
            except OSError:
                pass
        add = graph.add
        rest = b""
        while True:
            chunk = proc.stdout.read(1 << 20)
            if not chunk:
                break
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                add(line)
        if rest:
            add(rest)
    finally:
        proc.stdout.close()
        rc = proc.wait()
        errfile.seek(0)
        err = errfile.read().decode("utf-8", "replace").strip().splitlines()
        errfile.close()
    if rc != 0:
        msg = err[0].removeprefix("fatal: ") if err else f"exit {rc}"
        raise GitError(f"git rev-list failed in {repo.path}: {msg}")
    return graph


def ref_tips(repo: Location) -> list[tuple[str, bytes]]:
    """(refname, commit sha) for every ref under ``refs/`` that leads to a commit, tags peeled
    (a tag of a tag too), in refname order: the refs ``for-each-ref --contains`` considers."""
    out = gitrun.run(
        repo, "for-each-ref",
        "--format=%(objecttype) %(objectname) %(*objecttype) %(*objectname) %(refname)",
    )
    if out.returncode != 0:
        return []
    tips: list[tuple[str, bytes]] = []
    nested: list[tuple[int, str, bytes]] = []  # tag -> tag -> …: peeled below, in one call
    for line in out.stdout.split(b"\n"):
        parts = line.split(b" ", 4)
        if len(parts) != 5:
            continue
        otype, oid, ptype, poid, name = parts
        refname = name.decode("utf-8", "surrogateescape")
        if otype == b"commit":
            tips.append((refname, oid))
        elif otype == b"tag" and ptype == b"commit":
            tips.append((refname, poid))
        elif otype == b"tag" and ptype == b"tag":
            nested.append((len(tips), refname, poid))
            tips.append((refname, b""))
    if nested:
        proc = gitrun.run(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)",
                          input=b"".join(p + b"^{commit}\n" for _, _, p in nested))
        answers = proc.stdout.split(b"\n")
        for (i, refname, _), answer in zip(nested, answers):
            parts = answer.split()
            if len(parts) == 2 and parts[1] == b"commit":
                tips[i] = (refname, parts[0])
    return [(name, sha) for name, sha in tips if sha]


def refs_containing(graph: CommitGraph, order: array, targets: Iterable[bytes],
                    tips: Sequence[tuple[str, bytes]]) -> dict[bytes, list[str]]:
    """target sha -> the refs (of ``tips``, in their order) whose tip reaches it, for every
    target at once. ``order`` is ``graph.topo_order()`` (children before parents).

    Masks flow from parents to children (the reverse of ``order``), starting at the oldest
    target: nothing older can reach one. Commits outside ``graph`` reach nothing listed.
    """
    at = array("i", [-1]) * len(graph.shas)  # node id -> topological position
    walk = graph.walk
    for pos, k in enumerate(order):
        at[walk[k]] = pos
    bits: dict[int, int] = {}
    names: list[bytes] = []
    for sha in dict.fromkeys(targets):
        node = graph.ids.get(sha)
        pos = at[node] if node is not None else -1
        if pos >= 0:
            bits[pos] = bits.get(pos, 0) | (1 << len(names))
            names.append(sha)
    found: dict[bytes, list[str]] = {sha: [] for sha in targets}
    if not bits:
        return found
    oldest = max(bits)
    pstart, parents = graph.pstart, graph.parents
    mask: list[int] = [0] * (oldest + 1)  # positions above the oldest target stay 0
    for pos in range(oldest, -1, -1):
        k = order[pos]
        m = bits.get(pos, 0)
        for i in range(pstart[k], pstart[k + 1]):
            p = at[parents[i]]
            if 0 <= p <= oldest:
                pm = mask[p]
                if pm:
                    m = pm if not m else (m | pm)
        mask[pos] = m
    for refname, sha in tips:
        node = graph.ids.get(sha)
        pos = at[node] if node is not None else -1
        if not 0 <= pos <= oldest:
            continue
        m = mask[pos]
        while m:
            low = m & -m
            found[names[low.bit_length() - 1]].append(refname)
            m ^= low
    return found
