"""The pure engine: pairing, kinds, confidence, encodings, private keys, allow comments."""

from __future__ import annotations

import base64
import json

import pytest
from helpers import random_secret

from keytrap.config import Config
from keytrap.engine import scan_bytes


def scan(text: str, path: str = "f.txt", **config: object):
    return scan_bytes(text.encode(), path, Config(**config) if config else Config())


def test_named_pair_is_high_confidence_and_linked(key: str, secret: str) -> None:
    a, b = scan(f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n", ".env")
    assert (a.kind, b.kind) == ("api_key", "secret_key")
    assert a.confidence == b.confidence == "high"
    assert a.pair == b.pair is not None
    assert (a.line, a.column, b.line, b.column) == (1, 17, 2, 20)


def test_secret_first_still_classified_by_name(key: str, secret: str) -> None:
    a, b = scan(f"api_secret = '{secret}'\napi_key = '{key}'\n")
    assert (a.kind, a.secret, b.kind, b.secret) == ("secret_key", secret, "api_key", key)
    assert a.pair == b.pair


def test_positional_client_call(key: str, secret: str) -> None:
    a, b = scan(f'from binance.client import Client\nclient = Client("{key}", "{secret}")\n')
    assert (a.kind, b.kind) == ("api_key", "secret_key")
    assert a.confidence == "high" and a.name == "Client(…)"


def test_multiline_call_names_from_line_above(key: str, secret: str) -> None:
    a, b = scan(f'import binance\nc = Spot(\n    "{key}",\n    "{secret}",\n)\n')
    assert (a.kind, a.line, b.kind, b.line) == ("api_key", 3, "secret_key", 4)


def test_markdown_prose_labels(key: str, secret: str) -> None:
    a, b = scan(f"# Binance\n- Secret Key: `{secret}`\n- API Key: `{key}`\n", "notes.md")
    assert (a.kind, b.kind) == ("secret_key", "api_key")


def test_generic_value_takes_sibling_label(key: str, secret: str) -> None:
    text = (f'[{{"key": "BINANCE_API_SECRET", "value": "{secret}"}},\n'
            f' {{"key": "BINANCE_API_KEY", "value": "{key}"}}]\n')
    a, b = scan(text, "vars.json")
    assert (a.kind, b.kind) == ("secret_key", "api_key")


def test_bare_token_without_context_is_low(key: str) -> None:
    (f,) = scan(f"{key}\n", "notes.txt")
    assert f.confidence == "low"


def test_binance_context_without_name_is_medium(key: str) -> None:
    (f,) = scan(f"# my binance account\ntoken {key}\n")
    assert f.confidence == "medium"


def test_min_confidence_filters(key: str) -> None:
    assert scan(f"{key}\n", min_confidence="medium") == []


def test_allow_comment_covers_its_own_line(key: str, secret: str) -> None:
    assert scan(f"API_KEY={key}  # keytrap: allow\n") == []
    assert scan(f"const k = '{key}'; // keytrap: allow\n", "a.js") == []
    assert scan(f"k = '{key}' /* keytrap: allow */\n", "a.c") == []
    assert scan(f"<!-- keytrap: allow --><key>{key}</key>\n", "a.xml") == []
    assert scan(f"INSERT INTO k VALUES ('{key}'); -- keytrap: allow\n", "a.sql") == []
    assert scan(f"; api_key = {key}  keytrap: allow\n", "a.ini") == []  # ini: ; opens the line
    assert scan(f"  ;api_key = {key} keytrap: allow\n", "a.ini") == []
    # a minified line with a comment: every secret on that line
    assert scan(f'var c={{a:"{key}",b:"{secret}"}};// keytrap: allow\n', "a.min.js") == []


def test_allow_comment_covers_nothing_else(key: str, secret: str) -> None:
    (f,) = scan(f"# keytrap: allow\nAPI_SECRET={secret}\n")  # not the line below
    assert (f.line, f.secret) == (2, secret)
    (f,) = scan(f"# keytrap: allow\n\n\n   \nAPI_SECRET={secret}\n")  # nor across blank lines
    assert (f.line, f.secret) == (5, secret)
    (f,) = scan(f"API_SECRET={secret}\n# keytrap: allow\n")  # nor the line above
    assert f.line == 1
    (f,) = scan(f'API_KEY="{key}"\nnote = "keytrap: allow"\n')
    assert f.line == 1


def test_semicolon_after_code_is_not_a_comment(key: str, secret: str) -> None:
    # ``;`` ends a statement: ``keytrap: allow`` after it is a Python annotation or a
    # JavaScript label, not a comment, so it silences nothing
    for line, path in ((f'API_KEY = "{key}" ; keytrap: allow', "a.py"),
                       (f'API_KEY = "{key}"; keytrap: allow', "a.py"),
                       (f"const apiKey = '{key}' ; keytrap: allow", "a.js"),
                       (f"api_key = {key} ; keytrap: allow", "a.ini")):
        (f,) = scan(line + "\n", path)
        assert f.secret == key, line


def test_a_lone_cr_ends_the_line_a_marker_covers(key: str, secret: str) -> None:
    # shown as three lines: the marker sits on the third, alone
    (f, g) = scan(f"BINANCE_API_KEY={key}\rBINANCE_API_SECRET={secret}\r# keytrap: allow\r", "prod.env")
    assert {f.secret, g.secret} == {key, secret}
    (f,) = scan(f"BINANCE_API_KEY={key}\r# keytrap: allow\n", "prod.env")
    assert f.secret == key
    # CRLF and a marker on the key's own line still work
    assert scan(f"BINANCE_API_KEY={key} # keytrap: allow\r\nBINANCE_API_SECRET={secret} # keytrap: allow\r\n",
                "prod.env") == []
    assert scan(f"x = 1\rBINANCE_API_KEY={key} # keytrap: allow\rx = 2\n", "prod.env") == []


def test_allow_marker_in_a_string_is_not_a_comment(key: str, secret: str) -> None:
    (f,) = scan(f'API_KEY = "{key}  # keytrap: allow"\n')
    assert f.secret == key
    (f,) = scan(f"API_KEY={key} keytrap: allow\n")  # prose, not a comment
    assert f.secret == key
    (f,) = scan(f"/* ok */ API_KEY = '{key}' + 'keytrap: allow'\n", "a.js")  # the comment closed
    assert f.secret == key
    keys = [key, secret, random_secret(), random_secret()]
    doc = {"binance": {"apiKey": keys[0], "secret": keys[1], "note": "keytrap: allow",
                       "apiKey2": keys[2], "secret2": keys[3]}}
    found = scan(json.dumps(doc, separators=(",", ":")) + "\n", "config.json")  # JSON has no comments
    assert sorted(f.secret for f in found) == sorted(keys)


def _pem(body: str, sep: str = "\n") -> str:
    return f"-----BEGIN PRIVATE KEY-----{sep}{body}{sep}-----END PRIVATE KEY-----"


def test_allow_comment_on_the_begin_line_covers_a_private_key(key: str) -> None:
    body = "MC4CAQAwBQYDK2VwBCIEI" + key[:43] + "="
    one_line = f'BINANCE_PRIVATE_KEY="{_pem(body, chr(92) + "n")}"'
    assert scan(f"{one_line}  # keytrap: allow\n", ".env") == []
    assert [f.kind for f in scan(f"# keytrap: allow\n{one_line}\n", ".env")] == ["private_key"]
    multi = _pem(body).replace("-----\n", "----- # keytrap: allow\n", 1)
    assert scan(f'binance_private_key = """\n{multi}\n"""\n', "k.py") == []
    assert [f.kind for f in scan(f'binance_private_key = """\n{_pem(body)}\n"""\n', "k.py")] == ["private_key"]
    marker_on_end = _pem(body) + " # keytrap: allow"
    assert [f.kind for f in scan(f"{marker_on_end}\n", "binance.pem")] == ["private_key"]


def test_many_allow_markers_on_one_long_line_are_read_once(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from keytrap.candidates import context

    calls = []
    real = context.marker_in_comment
    monkeypatch.setattr(context, "marker_in_comment", lambda line: calls.append(len(line)) or real(line))
    line = " ".join(f"{random_secret()} /* keytrap: allow */" for _ in range(200))
    assert scan(line + "\n") == []
    assert len(calls) == 1


def test_allow_fingerprint(key: str) -> None:
    (f,) = scan(f"BINANCE_API_KEY={key}\n")
    assert scan(f"BINANCE_API_KEY={key}\n", allow_fingerprints=frozenset({f.fingerprint})) == []


def test_extra_example_keys(key: str) -> None:
    assert scan(f"BINANCE_API_KEY={key}\n", example_keys=frozenset({key})) == []


def test_remembered_token_verdicts_follow_the_examples_and_stay_bounded(key: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Token verdicts are remembered across files (a history holds one value in many blob
    versions), per set of example keys: a key that is an example under one config is still found
    under another; the memory is bounded."""
    from keytrap import engine
    from keytrap.filters.heuristics import base64_text, reject_token

    text = f"BINANCE_API_KEY={key}\n"
    for _ in range(2):
        assert scan(text, example_keys=frozenset({key})) == []
        assert [f.secret for f in scan(text)] == [key]
    assert scan(text, example_keys=[key]) == scan(text, example_keys={key}) == []  # a Config built in Python
    monkeypatch.setattr(engine, "_VERDICTS_MAX", 8)
    engine._VERDICTS.clear()
    tokens = [random_secret() for _ in range(30)] + ["A" * 64, base64.b64encode(b"x" * 48).decode()]
    for token in tokens + tokens:
        assert engine._token_dropped(token, frozenset()) == bool(reject_token(token) or base64_text(token))
        assert len(engine._VERDICTS) <= 8


@pytest.mark.parametrize("newline", ["", "\n"])
def test_kubernetes_secret_base64(key: str, secret: str, newline: str) -> None:
    enc = lambda v: base64.b64encode((v + newline).encode()).decode()  # noqa: E731
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: binance\ndata:\n"
        f"  BINANCE_API_KEY: {enc(key)}\n  BINANCE_API_SECRET: {enc(secret)}\n"
    )
    a, b = scan(text, "secret.yaml")
    assert (a.line, a.kind, a.encoding, b.line, b.kind) == (6, "api_key", "base64", 7, "secret_key")
    assert a.secret == key and a.pair == b.pair


def test_base64_encoded_env_file(key: str, secret: str) -> None:
    blob = base64.b64encode(f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n".encode()).decode()
    found = scan(f"ENV_FILE: {blob}\n", "ci.yml")
    assert {(f.kind, f.line, f.encoding) for f in found} == {("api_key", 1, "base64"), ("secret_key", 1, "base64")}


def test_key_deep_in_a_long_base64_run_is_found(key: str, secret: str) -> None:
    """A base64-encoded file far over 256 KiB: every window is decoded, not just the first."""
    from keytrap.candidates.prefilter import MAX_ENCODED, WINDOW_OVERLAP

    pair = f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n"
    filler = "".join(f"setting_{i} = value number {i}\n" for i in range(30_000))  # ~950 KB
    step = (MAX_ENCODED - WINDOW_OVERLAP) * 3 // 4  # decoded bytes between window starts
    end0 = MAX_ENCODED * 3 // 4  # where the first window's text ends
    for at in (len(filler) - 10, end0 - 30, step - 20, end0 + step - 5):
        text = filler[:at] + "\n" + pair + filler[at:]
        found = scan(f"# config\nENV_B64: {base64.b64encode(text.encode()).decode()}\n", "ci.yml")
        assert sorted((f.kind, f.line, f.encoding) for f in found) == [
            ("api_key", 2, "base64"), ("secret_key", 2, "base64")], at
        assert {f.secret for f in found} == {key, secret} and found[0].pair == found[1].pair


def test_keys_on_one_long_line_in_a_long_base64_run_are_found(key: str, secret: str) -> None:
    """Minified: the decoded text is one line, cut by every window edge."""
    from keytrap.candidates.prefilter import MAX_ENCODED, WINDOW_OVERLAP

    step = (MAX_ENCODED - WINDOW_OVERLAP) * 3 // 4
    end0 = MAX_ENCODED * 3 // 4
    filler = ",".join(f'"k{i}":"v{i}"' for i in range(60_000))  # ~900 KB, one line
    for at in (end0 - 40, step + 10, end0 + step - 80, 500_000):
        cut = filler.rfind(",", 0, at)
        doc = f'{{{filler[:cut]},"binance":{{"apiKey":"{key}","secret":"{secret}"}}{filler[cut:]}}}'
        found = scan(f"CONFIG_B64={base64.b64encode(doc.encode()).decode()}\n", "ci.env")
        assert sorted((f.kind, f.secret) for f in found) == sorted(
            [("api_key", key), ("secret_key", secret)]), at


def test_base64_of_base64_of_a_key_file_is_found(key: str, secret: str) -> None:
    text = f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n".encode()
    twice = base64.b64encode(base64.b64encode(text)).decode()
    found = scan(f"{twice}\n", "k.b64")
    assert {(f.kind, f.secret, f.encoding) for f in found} == {
        ("api_key", key, "base64"), ("secret_key", secret, "base64")}


def test_notebook_real_line_numbers(key: str, secret: str) -> None:
    nb = {"cells": [{"cell_type": "markdown", "source": ["# bot\n"]},
                    {"cell_type": "code", "source": ["from binance import Client\n",
                                                     f"client = Client('{key}', '{secret}')\n"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    raw = json.dumps(nb, indent=1)
    line = next(i for i, ln in enumerate(raw.splitlines(), 1) if key in ln)
    a, b = scan(raw, "bot.ipynb")
    assert a.line == b.line == line and a.kind == "api_key"


def test_json_escaped_newline_before_key(key: str) -> None:
    (f,) = scan(f'{{"text": "binance key\\n{key}"}}\n')
    assert f.secret == key


@pytest.mark.parametrize("context", [
    "sha256: {hex}\n",
    "eyJhbGciOiJIUzI1NiJ9.{key}.c2lnbmF0dXJlLXNpZ25hdHVyZQ\n",
    "integrity sha512-{key}==\n",
    "token = {key}Zq\n",
    "id = _{key}\n",
    "url = https://x.test/a%2F{key}\n",
    "GITHUB_TOKEN={key}\n",
    "kucoin:\n  api_secret: {key}\n",
])
def test_not_keys(context: str) -> None:
    import hashlib

    text = context.format(key=random_secret(), hex=hashlib.sha256(b"x").hexdigest())
    assert scan(text) == []


def test_pem_body_lines_are_not_keys() -> None:
    body = "\n".join(random_secret(64) for _ in range(3))  # all-alnum lines, by construction
    assert scan(f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n") == []
    wrapped = "\n".join([random_secret(60) + "+/ab", random_secret(64), random_secret(62) + "=="])
    assert scan(wrapped + "\n") == []


def test_base64_of_text_is_not_a_key() -> None:
    text = base64.b64encode(b"user:correct-horse-battery-staple-and-more-words!").decode()[:64]
    assert scan(f"Authorization: Basic {text}\n") == []


def _ed25519_pem() -> str:
    crypto = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
    from cryptography.hazmat.primitives import serialization

    key = crypto.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_private_key_linked_to_api_key(key: str) -> None:
    pem = _ed25519_pem()
    found = scan(f"BINANCE_API_KEY={key}\nPRIVATE_KEY_PATH=./k.pem\n{pem}", "binance.txt")
    api, pk = found
    assert (api.kind, pk.kind, pk.confidence) == ("api_key", "private_key", "high")
    assert api.pair == pk.pair is not None


def test_pem_templates_in_code_are_not_keys(key: str) -> None:
    """A BEGIN/END pair around a placeholder is code: the block that would run on to the next
    END marker swallows armour lines, so it is no key; a real block beside it still is."""
    template = (f"import binance\nBINANCE_API_KEY = '{key}'\n"
                'def pem(body):\n    return f"-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n"\n'
                + "\n".join(f"# {random_secret(40)}" for _ in range(3))
                + '\nPIECES = [b"-----BEGIN PRIVATE KEY-----", b"-----END PRIVATE KEY-----"]\n')
    assert [f.kind for f in scan(template, "bot.py")] == ["api_key"]
    pem = _ed25519_pem()
    assert [f.kind for f in scan(template + pem, "bot.py")] == ["api_key", "private_key"]


def test_a_line_naming_the_begin_marker_hides_no_key_after_it() -> None:
    pem = _ed25519_pem()
    doc = "# binance bot\n# paste your key below; it starts with -----BEGIN PRIVATE KEY-----\n"
    text = doc + 'BINANCE_PRIVATE_KEY = """' + pem + '"""\n'
    assert [f.kind for f in scan(text, "bot.py")] == ["private_key"]


def test_hex_values_named_by_a_csv_or_sql_header() -> None:
    import secrets

    k, s = secrets.token_hex(32), secrets.token_hex(32)
    csv = f"binance_api_key,binance_api_secret\n{k},{s}\n"
    sql = f"INSERT INTO binance_keys (binance_api_key, binance_api_secret) VALUES ('{k}', '{s}');\n"
    for text, path in ((csv, "keys.csv"), (sql, "keys.sql")):
        assert sorted((f.kind, f.secret) for f in scan(text, path)) == sorted([("api_key", k), ("secret_key", s)])


def test_lone_ed25519_is_low_and_jwt_key_is_dropped() -> None:
    pem = _ed25519_pem()
    (f,) = scan(pem, "key.pem")
    assert (f.kind, f.confidence) == ("private_key", "low")
    assert scan(f'JWT_PRIVATE_KEY="{pem}"') == []


def test_findings_never_repr_the_secret(key: str) -> None:
    (f,) = scan(f"BINANCE_API_KEY={key}\n")
    assert key not in repr(f) and key[:9] not in repr(f)


def test_huge_single_line_stays_bounded(key: str) -> None:
    data = b"x," * 2_000_000 + f"BINANCE_API_KEY={key}".encode() + b",y" * 1_000_000
    (f,) = scan_bytes(data, "one-line.csv")
    assert f.line == 1 and f.secret == key


def test_deterministic(key: str, secret: str) -> None:
    text = f"a={key}\nb={secret}\n{random_secret()}\n"
    assert scan(text) == scan(text)


def test_path_hints_read_the_context_path(key: str) -> None:
    """The same file gets the same confidence whichever folder a scan starts from."""
    text = f"api_key = '{key}'\n".encode()
    (inside,) = scan_bytes(text, "keys.py", context_path="binance/keys.py")
    (outside,) = scan_bytes(text, "keys.py")
    assert (inside.confidence, inside.path) == ("high", "keys.py")
    assert outside.confidence == "medium"


def test_unrelated_token_between_key_and_secret(key: str, secret: str) -> None:
    other = random_secret()
    found = scan(f"BINANCE_API_KEY={key}\nNEWS_TOKEN={other}\nBINANCE_API_SECRET={secret}\n", ".env")
    by_secret = {f.secret: f for f in found}
    assert by_secret[key].pair == by_secret[secret].pair is not None
    assert by_secret[other].pair is None


def test_sql_values_take_column_names(key: str, secret: str) -> None:
    text = ("-- binance bot\nINSERT INTO api_keys (label, api_secret, api_key) VALUES\n"
            f"  ('main', '{secret}', '{key}');\n")
    a, b = scan(text, "seed.sql")
    assert (a.secret, a.kind, b.secret, b.kind) == (secret, "secret_key", key, "api_key")
    sessions = ("INSERT INTO sessions (session_id, user) VALUES\n"
                f"  ('{random_secret()}', 1),\n  ('{random_secret()}', 2);\n")
    assert scan(sessions, "dump.sql") == []


def test_value_named_as_id_is_dropped_everywhere(key: str) -> None:
    assert scan(f'{{"id": "{key}", "result": "{key}"}}\n', "state.json") == []


def test_colon_path_values_are_not_keys(key: str) -> None:
    assert scan(f'"GET" "ohlcv:binance:BTCUSDT:1m:{key}"\n', "redis.log") == []


@pytest.mark.parametrize("template", [
    "EXCHANGE_KEYS=binance:{k}:{s}\n",
    "main:{k}:{s}\n",
    "BINANCE_URL=binance://{k}:{s}@default\n",
])
def test_colon_separated_credentials_are_found(template: str, key: str, secret: str) -> None:
    found = {f.secret for f in scan(template.format(k=key, s=secret), "accounts.txt")}
    assert secret in found


@pytest.mark.parametrize("values", [
    "(1, NOW(), 7, '{k}', '{s}')",
    "('it\\'s, x', NOW(), 7, '{k}', '{s}')",
    "('o''brien, x', COALESCE(NULL, 1), 7, '{k}', '{s}')",
])
def test_sql_tokenizer(values: str, key: str, secret: str) -> None:
    text = ("INSERT INTO creds (note, created_at, user_id, api_key, api_secret) VALUES "
            + values.format(k=key, s=secret) + ";\n")
    a, b = scan(text, "seed.sql")
    assert (a.secret, a.kind, b.secret, b.kind) == (key, "api_key", secret, "secret_key")


def test_sql_header_of_a_finished_statement_is_not_used(key: str, secret: str) -> None:
    text = ("INSERT INTO users (email) VALUES ('a@b.c');\n-- binance keys\n"
            f"('{key}', '{secret}')\n")
    assert {f.secret for f in scan(text, "x.sql")} == {key, secret}


def test_pairs_do_not_cross_another_credential() -> None:
    k1, s1, k2, s2 = (random_secret() for _ in range(4))
    found = scan(f"MAIN_API={k1}\nMAIN_SECRET={s1}\nSUB_API_KEY={k2}\nSUB_SECRET={s2}\n", ".env")
    pairs = {f.secret: f.pair for f in found}
    assert pairs[k1] == pairs[s1] != pairs[k2] == pairs[s2]


@pytest.mark.parametrize("name", ["key_id", "grid", "valid", "android"])
def test_names_that_only_end_in_id_letters_are_kept(name: str, key: str) -> None:
    assert scan(f"# binance\n{name} = '{key}'\n")


def test_id_elsewhere_does_not_drop_a_named_key(key: str, secret: str) -> None:
    text = f"client = Client('{key}', '{secret}')\nassert resp['id'] == '{key}'\n"
    assert {f.secret for f in scan(text, "test_bot.py")} >= {key, secret}


def test_comment_prefixed_base64_block_is_a_body(key: str, secret: str) -> None:
    """An Authenticode ``# SIG #`` block (a signed PowerShell script such as a committed
    virtualenv's ``Activate.ps1``): base64 lines behind ``# ``, some of them all alphanumeric."""
    import os

    blob = base64.b64encode(os.urandom(64 * 48)).decode()
    rows = [blob[i : i + 64] for i in range(0, len(blob), 64)]
    rows[5] = random_secret()  # an all-alphanumeric line inside the block
    text = "Write-Host 'ok'\n# SIG # Begin signature block\n" + "".join(f"# {r}\n" for r in rows)
    assert scan(text + "# SIG # End signature block\n", "Scripts/Activate.ps1") == []
    # commented-out keys are still keys: no base64 body around them
    a, b = scan(f"# BINANCE_API_KEY\n# {key}\n# {secret}\n", "notes.py")
    assert (a.secret, b.secret) == (key, secret)
