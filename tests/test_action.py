"""The composite GitHub Action (action.yml): its shell steps run locally on a scripted repository
for push, first push (before = 0000…), tag push, force push, deletion, pull request and schedule
events, with GITHUB_* set and an event payload file (see ci_harness)."""

from __future__ import annotations

import json
import re
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
        if event_name == "push":  # GitHub's push payloads always name the default branch
            event = {"repository": {"default_branch": "main"}, **event}
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


def test_baseline_is_read_from_a_reviewed_commit(sc: Scenario) -> None:
    """The settings of a push come from the default branch (the merge-base with the pushed
    tip), never from the pushed commits or the pusher's own earlier push: a baseline in the
    working tree, or one a first push brings, does not silence the next one; a baseline merged
    on the default branch applies."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "keytrap", "baseline", str(sc.repo), "--history"], check=True,
                   capture_output=True)
    baseline = (sc.repo / ".keytrap-baseline.json").read_text()
    # in the working tree only (what the pushed commits would bring): not applied
    run = sc.run("push", {"before": sc.c1, "after": sc.c2}, sc.c2)
    assert run.rc == 1, run
    (sc.repo / ".keytrap-baseline.json").unlink(missing_ok=True)
    # a branch's first push brings the baseline, its second the key: the baseline is not applied
    sc.git("checkout", "-q", "-b", "accepted", sc.c1)
    sc.write(".keytrap-baseline.json", baseline)
    own = sc.commit("accept the fixture key")
    sc.write("app/config.py", f"BINANCE_API_KEY = '{sc.keys[0]}'\n")
    head = sc.commit("add config")
    run = sc.run("push", {"before": own, "after": head}, head, ref="refs/heads/accepted")
    assert run.rc == 1, run
    assert "config changed: the scanned commits add .keytrap-baseline.json" in run.stderr, run
    # merged on the default branch first: applied to the key a later branch adds
    sc.git("checkout", "-q", "main")
    sc.write(".keytrap-baseline.json", baseline)
    merged = sc.commit("accept the fixture key")
    sc.git("checkout", "-q", "-b", "later", merged)
    sc.write("app/settings.py", f"BINANCE_API_KEY = '{sc.keys[0]}'\n")
    head = sc.commit("add config")
    for before in (merged, ZERO):
        run = sc.run("push", {"before": before, "after": head}, head, ref="refs/heads/later")
        assert run.rc == 0, run
        assert f"--settings-from {merged}" in run.stdout


def test_two_pushes_cannot_silence_the_scan(sc: Scenario) -> None:
    """Push 1 adds `exclude = ["*"]` (no key: it passes, with a warning); push 2 adds the key.
    The range before..sha has push 1 as its base, but the settings come from the default
    branch: push 2 fails. So does a new branch (before = 0000…) stacked on the attacker's."""
    key2 = random_secret()
    sc.git("checkout", "-q", "-b", "evil", sc.c1)
    sc.write("pyproject.toml", '[tool.keytrap]\nexclude = ["*"]\n')
    p1 = sc.commit("chore: tooling")
    first = sc.run("push", {"before": ZERO, "after": p1, "created": True}, p1, ref="refs/heads/evil")
    assert first.rc == 0, first
    assert "config changed: the scanned commits add pyproject.toml" in first.stderr, first
    sc.write("prod.env", f"BINANCE_API_SECRET={sc.keys[1]}\n")
    p2 = sc.commit("feat")
    second = sc.run("push", {"before": p1, "after": p2}, p2, ref="refs/heads/evil")
    assert second.rc == 1 and second.outputs["exit-code"] == "1", second
    assert any("prod.env" in e for e in errors(second)), second
    assert f"--settings-from {sc.c1}" in second.stdout  # the merge-base with main
    sc.git("checkout", "-q", "-b", "evil2", p2)
    sc.write("more.env", f"BINANCE_API_SECRET={key2}\n")
    p3 = sc.commit("more")
    stacked = sc.run("push", {"before": ZERO, "after": p3, "created": True}, p3, ref="refs/heads/evil2")
    assert stacked.rc == 1, stacked
    assert {e.split(",")[0] for e in errors(stacked)} == {"::error file=prod.env", "::error file=more.env"}
    # a push to the default branch reads the settings of its previous tip
    sc.git("checkout", "-q", "main")
    sc.write("pyproject.toml", '[tool.keytrap]\nexclude = ["*"]\n')
    sc.write("main.env", f"BINANCE_API_SECRET={key2}\n")
    m = sc.commit("direct push")
    direct = sc.run("push", {"before": sc.c3, "after": m}, m, ref="refs/heads/main")
    assert direct.rc == 1 and f"--settings-from {sc.c3}" in direct.stdout, direct
    assert_redacted(first.stdout + second.stdout + stacked.stdout + direct.stdout + second.stderr, [*sc.keys, key2])


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


# --- the action runs no code from the scanned checkout ------------------------------------------

#: Modules a checkout could hold that a Python started in it would import: ``python -m X`` and
#: ``python -`` put the current folder first on sys.path (venv, pip, json), ``keytrap`` is the
#: scanner's own package, and site/sitecustomize run at start-up when their folder is on the path.
HOSTILE_MODULES = ("venv.py", "pip/__init__.py", "pip/__main__.py", "json.py", "keytrap/__init__.py",
                   "keytrap/__main__.py", "site.py", "sitecustomize.py", "usercustomize.py")


