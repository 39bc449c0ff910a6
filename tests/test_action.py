"""The composite GitHub Action (action.yml): its shell steps run locally on a scripted repository
for push, first push (before = 0000…), tag push, force push, deletion, pull request and schedule
events, with GITHUB_* set and an event payload file (see ci_harness)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ci_harness import ROOT, ZERO, git, run_action
from helpers import assert_redacted, random_secret

pytest.importorskip("yaml")


class Scenario:
    """main: c1 (clean) -> c2 (leaks app/config.py) -> c3 (clean); feature: c1 -> f1 (leaks
    deploy/prod.env); docs: c1 -> d1 (clean); tags: v-leak on c2, v-clean on c1."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.repo = tmp / "checkout"
        self.repo.mkdir(parents=True)
        self.keys = [random_secret(), random_secret()]
        g = self.git
        g("init", "-q", "-b", "main")
        self.write("README.md", "hello\n")
        self.c1 = self.commit("init")
        self.write("app/config.py", f"BINANCE_API_KEY = '{self.keys[0]}'\n")
        self.c2 = self.commit("add config")
        self.write("app/config.py", "import os\nBINANCE_API_KEY = os.environ['BINANCE_API_KEY']\n")
        self.c3 = self.commit("read the key from the environment")
        g("checkout", "-q", "-b", "feature", self.c1)
        self.write("deploy/prod.env", f"BINANCE_API_SECRET={self.keys[1]}\n")
        self.f1 = self.commit("deploy settings")
        g("checkout", "-q", "-b", "docs", self.c1)
        self.write("docs/guide.md", "# guide\n")
        self.d1 = self.commit("docs")
        g("tag", "-a", "v-leak", "-m", "release", self.c2)
        g("tag", "-a", "v-clean", "-m", "release", self.c1)
        g("checkout", "-q", "main")

    def git(self, *args: str) -> str:
        return git(self.repo, *args)

    def write(self, rel: str, text: str) -> None:
        (self.repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.repo / rel).write_text(text)

    def commit(self, msg: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-qm", msg)
        return self.git("rev-parse", "HEAD")

    def run(self, event_name: str, event: dict, sha: str, ref: str = "refs/heads/main", **inputs: str):
        self.git("checkout", "-q", "--detach", sha)  # what actions/checkout leaves
        work = self.tmp / f"run-{event_name}-{sha[:7]}-{len(list(self.tmp.iterdir()))}"
        work.mkdir()
        return run_action(ROOT, {"python-version": "", **inputs}, repo=self.repo, event_name=event_name,
                          event=event, sha=sha, tmp=work, ref=ref)


@pytest.fixture
def sc(tmp_path: Path) -> Scenario:
    return Scenario(tmp_path)


def errors(run) -> list[str]:
    return [ln for ln in run.stdout.splitlines() if ln.startswith("::error ")]


def test_push_scans_the_pushed_commits(sc: Scenario) -> None:
    run = sc.run("push", {"before": sc.c1, "after": sc.c2}, sc.c2)
    assert run.rc == 1, run
    assert run.outputs["exit-code"] == "1"
    assert [e.split(",")[0] for e in errors(run)] == ["::error file=app/config.py"]
    assert "keytrap: 1 leaked Binance secret found" in run.summary.replace("###", "keytrap:").replace("keytrap: keytrap:", "keytrap:")
    assert_redacted(run.stdout + run.stderr + run.summary, sc.keys)
    clean = sc.run("push", {"before": sc.c2, "after": sc.c3}, sc.c3)
    assert clean.rc == 0 and errors(clean) == [], clean  # the key is in history, not in this push


def test_first_push_of_a_branch_has_no_base(sc: Scenario) -> None:
    run = sc.run("push", {"before": ZERO, "after": sc.f1, "created": True}, sc.f1, ref="refs/heads/feature")
    assert run.rc == 1, run
    assert "no earlier commit to compare with" in run.stdout
    assert any("deploy/prod.env" in e for e in errors(run))
    clean = sc.run("push", {"before": ZERO, "after": sc.d1, "created": True}, sc.d1, ref="refs/heads/docs")
    assert clean.rc == 0, clean


def test_tag_push(sc: Scenario) -> None:
    tag_obj = sc.git("rev-parse", "v-leak")
    run = sc.run("push", {"before": ZERO, "after": tag_obj, "created": True}, sc.c2, ref="refs/tags/v-leak")
    assert run.rc == 1, run
    assert any("app/config.py" in e for e in errors(run))
    clean = sc.run("push", {"before": ZERO, "after": sc.git("rev-parse", "v-clean"), "created": True}, sc.c1,
                   ref="refs/tags/v-clean")
    assert clean.rc == 0, clean


def test_force_push_whose_old_tip_is_gone(sc: Scenario) -> None:
    run = sc.run("push", {"before": "1" * 40, "after": sc.f1, "forced": True}, sc.f1, ref="refs/heads/feature")
    assert run.rc == 1, run
    assert "force push" in run.stdout


def test_deleted_branch_scans_nothing(sc: Scenario) -> None:
    run = sc.run("push", {"before": sc.f1, "after": ZERO, "deleted": True}, sc.c1)
    assert run.rc == 0 and "nothing to scan" in run.stdout, run


def test_pull_request_range(sc: Scenario) -> None:
    pr = {"pull_request": {"base": {"sha": sc.c1}, "head": {"sha": sc.f1}}}
    run = sc.run("pull_request", pr, sc.f1)
    assert run.rc == 1, run
    assert [e.split(",")[0] for e in errors(run)] == ["::error file=deploy/prod.env"]
    clean = sc.run("pull_request", {"pull_request": {"base": {"sha": sc.c1}, "head": {"sha": sc.d1}}}, sc.d1)
    assert clean.rc == 0, clean
    missing = sc.run("pull_request", {"pull_request": {"base": {"sha": "2" * 40}, "head": {"sha": sc.f1}}}, sc.f1)
    assert missing.rc == 2 and "fetch-depth: 0" in missing.stdout, missing


def test_schedule_scans_all_history(sc: Scenario) -> None:
    run = sc.run("schedule", {}, sc.c3)
    assert run.rc == 1, run
    assert sorted(e.split(",")[0] for e in errors(run)) == ["::error file=app/config.py", "::error file=deploy/prod.env"]


def test_modes_inputs_and_outputs(sc: Scenario) -> None:
    tree = sc.run("push", {"before": sc.c1, "after": sc.c3}, sc.c3, mode="tree")
    assert tree.rc == 0, tree  # the working tree at c3 is clean
    ranged = sc.run("workflow_dispatch", {}, sc.c3, mode="range", range=f"{sc.c1}..{sc.c2}")
    assert ranged.rc == 1, ranged
    soft = sc.run("push", {"before": sc.c1, "after": sc.c2}, sc.c2, **{"fail-on-findings": "false"})
    assert soft.rc == 0 and soft.outputs["exit-code"] == "1", soft
    high = sc.run("push", {"before": sc.c1, "after": sc.c2}, sc.c2, **{"min-confidence": "high", "format": "json"})
    assert json.loads(high.stdout[high.stdout.index("{"):])["version"] == 1
    sarif = sc.run("push", {"before": sc.c1, "after": sc.c2}, sc.c2, **{"upload-sarif": "true"})
    assert sarif.rc == 1 and sarif.outputs["sarif-file"] == "keytrap.sarif", sarif
    doc = json.loads((sc.repo / "keytrap.sarif").read_text())
    assert len(doc["runs"][0]["results"]) == 1
    assert_redacted((sc.repo / "keytrap.sarif").read_text(), sc.keys)
    bad = sc.run("push", {}, sc.c3, mode="everything")
    assert bad.rc == 2 and "unknown mode" in bad.stdout


def test_baseline_is_read_from_the_base_commit(sc: Scenario) -> None:
    """A range reads the baseline as of its base commit: one the pushed commits (or a pull
    request) add or change cannot silence them; one already on the base branch applies."""
    from ci_harness import tools_dir  # noqa: F401 - the same keytrap the action runs
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "keytrap", "baseline", str(sc.repo), "--history"], check=True,
                   capture_output=True)
    baseline = (sc.repo / ".keytrap-baseline.json").read_text()
    # in the working tree only (what the pushed commits would bring): not applied
    run = sc.run("push", {"before": sc.c1, "after": sc.c2}, sc.c2)
    assert run.rc == 1, run
    (sc.repo / ".keytrap-baseline.json").unlink(missing_ok=True)
    # committed on the base side first: applied to the key the next commit adds
    sc.git("checkout", "-q", "-b", "accepted", sc.c1)
    sc.write(".keytrap-baseline.json", baseline)
    base = sc.commit("accept the fixture key")
    sc.write("app/config.py", f"BINANCE_API_KEY = '{sc.keys[0]}'\n")
    head = sc.commit("add config")
    run = sc.run("push", {"before": base, "after": head}, head, ref="refs/heads/accepted")
    assert run.rc == 0, run


def test_at_most_ten_annotations_per_level(sc: Scenario) -> None:
    sc.git("checkout", "-q", "main")
    keys = [random_secret() for _ in range(14)]
    for i, k in enumerate(keys):
        sc.write(f"svc{i:02d}/settings.py", f"BINANCE_API_KEY = '{k}'\n")
    tip = sc.commit("many services")
    run = sc.run("push", {"before": sc.c3, "after": tip}, tip)
    assert run.rc == 1
    assert len(errors(run)) == 10
    notice = [ln for ln in run.stdout.splitlines() if ln.startswith("::notice ")][-1]
    assert "14 leaked Binance secrets" in notice and "4 more" in notice
    rows = [ln for ln in run.summary.splitlines() if ln.startswith("| ") and "---" not in ln]
    assert len(rows) == 15  # header + every finding
    assert_redacted(run.stdout + run.summary, keys)
