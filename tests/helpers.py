"""Test helpers shared across test modules."""

from __future__ import annotations

import secrets
import string
import subprocess
from collections.abc import Iterable
from pathlib import Path

ALNUM = string.ascii_letters + string.digits

#: The most characters of one secret any output may show (see keytrap.findings.redact).
MAX_SHOWN = 8


def random_secret(length: int = 64, alphabet: str = ALNUM) -> str:
    """A fresh random key-shaped string; no key-shaped literal is ever stored in the tests.

    A 64-character key is drawn again in the rare case (about 1 in 5,000) that the engine's
    value filters would reject it as a real key (a run of repeats, a placeholder word…):
    tests that expect a finding must not fail at random.
    """
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(length))
        if length != 64 or alphabet != ALNUM:
            return value
        from keytrap.filters.heuristics import base64_text, reject_token

        if reject_token(value) is None and base64_text(value) is None:
            return value


def assert_redacted(output: str, secret_values: Iterable[str]) -> None:
    """Fail if ``output`` contains more than 8 consecutive characters of any secret.

    Every substring of length 9 of every secret must be absent from ``output``.
    """
    n = MAX_SHOWN + 1
    for secret in secret_values:
        for i in range(len(secret) - n + 1):
            chunk = secret[i : i + n]
            if chunk in output:
                at = output.index(chunk)
                raise AssertionError(
                    f"output shows {n}+ consecutive characters of a secret "
                    f"(secret offset {i}, output offset {at})"
                )


def random_pem_body(lines: int = 4) -> str:
    """Random base64-looking PEM body lines (stands in for a private key's body)."""
    b64 = ALNUM + "+/"
    return "\n".join(random_secret(64, b64) for _ in range(lines))


def sample_result(root: str = "/tmp/keytrap-sample", mode: str = "worktree"):
    """A ScanResult with one finding of each kind and confidence, odd paths included.

    Returns ``(result, secrets)``: the raw secrets, for ``assert_redacted``.
    """
    from keytrap.findings import Finding, ScanResult, ScanStats, Skipped, pair_id

    api, sec, low, b64, hist = (random_secret() for _ in range(5))
    pem = random_pem_body()
    pid = pair_id(api, sec)
    findings = (
        Finding("binance-hmac-key", "api_key", "app/config.py", 3, 17, "high", api,
                name="BINANCE_API_KEY", pair=pid),
        Finding("binance-hmac-key", "secret_key", "app/config.py", 4, 20, "high", sec,
                name="BINANCE_API_SECRET", pair=pid),
        Finding("binance-hmac-key", "api_key", "data/a,b:c d%e.txt", 1, 1, "low", low),
        Finding("binance-hmac-key", "secret_key", "deploy\\values.yaml", 12, 9, "medium", b64,
                encoding="base64"),
        Finding("binance-private-key", "private_key", "keys/ed25519.pem", 1, 1, "high", pem,
                git_status="untracked"),
        Finding("binance-hmac-key", "api_key", "old/settings.py", 7, 5, "medium", hist,
                commit="0123456789abcdef0123456789abcdef01234567"),
    )
    stats = ScanStats(
        files_scanned=5,
        bytes_scanned=4096,
        skipped=(Skipped("img/logo.png", "binary"),),
        duration_s=0.25,
        notes=("shallow clone: history before 0123456 is not available",),
    )
    result = ScanResult(root=root, findings=findings, stats=stats, mode=mode)
    return result, [api, sec, low, b64, hist, pem]


def git_ignored(tmp_path: Path, patterns: list[str], paths: list[str]) -> set[str]:
    """The ``paths`` git itself ignores under a ``.gitignore`` of ``patterns`` (the oracle the
    exclude matcher is compared with): ``git check-ignore --no-index`` in a fresh repository."""
    repo = tmp_path / "gi"
    repo.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".gitignore").write_text("\n".join(patterns) + "\n")
    proc = subprocess.run(["git", "check-ignore", "--no-index", "--stdin", "-z"], cwd=repo,
                          input="\0".join(paths) + "\0", capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    return {p for p in proc.stdout.split("\0") if p}
