"""``network``: mainnet / testnet / demo / null, read from the context of each finding."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from helpers import random_secret

from keytrap import network
from keytrap.engine import scan_bytes


def nets(text: str, path: str = "bot.py") -> list[str | None]:
    return [f.get("network") for f in scan_bytes(text.encode(), path)]


def pair() -> tuple[str, str]:
    return random_secret(), random_secret()


@pytest.mark.parametrize(
    "path, template, expected",
    [
        # python-binance
        ("bot.py", 'from binance.client import Client\nc = Client("{k}", "{s}", testnet=True)\n', "testnet"),
        ("bot.py", 'from binance.client import Client\nc = Client("{k}", "{s}", testnet=False)\n', "mainnet"),
        ("bot.py", 'from binance.client import Client\nc = Client("{k}", "{s}", demo=True)\n', "demo"),
        ("bot.py", 'API_KEY = "{k}"\nAPI_SECRET = "{s}"\n\n\nclient = AsyncClient.create(API_KEY, API_SECRET, testnet=True)\n', "testnet"),
        # binance-connector base URLs
        ("spot.py", 'c = Spot("{k}", "{s}", base_url="https://testnet.binance.vision")\n', "testnet"),
        ("um.py", 'c = UMFutures(key="{k}", secret="{s}", base_url="https://testnet.binancefuture.com")\n', "testnet"),
        ("um.py", 'c = UMFutures(key="{k}", secret="{s}", base_url="https://demo-fapi.binance.com")\n', "demo"),
        ("spot.py", 'c = Spot("{k}", "{s}", base_url="https://demo-api.binance.com")\n', "demo"),
        ("spot.py", 'c = Spot("{k}", "{s}", base_url="https://api.binance.com")\n', "mainnet"),
        # ccxt
        ("c.py", 'ex = ccxt.binance({{"apiKey": "{k}", "secret": "{s}"}})\nex.set_sandbox_mode(True)\n', "testnet"),
        ("c.py", 'ex = ccxt.binance({{"apiKey": "{k}", "secret": "{s}"}})\nex.urls["api"] = ex.urls["test"]\n', "testnet"),
        # config files
        ("config.yaml", "binance:\n  testnet: true\n  api_key: {k}\n  api_secret: {s}\n", "testnet"),
        ("config.yaml", "binance:\n  testnet: false\n  api_key: {k}\n  api_secret: {s}\n", "mainnet"),
        ("config.json", '{{"exchange": {{"name": "binance", "sandbox": true, "key": "{k}", "secret": "{s}"}}}}\n', "testnet"),
        ("settings.toml", '[binance]\nnetwork = "testnet"\napi_key = "{k}"\napi_secret = "{s}"\n', "testnet"),
        ("settings.toml", '[binance]\nmode = "demo"\napi_key = "{k}"\napi_secret = "{s}"\n', "demo"),
        # names
        (".env", "BINANCE_TESTNET_API_KEY={k}\nBINANCE_TESTNET_API_SECRET={s}\n", "testnet"),
        (".env", "BINANCE_DEMO_API_KEY={k}\nBINANCE_DEMO_API_SECRET={s}\n", "demo"),
        (".env", "BINANCE_API_KEY={k}\nBINANCE_API_SECRET={s}\n", None),
        # CI configuration: TEST_ names and TEST_TESTNET flags
        (".github/workflows/ci.yml", 'env:\n  TEST_BINANCE_API_KEY: {k}\n  TEST_BINANCE_API_SECRET: {s}\n', "testnet"),
        (".github/workflows/ci.yml", 'env:\n  TEST_TESTNET: "true"\n  BINANCE_API_KEY: {k}\n  BINANCE_API_SECRET: {s}\n', "testnet"),
        (".gitlab-ci.yml", 'variables:\n  TESTNET_API_KEY: {k}\n  TESTNET_API_SECRET: {s}\n', "testnet"),
        # the same TEST_ names outside CI say nothing
        ("settings.py", 'TEST_BINANCE_API_KEY = "{k}"\nTEST_BINANCE_API_SECRET = "{s}"\n', None),
        # go, shell
        ("main.go", 'binance.UseTestnet = true\nclient := binance.NewClient("{k}", "{s}")\n', "testnet"),
        ("run.sh", 'export BINANCE_API_KEY={k}\nexport BINANCE_API_SECRET={s}\npython bot.py --testnet\n', "testnet"),
        # words that only look like it
        ("bot.py", '# demonstrate the democracy of markets\nAPI_KEY = "{k}"\nAPI_SECRET = "{s}"\n', None),
        # a path that names the network
        ("config/testnet.env", "BINANCE_API_KEY={k}\nBINANCE_API_SECRET={s}\n", "testnet"),
    ],
)
def test_network_from_context(path: str, template: str, expected: str | None) -> None:
    k, s = pair()
    assert nets(template.format(k=k, s=s), path) == [expected, expected]


def test_nearest_evidence_wins_between_two_accounts() -> None:
    (k1, s1), (k2, s2) = pair(), pair()
    filler = "\n".join(f"# note {i}: nothing here" for i in range(80))
    text = (
        f'live = Client("{k1}", "{s1}", testnet=False)\n{filler}\n'
        f'paper = Client("{k2}", "{s2}", testnet=True)\n'
    )
    assert nets(text) == ["mainnet", "mainnet", "testnet", "testnet"]


def test_a_flag_beats_a_url_in_a_comment() -> None:
    k, s = pair()
    text = (
        "# the testnet lives at https://testnet.binance.vision\n"
        f'client = Client("{k}", "{s}")\n'
        "client.testnet = False\n"
    )
    assert nets(text) == ["mainnet", "mainnet"]


def test_both_halves_of_a_pair_share_the_name_evidence() -> None:
    k, s = pair()
    text = f"BINANCE_TESTNET_API_KEY={k}\nAPI_SECRET={s}\n"
    found = scan_bytes(text.encode(), ".env")
    assert [f.kind for f in found] == ["api_key", "secret_key"]
    assert found[0].pair == found[1].pair
    assert [f.get("network") for f in found] == ["testnet", "testnet"]


def test_private_key_gets_the_network_of_its_api_key() -> None:
    from fakebinance import new_ed25519_key

    _pub, pem = new_ed25519_key()
    k = random_secret()
    text = f'client = Client(api_key="{k}", private_key="""{pem}""", testnet=True)\n'
    found = scan_bytes(text.encode(), "bot.py")
    assert {f.kind for f in found} == {"api_key", "private_key"}
    assert {f.get("network") for f in found} == {"testnet"}


def test_base64_encoded_env_keeps_its_inner_network() -> None:
    import base64

    k, s = pair()
    inner = f"BINANCE_TESTNET=true\nBINANCE_API_KEY={k}\nBINANCE_API_SECRET={s}\n"
    outer = f"apiVersion: v1\nkind: Secret\ndata:\n  env: {base64.b64encode(inner.encode()).decode()}\n"
    assert set(nets(outer, "k8s/secret.yaml")) == {"testnet"}


def test_far_evidence_counts_only_at_file_level() -> None:
    k, s = pair()
    filler = "\n".join(f"x{i} = {i}" for i in range(400))
    near = f'API_KEY = "{k}"\nAPI_SECRET = "{s}"\n{filler}\nclient = Client(API_KEY, API_SECRET, testnet=True)\n'
    assert nets(near) == ["testnet", "testnet"]  # the file's only flag says testnet
    mixed = near + 'other = Client(A, B, testnet=False)\n'
    assert nets(mixed) == [None, None]  # the file says both: no guess


def test_large_file_evidence_is_found_around_findings() -> None:
    k, s = pair()
    blob = ("# " + "z" * 70 + "\n") * 8000  # ~580 KB, larger than FULL_SCAN
    text = f'{blob}client = Client("{k}", "{s}", testnet=True)\n{blob}'
    assert len(text) > network.FULL_SCAN
    assert nets(text) == ["testnet", "testnet"]


def test_annotation_is_cheap_on_a_big_file_with_many_findings() -> None:
    rows = [f"{random_secret()},{random_secret()}" for _ in range(1500)]
    text = "api_key,api_secret\n" + "\n".join(rows) + "\n# testnet: true\n"
    data = text.encode()
    t0 = time.perf_counter()
    found = scan_bytes(data, "keys.csv")
    engine_time = time.perf_counter() - t0
    assert len(found) == 3000
    plain = [f._replace(extra=()) for f in found]
    t0 = time.perf_counter()
    network.annotate(data, "keys.csv", plain)
    assert time.perf_counter() - t0 < max(0.5, engine_time)


def test_clean_files_never_import_the_module() -> None:
    code = (
        "import sys; from keytrap.engine import scan_bytes;"
        "scan_bytes(b'x = 1\\n' * 1000 + b'testnet=True\\n', 'a.py');"
        "print('keytrap.network' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "False", proc.stderr


@pytest.mark.parametrize(
    "name, path, expected",
    [
        ("BINANCE_TESTNET_KEY", "a.py", "testnet"),
        ("binanceTestnetSecret", "a.ts", "testnet"),
        ("demoSecret", "a.ts", "demo"),
        ("DEMO_API_KEY", "a.py", "demo"),
        ("demoApiKey", "a.ts", "demo"),
        ("DEMOCRACY_KEY", "a.py", None),
        ("MAINNET_SECRET", "a.py", "mainnet"),
        ("TEST_API_KEY", ".github/workflows/x.yml", "testnet"),
        ("TEST_API_KEY", "app/settings.py", None),
        (None, ".github/workflows/x.yml", None),
    ],
)
def test_from_name(name: str | None, path: str, expected: str | None) -> None:
    assert network.from_name(name, path) == expected


@pytest.mark.parametrize(
    "path, template",
    [
        ("bot.py", '# try this on the testnet first\nAPI_KEY = "{k}"\nAPI_SECRET = "{s}"\n'),
        ("sandbox/bot.py", 'API_KEY = "{k}"\nAPI_SECRET = "{s}"\n'),
        ("notes.md", "Works on mainnet and testnet alike.\n\nkey: {k}\nsecret: {s}\n"),
    ],
)
def test_prose_and_scratch_folders_are_no_evidence(path: str, template: str) -> None:
    """A wrong "testnet" would lower a real key's severity: weak hints must not count."""
    k, s = pair()
    assert nets(template.format(k=k, s=s), path) == [None, None]


def test_a_name_next_to_the_key_counts() -> None:
    k, s = pair()
    text = f'testnet_client = Client(\n    "{k}",\n    "{s}",\n)\n'
    assert nets(text) == ["testnet", "testnet"]
