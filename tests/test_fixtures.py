"""End-to-end golden test over ``fixtures/``: render the templates, run the CLI, compare.

``fixtures/positives/<context>/<file>`` and ``fixtures/keyshaped-negatives/<context>/<file>``
are templates. Key-shaped values are never stored: ``{{API_KEY}}``-style placeholders are filled
with fresh random values on every run (see ``fixtures/README.md``). The rendered trees are scanned
through ``python -m keytrap scan <tree> --format json`` and the findings are compared, file by
file, with ``fixtures/expected.json`` (line, kind, confidence, pairing). A case marked
``"known_issue"`` there is an engine bug the golden report disagrees with: it xfails, strictly.

Run ``python tests/test_fixtures.py render DIR`` to render the trees into DIR for a look.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import assert_redacted, random_secret  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
TREES = ("positives", "keyshaped-negatives")
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))

#: ``{{NAME}}``, ``{{NAME_2}}``, ``{{B64:NAME}}``, ``{{B64NL:NAME}}``, ``{{JSONESC:NAME}}``
PLACEHOLDER = re.compile(r"\{\{(?:(B64|B64NL|JSONESC):)?([A-Z][A-Z0-9]*(?:_[A-Z][A-Z0-9]*)*)(?:_(\d+))?\}\}")

#: Placeholders whose values are secrets: no output may show more than 8 characters of them.
SECRET_NAMES = frozenset(
    {"API_KEY", "SECRET_KEY", "OTHER_KEY", "ED25519_PEM", "RSA_PEM", "OPENSSH_PEM"}
)


# --------------------------------------------------------------------------------------------
# value generators (one fresh value per placeholder name and index, per file)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _crypto():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    return serialization, ed25519, rsa


def _pem_private(kind: str) -> str:
    serialization, ed25519, rsa = _crypto()
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    fmt = serialization.PrivateFormat.OpenSSH if kind == "openssh" else serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode().strip()


def _pem_public(kind: str) -> str:
    serialization, ed25519, rsa = _crypto()
    if kind == "ssh":
        pub = ed25519.Ed25519PrivateKey.generate().public_key()
        return pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    key = ed25519.Ed25519PrivateKey.generate() if kind == "ed25519" else rsa.generate_private_key(
        public_exponent=65537, key_size=2048
    )
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode().strip()


def _cert_pem() -> str:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "keytrap-fixtures-ca")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode().strip()


def _jwt() -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    now = int(time.time())
    claims = {"sub": str(secrets.randbelow(10**9)), "name": "fixture user", "iat": now, "exp": now + 3600}
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secrets.token_bytes(32), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(sig)}"


def _wrapped_b64(size: int = 1500, width: int = 64) -> str:
    text = _b64(secrets.token_bytes(size))
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


GENERATORS = {
    "API_KEY": random_secret,
    "SECRET_KEY": random_secret,
    "OTHER_KEY": random_secret,
    "LISTEN_KEY": lambda: random_secret(60),
    "SHA256": lambda: hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
    "SHA512_HEX": lambda: hashlib.sha512(secrets.token_bytes(32)).hexdigest(),
    "HMAC_HEX": lambda: hmac.new(secrets.token_bytes(32), secrets.token_bytes(64), hashlib.sha256).hexdigest(),
    "SRI_SHA256": lambda: _b64(hashlib.sha256(secrets.token_bytes(32)).digest()),
    "SRI_SHA384": lambda: _b64(hashlib.sha384(secrets.token_bytes(32)).digest()),
    "SRI_SHA512": lambda: _b64(hashlib.sha512(secrets.token_bytes(32)).digest()),
    "B64_BODY": _wrapped_b64,
    "PNG_B64": lambda: _b64(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + secrets.token_bytes(600)),
    "JWT": _jwt,
    "ED25519_PEM": lambda: _pem_private("ed25519"),
    "RSA_PEM": lambda: _pem_private("rsa"),
    "OPENSSH_PEM": lambda: _pem_private("openssh"),
    "ED25519_PUB_PEM": lambda: _pem_public("ed25519"),
    "RSA_PUB_PEM": lambda: _pem_public("rsa"),
    "SSH_PUB": lambda: _pem_public("ssh"),
    "CERT_PEM": _cert_pem,
}


def render_text(template: str, leaked: list[str]) -> str:
    """Fill every placeholder; secret values (raw and encoded) are appended to ``leaked``."""
    values: dict[str, str] = {}

    def value(name: str, index: str | None) -> str:
        slot = f"{name}_{index}" if index else name
        if slot not in values:
            if name not in GENERATORS:
                raise KeyError(f"unknown placeholder {{{{{slot}}}}}")
            values[slot] = GENERATORS[name]()
            if name in SECRET_NAMES:
                if values[slot].startswith("-----BEGIN"):  # the body is secret, not the armor
                    body = [ln for ln in values[slot].splitlines() if not ln.startswith("-----")]
                    leaked.append("".join(body))
                else:
                    leaked.append(values[slot])
        return values[slot]

    def sub(m: re.Match[str]) -> str:
        enc, name, index = m.groups()
        raw = value(name, index)
        if enc is None:
            return raw
        if enc == "JSONESC":  # inside a JSON string: newlines become \\n
            return json.dumps(raw)[1:-1]
        out = _b64((raw + ("\n" if enc == "B64NL" else "")).encode())
        if name in SECRET_NAMES:
            leaked.append(out)
        return out

    return PLACEHOLDER.sub(sub, template)


def template_files(tree: str) -> list[str]:
    base = FIXTURES / tree
    return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())


def render_tree(tree: str, dest: Path) -> list[str]:
    """Render ``fixtures/<tree>`` into ``dest/<tree>``; return the secrets it holds."""
    leaked: list[str] = []
    for rel in template_files(tree):
        text = render_text((FIXTURES / tree / rel).read_bytes().decode("utf-8"), leaked)
        assert "{{" not in text, f"{tree}/{rel}: unrendered placeholder"
        if rel.endswith((".ipynb", ".json")):
            json.loads(text)  # still valid JSON once filled
        out = dest / tree / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(text.encode("utf-8"))
    return leaked


# --------------------------------------------------------------------------------------------
# running the CLI once per session


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "keytrap", *args], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("fixtures")
    leaked: list[str] = []
    runs: dict[str, subprocess.CompletedProcess[str]] = {}
    reports: dict[str, dict] = {}
    for tree in TREES:
        leaked += render_tree(tree, root)
        proc = run_cli("scan", str(root / tree), "--format", "json", "--min-confidence", "low",
                       "--no-progress", cwd=root)
        assert proc.returncode in (0, 1), f"{tree}: exit {proc.returncode}: {proc.stderr[-2000:]}"
        runs[tree] = proc
        reports[tree] = json.loads(proc.stdout)
    return root, leaked, runs, reports


def _by_path(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for f in report["findings"]:
        out[f["path"]].append(f)
    return out


def _cases():
    for tree in TREES:
        for rel, case in EXPECTED[tree].items():
            marks = []
            if case.get("known_issue"):
                marks.append(pytest.mark.xfail(reason=case["known_issue"], strict=True))
            yield pytest.param(tree, rel, id=f"{tree}/{rel}", marks=marks)


def _pairing(findings: list[dict], key: str) -> list[tuple[int, ...] | None]:
    """Pairing as a canonical shape: for each finding, the indexes sharing its pair (None if none)."""
    groups: dict[object, list[int]] = defaultdict(list)
    for i, f in enumerate(findings):
        if f.get(key) is not None:
            groups[f[key]].append(i)
    return [tuple(groups[f[key]]) if f.get(key) is not None else None for f in findings]


# --------------------------------------------------------------------------------------------
# tests


def test_expected_covers_every_template() -> None:
    for tree in TREES:
        assert sorted(EXPECTED[tree]) == template_files(tree), tree


def test_every_positive_states_its_network() -> None:
    for rel, case in EXPECTED["positives"].items():
        for f in case["findings"]:
            assert f.get("network", "missing") in ("mainnet", "testnet", "demo", None), rel
    nets = {f["network"] for case in EXPECTED["positives"].values() for f in case["findings"]}
    assert nets == {"mainnet", "testnet", "demo", None}


def test_enough_contexts() -> None:
    ctx = {tree: {rel.split("/", 1)[0] for rel in EXPECTED[tree]} for tree in TREES}
    assert len(ctx["positives"]) >= 30
    assert len(ctx["keyshaped-negatives"]) >= 25


@pytest.mark.parametrize(("tree", "rel"), list(_cases()))
def test_file_matches_golden(scanned, tree: str, rel: str) -> None:
    _root, _leaked, _runs, reports = scanned
    got = sorted(_by_path(reports[tree]).get(rel, []), key=lambda f: (f["line"], f["kind"]))
    want = sorted(EXPECTED[tree][rel]["findings"], key=lambda f: (f["line"], f["kind"]))
    shape = lambda fs: [(f["line"], f["kind"], f["confidence"], f.get("network")) for f in fs]  # noqa: E731
    assert shape(got) == shape(want)
    assert _pairing(got, "pair") == _pairing(want, "pair")


def test_no_findings_outside_expected_files(scanned) -> None:
    _root, _leaked, _runs, reports = scanned
    for tree in TREES:
        stray = set(_by_path(reports[tree])) - set(EXPECTED[tree])
        assert not stray, f"{tree}: findings in files with no golden entry: {sorted(stray)}"


def test_negatives_produce_no_findings(scanned) -> None:
    _root, _leaked, runs, reports = scanned
    tree = "keyshaped-negatives"
    known = {rel for rel, case in EXPECTED[tree].items() if case.get("known_issue")}
    bad = [(f["path"], f["line"], f["kind"]) for f in reports[tree]["findings"] if f["path"] not in known]
    assert not bad
    if not known:
        assert runs[tree].returncode == 0


def test_every_file_scanned(scanned) -> None:
    _root, _leaked, runs, reports = scanned
    assert runs["positives"].returncode == 1
    for tree in TREES:
        stats = reports[tree]["stats"]
        assert stats["skipped"] == [], stats["skipped"]
        assert stats["files_scanned"] == len(EXPECTED[tree])


def test_outputs_are_redacted(scanned) -> None:
    root, leaked, runs, _reports = scanned
    assert leaked
    for proc in runs.values():
        assert_redacted(proc.stdout + proc.stderr, leaked)
    for fmt in ("text", "sarif", "github"):
        proc = run_cli("scan", str(root / "positives"), "--format", fmt, "--no-progress", cwd=root)
        assert proc.returncode == 1, proc.stderr[-2000:]
        assert_redacted(proc.stdout + proc.stderr, leaked)


if __name__ == "__main__":  # python tests/test_fixtures.py render DIR
    if len(sys.argv) != 3 or sys.argv[1] != "render":
        sys.exit("usage: python tests/test_fixtures.py render DIR")
    for t in TREES:
        render_tree(t, Path(sys.argv[2]))
    print(f"rendered {', '.join(TREES)} into {sys.argv[2]}")
