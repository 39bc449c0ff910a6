"""Wording and helpers shared by the reporters.

Reporters show a secret only as ``Finding.secret_redacted`` (at most 8 characters of it).
``Scrubber`` is a second line of defence for the other strings they print (paths, names): should
a secret ever turn up inside one of them, it is replaced by its redacted form, and so is any
other key-shaped run (a secret the baseline or an allow-list filtered out).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from keytrap.findings import Finding, redact, scrub_keyshaped, sort_key

KIND_LABELS: dict[str, str] = {
    "api_key": "API key",
    "secret_key": "secret key",
    "private_key": "private key",
}

#: One line, for places with little room (GitHub annotations, SARIF result messages).
SHORT_REMEDIATION = (
    "Delete this key in Binance API Management now, check your account activity, "
    "and keep the new key out of files and version control."
)

#: The full advice, as numbered steps (SARIF rule help).
REMEDIATION_STEPS: tuple[str, ...] = (
    "Delete the key in Binance API Management (https://www.binance.com/en/my/settings/api-management) "
    "at once. Removing it from the code or rewriting git history does not make it safe: "
    "anyone who saw it can still use it until it is deleted.",
    "Check account activity: open orders, trade history, withdrawals, deposits, sub-accounts "
    "and API Management for keys you did not create.",
    "Create a new key with withdrawals disabled (keep 'Enable Withdrawals' off) and only the "
    "permissions the program needs.",
    "Restrict the new key to trusted IP addresses (IP access whitelist).",
    "Rotate keys every 60-90 days.",
    "Keep keys out of files and version control: load them from environment variables or a "
    "secret manager, and add local config files to .gitignore.",
)


def level(confidence: str, severity: object = None) -> str:
    """How loud a result is in CI (SARIF ``level``; GitHub ``error``/``warning``/``notice``).

    A finding is an error unless it is low confidence (a warning); the verdict of ``--verify``
    can lower it: a key that only works on a test network (severity low) is a warning, a key
    Binance rejected (severity info) is a note.
    """
    if severity == "info":
        return "note"
    if severity == "low" or confidence == "low":
        return "warning"
    return "error"


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " "))


def display_path(path: str) -> str:
    """A relative path with / separators and no leading ``./``."""
    p = path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """A total, input-order-independent order: path, line, column, rule, kind, fingerprint."""
    return sorted(findings, key=lambda f: (*sort_key(f), f.kind, f.fingerprint))


_PREFIX = 32
_B64_RUN = re.compile(r"[A-Za-z0-9+/=]{%d,}" % _PREFIX)


class Scrubber:
    """``scrub`` for a whole report in one pass: linear in the text and the findings.

    A file named after its key (``keys/<key>.json``) puts the secret in a path, and the path in
    headers and advice; every 64-character window of every long alphanumeric run is looked up
    in the set of secrets, and the rare longer secrets (PEM bodies) are searched directly.
    """

    def __init__(self, findings: Iterable[Finding]) -> None:
        secrets = {f.secret for f in findings if f.secret and len(f.secret) > 8}
        self.hmac = {s for s in secrets if len(s) == 64 and s.isalnum()}
        other = secrets - self.hmac
        # PEM bodies are base64 text: indexed by their first characters, so a report of 10,000
        # private keys looks each string up once, not once per key (that was quadratic)
        self.prefixed: dict[str, list[str]] = {}
        for s in other:
            if len(s) >= _PREFIX and _B64_RUN.fullmatch(s):
                self.prefixed.setdefault(s[:_PREFIX], []).append(s)
        self.plain = [s for s in other if not (len(s) >= _PREFIX and _B64_RUN.fullmatch(s))]

    def __call__(self, text: str) -> str:
        if self.hmac and len(text) >= 64:
            out: list[str] = []
            last = 0
            for m in re.finditer(r"[A-Za-z0-9]{64,}", text):
                run, i = m.group(), 0
                while i + 64 <= len(run):
                    if run[i : i + 64] in self.hmac:
                        out += [text[last : m.start() + i], redact(run[i : i + 64])]
                        last = m.start() + i + 64
                        i += 64
                    else:
                        i += 1
            if out:
                text = "".join(out) + text[last:]
        present = {s for s in self.plain if s in text}
        if self.prefixed and len(text) >= _PREFIX:
            for m in _B64_RUN.finditer(text):
                run = m.group()
                for i in range(len(run) - _PREFIX + 1):
                    for secret in self.prefixed.get(run[i : i + _PREFIX], ()):
                        if run.startswith(secret, i):
                            present.add(secret)
        for secret in sorted(present, key=len, reverse=True):
            text = text.replace(secret, redact(secret))
        return scrub_keyshaped(text)


#: How a finding was read, for people: ``encoding`` is a ``+``-joined chain, outermost first.
_HOW = {
    "base64": "base64-encoded",
    "pyc": "in compiled Python",
    "zip": "in a zip archive",
    "gzip": "in a gzip file",
    "tar": "in a tar archive",
    "strings": "in a binary file",
    "sqlite": "in an SQLite database",
}


def how_found(f: Finding) -> str:
    """``base64-encoded``, ``in a zip archive (member lib/keys.pyc), in compiled Python``…"""
    if not f.encoding:
        return ""
    parts = [_HOW.get(step, f"{step}-encoded") for step in f.encoding.split("+")]
    member = f.get("member")
    if member:
        parts[0] += f" (member {member})"
    return ", ".join(parts)


def message(f: Finding) -> str:
    """The one-line result message: names the kind, shows only the redacted secret."""
    label = kind_label(f.kind)
    parts = [f"Binance {label} {f.secret_redacted} leaked"]
    details = [f"confidence {f.confidence}"]
    if f.encoding:
        details.append(how_found(f))
    if f.commit:
        details.append(f"commit {f.commit[:12]}")
    if f.pair:
        details.append(f"pair {f.pair}")
    parts.append(f" ({', '.join(details)}).")
    return "".join(parts) + " " + SHORT_REMEDIATION
