"""Keys in committed binary files (sources.content.binary_views, sources.pyc): compiled Python,
zip members (.jar/.whl/.xlsx), gzip/tar, SQLite, pickles, Java classes; bounded on hostile
archives; the same findings from the working tree, the staged index and history.

Every key-shaped value is generated at test time; the binaries are built here too.
"""

from __future__ import annotations

import gzip
import io
import pickle
import py_compile
import sqlite3
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from helpers import random_secret

from keytrap.config import DEFAULT
from keytrap.sources import content, pyc
from keytrap.sources.content import binary_views, scan_blob


def pyc_of(source: str, tmp_path: Path, name: str = "keys") -> bytes:
    src = tmp_path / f"{name}.py"
    src.write_text(source)
    out = tmp_path / f"{name}.pyc"
    py_compile.compile(str(src), cfile=str(out), doraise=True)
    return out.read_bytes()


def secrets_of(found) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    return {f.secret: (f.kind, f.name, f.confidence, f.encoding) for f in found}


# --- compiled Python -----------------------------------------------------------------------------


def test_module_constants_keep_their_names(tmp_path: Path, key: str, secret: str) -> None:
    """keys.py: APIKey = '…'; SecretKey = '…' (only the .pyc committed)."""
    data = pyc_of(f'"""Created on Wed"""\nAPIKey = "{key}"\nSecretKey = "{secret}"\n', tmp_path)
    got = secrets_of(scan_blob(data, "__pycache__/keys.cpython-311.pyc", DEFAULT).findings)
    assert got == {key: ("api_key", "APIKey", "medium", "pyc"), secret: ("secret_key", "SecretKey", "medium", "pyc")}


def test_dict_and_keyword_names(tmp_path: Path, key: str, secret: str) -> None:
    k2, s2 = random_secret(), random_secret()
    source = (
        f'BinanceTest = {{"api_key": "{key}", "secret_key": "{secret}"}}\n'
        "def connect():\n    from binance.client import Client\n"
        f'    return Client(api_key="{k2}", api_secret="{s2}", testnet=True)\n'
    )
    found = scan_blob(pyc_of(source, tmp_path), "__pycache__/keys.cpython-311.pyc", DEFAULT).findings
    got = secrets_of(found)
    assert got[key][:2] == ("api_key", "api_key") and got[secret][:2] == ("secret_key", "secret_key")
    assert got[k2][:2] == ("api_key", "api_key") and got[s2][:2] == ("secret_key", "api_secret")
    assert {f.confidence for f in found} == {"high"}  # "binance" is among the module's strings
    assert {f.get("network") for f in found} == {"testnet"}  # testnet=True survives compilation
    assert {(f.line, f.column) for f in found} == {(1, 1)}  # a reconstruction has no lines of its own


def test_hex_values_in_a_pyc_only_by_a_credential_pairs_names(tmp_path: Path, key: str, secret: str) -> None:
    """A .pyc's names are inferred: a single-case hex value is called a key there only when a
    dict's or a call's keys name both halves of a credential. Digest constants beside a tuple of
    Binance header names (keytrap's own rules.py) are not keys; mixed-case keys are judged as
    anywhere."""
    import secrets

    digests = ", ".join(f'Example("{secrets.token_hex(32)}", "key")' for _ in range(4))  # each its own constant
    hex_key, hex_secret = secrets.token_hex(32), secrets.token_hex(32)
    source = (f"EXAMPLES = ({digests})\nHEADERS = ('binance', 'x-mbx-apikey')\n"
              f"MORE = ({digests})\nKINDS = ('api_key', 'secret_key')\n"  # a plain tuple, not a dict's keys
              f'BinanceTestnet = {{"api_key": "{hex_key}", "secret_key": "{hex_secret}"}}\n'
              f'client = Client(api_key="{key}", api_secret="{secret}")\n')
    data = pyc_of(source, tmp_path)
    assert set(secrets_of(scan_blob(data, "k.pyc", DEFAULT).findings)) == {key, secret, hex_key, hex_secret}


