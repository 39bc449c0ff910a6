"""The commit graph of a history scan: git's topological order reproduced exactly, and the refs
that contain each commit computed in one pass (the answer ``for-each-ref --contains`` gives)."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from gitrepo import GitRepo, env_file, fake_key
from keytrap.config import DEFAULT
from keytrap.errors import GitError
from keytrap.gitrun import Location
from keytrap.sources import graph as G
from keytrap.sources import history
from keytrap.sources.history import scan_history


def _git(path: Path, *args: str, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", "-C", str(path), *args], input=input, capture_output=True, check=True)
    return proc.stdout.decode()


def random_dag(path: Path, seed: int, commits: int = 160, branches: int = 12) -> None:
    """A repository with merges (octopus too), clock skew, many branches, lightweight,
    annotated and nested tags, a tag of a tree, and a dangling commit: built by fast-import."""
    rng = random.Random(seed)
    GitRepo(path)
    lines: list[str] = []
    tips: list[int] = []  # marks that are heads of some line of work
    for mark in range(1, commits + 1):
        when = 1_700_000_000 + mark * 60 + rng.choice([0, 0, 0, -86_400 * 30, 3_600, -7_200])
        lines += [f"commit refs/heads/b{rng.randrange(branches)}", f"mark :{mark}",
                  f"committer T <t@example.com> {when} +0000", "data 2", "c" + str(mark % 10)]
        if tips:
            first = rng.choice(tips)
            lines.append(f"from :{first}")
            others = [m for m in rng.sample(tips, min(len(tips), rng.choice([0, 0, 0, 1, 1, 2]))) if m != first]
            lines += [f"merge :{m}" for m in others]
            for m in others:
                tips.remove(m)
            if rng.random() < 0.6:
                tips.remove(first)
        tips.append(mark)
        lines += [f"M 100644 inline f{mark % 7}.txt", "data 3", f"{mark:03d}"[-3:], ""]
    for i, m in enumerate(tips):
        lines += [f"reset refs/heads/tip{i}", f"from :{m}", ""]
    lines += ["reset refs/tags/light", f"from :{commits // 3}", ""]
    _git(path, "fast-import", "--quiet", "--force", input=("\n".join(lines) + "\n").encode())
    env_ref = _git(path, "rev-parse", f"refs/heads/tip0~{min(3, commits // 10)}").strip()
    _git(path, "tag", "-a", "-m", "annotated", "ann", env_ref)
    _git(path, "tag", "-a", "-m", "nested", "nested", "refs/tags/ann")
    _git(path, "tag", "-a", "-m", "a tree", "treetag", "HEAD^{tree}" if _has_head(path) else f"{env_ref}^{{tree}}")
    _git(path, "update-ref", "refs/remotes/origin/main", "refs/heads/tip0")
    tree = _git(path, "rev-parse", f"{env_ref}^{{tree}}").strip()
    _git(path, "commit-tree", "-m", "dangling", "-p", env_ref, tree)  # no ref holds it


def _has_head(path: Path) -> bool:
    return subprocess.run(["git", "-C", str(path), "rev-parse", "-q", "--verify", "HEAD"],
                          capture_output=True).returncode == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_topo_order_is_git_log_topo_order(tmp_path: Path, seed: int) -> None:
    random_dag(tmp_path / "r", seed)
    loc = Location(top=str(tmp_path / "r"))
    for revs in (["--all"], ["refs/heads/tip0", "--not", "refs/tags/light"], ["refs/tags/light~5...refs/heads/tip0"]):
        g = G.walk(loc, revs)
        mine = [g.shas[g.walk[k]].decode() for k in g.topo_order()]
        assert mine == _git(tmp_path / "r", "rev-list", "--topo-order", *revs, "--").split(), revs


@pytest.mark.parametrize("seed", [4, 5])
def test_refs_containing_is_for_each_ref_contains_for_every_commit(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "r"
    random_dag(path, seed)
    loc = Location(top=str(path))
    g = G.walk(loc, ["--all"])
    commits = [g.shas[n] for n in g.walk]
    everything = _git(path, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectname)").split("\n")
    unreachable = [ln.split()[1].encode() for ln in everything if ln.startswith("commit ")
                   and ln.split()[1].encode() not in g.ids]
    assert unreachable, "the dangling commit is in the store"
    tips = G.ref_tips(loc)
    names = [n for n, _ in tips]
    assert "refs/tags/nested" in names and "refs/tags/treetag" not in names
    found = G.refs_containing(g, g.topo_order(), commits + unreachable, tips)
    for sha in commits + unreachable:
        expected = _git(path, "for-each-ref", "--contains", sha.decode(), "--format=%(refname)").split()
        assert found[sha] == expected, sha


def test_every_finding_has_all_its_refs_even_past_eight_groups(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("initial", {"README.md": "# demo\n"})
    secrets = [fake_key(300 + i) for i in range(11)]
    for i, k in enumerate(secrets):
        repo.commit(f"c{i}", {f"k{i}.env": env_file(k)})
        repo.git("branch", f"keep{i}")
    repo.git("tag", "-a", "-m", "v", "v1", "HEAD~5")
    result = scan_history(repo.path, DEFAULT)
    found = {f.secret: f for f in result.findings if f.kind == "api_key"}
    assert len(found) == len(secrets)
    for i, k in enumerate(secrets):
        f = found[k]
        expected = repo.git("for-each-ref", "--contains", f.commit, "--format=%(refname)").split()
        assert list(f.get("refs")) == expected[: history.MAX_REFS_LISTED]
        assert f.get("refs_total") == len(expected) == (len(secrets) - i) + 1 + (1 if i <= 5 else 0)


def test_range_scan_names_refs_outside_the_range(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit("initial", {"README.md": "# demo\n"})
    key = fake_key(400)
    added = repo.commit("add", {"k.env": env_file(key)})
    repo.commit("more", {"README.md": "# demo 2\n"})
    repo.git("branch", "other", added)  # holds the commit, outside the range's tip line
    repo.git("update-ref", "refs/remotes/origin/main", base)
    result = scan_history(repo.path, DEFAULT, rev_range=f"{base}..HEAD")
    f = next(f for f in result.findings if f.secret == key)
    assert f.commit == added
    assert f.get("refs") == ("refs/heads/main", "refs/heads/other") and f.get("refs_total") == 2


def test_many_refs_and_a_merge(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("initial", {"README.md": "# demo\n"})
    repo.git("checkout", "-q", "-b", "side")
    key = fake_key(401)
    added = repo.commit("side key", {"s.env": env_file(key)})
    repo.git("checkout", "-q", "main")
    repo.commit("main work", {"m.txt": "m\n"})
    repo.merge("side", "merge side")
    for i in range(300):
        repo.git("update-ref", f"refs/heads/many/{i:03d}", "main" if i % 2 else "main~1")
    f = next(f for f in scan_history(repo.path, DEFAULT).findings if f.secret == key)
    expected = repo.git("for-each-ref", "--contains", added, "--format=%(refname)").split()
    assert f.commit == added and f.get("refs_total") == len(expected) == 152
    assert list(f.get("refs")) == expected[: history.MAX_REFS_LISTED]


def test_log_parse_skims_unwanted_output_and_survives_any_chunking(tmp_path: Path) -> None:
    """The diff parse keeps exactly the wanted blobs' entries whatever the read sizes, with
    merges (their header is followed by NUL NUL), paths that look like raw lines or commit ids,
    and submodules."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit("initial", {"README.md": "# demo\n"})
    repo.git("checkout", "-q", "-b", "side")
    fake_sha = "ab" * 20
    repo.commit("odd paths", {":100644 x": "a\n", fake_sha: "b\n", "t\tab\\q\"": "c\n", "ü/k.env": env_file(fake_key(9))})
    repo.git("checkout", "-q", "main")
    repo.commit("main", {"m.txt": "m\n", fake_sha: "main side\n"})
    with pytest.raises(AssertionError):  # both sides added the file: a conflict
        repo.merge("side", "merge")
    repo.commit("merge, resolved", {fake_sha: "resolved\n"})  # differs from both parents
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{repo.head()},vendor/sub")
    repo.git("commit", "-q", "-m", "submodule")
    loc = Location(top=str(repo.path))
    full = history.read_log(loc, ["--all"])
    assert any(raw.startswith(b":100644") for e in full.blobs.values() for _, raw in e)
    assert full.gitlinks == {b"vendor/sub"}
    g = G.walk(loc, ["--all"])
    at = {g.shas[n]: k for k, n in enumerate(g.walk)}
    out = subprocess.run(["git", "-C", str(repo.path), *history._diff_args()],
                         input=b"".join(s + b"\n" for s in (g.shas[n] for n in g.walk)),
                         capture_output=True, check=True).stdout
    rng = random.Random(7)
    for _ in range(40):
        wanted = set(rng.sample(sorted(full.blobs), rng.randrange(1, len(full.blobs))))
        want = {o.encode() for o in wanted}
        state = history._DiffStream.__new__(history._DiffStream)
        state.rest, state.meta, state.commit, state.header = b"", None, -1, False
        found: dict = {}
        links: set = set()
        pos = 0
        while pos < len(out):
            step = rng.choice([1, 2, 3, 7, 41, 100, 4096])
            history._parse_diff(state, out[pos : pos + step], at, want, found, links)
            pos += step
        history._parse_diff(state, b"\0", at, want, found, links)
        assert links == {b"vendor/sub"}
        got = {o.decode(): sorted(e) for o, e in found.items()}
        expected = {o: sorted((g.walk.index(g.ids[full.commits[p].encode()]), raw) for p, raw in full.blobs[o])
                    for o in wanted}
        assert got == expected


