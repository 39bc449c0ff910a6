"""Properties (hypothesis): real-looking keys are always found, look-alikes never are, no
report ever shows more than 8 characters of a secret, and findings are deterministic.

Kept modest (``max_examples`` per property, ``deadline=None``): about 5 s in all.
"""

from __future__ import annotations

import base64
import io
import json
import random
import tempfile
import uuid
from pathlib import Path

import pytest
from helpers import ALNUM, assert_redacted, sample_result
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from keytrap.config import DEFAULT
from keytrap.engine import scan_bytes
from keytrap.filters.heuristics import reject_token
from keytrap.findings import ScanResult, ScanStats
from keytrap.reporters import github, json_, sarif, text
from keytrap.reporters._common import ordered
from keytrap.sources.files import decode_for_scan, scan_paths

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
B64 = ALNUM + "+/"


def _key_from(seed: int) -> str:
    return "".join(random.Random(seed).choices(ALNUM, k=64))


#: A random 64-char [A-Za-z0-9] key that the token filters accept (mixed case + digits, no
#: placeholder word, no long runs...): the engine's own definition of "looks like a key".
keys = st.integers(min_value=0, max_value=2**128).map(_key_from).filter(lambda k: reject_token(k) is None)


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


#: (path, template): ``{k}`` is the key; each is a place where keys really are left.
CONTEXTS: dict[str, tuple[str, str]] = {
    "dotenv": (".env", "BINANCE_API_KEY={k}\n"),
    "dotenv_quoted_secret": ("config/.env.production", 'BINANCE_API_SECRET="{k}"\n'),
    "json_config": ("config.json", '{{\n  "exchange": "binance",\n  "apiKey": "{k}",\n  "timeout": 30\n}}\n'),
    "client_call": ("bot.py", "from binance.client import Client\n\nclient = Client(\"{k}\", api_secret)\n"),
    "client_kwarg": ("trade.py", "from binance.spot import Spot\nspot = Spot(api_key='{k}')\n"),
    "yaml": ("settings.yaml", "binance:\n  api_key: {k}\n  testnet: false\n"),
    "curl_header": ("fetch.sh", 'curl -H "X-MBX-APIKEY: {k}" https://api.binance.com/api/v3/account\n'),
    "k8s_base64_data": (
        "k8s/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bot\ndata:\n  BINANCE_API_KEY: {b64}\n",
    ),
    "python_constant": ("settings.py", "BINANCE_SECRET_KEY = '{k}'\n"),
    "js_const": ("src/client.js", 'const apiSecret = "{k}"; // binance\n'),
    "toml": ("bot.toml", '[binance]\napi_secret = "{k}"\n'),
    "shell_export": ("run.sh", "#!/bin/sh\nexport BINANCE_API_KEY={k}\nexec python bot.py\n"),
    "compose_env": ("docker-compose.yml", "services:\n  bot:\n    environment:\n      - BINANCE_API_SECRET={k}\n"),
}

FILLER = [
    "",
    "# configuration",
    "import os",
    "timeout = 30",
    "log_level: debug",
    "    retries: 3",
    "url = 'https://api.binance.com'",
    "name = \"trading bot\"  # comment",
    "sha256 = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "id: 123e4567-e89b-12d3-a456-426614174000",
    "café ñ ключ 日本",
]
fillers = st.lists(st.sampled_from(FILLER), max_size=6)


def render_all(result: ScanResult) -> dict[str, str]:
    buf = io.StringIO()
    text.render(result, buf, color=False, verbose=True)
    return {
        "text": buf.getvalue(),
        "json": json_.render(result),
        "sarif": sarif.render(result),
        "github": github.render(result),
    }


def result_of(findings: list, root: str = "/tmp/keytrap-props") -> ScanResult:
    return ScanResult(root, tuple(findings), ScanStats(files_scanned=1, bytes_scanned=1, duration_s=0.0))


# --- recall -----------------------------------------------------------------------------------


@SETTINGS
@given(key=keys, context=st.sampled_from(sorted(CONTEXTS)), before=fillers, after=fillers)
def test_key_in_any_context_is_found(key: str, context: str, before: list[str], after: list[str]) -> None:
    path, template = CONTEXTS[context]
    body = template.format(k=key, b64=_b64(key))
    data = ("\n".join(before) + "\n" if before else "") + body + "\n".join(after)
    found = scan_bytes(data.encode(), path)
    assert key in {f.secret for f in found}, (context, [repr(f) for f in found])
    (f,) = [f for f in found if f.secret == key]
    assert f.kind in ("api_key", "secret_key")
    assert f.confidence in ("medium", "high")  # every context names the value or calls a client
    target = _b64(key) if context == "k8s_base64_data" else key
    assert f.line == len(before) + 1 + body[: body.index(target)].count("\n")