def test_variables_named_like_the_dict_keys(tmp_path: Path, key: str, secret: str) -> None:
    """ccxt: apiKey = '…'; secret = '…'; ccxt.binance({'apiKey': apiKey, 'secret': secret})."""
    source = (f'import ccxt\napiKey = "{key}"\nsecret = "{secret}"\n'
              "ex = ccxt.binance({'apiKey': apiKey, 'secret': secret, 'enableRateLimit': True,"
              " 'options': {'defaultType': 'future'}})\n")
    got = secrets_of(scan_blob(pyc_of(source, tmp_path), "k.pyc", DEFAULT).findings)
    assert got[key][:2] == ("api_key", "apiKey") and got[secret][:2] == ("secret_key", "secret")


def test_pyc_without_credentials_and_damaged_pyc(tmp_path: Path) -> None:
    data = pyc_of("import os\nprint(os.getcwd())\nVALUE = 'x' * 3\n", tmp_path)
    assert scan_blob(data, "a.pyc", DEFAULT).findings == []
    assert pyc.parse(data) is not None
    for cut in (20, len(data) // 2, len(data) - 3):  # truncated: no exception, no view
        assert pyc.parse(data[:cut]) is None
    assert pyc.view(data[:16] + bytes(range(256)) * 4) is None
    assert pyc.parse(b"\x00\x00\r\n" + b"\x00" * 40) is None  # an unknown magic number


def test_marshal_reader_is_bounded() -> None:
    """Deep nesting and huge counts are refused, not followed (no recursion error, no memory)."""
    header = (3495).to_bytes(2, "little") + b"\r\n" + b"\x00" * 12
    deep = header + b")\x01" * 10_000 + b"N"
    assert pyc.parse(deep) is None
    huge = header + b"(" + (2**30).to_bytes(4, "little")
    assert pyc.parse(huge) is None
    refs = header + b"r" + (5).to_bytes(4, "little")  # a reference to nothing
    assert pyc.parse(refs) is None


# --- archives and other formats ------------------------------------------------------------------


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_zip_members_jar_wheel_and_nesting(tmp_path: Path, key: str, secret: str) -> None:
    env = f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n".encode()
    wheel = _zip({"bot/config.env": env, "bot/native.so": b"\x7fELF" + b"\x00" * 4096})
    outer = _zip({"dist/bot-1.0-py3-none-any.whl": wheel})
    found = scan_blob(outer, "release.zip", DEFAULT).findings
    assert {f.secret for f in found} == {key, secret}
    (f,) = [f for f in found if f.secret == key]
    assert f.encoding == "zip" and f.get("member") == "dist/bot-1.0-py3-none-any.whl!bot/config.env"
    assert (f.line, f.kind, f.confidence) == (1, "api_key", "high")
    # a .pyc inside a zip keeps its reconstruction
    jar_like = _zip({"app/__pycache__/keys.cpython-311.pyc": pyc_of(f'API_KEY = "{key}"\n', tmp_path)})
    (f,) = scan_blob(jar_like, "app.zip", DEFAULT).findings
    assert (f.secret, f.encoding, f.name) == (key, "pyc", "API_KEY")


def test_gzip_tar_sqlite_pickle_and_class_files(tmp_path: Path, key: str, secret: str) -> None:
    env = f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n".encode()
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w") as t:
        info = tarfile.TarInfo("bot/.env")
        info.size = len(env)
        t.addfile(info, io.BytesIO(env))
    cases = {"backup.tar.gz": gzip.compress(tar_buf.getvalue()), "config.env.gz": gzip.compress(env)}
    db = tmp_path / "bot.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table creds (exchange text, api_key text, api_secret text)")
        conn.execute("insert into creds values ('binance', ?, ?)", (key, secret))
    conn.close()
    cases["bot.db"] = db.read_bytes()
    cases["state.pkl"] = pickle.dumps({"exchange": "binance", "api_key": key, "api_secret": secret})
    # a class file: magic, version 52, a constant pool of Utf8 entries (tag 1, length, bytes)
    pool = [b"binance", b"API_KEY", key.encode(), b"SECRET_KEY", secret.encode()]
    body = b"".join(b"\x01" + len(s).to_bytes(2, "big") + s for s in pool)
    cases["Keys.class"] = b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + (len(pool) + 1).to_bytes(2, "big") + body + b"\x00" * 8
    for name, data in cases.items():
        found = scan_blob(data, name, DEFAULT).findings
        assert {f.secret for f in found} == {key, secret}, name


