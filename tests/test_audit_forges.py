"""--github-org / --gitlab-group against a local fake API: pages, Link headers, tokens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from auditfleet import Fleet, build
from fakeforge import FakeForge
from helpers import assert_redacted, random_secret
from keytrap.audit import forges
from keytrap.errors import KeytrapError, UsageError

KEYTRAP = str(Path(sys.executable).with_name("keytrap"))


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    return build(tmp_path_factory.mktemp("org"), count=25, shared_in=(0, 11, 22), unique_in=(5, 19))


def _github_items(fleet: Fleet) -> list[dict]:
    return [{"full_name": f"acme/{r.path.name}", "clone_url": r.path.as_uri(), "fork": i == 3,
             "archived": i == 4} for i, r in enumerate(fleet.repos)]


def _gitlab_items(fleet: Fleet) -> list[dict]:
    out = []
    for i, r in enumerate(fleet.repos):
        item = {"path_with_namespace": f"acme/sub/{r.path.name}", "http_url_to_repo": r.path.as_uri(),
                "archived": i == 4}
        if i == 3:
            item["forked_from_project"] = {"id": 1}
        out.append(item)
    return out


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITLAB_TOKEN")}
    env.update(extra)
    return env


def test_github_org_audits_every_listed_repository(fleet: Fleet, tmp_path: Path) -> None:
    token = "ghp_" + random_secret(36)
    with FakeForge("github", "acme", _github_items(fleet)) as api:
        proc = subprocess.run(
            [KEYTRAP, "audit", "--github-org", "acme", "--github-api-url", api.api_url, "--cache",
             str(tmp_path / "cache"), "--format", "json"],
            capture_output=True, text=True, env=_env(GITHUB_TOKEN=token), timeout=300,
        )
        requests = list(api.requests)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [r["target"] for r in doc["repos"]] == [r.path.as_uri() for r in fleet.repos]
    assert all(r["status"] == "scanned" for r in doc["repos"])
    assert len(requests) == 3  # 25 repositories in pages of 10
    assert all(h.get("Authorization") == f"Bearer {token}" for _, h in requests)
    shared = [s for s in doc["secrets"] if s["secret_redacted"] == f"{fleet.shared[0][:4]}…{fleet.shared[0][-4:]}"]
    assert len(shared) == 1 and len(shared[0]["repos"]) == 3
    assert token not in proc.stdout + proc.stderr
    assert_redacted(proc.stdout + proc.stderr, fleet.secrets())


def test_gitlab_group_with_skips(fleet: Fleet, tmp_path: Path) -> None:
    token = "glpat-" + random_secret(20)
    with FakeForge("gitlab", "acme/sub", _gitlab_items(fleet)) as api:
        proc = subprocess.run(
            [KEYTRAP, "audit", "--gitlab-group", "acme/sub", "--gitlab-api-url", api.api_url,
             "--skip-forks", "--skip-archived", "--cache", str(tmp_path / "cache"), "--format", "json"],
            capture_output=True, text=True, env=_env(GITLAB_TOKEN=token), timeout=300,
        )
        requests = list(api.requests)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    expected = [r.path.as_uri() for i, r in enumerate(fleet.repos) if i not in (3, 4)]
    assert [r["target"] for r in doc["repos"]] == expected
    assert len(requests) == 3 and all(h.get("Private-Token") == token for _, h in requests)
    assert "include_subgroups=true" in requests[0][0]
    assert any("forks skipped" in n for n in doc["notes"])
    assert token not in proc.stdout + proc.stderr


def test_listing_helpers_refuse_what_they_must(fleet: Fleet) -> None:
    with FakeForge("github", "acme", _github_items(fleet)) as api:
        targets, notes = forges.github_org("acme", api_url=api.api_url, skip_forks=True, environ={})
        assert len(targets) == 24 and notes
        with pytest.raises(KeytrapError, match="HTTP 404"):
            forges.github_org("other", api_url=api.api_url, environ={})
    with pytest.raises(UsageError, match="plain http"):
        forges.github_org("acme", api_url="http://example.com/api", environ={})
    with pytest.raises(UsageError):
        forges.github_org("../etc", api_url="https://example.com", environ={})

    def evil(url, headers, timeout):  # type: ignore[no-untyped-def]
        return 200, {"Link": '<https://attacker.example/next>; rel="next"'}, b"[]"

    with pytest.raises(KeytrapError, match="another host"):
        forges.github_org("acme", api_url="https://api.example.com", fetch=evil, environ={"GITHUB_TOKEN": "t"})
    assert forges.next_link('<https://a/x?page=2>; rel="next", <https://a/x?page=9>; rel="last"') == "https://a/x?page=2"
    assert forges.token_header("github", {"GITHUB_TOKEN": "abc"}).startswith("Authorization: Basic ")
    assert forges.token_header("github", {}) is None


def test_clone_auth_is_scoped_and_never_on_a_command_line() -> None:
    t = forges._clone_target("https://github.example.com/acme/x.git", "acme/x", "github", fork=False, archived=False)
    assert t is not None and t.auth == "github" and t.auth_prefix == "https://github.example.com/"
    assert forges._clone_target("file:///srv/x.git", "x", "github", fork=False, archived=False).auth is None
    assert forges._clone_target("ext::sh -c x", "x", "github", fork=False, archived=False) is None