def test_find_object_pass_gives_the_entries_of_the_full_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With few wanted blobs git filters its own output (``--find-object``): the same commits,
    paths and order as the full pass filtered here, whatever the shape: a rename, a copy, a
    revert to an older content, a conflict resolved to one side's content, an evil merge, a
    deletion, and two diff processes."""
    repo = GitRepo(tmp_path / "repo")
    key = env_file(fake_key(21))
    repo.commit("initial", {"README.md": "# demo\n", "a/k.env": key})
    repo.commit("rename", {"b/k.env": key}, remove=("a/k.env",))
    repo.commit("copy", {"c/k.env": key})
    repo.commit("change", {"b/k.env": env_file(fake_key(22))})
    repo.commit("revert", {"b/k.env": key})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side", {"s.env": env_file(fake_key(23)), "d.txt": "side\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main", {"d.txt": "main\n"})
    with pytest.raises(AssertionError):  # d.txt differs on both sides: a conflict
        repo.merge("side", "merge")
    repo.commit("merge, resolved to main's", {"d.txt": "main\n", "evil.env": env_file(fake_key(24))})
    repo.commit("delete", remove=("c/k.env",))
    loc = Location(top=str(repo.path))
    monkeypatch.setattr(history, "DIFF_SPLIT_MIN", 1)
    full = history.read_log(loc, ["--all"], jobs=2)
    blobs = sorted(full.blobs)
    assert len(blobs) >= 6
    tree = repo.git("rev-parse", "HEAD:b")  # an id that is not a blob: never an entry
    for wanted in [set(blobs), {blobs[0]}, set(blobs[1::2]), {"0" * 40}, {tree, blobs[0]}]:
        got = history.read_log(loc, ["--all"], wanted, jobs=2)
        assert got.commits == full.commits
        assert got.blobs == {o: full.blobs[o] for o in wanted if o in full.blobs}
        monkeypatch.setattr(history, "FIND_OBJECT_MAX", 0)  # the skimmed full output
        assert history.read_log(loc, ["--all"], wanted, jobs=2).blobs == got.blobs
        monkeypatch.setattr(history, "FIND_OBJECT_MAX", 2000)
    monkeypatch.setattr(history, "DIFF_PROCESS_COMMITS", 2)  # a fresh process every 2 commits
    pieces = history.read_log(loc, ["--all"], jobs=2)
    assert (pieces.commits, pieces.blobs, pieces.gitlinks) == (full.commits, full.blobs, full.gitlinks)
    assert history.read_log(loc, ["--all"], {blobs[0]}, jobs=2).blobs == {blobs[0]: full.blobs[blobs[0]]}
    assert "--find-object=" + blobs[0] in history._diff_args({blobs[0].encode()})
    assert not any(a.startswith("--find-object") for a in history._diff_args(None))


def test_a_diff_process_that_fails_fails_the_log_pass_and_every_process_is_reaped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = GitRepo(tmp_path / "repo")
    for i in range(6):
        repo.commit(f"c{i}", {f"d{i}/f.txt": f"{i}\n"})
    bad = repo.git("rev-parse", "HEAD~2^{tree}")
    loose = repo.path / ".git" / "objects" / bad[:2] / bad[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"garbage")
    started: list = []
    real = history._DiffStream.__init__

    def track(self, *a, **k):  # type: ignore[no-untyped-def]
        real(self, *a, **k)
        started.append(self)

    monkeypatch.setattr(history._DiffStream, "__init__", track)
    monkeypatch.setattr(history, "DIFF_SPLIT_MIN", 1)
    monkeypatch.setattr(history, "DIFF_PROCESS_COMMITS", 1)
    with pytest.raises(GitError, match="git log failed"):
        history.read_log(Location(top=str(repo.path)), ["--all"], jobs=2)
    assert started and all(s.proc.poll() is not None for s in started)
