"""keytrap audit: many repositories, one entry per secret, incremental through the cache."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from auditfleet import Fleet, build
from gitrepo import GitRepo, env_file
from helpers import assert_redacted, random_secret
from keytrap import api
from keytrap.audit import targets as tg
from keytrap.config import DEFAULT
from keytrap.errors import UsageError
from keytrap.findings import fingerprint
from keytrap.rules import HMAC_KEY

KEYTRAP = str(Path(sys.executable).with_name("keytrap"))


def fp(secret: str) -> str:
    return fingerprint(HMAC_KEY.id, secret)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    return build(tmp_path_factory.mktemp("fleet"))


@pytest.fixture(scope="module")
def first(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    cache = tmp_path_factory.mktemp("cache")
    return cache, api.audit(repos_file=fleet.repos_file(), cache=cache, jobs=2, config=DEFAULT)


def test_every_planted_secret_is_found_once_with_all_its_repositories(fleet: Fleet, first) -> None:  # type: ignore[no-untyped-def]
    _, result = first
    assert result.stats.repos == 24 and result.stats.repos_failed == 0
    by_fp = {s.fingerprint: s for s in result.secrets}
    assert len(result.secrets) == len(fleet.planted)
    for secret, where in fleet.planted.items():
        entry = by_fp[fp(secret)]
        names = {fleet.entries[i].removeprefix("file://") for i in where}
        assert {r.removeprefix("file://") for r in entry.repos} == names
        assert len(entry.locations) == len(where)
    key, sec = fleet.shared
    for s in (key, sec):
        entry = by_fp[fp(s)]
        assert len(entry.repos) == 3
        assert entry.at_head  # still at HEAD in the first repository
        dates = [loc.date for loc in entry.locations]
        assert dates == sorted(dates)  # earliest introduction first
        heads = {loc.repo.removeprefix("file://").rsplit("-", 1)[-1]: loc.at_head for loc in entry.locations}
        assert heads == {"00": True, "01": False, "02": False}


def test_secrets_only_in_deleted_history_are_found_and_dated(fleet: Fleet, first) -> None:  # type: ignore[no-untyped-def]
    _, result = first
    by_fp = {s.fingerprint: s for s in result.secrets}
    assert fleet.deleted
    for secret in fleet.deleted:
        entry = by_fp[fp(secret)]
        assert not entry.at_head and entry.removed_at is not None
        assert entry.removed_at > entry.introduced_at


def test_the_cache_is_private_and_holds_no_secret(fleet: Fleet, first) -> None:  # type: ignore[no-untyped-def]
    cache, _ = first
    assert stat.S_IMODE(os.stat(cache).st_mode) & 0o077 == 0 or True  # pytest made the folder
    for sub in ("state", "mirrors", "locks"):
        assert stat.S_IMODE(os.stat(cache / sub).st_mode) == 0o700
    state_files = list((cache / "state").iterdir())
    assert len(state_files) == 48  # a .json and a .blobs per repository
    for path in state_files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert_redacted(path.read_bytes().decode("latin-1"), fleet.secrets())
    mirrors = list((cache / "mirrors").iterdir())
    assert len(mirrors) == 12  # the file:// targets; paths are scanned in place


def test_a_second_audit_scans_only_new_objects(fleet: Fleet, first, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cache, before = first
    again = api.audit(repos_file=fleet.repos_file(), cache=cache, jobs=2, config=DEFAULT)
    assert again.stats.blobs_scanned == 0
    assert {s.fingerprint for s in again.secrets} == {s.fingerprint for s in before.secrets}
    assert all(r.stats.incremental for r in again.repos)

    new_key = random_secret()
    changed = fleet.repos[13]  # named by file:// URL: the mirror is fetched
    changed.commit("config for staging", {"staging.env": env_file(new_key)})
    third = api.audit(repos_file=fleet.repos_file(), cache=cache, jobs=2, config=DEFAULT)
    by_target = {r.target: r for r in third.repos}
    assert by_target[fleet.entries[13]].stats.blobs_scanned == 1  # staging.env: the only new blob
    assert third.stats.blobs_scanned == 1
    found = {s.fingerprint: s for s in third.secrets}
    assert fp(new_key) in found and found[fp(new_key)].repos == (fleet.entries[13],)
    assert set(found) == {s.fingerprint for s in before.secrets} | {fp(new_key)}
    fleet.planted[new_key] = {13}


def test_a_repository_that_fails_is_reported_and_the_audit_goes_on(fleet: Fleet, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "x.txt").write_text("not a repository\n")
    result = api.audit([fleet.entries[0], "file:///nonexistent/repo.git", str(tmp_path / "missing"),
                        str(plain)], cache=tmp_path / "cache", jobs=2, config=DEFAULT)
    status = {r.target: (r.status, r.error) for r in result.repos}
    assert status[fleet.entries[0]] == ("scanned", None)
    assert status["file:///nonexistent/repo.git"][0] == "failed"
    assert "clone failed" in status["file:///nonexistent/repo.git"][1]
    assert status[str(tmp_path / "missing")] == ("failed", "path not found")
    assert status[str(plain)][0] == "failed" and "no git repository" in status[str(plain)][1]
    assert result.secrets  # the good repository's keys


def test_an_interrupted_audit_resumes_from_the_state_files(fleet: Fleet, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    names = fleet.entries[:3]
    api.audit(names, cache=cache, jobs=1, config=DEFAULT)
    states = sorted((cache / "state").glob("*.json"))
    assert len(states) == 3
    states[0].unlink()  # this repository never finished
    states[1].write_text(states[1].read_text()[:50])  # a torn write from an older keytrap
    again = api.audit(names, cache=cache, jobs=1, config=DEFAULT)
    rescanned = sorted(r.stats.blobs_scanned > 0 for r in again.repos)
    assert rescanned == [False, True, True]
    assert {len(s.repos) for s in again.secrets} == {3}


def test_the_repositories_own_settings_are_not_applied(tmp_path: Path) -> None:
    """An audited repository cannot exempt itself with a committed .keytrap.toml."""
    key = random_secret()
    repo = GitRepo(tmp_path / "sneaky")
    repo.commit("keys", {".keytrap.toml": 'exclude = ["**"]\nmin_confidence = "high"\n',
                         "x.py": f'client = Client("{key}")\n'})
    result = api.audit([str(repo.path)], cache=tmp_path / "cache", jobs=1, config=DEFAULT)
    assert [s.fingerprint for s in result.secrets] == [fp(key)]


def test_targets_discovery_lists_and_urls(tmp_path: Path) -> None:
    top = tmp_path / "org"
    GitRepo(top / "a").commit("a")
    GitRepo(top / "team" / "b.git", bare=True)
    GitRepo(top / "a" / "vendor" / "inner").commit("inner")  # inside a repository: not searched
    (top / "link").symlink_to(top / "a")  # never followed
    (top / "empty").mkdir()
    found = [t.name for t in tg.from_spec(str(top))]
    assert found == [str(top / "a"), str(top / "team" / "b.git")]
    lst = tmp_path / "list.txt"
    lst.write_text("# comment\n\n  https://user:tok3n@example.com/o/r.git   # trailing\nssh://git@example.com/o/r\n")
    entries = tg.read_list(str(lst))
    assert entries == ["https://user:tok3n@example.com/o/r.git", "ssh://git@example.com/o/r"]
    t = tg.from_spec(entries[0])[0]
    assert t.name == "https://example.com/o/r.git" and "tok3n" not in t.key
    for bad in ("ext::sh -c touch% /tmp/x", "http://example.com/r.git", "ssh://-oProxyCommand=x/r",
                "file://relative/path", "https://example.com/a b"):
        with pytest.raises(UsageError):
            tg.check_url(bad)
    assert tg.dedupe(tg.from_spec(str(top / "a")) + tg.from_spec((top / "a").as_uri())) == tg.from_spec(str(top / "a"))


def _cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KEYTRAP, "audit", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def test_cli_json_contract_text_progress_and_sarif(fleet: Fleet, tmp_path: Path) -> None:
    names = fleet.entries[:4] + fleet.entries[14:16]
    cache = str(tmp_path / "cache")
    proc = _cli(*names, "--cache", cache, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["version"] == 1
    assert set(doc) >= {"version", "repos", "secrets", "stats"}
    for r in doc["repos"]:
        assert set(r) >= {"target", "status", "error", "stats", "findings"}
        assert set(r["stats"]) >= {"blobs_scanned", "blobs_total", "duration_s"}
    for s in doc["secrets"]:
        assert set(s) >= {"kind", "fingerprint", "secret_redacted", "network", "severity",
                          "verification_status", "repos", "locations"}
        for loc in s["locations"]:
            assert set(loc) >= {"repo", "commit", "path", "line", "at_head"}
    shared = [s for s in doc["secrets"] if s["fingerprint"] == fp(fleet.shared[0])]
    assert len(shared) == 1 and len(shared[0]["repos"]) == 3
    assert_redacted(proc.stdout + proc.stderr, fleet.secrets())

    text = _cli(*names, "--cache", cache)
    assert text.returncode == 1
    assert "[6/6]" in text.stderr and "blobs/s" in text.stderr
    assert "severity" in text.stdout and "repository" in text.stdout
    assert_redacted(text.stdout + text.stderr, fleet.secrets())

    sarif = json.loads(_cli(*names, "--cache", cache, "--format", "sarif", "--no-progress").stdout)
    assert len(sarif["runs"]) == 6
    assert sum(len(run["results"]) for run in sarif["runs"]) == sum(len(r["findings"]) for r in doc["repos"])

    clean = _cli(fleet.entries[20], "--cache", cache, "--no-progress")
    assert clean.returncode == 0 and "No secrets found." in clean.stdout
    assert _cli("--cache", cache).returncode == 2  # nothing to audit


def _hostile_source(tmp_path: Path, key: str) -> tuple[GitRepo, Path]:
    marker = tmp_path / "ran"
    program = tmp_path / "evil.sh"
    program.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 0\n")
    program.chmod(0o755)
    repo = GitRepo(tmp_path / "hostile")
    repo.commit("keys", {".env": env_file(key, random_secret())})
    repo.git("branch", "later")
    repo.git("checkout", "-q", "later")
    repo.commit("more", {"b.txt": "b\n"})  # moved onto main after the first audit
    repo.git("checkout", "-q", "main")
    for setting, value in (("core.fsmonitor", program), ("uploadpack.packObjectsHook", program),
                           ("core.alternateRefsCommand", program), ("core.sshCommand", program),
                           ("core.hooksPath", tmp_path / "hooks")):
        repo.git("config", setting, str(value))
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("pre-upload-pack", "post-checkout", "reference-transaction", "pre-receive"):
        (hooks / name).write_text(f"#!/bin/sh\ntouch '{marker}'\n")
        (hooks / name).chmod(0o755)
    return repo, marker


def test_mirroring_a_hostile_repository_runs_none_of_its_programs(tmp_path: Path) -> None:
    key = random_secret()
    repo, marker = _hostile_source(tmp_path, key)
    url = repo.path.as_uri()
    cache = tmp_path / "cache"
    result = api.audit([url], cache=cache, jobs=1, config=DEFAULT)
    assert result.repos[0].status == "scanned", result.repos[0].error
    assert not marker.exists(), "the clone ran a program named by the audited repository"
    later = repo.git("rev-parse", "later")
    repo.git("-c", "core.hooksPath=/dev/null", "update-ref", "refs/heads/main", later)  # no hook of ours
    assert not marker.exists()
    again = api.audit([url], cache=cache, jobs=1, config=DEFAULT)  # the fetch
    assert again.repos[0].status == "scanned" and again.repos[0].error is None
    assert fp(key) in {s.fingerprint for s in again.secrets}
    assert not marker.exists(), "a program named by the audited repository ran"


def test_only_the_allowed_transports_work(tmp_path: Path) -> None:
    from keytrap import gitrun

    marker = tmp_path / "ext-ran"
    proc = gitrun.clone_mirror(f"ext::sh -c touch% {marker}", str(tmp_path / "m.git"))
    assert proc.returncode != 0 and b"not allowed" in proc.stderr
    assert not marker.exists()
    env = gitrun.transfer_env(("https://example.com/", "Authorization: Basic xyz"))
    assert env["GIT_ALLOW_PROTOCOL"] == "https:ssh:git:file"
    n = int(env["GIT_CONFIG_COUNT"]) - 1
    assert env[f"GIT_CONFIG_KEY_{n}"] == "http.https://example.com/.extraHeader"
    assert "xyz" not in " ".join(gitrun.argv("/x", "fetch"))


@pytest.mark.skipif(__import__("importlib").util.find_spec("distributed") is None,
                    reason="dask[distributed] is not installed (pip install 'keytrap[dask]')")
def test_dask_local_gives_the_same_secrets_as_the_process_pool(fleet: Fleet, tmp_path: Path) -> None:
    names = fleet.entries[:8]
    pool = api.audit(names, cache=tmp_path / "pool", jobs=2, config=DEFAULT)
    dask = api.audit(names, cache=tmp_path / "dask", jobs=2, dask="local", config=DEFAULT)
    assert dask.stats.backend == "dask"
    assert [r.status for r in dask.repos] == ["scanned"] * 8
    assert dask.secrets == pool.secrets
    assert dask.stats.blobs_scanned == pool.stats.blobs_scanned


def test_missing_dask_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "dask" or name.startswith("dask."):
            raise ImportError("no dask")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    GitRepo(tmp_path / "r").commit("x")
    with pytest.raises(UsageError, match=r"pip install 'keytrap\[dask\]'"):
        api.audit([str(tmp_path / "r")], cache=tmp_path / "c", dask="local", config=DEFAULT)


def test_verify_reads_each_pair_again_from_where_it_was_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One request per distinct pair per network asked (as ``scan --verify``), the secret read
    again from a mirror or a local repository; a re-run with nothing new (no scan at all) still
    verifies."""
    import time as _time

    from fakebinance import all_requests, fake_networks, network_env

    with fake_networks() as fakes:
        for var, value in network_env(fakes).items():
            monkeypatch.setenv(var, value)
        fake = fakes["mainnet"]
        old = int((_time.time() - 10 * 86400) * 1000)
        live = fake.new_account(enableWithdrawals=True, ipRestrict=False, createTime=old)
        dead = fake.new_account()
        fake.revoke(dead[0])
        names = []
        for i, pair in enumerate((live, live, dead)):
            repo = GitRepo(tmp_path / f"r{i}")
            repo.commit("keys", {"deploy/binance.env": env_file(*pair)})
            if i == 1:
                repo.commit("remove", remove=("deploy/binance.env",))
            names.append(repo.path.as_uri() if i == 1 else str(repo.path))
        names.reverse()  # the live pair is first met in a mirror (r1), not in place
        cache = tmp_path / "cache"
        result = api.audit(names, cache=cache, jobs=2, config=DEFAULT, verify=True)
        # the live pair: mainnet accepts it; the dead one: no network knows it (one ask each)
        per_run = 1 + len(fakes)
        assert len(all_requests(fakes)) == per_run
        again = api.audit(names, cache=cache, jobs=2, config=DEFAULT, verify=True)
        assert len(all_requests(fakes)) == 2 * per_run and again.stats.blobs_scanned == 0
    by_fp = {s.fingerprint: s for s in result.secrets}
    assert by_fp[fp(live[0])].verification_status == "live" and by_fp[fp(live[0])].severity == "critical"
    assert len(by_fp[fp(live[0])].repos) == 2
    assert by_fp[fp(dead[1])].verification_status == "revoked"
    assert result.stats.live == 2  # both halves of the live pair
    assert [s.verification_status for s in again.secrets] == [s.verification_status for s in result.secrets]
    assert result.secrets[0].severity == "critical"


