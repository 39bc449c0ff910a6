"""Run keytrap's CI recipes locally: the composite action's shell steps, GitLab job scripts and
pre-commit configs, as documented, against scripted repositories. Nothing is fetched.

Environment overrides (the only departures from the recipes as written):

* ``KEYTRAP_PREINSTALLED`` points the action's install step at this checkout's keytrap (the
  action's documented switch for air-gapped runners), instead of ``pip install`` from the
  action's folder;
* ``PATH`` starts with a folder holding ``keytrap`` (this checkout's, run with the test
  interpreter) and a ``pip`` that only records its arguments, so a recipe's
  ``pip install "git+…@<sha>"`` installs nothing; the tests check the recorded pin instead;
* ``uses:`` steps (actions/checkout, actions/setup-python, codeql-action) are not run: the
  scripted repository is the checkout, and the test interpreter is the Python.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZERO = "0" * 40


def code_blocks(markdown: str, lang: str) -> list[str]:
    """The fenced code blocks of ``markdown`` in language ``lang``, in order."""
    return [m.group(1) for m in re.finditer(rf"^```{lang}\n(.*?)^```$", markdown, re.M | re.S)]


def tools_dir(tmp: Path) -> Path:
    """A folder with ``keytrap`` (this checkout), a recording ``pip`` and a ``python3`` that
    records ``python3 -I -m pip …`` (and runs the test interpreter otherwise), for the front of
    PATH.

    The ``keytrap`` here starts isolated (``-I``) with this checkout's ``src`` first on
    ``sys.path``, like the console script of an installed keytrap: the current folder (the
    scanned checkout) is never on it, so a recipe test can put hostile modules there.
    """
    bin_dir = tmp / "recipe-bin"
    bin_dir.mkdir(exist_ok=True)
    boot = f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r}); from keytrap.cli import main; sys.exit(main())"
    keytrap = bin_dir / "keytrap"
    keytrap.write_text(f'#!/bin/sh\nexec "{sys.executable}" -I -c "{boot}" "$@"\n')
    keytrap.chmod(0o755)
    pip = bin_dir / "pip"
    pip.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{bin_dir}/pip.log"\n')
    pip.chmod(0o755)
    python3 = bin_dir / "python3"
    python3.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = -I ] && [ "$2" = -m ] && [ "$3" = pip ]; then\n'
        f'  shift 3; printf "%s\\n" "$*" >> "{bin_dir}/pip.log"; exit 0\n'
        "fi\n"
        f'exec "{sys.executable}" "$@"\n'
    )
    python3.chmod(0o755)
    return bin_dir


def base_env(bin_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_", "RUNNER_", "PRE_COMMIT"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p)
    return env


def git(cwd: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if check and proc.returncode:
        raise AssertionError(f"git {' '.join(args)}: {proc.stderr}")
    return proc.stdout.strip()


# --- the composite GitHub Action -----------------------------------------------------------------

_EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


class ActionRun:
    def __init__(self, rc: int, outputs: dict[str, str], stdout: str, stderr: str, summary: str) -> None:
        self.rc, self.outputs, self.stdout, self.stderr, self.summary = rc, outputs, stdout, stderr, summary

    def __repr__(self) -> str:
        return f"ActionRun(rc={self.rc}, outputs={self.outputs})\n{self.stdout}\n{self.stderr}"


def _parse_kv_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
    return out


def run_action(
    action_dir: Path,
    inputs: dict[str, str],
    *,
    repo: Path,
    event_name: str,
    event: dict,
    sha: str,
    tmp: Path,
    ref: str = "refs/heads/main",
    install: bool = False,
) -> ActionRun:
    """Run the ``run:`` steps of ``action_dir/action.yml`` as GitHub would (bash -eo pipefail,
    GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files), with ``inputs`` over the defaults.
    ``install``: run the install step for real (a virtualenv in RUNNER_TEMP and ``pip install``
    of ``action_dir``, from the package index) instead of ``KEYTRAP_PREINSTALLED``."""
    import yaml

    spec = yaml.safe_load((action_dir / "action.yml").read_text())
    values = {k: str(v.get("default", "")) for k, v in spec.get("inputs", {}).items()}
    unknown = set(inputs) - set(values)
    assert not unknown, f"inputs the action does not declare: {unknown}"
    values.update({k: str(v) for k, v in inputs.items()})
    bin_dir = tools_dir(tmp)
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(event))
    files = {name: tmp / f"{name.lower()}.txt" for name in ("GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")}
    for f in files.values():
        f.write_text("")
    github = {"action_path": str(action_dir), "event_name": event_name, "sha": sha, "workspace": str(repo)}
    env = base_env(bin_dir)
    env.update(
        GITHUB_ACTIONS="true", CI="true", GITHUB_EVENT_NAME=event_name, GITHUB_EVENT_PATH=str(event_path),
        GITHUB_SHA=sha, GITHUB_REF=ref, GITHUB_WORKSPACE=str(repo), GITHUB_ACTION_PATH=str(action_dir),
        RUNNER_TEMP=str(runner_temp), KEYTRAP_PREINSTALLED=str(bin_dir / "keytrap"),
        **{k: str(v) for k, v in files.items()},
    )
    if install:
        del env["KEYTRAP_PREINSTALLED"]
        env.pop("PYTHONPATH", None)
    step_outputs: dict[str, dict[str, str]] = {}

    def evaluate(expr: str) -> str:
        scope, _, name = expr.partition(".")
        if scope == "inputs":
            return values[name]
        if scope == "github":
            return github[name]
        if scope == "steps":
            step_id, _, rest = name.partition(".outputs.")
            return step_outputs.get(step_id, {}).get(rest, "")
        raise AssertionError(f"the harness cannot evaluate ${{{{ {expr} }}}}")

    stdout, stderr, rc = [], [], 0
    for step in spec["runs"]["steps"]:
        if "uses" in step:
            continue  # setup-python / upload-sarif: see the module docstring
        assert "if" not in step, "run steps of the action take no conditions (the harness runs them all)"
        step_env = dict(env)
        step_env.update(_parse_kv_file(files["GITHUB_ENV"]))
        for key, value in (step.get("env") or {}).items():
            step_env[key] = _EXPR.sub(lambda m: evaluate(m.group(1)), str(value))
        assert "${{" not in step["run"], "run scripts must read inputs from env, not ${{ }} (injection)"
        files["GITHUB_OUTPUT"].write_text("")
        script = tmp / "step.sh"
        script.write_text(step["run"])
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=repo, env=step_env, capture_output=True, text=True, timeout=300)
        stdout.append(proc.stdout)
        stderr.append(proc.stderr)
        if "id" in step:
            step_outputs[step["id"]] = _parse_kv_file(files["GITHUB_OUTPUT"])
        if proc.returncode:
            rc = proc.returncode
            break
    outputs = {k: _EXPR.sub(lambda m: evaluate(m.group(1)), str(v["value"]))
               for k, v in (spec.get("outputs") or {}).items()}
    return ActionRun(rc, outputs, "".join(stdout), "".join(stderr), files["GITHUB_STEP_SUMMARY"].read_text())


# --- a GitLab CI job -------------------------------------------------------------------------------

def gitlab_rule_matches(rules: list[dict], variables: dict[str, str]) -> bool:
    """GitLab's ``rules:``: the first rule whose ``if`` holds decides (``when: never`` = skip).
    Supports the forms the recipe uses: ``$VAR``, ``$VAR == "x"`` and ``&&``."""
    for rule in rules:
        cond = rule.get("if")
        if cond is None or all(_gitlab_term(t.strip(), variables) for t in cond.split("&&")):
            return rule.get("when", "on_success") != "never"
    return False


def _gitlab_term(term: str, variables: dict[str, str]) -> bool:
    m = re.fullmatch(r'\$(\w+)\s*==\s*"([^"]*)"', term)
    if m:
        return variables.get(m.group(1), "") == m.group(2)
    m = re.fullmatch(r"\$(\w+)", term)
    assert m, f"the harness cannot evaluate {term!r}"
    return bool(variables.get(m.group(1)))


def run_gitlab_job(job: dict, variables: dict[str, str], *, repo: Path, tmp: Path) -> subprocess.CompletedProcess:
    """``before_script`` then ``script`` in one shell (sh -e, as GitLab's runner does), with the
    job's ``variables`` and the pipeline's predefined ones."""
    bin_dir = tools_dir(tmp)
    env = base_env(bin_dir)
    env.update({k: str(v) for k, v in (job.get("variables") or {}).items()})
    env.update(variables)
    env.setdefault("KEYTRAP_GIT_URL", "https://example.invalid/your-mirror-of/keytrap")
    lines = [*job.get("before_script", []), *job["script"]]
    script = tmp / "job.sh"
    script.write_text("set -e\n" + "\n".join(lines) + "\n")
    return subprocess.run(["sh", str(script)], cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def pip_log(tmp: Path) -> list[str]:
    log = tmp / "recipe-bin" / "pip.log"
    return log.read_text().splitlines() if log.exists() else []