@SETTINGS
@given(key=keys, context=st.sampled_from(sorted(CONTEXTS)))
def test_key_found_through_every_text_encoding(key: str, context: str) -> None:
    """The same file saved as UTF-16/32 with a BOM or with a UTF-8 BOM still yields the key."""
    path, template = CONTEXTS[context]
    body = template.format(k=key, b64=_b64(key))
    for raw in (body.encode("utf-16"), body.encode("utf-32"), b"\xef\xbb\xbf" + body.encode()):
        data = decode_for_scan(raw)
        assert data is not None
        assert key in {f.secret for f in scan_bytes(data, path)}


# --- precision --------------------------------------------------------------------------------

NEGATIVE_PLACES = [
    ("checksums.txt", "{v}  dist/app.tar.gz\n"),
    ("config.yaml", "binance:\n  checksum: {v}\n"),
    ("config.yaml", "binance:\n  key: {v}\n"),  # a loose name and no strong hex half next to it
    ("tests/test_aes.py", "key = '{v}'\niv = '000102030405060708090a0b0c0d0e0f'\n"),
    ("data.json", '{{"sha256": "{v}", "exchange": "binance"}}\n'),
    ("notes.txt", "{v}\n"),
]


@SETTINGS
@given(seed=st.integers(0, 2**64), place=st.sampled_from(NEGATIVE_PLACES), upper=st.booleans())
def test_random_hex_is_never_reported(seed: int, place: tuple[str, str], upper: bool) -> None:
    value = random.Random(seed).randbytes(32).hex()
    value = value.upper() if upper else value
    path, template = place
    assert scan_bytes(template.format(v=value).encode(), path) == []


@SETTINGS
@given(seed=st.integers(0, 2**64), upper=st.booleans())
def test_random_hex_named_as_an_api_key_is_reported(seed: int, upper: bool) -> None:
    """Binance futures-testnet (and some older) keys are 64 hex digits: named as an API key or
    secret they are keys, not digests (real-world set: committed .env files, CI variables)."""
    rnd = random.Random(seed)
    key, secret = rnd.randbytes(32).hex(), rnd.randbytes(32).hex()
    if upper:
        key, secret = key.upper(), secret.upper()
    found = scan_bytes(f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n".encode(), ".env")
    # a random value the hex filters would call repeated/sequential (odds ~1e-4) may be dropped
    assert {f.secret for f in found} <= {key, secret} and len(found) >= 1


@SETTINGS
@given(seed=st.integers(0, 2**64), n=st.integers(4, 3000), width=st.sampled_from([64, 76, 0]))
def test_base64_blobs_are_never_reported(seed: int, n: int, width: int) -> None:
    """Random bytes, base64-encoded, wrapped at 64/76 or not at all (with a header line)."""
    blob = base64.b64encode(random.Random(seed).randbytes(n)).decode()
    if width:
        blob = "\n".join(blob[i : i + width] for i in range(0, len(blob), width))
    # 1-3 bare 64-char lines are indistinguishable from keys, and so is a whole blob of 64
    # characters (48 bytes, no padding) at any width
    assume(len(blob) != 64 and (width != 64 or len(blob) >= 4 * 65))
    data = f"Content-Transfer-Encoding: base64\n\n{blob}\n"
    assert [repr(f) for f in scan_bytes(data.encode(), "mail.eml")] == []


@SETTINGS
@given(seed=st.integers(0, 2**64), count=st.integers(1, 40), sep=st.sampled_from(["\n", ", ", " ", ""]))
def test_uuids_are_never_reported(seed: int, count: int, sep: str) -> None:
    rnd = random.Random(seed)
    ids = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)) for _ in range(count)]
    hexes = [uuid.UUID(int=rnd.getrandbits(128)).hex for _ in range(count)]
    data = f"binance_ids = [{sep.join(ids)}]\nraw = {''.join(hexes)}\n"
    assert scan_bytes(data.encode(), "ids.py") == []


cryptography = pytest.importorskip("cryptography")
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

_RSA = [rsa.generate_private_key(public_exponent=65537, key_size=bits) for bits in (1024, 2048, 2048)]


def _pem_documents(which: int, seed: int) -> list[str]:
    """Certificates, public keys and RSA/EC private keys: none is a Binance credential."""
    rkey = _RSA[which % len(_RSA)]
    eckey = ec.generate_private_key(ec.SECP256R1())
    edkey = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"host{seed}.example")])
    import datetime

    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(rkey.public_key())
        .serial_number(seed + 1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
        .sign(rkey, hashes.SHA256())
    )
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.PEM
    nopw = serialization.NoEncryption()
    return [
        cert.public_bytes(enc).decode(),
        rkey.public_key().public_bytes(enc, pub).decode(),
        eckey.public_key().public_bytes(enc, pub).decode(),
        edkey.public_key().public_bytes(enc, pub).decode(),
        rkey.private_bytes(enc, serialization.PrivateFormat.TraditionalOpenSSL, nopw).decode(),
        rkey.private_bytes(enc, serialization.PrivateFormat.PKCS8, nopw).decode(),
        eckey.private_bytes(enc, serialization.PrivateFormat.PKCS8, nopw).decode(),
    ]


