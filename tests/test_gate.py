"""The history workers' blob gate (``candidates.gate``) and their fast path
(``content.ruled_out``): a blob the gate rules out holds nothing any source would report, so a
worker with a gate finds exactly what one without it finds.

CI installs no Hyperscan, so the worker path is exercised with a regex gate that asks the same
question (``_PATTERNS``); with Hyperscan installed, its gate is compared with that regex too.
Every key-shaped value is generated at test time.
"""

from __future__ import annotations

import base64
import io
import random
import re
import zipfile
from pathlib import Path

import pytest
from gitrepo import GitRepo, env_file, fake_key
from helpers import random_pem_body, random_secret

from keytrap.candidates import gate as gate_mod
from keytrap.config import DEFAULT
from keytrap.gitrun import Location
from keytrap.sources import history
from keytrap.sources.content import plain_text, ruled_out
from keytrap.sources.files import decode_for_scan, text_codec
from keytrap.sources.gitcat import CatFile

_REGEX = re.compile(b"|".join(gate_mod._PATTERNS))


def regex_gate(data: bytes) -> bool:
    return _REGEX.search(data) is not None


def _zip_of(name: str, content: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, content)
    return buf.getvalue()


def _blobs(key: str, secret: str) -> dict[str, bytes]:
    """One file of each shape a worker meets: plain text with and without a run, texts that are
    not read as they are (UTF-16 with and without a BOM, a lone 0xFF lead, a NUL after the
    sniffed head), binaries with and without a view, PEM and base64-encoded keys."""
    env = env_file(key, secret)
    return {
        "plain.env": env.encode(),
        "readme.md": b"# nothing key-shaped here\n" * 50,
        "utf16-bom.env": env.encode("utf-16"),
        "utf16-nobom.env": env.encode("utf-16-le"),
        "lead-ff.txt": b"\xff" + env.encode(),
        "late-nul.env": b"x" * 8000 + b"\x00\n" + env.encode(),
        "image.bin": bytes(range(256)) * 40,
        "bundle.zip": _zip_of("app/.env", env),
        "key.pem": ("-----BEGIN PRIVATE KEY-----\n" + random_pem_body() + "\n-----END PRIVATE KEY-----\n").encode(),
        "secret.yaml": f"data:\n  api_key: {base64.b64encode(env.encode()).decode()}\n".encode(),
        "digest.txt": f"sha256 {random.Random(3).randbytes(32).hex()}\n".encode(),
    }


def _summary(part: history._ChunkResult) -> tuple:  # type: ignore[type-arg]
    hits = sorted((oid, sorted(f.fingerprint for f in found)) for oid, found in part.hits)
    return part.blobs, part.bytes, part.binary, part.binary_read, hits, sorted(part.problems)


@pytest.mark.parametrize("strings", [False, True])
def test_worker_with_a_gate_finds_what_one_without_finds(tmp_path: Path, strings: bool) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("all shapes", {name: data for name, data in _blobs(fake_key(31), fake_key(32)).items()})
    name = {line.split()[2]: line.split("\t")[1] for line in repo.git("ls-tree", "-r", "HEAD").splitlines()}
    oids = list(name)
    assert len(oids) == 11
    loc = Location(top=str(repo.path))
    floor = DEFAULT.with_(min_confidence="low")
    with CatFile(loc) as cat:
        without = history._scan_chunk(cat, oids, floor, strings, None)
        gated = history._scan_chunk(cat, oids, floor, strings, regex_gate)
    assert _summary(gated) == _summary(without)
    assert {name[oid] for oid, _ in without.hits} == {  # every shape that holds a key, found at all
        "plain.env", "utf16-bom.env", "utf16-nobom.env", "lead-ff.txt", "late-nul.env", "bundle.zip", "key.pem",
        "secret.yaml"}
    if gate_mod.hyperscan_gate() is not None:
        with CatFile(loc) as cat:
            fast = history._scan_chunk(cat, oids, floor, strings, gate_mod.hyperscan_gate())
        assert _summary(fast) == _summary(without)


def test_ruled_out_only_plain_text_the_gate_rejects() -> None:
    key = random_secret()
    assert ruled_out(b"nothing here\n", regex_gate)
    assert not ruled_out(f"k={key}\n".encode(), regex_gate)
    assert not ruled_out(b"nothing here\n", None)  # no gate: every blob goes to the engine
    assert not ruled_out(b"\xff\xfen\x00o\x00", regex_gate)  # UTF-16: decoded first
    assert not ruled_out(b"bin\x00ary", regex_gate)  # binary: its views are read


@pytest.mark.parametrize("seed", range(40))
def test_plain_text_is_exactly_when_decoding_keeps_the_bytes(seed: int) -> None:
    rng = random.Random(seed)
    leads = [b"", b"\xff", b"\xfe", b"\x00", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00",
             b"\xef\xbb\xbf", b"a"]
    body = bytes(rng.choice(b"ab\n\x00\xff\xfe") if rng.random() < 0.01 else rng.choice(b"abc \n")
                 for _ in range(rng.choice([0, 10, 7990, 8010, 9000])))
    for lead in leads:
        data = lead + body
        as_is = text_codec(data[:8000]) is None and b"\x00" not in data[:8000]
        if plain_text(data):  # the fast path is taken only when decoding keeps the bytes
            assert as_is and decode_for_scan(data) is data
        # and it is taken for every file with no NUL in its head and no BOM's first byte
        assert plain_text(data) == (as_is and data[:1] not in (b"\xff", b"\xfe", b"\x00"))


def test_hyperscan_gate_asks_what_the_regex_asks() -> None:
    gate = gate_mod.hyperscan_gate()
    if gate is None:
        pytest.skip("hyperscan is not installed (pip install 'keytrap[fast]')")
    rng = random.Random(5)
    alphabet = b"aZ09+/=-_ .\n\x00\xff"
    for _ in range(300):
        n = rng.choice([0, 63, 64, 65, 200, 5000])
        data = bytes(rng.choice(alphabet[:6]) if rng.random() < 0.97 else rng.choice(alphabet) for _ in range(n))
        assert gate(data) == regex_gate(data)
    assert gate(b"-----BEGIN RSA PRIVATE KEY-----") and not gate(b"PRIVATE KEY ----")
