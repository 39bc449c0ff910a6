"""What to do about a finding, and how urgent it is. Pure: a Finding (+ Verification) in, advice out.

Severity comes from what is known:

* ``critical``: Binance says the key is live, withdrawals are enabled and there is no IP
  restriction: anyone who read it can move funds out.
* ``high``: live otherwise; or not verified but committed to history (a commit, or a tracked file).
* ``medium``: not verified and only on disk (untracked, ignored, staged, or not in a repository);
  or rejected by Binance in a way that does not prove it dead (-2015 IP/permissions, -1022).
* ``low``: rejected by Binance as unknown / malformed (-2014, -2008).

A low-confidence finding that was not confirmed live drops one level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keytrap.findings import Finding
    from keytrap.verify import Verification

SEVERITIES = ("low", "medium", "high", "critical")
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
    severity: str  # low | medium | high | critical
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


def severity(finding: Finding, verification: Verification | None) -> tuple[str, tuple[str, ...]]:
    """The severity and the reasons for it."""
    where = exposure(finding)
    in_history = where in ("committed", "tracked")
    if verification is not None and verification.live:
        if verification.withdrawals and verification.ip_restricted is False:
            return "critical", ("live", "withdrawals enabled", "no IP restriction")
        return "high", ("live",)
    reasons: list[str] = []
    if verification is not None and verification.status == "revoked":
        if verification.ambiguous:
            level, reasons = "medium", ["rejected by Binance, but may be live elsewhere"]
        else:
            level, reasons = "low", ["rejected by Binance"]
    else:
        level = "high" if in_history else "medium"
        reasons.append("in git history" if in_history else f"on disk ({where})")
    if finding.confidence == "low" and level != "low":
        level = SEVERITIES[SEVERITY_RANK[level] - 1]
        reasons.append("low confidence")
    return level, tuple(reasons)


def _where_actions(finding: Finding, where: str) -> list[str]:
    path = finding.path
    if where == "committed":
        return [DELETE_NOW, rewrite_action(finding.commit)]
    if where == "tracked":
        return [
            DELETE_NOW,
            f"Move the key out of {path} into environment variables or a secret manager, "
            f"and add {path} to .gitignore",
        ]
    if where == "staged":
        return [
            f"Unstage {path} (git restore --staged {path}) before committing, move the key to "
            "environment variables or a secret manager, and add the file to .gitignore",
        ]
    if where == "untracked":
        return [f"Add {path} to .gitignore before the next `git add`"]
    if where == "ignored":
        return [
            f"{path} is ignored by git but still holds the key in plain text on disk: "
            "move it to a secret manager"
        ]
    return [f"Move the key out of {path} into environment variables or a secret manager"]


def assess(finding: Finding, verification: Verification | None = None) -> Assessment:
    """Severity and short, specific actions for one finding, most urgent first."""
    level, reasons = severity(finding, verification)
    where = exposure(finding)
    actions: list[str] = []
    where_actions = _where_actions(finding, where)
    v = verification
    if v is not None and v.live:
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
