"""keytrap.sources.content: repository evidence (key files, networks) collected lazily."""

from __future__ import annotations

from collections.abc import Iterator

from keytrap.sources.content import repo_evidence, with_repo_network

TESTNET = b"from binance.client import Client\nclient = Client(k, s, testnet=True)\n"
DEMO = b"from binance.client import Client\nclient = Client(k, s, demo=True)\n"
KEY_FILE = b"import binance\nPRIVATE_KEY_PATH = 'test-prv-key.pem'\n"
OTHER = b"print('no exchange here')\n"


def _counted(datas: list[bytes | None], seen: list[int]) -> Iterator[bytes | None]:
    for i, d in enumerate(datas):
        seen.append(i)
        yield d


def test_one_network_is_the_repositorys() -> None:
    repo = repo_evidence(iter([OTHER, None, TESTNET, TESTNET]), pending=False)
    assert repo.network == "testnet" and not repo.pending


def test_two_networks_stop_the_reading_when_only_the_network_is_wanted() -> None:
    seen: list[int] = []
    repo = repo_evidence(_counted([TESTNET, DEMO, KEY_FILE, TESTNET], seen), pending=False)
    assert repo.network is None and seen == [0, 1]  # files 2 and 3 could change nothing


def test_pending_key_files_read_everything() -> None:
    seen: list[int] = []
    repo = repo_evidence(_counted([TESTNET, DEMO, KEY_FILE], seen), pending=True)
    assert seen == [0, 1, 2] and repo.named("test-prv-key.pem")[0]


def test_with_repo_network_fills_only_unknown_networks() -> None:
    from keytrap.findings import Finding

    base = Finding(rule="binance-hmac-key", kind="api_key", path="a.env", line=1, column=1,
                   confidence="high", secret="x" * 64, name="K")
    unknown, known = base.with_extra(network=None), base.with_extra(network="mainnet")
    repo = repo_evidence(iter([TESTNET]), pending=False)
    got = with_repo_network([unknown, known, base], repo)
    assert [f.get("network", "unset") for f in got] == ["testnet", "mainnet", "unset"]