@settings(max_examples=15, deadline=None)
@given(which=st.integers(0, 2), seed=st.integers(0, 2**32))
def test_pem_documents_are_never_reported(which: int, seed: int) -> None:
    """Real certificates, public keys and RSA/EC private keys with no Binance context."""
    for doc in _pem_documents(which, seed):
        assert [repr(f) for f in scan_bytes(doc.encode(), "tls/server.pem")] == [], doc.splitlines()[0]


@settings(max_examples=40, deadline=None)
@given(which=st.integers(0, 2), seed=st.integers(0, 2**32))
def test_headless_pem_bodies_are_never_reported(which: int, seed: int) -> None:
    for doc in _pem_documents(which, seed):
        body = "\n".join(doc.strip().splitlines()[1:-1]) + "\n"
        assert [repr(f) for f in scan_bytes(body.encode(), "tls/body.txt")] == []


# --- redaction --------------------------------------------------------------------------------

ODD_PATHS = st.sampled_from(["a.env", "dir with space/x.yaml", "we,ird:path%20.txt", "ユニ/ключ.env", "back\\slash.py"])


@SETTINGS
@given(
    k1=keys, k2=keys,
    contexts=st.lists(st.sampled_from(sorted(CONTEXTS)), min_size=1, max_size=4),
    path=ODD_PATHS,
    verbose_names=st.booleans(),
)
def test_no_format_shows_more_than_8_characters(k1: str, k2: str, contexts: list[str], path: str, verbose_names: bool) -> None:
    assume(k1 != k2)
    parts = [CONTEXTS[c][1].format(k=(k1, k2)[i % 2], b64=_b64((k1, k2)[i % 2])) for i, c in enumerate(contexts)]
    if verbose_names:  # a secret where a name is expected: the name of the next value
        parts.append(f"{k1} = '{k2}'\nbinance\n")
    findings = scan_bytes("\n".join(parts).encode(), path)
    assert findings
    secrets_ = {f.secret for f in findings} | {k1, k2}
    for out in render_all(result_of(findings)).values():
        assert_redacted(out, secrets_)


def test_redaction_of_the_sample_result_in_every_format() -> None:
    result, secrets_ = sample_result()
    for out in render_all(result).values():
        assert_redacted(out, secrets_)


@SETTINGS
@given(k=keys)
def test_secret_in_a_path_is_not_shown(k: str) -> None:
    """A file named after the key (keys/<key>.txt): the reporters' scrub must redact it."""
    findings = scan_bytes(f"BINANCE_API_KEY={k}\n".encode(), f"keys/{k}.env")
    assert findings
    for out in render_all(result_of(findings)).values():
        assert_redacted(out, [k])


# --- determinism ------------------------------------------------------------------------------


def _finding_tuple(f) -> tuple:  # type: ignore[no-untyped-def]
    return (f.path, f.line, f.column, f.kind, f.confidence, f.fingerprint, f.pair, f.name, f.encoding)


@SETTINGS
@given(
    ks=st.lists(keys, min_size=1, max_size=6, unique=True),
    contexts=st.lists(st.sampled_from(sorted(CONTEXTS)), min_size=1, max_size=6),
    order_seed=st.integers(0, 2**32),
)
def test_findings_are_deterministic_and_order_independent(ks: list[str], contexts: list[str], order_seed: int) -> None:
    files = []
    for i, c in enumerate(contexts):
        path, template = CONTEXTS[c]
        k = ks[i % len(ks)]
        files.append((f"f{i}/{path}", template.format(k=k, b64=_b64(k)).encode()))
    first = [f for p, d in files for f in scan_bytes(d, p)]
    again = [f for p, d in files for f in scan_bytes(d, p)]
    assert [_finding_tuple(f) for f in first] == [_finding_tuple(f) for f in again]
    shuffled = files[:]
    random.Random(order_seed).shuffle(shuffled)
    other = [f for p, d in shuffled for f in scan_bytes(d, p)]
    assert [_finding_tuple(f) for f in ordered(first)] == [_finding_tuple(f) for f in ordered(other)]
    a, b = render_all(result_of(ordered(first))), render_all(result_of(ordered(other)))
    assert a == b


@settings(max_examples=10, deadline=None)
@given(ks=st.lists(keys, min_size=2, max_size=5, unique=True), order_seed=st.integers(0, 2**32))
def test_scan_paths_same_report_whatever_the_creation_order(ks: list[str], order_seed: int) -> None:
    names = [f"d{i % 2}/{n}" for i, n in enumerate(("a.env", "b.py", "c.yaml", "d.json", "e.sh"))][: len(ks)]
    outputs = []
    for attempt in range(2):
        order = list(range(len(ks)))
        random.Random(order_seed + attempt).shuffle(order)
        with tempfile.TemporaryDirectory() as tmp:
            for i in order:
                p = Path(tmp, names[i])
                p.parent.mkdir(exist_ok=True)
                p.write_text(f"BINANCE_API_KEY={ks[i]}\n")
            result = scan_paths([tmp], tmp, DEFAULT)
            doc = json.loads(json_.render(result._replace(root="/r")))
            doc["stats"]["duration_s"] = 0
            outputs.append(doc)
    assert outputs[0] == outputs[1]
    assert len(outputs[0]["findings"]) == len(ks)