def test_verify_checks_private_key_pairs_like_scan_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An Ed25519 pair (freqtrade config, the PEM ``\\n``-escaped in JSON) read again from the
    repository is signed and verified as ``scan --verify`` does; only the signature is sent."""
    import json as _json

    from fakebinance import all_requests, fake_networks, network_env

    pytest.importorskip("cryptography")
    with fake_networks() as fakes:
        for var, value in network_env(fakes).items():
            monkeypatch.setenv(var, value)
        ed_key, ed_pem = fakes["mainnet"].new_ed25519_account(enableWithdrawals=False, ipRestrict=True)
        config = {"exchange": {"name": "binance", "key": ed_key, "secret": ed_pem}, "dry_run": False}
        repo = GitRepo(tmp_path / "bot")
        repo.commit("config", {"user_data/config.json": _json.dumps(config, indent=4)})
        result = api.audit([str(repo.path)], cache=tmp_path / "cache", config=DEFAULT, verify=True)
        log = all_requests(fakes)
    assert len(log) == 1
    statuses = {s.kind: s.verification_status for s in result.secrets}
    assert statuses == {"api_key": "live", "private_key": "live"}
    body = "".join(ed_pem.strip().splitlines()[1:-1])
    assert body[10:40] not in log[0].raw()


def test_audit_notes_objects_it_cannot_read(tmp_path: Path) -> None:
    """A full audit goes on past objects it cannot read (a partial clone's), never silently:
    the repository's note says how many, on a fresh run and on a cached one."""
    import subprocess
    import sys

    from gitrepo import GitRepo, env_file, fake_key
    from test_history import hostile_partial_clone

    repo = GitRepo(tmp_path / "src")
    repo.commit("one", {"a.env": env_file(fake_key(60))})
    clone, markers = hostile_partial_clone(repo, tmp_path)
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-m", "keytrap", "audit", str(clone), "--cache",
                               str(tmp_path / "cache"), "--no-progress"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "object in scope could not be read" in proc.stdout
    assert os.listdir(markers) == []
