"""What to do about a finding, and how urgent it is. Pure: a Finding (+ Verification) in, advice out.

Severity comes from what is known, most certain first:

* ``critical``: Binance says the key is live on mainnet and withdrawals are enabled or there
  is no IP restriction: anyone who read it can trade or move funds from anywhere.
* ``high``: live on mainnet otherwise (withdrawals off and IP-restricted: trade or read only);
  or not verified but committed to history (a commit, or a tracked file).
* ``medium``: not verified and only on disk (untracked, ignored, staged, or not in a
  repository); or rejected with -1022 (the key exists, this secret is not its secret).
* ``low``: live on the testnet or demo trading, or not verified but found in a testnet/demo
  context: it holds no real funds, but should still be rotated.
* ``info``: revoked (rejected by Binance as unknown on every network asked).

A low-confidence finding that was not confirmed live drops one level (not below ``low``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keytrap.findings import Finding
    from keytrap.verify import Verification

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
#: Keys older than this get rotation advice.
ROTATE_AFTER_DAYS = 90

#: The general checklist, shown once per report.
CHECKLIST: tuple[str, ...] = (
    "Enable only the permissions a key needs (reading only, unless it must trade).",
    "Keep withdrawals off on every API key.",
    "Restrict every key to whitelisted IP addresses.",
    "Rotate keys every 60-90 days, and at once when someone with access leaves.",
    "Never keep keys in plain text or in version control: use environment variables "
    "or a secret manager.",
)

DELETE_NOW = (
    "Delete the key in Binance API Management now (rewriting history is not enough: "
    "forks and clones keep it), then check account activity"
)


def rewrite_steps(commit: str | None) -> tuple[str, str]:
    """How to take a key out of commits that are not pushed yet (deleting it from the file
    leaves it in them): amend the last commit, or edit an earlier one in an interactive rebase."""
    rev = commit[:12] if commit else "<commit>"
    return (
        "in the last commit: remove the key, `git add` the file, then `git commit --amend`",
        f"in an earlier commit: `git rebase -i {rev}^` (`git rebase -i --root` for the first "
        "commit), mark that commit `edit`, remove the key, `git add` the file, `git commit --amend`, "
        "then `git rebase --continue`",
    )


def rewrite_action(commit: str | None) -> str:
    """:func:`rewrite_steps` as one action of a report."""
    last, earlier = rewrite_steps(commit)
    return (
        f"If the commits are not pushed yet, take the key out of them (deleting it from the file "
        f"leaves it in them): {last}; {earlier}. Once pushed, rewriting history does not undo the "
        "leak: delete the key"
    )


@dataclass(frozen=True, slots=True)
class Assessment:
    severity: str  # info | low | medium | high | critical
    actions: tuple[str, ...]  # most urgent first
    reasons: tuple[str, ...] = ()  # why this severity, short phrases

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]


def exposure(finding: Finding) -> str:
    """Where the secret sits: committed | tracked | staged | untracked | ignored | unknown.

    ``committed`` wins: once in a commit, the working tree state no longer matters.
    """
    if finding.commit or finding.get("pushed"):
        return "committed"
    status = finding.git_status
    if status in ("tracked", "committed"):
        return "tracked"
    if status in ("staged", "untracked", "ignored"):
        return status
    return "unknown"


#: Why a testnet/demo finding is low.
NO_REAL_FUNDS = "testnet key: holds no real funds, rotate it anyway"
_TEST_NETWORKS = ("testnet", "demo")


def network_of(finding: Finding, verification: Verification | None) -> str | None:
    """mainnet | testnet | demo | None: where Binance accepted the key, else what the context says."""
    if verification is not None and verification.live and verification.family:
        return verification.family
    net = finding.get("network")
    return net if isinstance(net, str) else None


def severity(finding: Finding, verification: Verification | None) -> tuple[str, tuple[str, ...]]:
    """The severity and the reasons for it."""
    where = exposure(finding)
    in_history = where in ("committed", "tracked")
    net = network_of(finding, verification)
    v = verification
    if v is not None and v.live:
        if net in _TEST_NETWORKS:
            return "low", (f"live on the {v.label.removeprefix('Binance ')}", NO_REAL_FUNDS)
        if v.withdrawals or v.ip_restricted is False:
            reasons = ["live"]
            if v.withdrawals:
                reasons.append("withdrawals enabled")
            if v.ip_restricted is False:
                reasons.append("no IP restriction")
            return "critical", tuple(reasons)
        return "high", ("live", "withdrawals off", "IP-restricted")
    reasons: list[str] = []
    if v is not None and v.status == "revoked":
        if v.code == -1022:
            if (v.family or net) in _TEST_NETWORKS:
                return "low", ("the key exists on a test network, but this secret is not its secret", NO_REAL_FUNDS)
            return "medium", ("the key exists on Binance, but this secret is not its secret",)
        return "info", ("revoked: rejected by Binance",)
    level = "high" if in_history else "medium"
    reasons.append("in git history" if in_history else f"on disk ({where})")
    if net in _TEST_NETWORKS:
        return "low", (*reasons, NO_REAL_FUNDS)
    if finding.confidence == "low" and SEVERITY_RANK[level] > SEVERITY_RANK["low"]:
        level = SEVERITIES[SEVERITY_RANK[level] - 1]
        reasons.append("low confidence")
    return level, tuple(reasons)


#: File names (lower-cased) that hold settings rather than code: ignoring them is the fix.
_CONFIG_NAMES = (
    ".env", ".env.*", "*.env", ".envrc", "*.pem", "*.key", "*.p12", "*.pfx", "secrets.*", "*.secret",
    "*.secrets", "credentials*", "*.ini", "*.cfg", "*.conf", "config*.json", "config*.yaml",
    "config*.yml", "config*.toml", "settings*.json", "*.local.json", "*.local.yaml", "*.local.yml",
    ".npmrc", ".pypirc", ".netrc",
)

#: Purging a key from history: what it takes, and what it cannot reach. Shown after DELETE_NOW.
PURGE_STEPS: tuple[str, ...] = (
    "Rotate first: rewriting history does not un-leak a key. Forks, clones, pull-request refs "
    "(refs/pull/*, refs/merge-requests/*), CI caches and the host's cached views keep the old "
    "commits, so the key must already be deleted in Binance API Management",
    "Then purge it from history in a fresh clone: write the key into a replacements file "
    "outside the repository as a line `<the key>==>REMOVED`, run "
    "`git filter-repo --replace-text <that file>`, delete the file, check with "
    "`keytrap scan . --history`, force-push every branch and tag "
    "(`git push --force --all && git push --force --tags`) and have everyone re-clone",
    "Ask the host's support to drop cached views and pull-request refs of the old commits; "
    "copies in forks stay out of your reach",
)


def is_config_like(path: str) -> bool:
    """Does ``path`` name a settings or credentials file (``.env``, ``config.json``, ``*.pem``),
    the kind that belongs in .gitignore, rather than source code that must not be ignored?"""
    import fnmatch

    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if name in (".env.example", ".env.sample", ".env.template"):
        return False
    return any(fnmatch.fnmatchcase(name, pat) for pat in _CONFIG_NAMES)


def _move_out(path: str) -> str:
    where = "the scanned input" if path == "-" else path  # ``keytrap scan -`` (standard input)
    return f"Move the key out of {where} into environment variables or a secret manager"


def _where_actions(finding: Finding, where: str) -> list[str]:
    path = finding.path
    config = is_config_like(path)
    if where == "committed":
        return [DELETE_NOW, *PURGE_STEPS, rewrite_action(finding.commit)]
    if where == "tracked":
        if config:
            return [
                DELETE_NOW,
                f"{_move_out(path)}, then stop tracking the file (git rm --cached {path}) "
                f"and add it to .gitignore",
                *PURGE_STEPS,
            ]
        return [DELETE_NOW, f"{_move_out(path)}; {path} is source code: keep it tracked, without the key", *PURGE_STEPS]
    if where == "staged":
        fix = "add the file to .gitignore" if config else "stage the file again without it"
        return [
            f"Unstage {path} (git restore --staged {path}) before committing, move the key to "
            f"environment variables or a secret manager, and {fix}",
        ]
    if where == "untracked":
        if config:
            return [f"Add {path} to .gitignore before the next `git add`"]
        return [
            f"{_move_out(path)} before the next `git add`: {path} is source code that will be "
            "committed, so ignoring it is no fix"
        ]
    if where == "ignored":
        return [
            f"{path} is ignored by git but still holds the key in plain text on disk: "
            "move it to a secret manager"
        ]
    return [_move_out(path)]


def assess(finding: Finding, verification: Verification | None = None) -> Assessment:
    """Severity and short, specific actions for one finding, most urgent first."""
    level, reasons = severity(finding, verification)
    where = exposure(finding)
    actions: list[str] = []
    where_actions = _where_actions(finding, where)
    v = verification
    net = network_of(finding, verification)
    if v is not None and v.live and net in _TEST_NETWORKS:
        actions.append(
            f"Binance confirms this key is live on the {v.label.removeprefix('Binance ')}: it holds "
            "no real funds, but delete it there and keep the next one out of files"
        )
    elif v is not None and v.live:
        if where_actions[0] == DELETE_NOW:
            actions.append(where_actions.pop(0))
        else:
            actions.append(
                "Binance confirms this key is live: delete it in Binance API Management "
                "and create a new one if it is still needed"
            )
        if v.withdrawals:
            actions.append(
                "Withdrawals are enabled on this key: check withdrawal history and the "
                "withdrawal address whitelist now"
            )
        if v.ip_restricted is False:
            actions.append("The key has no IP restriction: it works from any machine")
    elif v is not None and v.status == "revoked":
        if v.ambiguous:
            actions.append(
                f"Binance rejected this key ({v.detail}); it may still be live for other IPs "
                "or with another secret: check it in Binance API Management"
            )
        else:
            actions.append(f"Binance rejected this key ({v.detail}): it no longer works")
    elif net in _TEST_NETWORKS:
        actions.append(
            f"This looks like a {net} key ({NO_REAL_FUNDS}): delete it in the {net}'s API "
            "management and keep the next one out of files"
        )
    actions.extend(where_actions)
    if v is not None and v.live and v.age_days is not None and v.age_days > ROTATE_AFTER_DAYS:
        actions.append(
            f"This key is {v.age_days} days old (over {ROTATE_AFTER_DAYS}): rotate it, and "
            "rotate every 60-90 days from now on"
        )
    seen: set[str] = set()
    unique = tuple(a for a in actions if not (a in seen or seen.add(a)))  # type: ignore[func-returns-value]
    return Assessment(level, unique, reasons)


def worst(assessments: list[Assessment]) -> str | None:
    """The highest severity among ``assessments`` (None for none)."""
    if not assessments:
        return None
    return max(assessments, key=lambda a: a.rank).severity