def _plant_hostile_modules(repo: Path, markers: Path) -> None:
    for rel in HOSTILE_MODULES:
        name = rel.split("/")[0].removesuffix(".py")
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(f"open({str(markers / name)!r}, 'w').write('ran')\n")


def _action_copy(tmp: Path) -> Path:
    """The action's own files in a folder of their own: ``pip install`` builds in the source
    folder, and parallel tests must not share (or write into) this checkout."""
    import shutil

    dest = tmp / "action"
    dest.mkdir()
    for name in ("action.yml", "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


@pytest.mark.parametrize("install", [True, False], ids=["installed-by-the-action", "preinstalled"])
@pytest.mark.parametrize("event_name", ["push", "pull_request"])
def test_action_runs_no_code_from_the_checkout(sc: Scenario, tmp_path: Path, event_name: str, install: bool) -> None:
    """A pull request that commits venv.py, pip/, json.py, keytrap/, site.py and sitecustomize.py
    runs none of them: the install step works in RUNNER_TEMP and every Python starts isolated
    (``preinstalled`` runs the scan step even where the install step cannot reach an index)."""
    from ci_harness import run_action

    markers = tmp_path / "markers"
    markers.mkdir()
    sc.git("checkout", "-q", "-b", "hostile", sc.c1)
    _plant_hostile_modules(sc.repo, markers)
    sc.write("deploy/prod.env", f"BINANCE_API_SECRET={sc.keys[1]}\n")
    head = sc.commit("innocent-looking change")
    event = ({"pull_request": {"base": {"sha": sc.c1}, "head": {"sha": head}}} if event_name == "pull_request"
             else {"before": sc.c1, "after": head, "repository": {"default_branch": "main"}})
    work = tmp_path / "work"
    work.mkdir()
    run = run_action(_action_copy(tmp_path), {"python-version": ""}, repo=sc.repo, event_name=event_name,
                     event=event, sha=head, tmp=work, ref="refs/heads/hostile", install=install)
    assert sorted(p.name for p in markers.iterdir()) == [], run  # nothing from the checkout ran
    if install and not (work / "runner-temp" / "keytrap-venv" / "bin" / "keytrap").exists():
        pytest.skip(f"keytrap could not be installed here (no package index?): {run.stderr[-300:]}")
    assert run.rc == 1 and run.outputs["exit-code"] == "1", run
    assert any("deploy/prod.env" in e for e in errors(run)), run


_PY_CALL = re.compile(
    r"""(?:^|[\s;&|(`])["']?(?:[^\s"';&|()`]*/)?(python(?:3(?:\.\d+)?)?|pip3?)["']?(?=\s|$)(\s+\S+)?""")


def _shell_lines(text: str) -> list[str]:
    """Lines of shell, comments removed (a comment may name `python -m` to explain it)."""
    out = []
    for line in text.splitlines():
        code = re.sub(r"(?:^|\s)#.*$", "", line)
        if code.strip():
            out.append(code)
    return out


def _shipped_shell() -> list[tuple[str, str]]:
    """(where, line) for every shell line keytrap ships: the action's `run:` steps, the fenced
    blocks and inline commands of docs/ci.md, and the Dockerfile's RUN instructions."""
    import yaml

    lines: list[tuple[str, str]] = []
    spec = yaml.safe_load((ROOT / "action.yml").read_text())
    for step in spec["runs"]["steps"]:
        lines += [(f"action.yml: {step.get('name')}", ln) for ln in _shell_lines(step.get("run", ""))]
    doc = (ROOT / "docs" / "ci.md").read_text()
    for m in re.finditer(r"^```\w*\n(.*?)^```$", doc, re.M | re.S):
        lines += [("docs/ci.md block", ln) for ln in _shell_lines(m.group(1))]
    prose = re.sub(r"^```\w*\n.*?^```$", "", doc, flags=re.M | re.S)
    lines += [("docs/ci.md inline", span) for span in re.findall(r"`([^`\n]+ [^`\n]+)`", prose)]
    docker = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines += [("Dockerfile", ln) for ln in _shell_lines(docker) if ln.lstrip().upper().startswith("RUN ")]
    return lines


def test_every_shipped_python_call_is_isolated() -> None:
    """`python -m X` and `python -` put the current folder (a scanned checkout) first on
    sys.path: every Python we ship a command line for starts with -I, and pip runs as
    `python -I -m pip` (never a bare `pip`, whose helpers inherit the folder)."""
    calls = 0
    for where, line in _shipped_shell():
        for m in _PY_CALL.finditer(line):
            prog, nxt = m.group(1), (m.group(2) or "").strip()
            if prog.startswith("pip"):
                assert line[: m.start(1)].rstrip().endswith("-m"), f"{where}: bare pip: use python3 -I -m pip: {line.strip()}"
                continue
            assert nxt == "-I", f"{where}: {prog} without -I: {line.strip()}"
            calls += 1
    assert calls >= 5  # the action's venv, pip and event reader, the GitLab install, the Dockerfile