def test_hostile_archives_are_bounded() -> None:
    """A zip bomb, a zip of many members, zips nested past the depth limit, a lying directory,
    a gzip bomb: read within the budgets, quickly, without an exception."""
    bomb = _zip({"a.txt": b"\x00" * (200 << 20)})  # 200 MB of zeros, ~200 KB compressed
    many = _zip({f"m{i}.txt": b"x" for i in range(5000)}, zipfile.ZIP_STORED)
    nested = b"x" * 10
    for i in range(8):
        nested = _zip({f"level{i}.zip": nested})
    lying = bytearray(_zip({"a.txt": b"a" * 1000}))
    eocd = lying.rfind(b"PK\x05\x06")
    lying[eocd + 10 : eocd + 12] = (65535).to_bytes(2, "little")  # announces 65,535 entries
    lying = bytes(lying)
    gz_bomb = gzip.compress(b"\x00" * (200 << 20))
    for data in (bomb, many, nested, lying, gz_bomb, b"PK\x03\x04" + b"\x00" * 100, b"\x1f\x8b" + b"\xff" * 50):
        started = time.perf_counter()
        views = binary_views(data)
        assert time.perf_counter() - started < 10
        assert sum(len(v.text) for v in views) <= content.MAX_TOTAL
    budget = content._Budget()
    binary_views(many, _budget=budget)
    assert budget.members == 0 and budget.truncated


def test_media_and_native_code_are_not_read_but_by_the_hook(key: str) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + f"BINANCE_API_KEY={key}".encode()
    assert scan_blob(_zip({"logo.png": png}), "assets.zip", DEFAULT).findings == []
    assert scan_blob(png, "logo.png", DEFAULT).findings == []
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + f"BINANCE_API_KEY={key}".encode()
    assert scan_blob(elf, "bot", DEFAULT).findings == []
    # the staged index (the hook) lets nothing through unread
    for data in (png, elf):
        assert {f.secret for f in scan_blob(data, "x", DEFAULT, everything=True).findings} == {key}


def test_the_gate_is_lossless_and_cheap() -> None:
    """A binary with no key-shaped run and no PEM marker has no view: its strings could hold no
    finding. The check is one translate + find."""
    import os

    noise = os.urandom(1 << 20)
    assert not content.keyish(noise) or binary_views(noise)  # random bytes: no 64-character run
    data = b"\x00\x01" + b"BEGIN PRIVATE KEY" + b"\x00"
    assert content.keyish(data)
    started = time.perf_counter()
    for _ in range(20):
        content.keyish(noise)
    assert time.perf_counter() - started < 2.0


# --- every source reads a binary the same way ----------------------------------------------------


def test_same_finding_from_tree_staged_and_history(tmp_path: Path, key: str, secret: str) -> None:
    from gitrepo import GitRepo

    from keytrap.sources.files import scan_paths
    from keytrap.sources.history import scan_history
    from keytrap.sources.staged import scan_staged

    repo = GitRepo(tmp_path / "repo")
    data = pyc_of(f'API_KEY = "{key}"\nAPI_SECRET = "{secret}"\n', tmp_path)
    repo.write("__pycache__/keys.cpython-311.pyc", data)
    repo.git("add", "-A")
    staged = scan_staged(str(repo.path), DEFAULT)
    repo.git("commit", "-qm", "pyc")
    tree = scan_paths([str(repo.path)], str(repo.path), DEFAULT)
    history = scan_history(repo.path, DEFAULT)
    shape = lambda r: sorted((f.secret, f.kind, f.name, f.confidence, f.encoding) for f in r.findings)  # noqa: E731
    assert shape(staged) == shape(tree) == shape(history)
    assert {f.secret for f in tree.findings} == {key, secret}

