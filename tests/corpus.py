"""An independent evaluation corpus for keytrap: realistic leaks and realistic noise.

This module is not a test. ``build_corpus(seed)`` returns a list of ``CorpusFile``: each one a
file as it would appear in a real repository, with its ground truth (line and kind of every
secret a Binance key scanner should report). It was written from what leaks and look-alikes
look like in the wild, not from the engine's rules.

Secrets are generated fresh from the seed: no key-shaped literal lives in this file except
Binance's public documentation example pair, which appears only in negatives (it must never be
reported). Private keys, certificates and SSH keys are real ones made with ``cryptography`` when
it is installed (RSA keys from seeded primes, so a seed reproduces every byte); without it those
contexts are left out (``CRYPTO`` is False).

Paths are ``case<NNN>/<realistic file name>``: the folder carries no hint about the context.
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import hashlib
import hmac
import json
import math
import random
import string
import struct
import zlib
from dataclasses import dataclass, field
from typing import Callable

from seeded import ALNUM, SeededGen

try:  # real PEM/SSH material; optional
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from cryptography.x509.oid import NameOID

    CRYPTO = True
except ImportError:  # pragma: no cover - depends on the environment
    CRYPTO = False

_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p**0.5) + 1))]
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B32L = "abcdefghijklmnopqrstuvwxyz234567"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

#: Binance's public documentation example pair (SIGNED endpoint examples). Never a leak.
DOC_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET_KEY = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_QUERY = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)


# --------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True)
class Truth:
    path: str
    line: int
    kind: str  # api_key | secret_key | private_key


@dataclass
class CorpusFile:
    context: str
    path: str
    data: bytes
    positive: bool
    truths: list[Truth] = field(default_factory=list)
    #: the api_key/secret_key label cannot be told from the file itself (e.g. two bare lines)
    ambiguous_kind: bool = False
    #: what each truth was located by (secret, its encoding, or the PEM BEGIN line); tests only
    needles: list[str] = field(default_factory=list, repr=False)


@dataclass
class Spec:
    """What a context function returns: a file and the needles that mark its secrets."""

    path: str
    text: str | bytes
    marks: list[tuple[str, str]] = field(default_factory=list)  # (needle, kind)
    ambiguous_kind: bool = False


# --------------------------------------------------------------------------------------------
# random material


class Gen(SeededGen):
    """The shared seeded material (``tests/seeded.py``) over a caller's ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._rsa: object | None = None

    def uuid(self) -> str:
        h = self.hex(32)
        h = h[:12] + "4" + h[13:16] + self.choice("89ab") + h[17:]
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def ts(self) -> int:
        return 1_690_000_000_000 + self.rng.randrange(60_000_000_000)

    def date(self) -> str:
        d = _dt.datetime(2023, 1, 1) + _dt.timedelta(seconds=self.rng.randrange(60_000_000))
        return d.strftime("%Y-%m-%d %H:%M:%S")

    # -- Binance-shaped keys: 64 chars of [A-Za-z0-9], as the exchange issues them
    def key(self) -> str:
        while True:
            k = self.alnum(64)
            if (
                any(c.isupper() for c in k)
                and any(c.islower() for c in k)
                and any(c.isdigit() for c in k)
            ):
                return k

    def pair(self) -> tuple[str, str]:
        return self.key(), self.key()

    def signature(self, secret: str, query: str) -> str:
        return hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()

    # -- real key material
    def ed25519(self):  # type: ignore[no-untyped-def]
        return ed25519.Ed25519PrivateKey.from_private_bytes(self.raw(32))

    def rsa(self, bits: int = 2048):  # type: ignore[no-untyped-def]
        """A real RSA key built from seeded primes, so every corpus file is reproducible."""
        return _rsa_from_seed(self.rng.getrandbits(64), bits)

    def shared_rsa(self):  # type: ignore[no-untyped-def]
        """One RSA key reused by the negatives of a build (generation is slow)."""
        if self._rsa is None:
            self._rsa = self.rsa()
        return self._rsa

    def cert_pem(self, key, cn: str) -> str:  # type: ignore[no-untyped-def]
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        algo = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(self.rng.getrandbits(120) + 1)
            .not_valid_before(_dt.datetime(2024, 1, 1, tzinfo=_dt.timezone.utc))
            .not_valid_after(_dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
            .sign(key, algo)
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode()


@functools.lru_cache(maxsize=64)
def _rsa_from_seed(seed: int, bits: int):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)

    def prime(nbits: int) -> int:
        while True:
            n = rng.getrandbits(nbits) | (3 << (nbits - 2)) | 1
            if all(n % sp for sp in _SMALL_PRIMES) and miller_rabin(n):
                return n

    def miller_rabin(n: int, rounds: int = 24) -> bool:
        d, r = n - 1, 0
        while d % 2 == 0:
            d, r = d // 2, r + 1
        for _ in range(rounds):
            x = pow(rng.randrange(2, n - 2), d, n)
            if x in (1, n - 1):
                continue
            for _ in range(r - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                return False
        return True

    e = 65537
    while True:
        p, q = prime(bits // 2), prime(bits // 2)
        n, phi = p * q, (p - 1) * (q - 1)
        if p == q or math.gcd(e, phi) != 1 or n.bit_length() != bits:
            continue
        d = pow(e, -1, phi)
        return rsa.RSAPrivateNumbers(
            p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, n)
        ).private_key()


def private_pem(key, traditional: bool = False) -> str:  # type: ignore[no-untyped-def]
    fmt = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if traditional
        else serialization.PrivateFormat.PKCS8
    )
    return key.private_bytes(
        serialization.Encoding.PEM, fmt, serialization.NoEncryption()
    ).decode()


def public_pem(key) -> str:  # type: ignore[no-untyped-def]
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def ssh_pub(key, comment: str) -> str:  # type: ignore[no-untyped-def]
    pub = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return f"{pub.decode()} {comment}"


def b64(s: str | bytes) -> str:
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def wrap(s: str, width: int) -> list[str]:
    return [s[i : i + width] for i in range(0, len(s), width)]


def png(g: Gen, w: int = 12, h: int = 12) -> bytes:
    """A real PNG of random pixels: what a notebook or CSS data URI would carry."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    rows = b"".join(b"\x00" + g.raw(w * 3) for _ in range(h))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------------------------
# positives: each returns a Spec whose marks are the secrets a scanner must report

POSITIVE: dict[str, Callable[[Gen], Spec]] = {}
NEGATIVE: dict[str, Callable[[Gen], Spec]] = {}
NEEDS_CRYPTO: set[str] = set()


def positive(name: str, crypto: bool = False):  # type: ignore[no-untyped-def]
    def deco(fn):  # type: ignore[no-untyped-def]
        POSITIVE[name] = fn
        if crypto:
            NEEDS_CRYPTO.add(name)
        return fn

    return deco


def negative(name: str, crypto: bool = False):  # type: ignore[no-untyped-def]
    def deco(fn):  # type: ignore[no-untyped-def]
        NEGATIVE[name] = fn
        if crypto:
            NEEDS_CRYPTO.add(name)
        return fn

    return deco


A, S, P = "api_key", "secret_key", "private_key"


@positive("env_unquoted")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    kn, sn, extra = g.choice(
        [
            ("BINANCE_API_KEY", "BINANCE_API_SECRET", ""),
            ("BINANCE_KEY", "BINANCE_SECRET", ""),
            ("API_KEY", "API_SECRET", "EXCHANGE=binance\n"),
        ]
    )
    text = (
        "# trading bot settings\n"
        f"{extra}"
        f"{kn}={k}\n"
        f"{sn}={s}\n"
        "BINANCE_TESTNET=false\n"
        f"TELEGRAM_CHAT_ID={g.rng.randrange(10**8, 10**9)}\n"
        "LOG_LEVEL=INFO\n"
    )
    return Spec(".env", text, [(k, A), (s, S)])


@positive("env_quoted")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    q1, q2 = g.choice([('"', '"'), ("'", "'"), ('"', "'")])
    text = (
        "NODE_ENV=production\n"
        "PORT=8080\n\n"
        "# Binance (main account, spot only)\n"
        f"BINANCE_API_KEY={q1}{k}{q1}\n"
        f"BINANCE_SECRET_KEY={q2}{s}{q2}\n"
        'SYMBOLS="BTCUSDT,ETHUSDT"\n'
    )
    return Spec(g.choice([".env.local", ".env.production", "config/.env"]), text, [(k, A), (s, S)])


@positive("envrc_export")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "use python 3.11\n"
        "layout python\n"
        f"export BINANCE_API_KEY={k}\n"
        f"export BINANCE_API_SECRET={s}\n"
        "export PYTHONPATH=$PWD/src\n"
    )
    return Spec(".envrc", text, [(k, A), (s, S)])


@positive("freqtrade_config")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    cfg = {
        "max_open_trades": 3,
        "stake_currency": "USDT",
        "stake_amount": "unlimited",
        "tradable_balance_ratio": 0.99,
        "fiat_display_currency": "USD",
        "dry_run": False,
        "cancel_open_orders_on_exit": False,
        "trading_mode": "spot",
        "exchange": {
            "name": "binance",
            "key": k,
            "secret": s,
            "ccxt_config": {},
            "ccxt_async_config": {},
            "pair_whitelist": ["BTC/USDT", "ETH/USDT", "SOL/USDT"],
            "pair_blacklist": ["BNB/.*"],
        },
        "pairlists": [{"method": "StaticPairList"}],
        "telegram": {"enabled": False, "token": "", "chat_id": ""},
        "api_server": {
            "enabled": True,
            "listen_ip_address": "127.0.0.1",
            "listen_port": 8080,
            "jwt_secret_key": g.hex(32),
            "username": "freqtrader",
            "password": "SuperSecurePassword",
        },
        "bot_name": "freqtrade",
        "initial_state": "running",
        "internals": {"process_throttle_secs": 5},
    }
    return Spec("user_data/config.json", json.dumps(cfg, indent=4) + "\n", [(k, A), (s, S)])


@positive("ccxt_python")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "import ccxt\n\n"
        "exchange = ccxt.binance({\n"
        f"    'apiKey': '{k}',\n"
        f"    'secret': '{s}',\n"
        "    'enableRateLimit': True,\n"
        "    'options': {'defaultType': 'future'},\n"
        "})\n\n"
        "print(exchange.fetch_balance()['USDT'])\n"
    )
    return Spec("fetch_balance.py", text, [(k, A), (s, S)])


@positive("ccxt_js_one_line")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "const ccxt = require('ccxt');\n\n"
        f"const exchange = new ccxt.binance({{ apiKey: '{k}', secret: '{s}' }});\n"
        "exchange.fetchBalance().then(console.log);\n"
    )
    return Spec("index.js", text, [(k, A), (s, S)])


@positive("python_binance_positional")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "from binance.client import Client\n"
        "import pandas as pd\n\n"
        f'client = Client("{k}", "{s}")\n'
        'klines = client.get_historical_klines("BTCUSDT", Client.KLINE_INTERVAL_1HOUR, "1 day ago UTC")\n'
        "df = pd.DataFrame(klines)\n"
    )
    return Spec("bot.py", text, [(k, A), (s, S)])


@positive("python_binance_positional_multiline")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "from binance import Client\n\n\n"
        "def make_client():\n"
        "    return Client(\n"
        f"        '{k}',\n"
        f"        '{s}',\n"
        "        testnet=False,\n"
        "    )\n"
    )
    return Spec("trader/client.py", text, [(k, A), (s, S)])


@positive("python_binance_kwargs")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    if g.rng.random() < 0.5:
        call = f'client = Client(api_key="{k}", api_secret="{s}")\n'
    else:
        call = (
            "client = await AsyncClient.create(\n"
            f'    api_key="{k}",\n'
            f'    api_secret="{s}",\n'
            ")\n"
        )
    text = "import asyncio\nfrom binance import AsyncClient, Client\n\n" + call
    return Spec("main.py", text, [(k, A), (s, S)])


@positive("connector_spot_kwargs")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "import logging\n"
        "from binance.spot import Spot\n"
        "from binance.lib.utils import config_logging\n\n"
        "config_logging(logging, logging.DEBUG)\n\n"
        f'api_key = "{k}"\n'
        f'api_secret = "{s}"\n\n'
        "client = Spot(api_key=api_key, api_secret=api_secret)\n"
        'logging.info(client.account(recvWindow=6000))\n'
    )
    if g.rng.random() < 0.5:
        text = (
            "from binance.spot import Spot\n\n"
            f'client = Spot(api_key="{k}", api_secret="{s}", base_url="https://testnet.binance.vision")\n'
            "print(client.account())\n"
        )
    return Spec("examples/spot_account.py", text, [(k, A), (s, S)])


@positive("connector_umfutures")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "from binance.um_futures import UMFutures\n\n"
        f"um_futures_client = UMFutures(key='{k}', secret='{s}')\n"
        'print(um_futures_client.balance(recvWindow=6000))\n'
    )
    return Spec("futures.py", text, [(k, A), (s, S)])


@positive("node_binance_api")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "const Binance = require('node-binance-api');\n"
        "const binance = new Binance().options({\n"
        f"  APIKEY: '{k}',\n"
        f"  APISECRET: '{s}',\n"
        "  useServerTime: true,\n"
        "});\n\n"
        "binance.balance((error, balances) => {\n"
        "  if (error) return console.error(error);\n"
        "  console.info('BTC balance: ', balances.BTC.available);\n"
        "});\n"
    )
    return Spec("app.js", text, [(k, A), (s, S)])


@positive("js_consts_connector")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "'use strict'\n\n"
        "const { Spot } = require('@binance/connector')\n\n"
        f"const apiKey = '{k}'\n"
        f"const apiSecret = '{s}'\n"
        "const client = new Spot(apiKey, apiSecret)\n\n"
        "client.account().then(response => client.logger.log(response.data))\n"
    )
    return Spec("src/account.js", text, [(k, A), (s, S)])


@positive("ts_config_object")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "export const config = {\n"
        "  exchange: 'binance',\n"
        "  binance: {\n"
        f"    apiKey: '{k}',\n"
        f"    apiSecret: '{s}',\n"
        "    recvWindow: 5000,\n"
        "  },\n"
        "  symbols: ['BTCUSDT', 'ETHUSDT'],\n"
        "} as const;\n"
    )
    return Spec("src/config.ts", text, [(k, A), (s, S)])


@positive("go_vars")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "package main\n\n"
        "import (\n"
        '\t"context"\n'
        '\t"fmt"\n\n'
        '\t"github.com/adshao/go-binance/v2"\n'
        ")\n\n"
        "var (\n"
        f'\tapiKey    = "{k}"\n'
        f'\tsecretKey = "{s}"\n'
        ")\n\n"
        "func main() {\n"
        "\tclient := binance.NewClient(apiKey, secretKey)\n"
        "\tres, err := client.NewGetAccountService().Do(context.Background())\n"
        "\tif err != nil {\n\t\tfmt.Println(err)\n\t\treturn\n\t}\n"
        "\tfmt.Println(res)\n"
        "}\n"
    )
    return Spec("cmd/bot/main.go", text, [(k, A), (s, S)])


@positive("java_constants")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "package com.example.trading;\n\n"
        "import com.binance.connector.client.impl.SpotClientImpl;\n\n"
        "public final class PrivateConfig {\n"
        f'    public static final String API_KEY = "{k}";\n'
        f'    public static final String SECRET_KEY = "{s}";\n\n'
        "    public static SpotClientImpl client() {\n"
        "        return new SpotClientImpl(API_KEY, SECRET_KEY);\n"
        "    }\n"
        "}\n"
    )
    return Spec("src/main/java/com/example/trading/PrivateConfig.java", text, [(k, A), (s, S)])


@positive("rust_binance_crate")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "use binance::api::*;\n"
        "use binance::account::*;\n\n"
        "fn main() {\n"
        f'    let api_key = Some("{k}".into());\n'
        f'    let secret_key = Some("{s}".into());\n\n'
        "    let account: Account = Binance::new(api_key, secret_key);\n"
        '    match account.get_account() {\n'
        '        Ok(answer) => println!("{:?}", answer.balances),\n'
        '        Err(e) => println!("Error: {:?}", e),\n'
        "    }\n"
        "}\n"
    )
    return Spec("src/main.rs", text, [(k, A), (s, S)])


@positive("csharp_binance_net")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "using Binance.Net.Clients;\n"
        "using CryptoExchange.Net.Authentication;\n\n"
        "var client = new BinanceRestClient(options =>\n"
        "{\n"
        f'    options.ApiCredentials = new ApiCredentials("{k}", "{s}");\n'
        "});\n"
        "var balances = await client.SpotApi.Account.GetAccountInfoAsync();\n"
    )
    return Spec("Program.cs", text, [(k, A), (s, S)])


@positive("csharp_appsettings_json")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    cfg = {
        "Logging": {"LogLevel": {"Default": "Information"}},
        "Binance": {"ApiKey": k, "ApiSecret": s, "UseTestnet": False},
        "AllowedHosts": "*",
    }
    return Spec("appsettings.json", json.dumps(cfg, indent=2) + "\n", [(k, A), (s, S)])


@positive("yaml_bot_config")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    q = g.choice(["", '"', "'"])
    text = (
        "strategy: grid\n"
        "exchange:\n"
        "  name: binance\n"
        f"  api_key: {q}{k}{q}\n"
        f"  api_secret: {q}{s}{q}\n"
        "  testnet: false\n"
        "grid:\n"
        "  symbol: BTCUSDT\n"
        "  levels: 20\n"
    )
    return Spec("config.yml", text, [(k, A), (s, S)])


@positive("docker_compose_env_list")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "version: '3.8'\n"
        "services:\n"
        "  bot:\n"
        f"    image: ghcr.io/acme/grid-bot@sha256:{g.hex(64)}\n"
        "    restart: unless-stopped\n"
        "    environment:\n"
        f"      - BINANCE_API_KEY={k}\n"
        f"      - BINANCE_API_SECRET={s}\n"
        "      - TZ=UTC\n"
        "    volumes:\n"
        "      - ./data:/app/data\n"
    )
    return Spec("docker-compose.yml", text, [(k, A), (s, S)])


def _k8s_secret(name: str, data_lines: list[str], string_data: bool = False) -> str:
    section = "stringData" if string_data else "data"
    return (
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n"
        f"  name: {name}\n"
        "  namespace: trading\n"
        "type: Opaque\n"
        f"{section}:\n" + "".join(f"  {line}\n" for line in data_lines)
    )


@positive("k8s_secret_data_b64")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    ek, es = b64(k), b64(s)
    text = _k8s_secret(
        "binance-credentials", [f"BINANCE_API_KEY: {ek}", f"BINANCE_API_SECRET: {es}"]
    )
    return Spec("deploy/secret.yaml", text, [(ek, A), (es, S)])


@positive("k8s_secret_data_b64_newline")
def _(g: Gen) -> Spec:
    # `echo $KEY | base64` keeps the trailing newline inside the encoded value
    k, s = g.pair()
    ek, es = b64(k + "\n"), b64(s + "\n")
    text = _k8s_secret("exchange-keys", [f"api-key: {ek}", f"api-secret: {es}"])
    return Spec("k8s/exchange-keys.yaml", text, [(ek, A), (es, S)])


@positive("k8s_secret_data_b64_envfile")
def _(g: Gen) -> Spec:
    # kubectl create secret generic bot-env --from-file=.env
    k, s = g.pair()
    env = f"BINANCE_API_KEY={k}\nBINANCE_API_SECRET={s}\nLOG_LEVEL=debug\n"
    e = b64(env)
    text = _k8s_secret("bot-env", [f".env: {e}"])
    return Spec("k8s/bot-env.secret.yaml", text, [(e, A), (e, S)])


@positive("k8s_secret_stringdata")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = _k8s_secret(
        "binance", [f"apiKey: {k}", f"secretKey: {s}"], string_data=True
    )
    return Spec("charts/bot/templates/secret.yaml", text, [(k, A), (s, S)])


@positive("github_actions_env")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "name: nightly-backtest\n"
        "on:\n"
        "  schedule:\n"
        "    - cron: '0 3 * * *'\n"
        "jobs:\n"
        "  backtest:\n"
        "    runs-on: ubuntu-latest\n"
        "    env:\n"
        f"      BINANCE_API_KEY: {k}\n"
        f"      BINANCE_API_SECRET: {s}\n"
        "    steps:\n"
        f"      - uses: actions/checkout@{g.hex(40)}\n"
        "      - run: pip install -r requirements.txt\n"
        "      - run: python backtest.py\n"
    )
    return Spec(".github/workflows/backtest.yml", text, [(k, A), (s, S)])


@positive("toml_section")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "[bot]\n"
        'name = "dca"\n'
        "interval_minutes = 60\n\n"
        "[binance]\n"
        f'api_key = "{k}"\n'
        f'secret_key = "{s}"\n'
        "testnet = false\n"
    )
    return Spec("settings.toml", text, [(k, A), (s, S)])


@positive("ini_section")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "[DEFAULT]\n"
        "log_file = bot.log\n\n"
        "[binance]\n"
        f"api_key = {k}\n"
        f"api_secret = {s}\n\n"
        "[telegram]\n"
        "enabled = no\n"
    )
    return Spec(g.choice(["config.ini", "setup.cfg.local", "bot.conf"]), text, [(k, A), (s, S)])


@positive("shell_export_script")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "#!/usr/bin/env bash\n"
        "set -euo pipefail\n\n"
        f'export BINANCE_API_KEY="{k}"\n'
        f'export BINANCE_API_SECRET="{s}"\n\n'
        'cd "$(dirname "$0")"\n'
        "exec python3 -m bot --live\n"
    )
    return Spec("run.sh", text, [(k, A), (s, S)])


@positive("curl_header_and_hmac")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    ts = g.ts()
    q = f"timestamp={ts}&recvWindow=5000"
    sig = g.signature(s, q)
    text = (
        "# signed USER_DATA request, see https://binance-docs.github.io/apidocs/spot/en/\n"
        f'echo -n "{q}" | openssl dgst -sha256 -hmac "{s}"\n'
        f'curl -H "X-MBX-APIKEY: {k}" -X GET \'https://api.binance.com/api/v3/account?{q}&signature={sig}\'\n'
    )
    return Spec("notes/curl-account.sh", text, [(s, S), (k, A)])


@positive("curl_header_only")
def _(g: Gen) -> Spec:
    k = g.key()
    text = (
        "### MARKET_DATA endpoint only needs the API key\n"
        f"curl -s -H 'X-MBX-APIKEY: {k}' \\\n"
        "  'https://api.binance.com/api/v3/historicalTrades?symbol=BTCUSDT&limit=5' | jq .\n"
    )
    return Spec("scripts/trades.sh", text, [(k, A)])


@positive("jupyter_code_cell")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    nb = {
        "cells": [
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": ["# Backtest on Binance klines\n"],
            },
            {
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {},
                "outputs": [],
                "source": [
                    "from binance.client import Client\n",
                    f"api_key = '{k}'\n",
                    f"api_secret = '{s}'\n",
                    "client = Client(api_key, api_secret)",
                ],
            },
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return Spec("notebooks/backtest.ipynb", json.dumps(nb, indent=1) + "\n", [(k, A), (s, S)])


@positive("jupyter_output_json_escaped")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    out = json.dumps({"exchange": "binance", "api_key": k, "api_secret": s})
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 3,
                "metadata": {},
                "outputs": [{"name": "stdout", "output_type": "stream", "text": [out + "\n"]}],
                "source": ["import json\n", "print(json.dumps(load_config()))"],
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return Spec("explore.ipynb", json.dumps(nb, indent=1) + "\n", [(k, A), (s, S)])


@positive("log_headers_dumped")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    ts = g.ts()
    q = f"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&timestamp={ts}"
    sig = g.signature(s, q)
    d = g.date()
    text = (
        f"{d},101 INFO bot.main starting strategy dca\n"
        f"{d},140 DEBUG urllib3.connectionpool Starting new HTTPS connection (1): api.binance.com:443\n"
        f"{d},152 DEBUG binance.api Request headers: {{'Accept': 'application/json', "
        f"'User-Agent': 'binance-connector/3.5.0', 'X-MBX-APIKEY': '{k}'}}\n"
        f'{d},310 DEBUG urllib3.connectionpool https://api.binance.com:443 "POST /api/v3/order?{q}&signature={sig} HTTP/1.1" 200 312\n'
        f"{d},311 INFO bot.main order filled\n"
    )
    return Spec("logs/bot-2024-03-01.log", text, [(k, A)])


@positive("markdown_notes")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# Bot setup notes\n\n"
        "1. Create an API key on Binance (enable spot trading, restrict IP).\n"
        "2. Put them here for now, move to vault later:\n\n"
        f"- API Key: `{k}`\n"
        f"- Secret Key: `{s}`\n\n"
        "3. Run `make deploy`.\n"
    )
    return Spec("NOTES.md", text, [(k, A), (s, S)])


@positive("bare_keys_txt")
def _(g: Gen) -> Spec:
    # copied from the Binance "API created" dialog: key first, then secret, no labels
    k, s = g.pair()
    text = f"{k}\n{s}\n"
    return Spec(g.choice(["keys.txt", "api.txt", "secrets/prod.txt"]), text, [(k, A), (s, S)], True)


@positive("csv_export_row")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    k2, s2 = g.pair()
    text = (
        "label,api_key,secret_key,created\n"
        f"grid-bot,{k},{s},2024-02-11\n"
        f"dca-bot,{k2},{s2},2024-03-02\n"
    )
    return Spec("accounts.csv", text, [(k, A), (s, S), (k2, A), (s2, S)])


@positive("php_define")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "<?php\n"
        "require 'vendor/autoload.php';\n\n"
        f"define('BINANCE_API_KEY', '{k}');\n"
        f"define('BINANCE_API_SECRET', '{s}');\n\n"
        "$api = new Binance\\API(BINANCE_API_KEY, BINANCE_API_SECRET);\n"
        "$ticker = $api->prices();\n"
    )
    return Spec("config.php", text, [(k, A), (s, S)])


@positive("ruby_client")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "require 'binance'\n\n"
        "client = Binance::Client::REST.new(\n"
        f"  api_key: '{k}',\n"
        f"  secret_key: '{s}'\n"
        ")\n"
        "puts client.account_info\n"
    )
    return Spec("lib/exchange.rb", text, [(k, A), (s, S)])


@positive("terraform_tfvars")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        'region             = "eu-central-1"\n'
        'instance_type      = "t3.small"\n'
        f'binance_api_key    = "{k}"\n'
        f'binance_api_secret = "{s}"\n'
    )
    return Spec("infra/terraform.tfvars", text, [(k, A), (s, S)])


@positive("terraform_variable_default")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        'variable "binance_api_key" {\n'
        "  type      = string\n"
        "  sensitive = true\n"
        f'  default   = "{k}"\n'
        "}\n\n"
        'variable "binance_api_secret" {\n'
        "  type      = string\n"
        "  sensitive = true\n"
        f'  default   = "{s}"\n'
        "}\n"
    )
    return Spec("infra/variables.tf", text, [(k, A), (s, S)])


@positive("python_settings_dict")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "DEBUG = False\n"
        "ALLOWED_HOSTS = ['*']\n\n"
        "BINANCE = {\n"
        f"    'API_KEY': '{k}',\n"
        f"    'SECRET_KEY': '{s}',\n"
        "    'TESTNET': False,\n"
        "}\n"
    )
    return Spec("project/settings/prod.py", text, [(k, A), (s, S)])


@positive("python_getenv_default")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "import os\n\n"
        f'API_KEY = os.getenv("BINANCE_API_KEY", "{k}")\n'
        f'API_SECRET = os.environ.get("BINANCE_API_SECRET", "{s}")\n'
    )
    return Spec("src/bot/config.py", text, [(k, A), (s, S)])


@positive("dockerfile_env_continuation")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        f"FROM python:3.12-slim@sha256:{g.hex(64)}\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        f"ENV BINANCE_API_KEY={k} \\\n"
        f"    BINANCE_API_SECRET={s}\n"
        'CMD ["python", "bot.py"]\n'
    )
    return Spec("Dockerfile", text, [(k, A), (s, S)])


@positive("bash_history_cli_args")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "ls -la\n"
        "source .venv/bin/activate\n"
        f"python trade.py --exchange binance --api-key {k} --api-secret {s} --symbol BTCUSDT\n"
        "git status\n"
    )
    return Spec(".bash_history", text, [(k, A), (s, S)])


@positive("pm2_ecosystem")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "module.exports = {\n"
        "  apps: [\n"
        "    {\n"
        "      name: 'signals',\n"
        "      script: './dist/index.js',\n"
        "      env: {\n"
        "        NODE_ENV: 'production',\n"
        f"        BINANCE_APIKEY: '{k}',\n"
        f"        BINANCE_SECRET: '{s}',\n"
        "      },\n"
        "    },\n"
        "  ],\n"
        "};\n"
    )
    return Spec("ecosystem.config.js", text, [(k, A), (s, S)])


@positive("postman_environment")
def _(g: Gen) -> Spec:
    # the official Binance Postman collection uses environment variables apiKey / secretKey
    k, s = g.pair()
    env = {
        "id": g.uuid(),
        "name": "Binance Spot API (mainnet)",
        "values": [
            {"key": "url", "value": "https://api.binance.com", "enabled": True},
            {"key": "apiKey", "value": k, "type": "default", "enabled": True},
            {"key": "secretKey", "value": s, "type": "secret", "enabled": True},
        ],
        "_postman_variable_scope": "environment",
    }
    lines = ["{"]
    lines.append(f'\t"id": "{env["id"]}",')
    lines.append(f'\t"name": "{env["name"]}",')
    lines.append('\t"values": [')
    vals = [json.dumps(v) for v in env["values"]]
    lines.append(",\n".join("\t\t" + v for v in vals))
    lines.append("\t],")
    lines.append('\t"_postman_variable_scope": "environment"')
    lines.append("}")
    return Spec("postman/binance.postman_environment.json", "\n".join(lines) + "\n", [(k, A), (s, S)])


@positive("rest_client_http_file")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "@host = https://api.binance.com\n"
        f"@apiKey = {k}\n"
        f"@secretKey = {s}\n\n"
        "### server time\n"
        "GET {{host}}/api/v3/time\n\n"
        "### account (signature computed by pre-request script)\n"
        "GET {{host}}/api/v3/account?timestamp={{$timestamp}}000&signature={{signature}}\n"
        "X-MBX-APIKEY: {{apiKey}}\n"
    )
    return Spec("requests.http", text, [(k, A), (s, S)])


@positive("git_patch_added_env")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        f"From {g.hex(40)} Mon Sep 17 00:00:00 2001\n"
        "From: Dev <dev@example.com>\n"
        "Subject: [PATCH] add env\n\n"
        "---\n"
        " .env | 3 +++\n"
        " 1 file changed, 3 insertions(+)\n\n"
        "diff --git a/.env b/.env\n"
        "new file mode 100644\n"
        f"index 0000000..{g.hex(7)}\n"
        "--- /dev/null\n"
        "+++ b/.env\n"
        "@@ -0,0 +1,3 @@\n"
        f"+BINANCE_API_KEY={k}\n"
        f"+BINANCE_API_SECRET={s}\n"
        "+SYMBOL=ETHUSDT\n"
    )
    return Spec("0001-add-env.patch", text, [(k, A), (s, S)])


@positive("json_minified_one_line")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = json.dumps(
        {"exchanges": {"binance": {"key": k, "secret": s}}, "pairs": ["BTCUSDT"]},
        separators=(",", ":"),
    )
    return Spec("secrets.json", text, [(k, A), (s, S)])


@positive("ed25519_pem_with_api_key", crypto=True)
def _(g: Gen) -> Spec:
    # Binance Ed25519 API keys: the API key plus the PKCS#8 private key the user generated
    k = g.key()
    pem = private_pem(g.ed25519()).strip()
    text = (
        "import base64, time, requests\n"
        "from cryptography.hazmat.primitives.serialization import load_pem_private_key\n\n"
        f"API_KEY = '{k}'\n"
        'PRIVATE_KEY = load_pem_private_key(b"""' + pem + '""", password=None)\n\n'
        "params = {'timestamp': int(time.time() * 1000)}\n"
    )
    return Spec("ed25519_order.py", text, [(k, A), ("-----BEGIN PRIVATE KEY-----", P)])


@positive("ed25519_pem_json_escaped", crypto=True)
def _(g: Gen) -> Spec:
    k = g.key()
    pem = private_pem(g.ed25519())
    cfg = {"exchange": "binance", "apiKey": k, "privateKey": pem, "testnet": False}
    return Spec(
        "conf/account.json",
        json.dumps(cfg, indent=2) + "\n",
        [(k, A), ("-----BEGIN PRIVATE KEY-----", P)],
    )


@positive("rsa_pem_binance_file", crypto=True)
def _(g: Gen) -> Spec:
    trad = g.rng.random() < 0.5
    pem = private_pem(g.rsa(), traditional=trad)
    begin = "-----BEGIN RSA PRIVATE KEY-----" if trad else "-----BEGIN PRIVATE KEY-----"
    text = (
        "RSA key registered on binance.com for the rebalancer (API key label: rebal-rsa)\n"
        "public key uploaded 2024-04-02, keep this one offline!\n\n" + pem
    )
    return Spec("keys/README.txt", text, [(begin, P)])


@positive("rsa_pem_with_api_key_yaml", crypto=True)
def _(g: Gen) -> Spec:
    k = g.key()
    pem = private_pem(g.rsa())
    body = "".join(f"    {line}\n" for line in pem.strip().splitlines())
    text = (
        "binance:\n"
        f"  api_key: {k}\n"
        "  key_type: RSA\n"
        "  private_key: |\n" + body
    )
    return Spec("config/rsa-account.yaml", text, [(k, A), ("-----BEGIN PRIVATE KEY-----", P)])


# --------------------------------------------------------------------------------------------
# negatives: nothing in these files is a Binance credential


@negative("package_lock_integrity")
def _(g: Gen) -> Spec:
    pkgs = ["axios", "ws", "crypto-js", "dotenv", "node-binance-api", "@binance/connector"]
    deps = {}
    for p in pkgs:
        ver = f"{g.rng.randrange(1, 9)}.{g.rng.randrange(20)}.{g.rng.randrange(20)}"
        deps[f"node_modules/{p}"] = {
            "version": ver,
            "resolved": f"https://registry.npmjs.org/{p}/-/{p.split('/')[-1]}-{ver}.tgz",
            "integrity": "sha512-" + g.b64(64),
        }
    doc = {"name": "bot", "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": deps}
    return Spec("package-lock.json", json.dumps(doc, indent=2) + "\n")


@negative("yarn_lock")
def _(g: Gen) -> Spec:
    out = ["# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.", "# yarn lockfile v1", ""]
    for p in ["binance-api-node", "ws", "isomorphic-fetch", "lodash"]:
        ver = f"{g.rng.randrange(1, 9)}.{g.rng.randrange(20)}.{g.rng.randrange(20)}"
        out += [
            f'{p}@^{ver}:',
            f'  version "{ver}"',
            f'  resolved "https://registry.yarnpkg.com/{p}/-/{p}-{ver}.tgz#{g.hex(40)}"',
            f"  integrity sha512-{g.b64(64)}",
            "",
        ]
    return Spec("yarn.lock", "\n".join(out))


@negative("sha256sums_file")
def _(g: Gen) -> Spec:
    files = ["keytrap-0.1.0.tar.gz", "keytrap-0.1.0-py3-none-any.whl", "binance-bot-linux-amd64"]
    text = "".join(f"{g.hex(64)}  {f}\n" for f in files)
    return Spec("SHA256SUMS", text)


@negative("dockerfile_image_digest")
def _(g: Gen) -> Spec:
    text = (
        f"FROM node:20-alpine@sha256:{g.hex(64)} AS build\n"
        "WORKDIR /src\nCOPY . .\nRUN npm ci && npm run build\n\n"
        f"FROM gcr.io/distroless/nodejs20-debian12@sha256:{g.hex(64)}\n"
        "COPY --from=build /src/dist /app\n"
        'ENV BINANCE_API_KEY="" BINANCE_API_SECRET=""\n'
        'CMD ["/app/index.js"]\n'
    )
    return Spec("Dockerfile", text)


@negative("k8s_deployment_image_digest")
def _(g: Gen) -> Spec:
    text = (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n  name: binance-grid-bot\n"
        "spec:\n  template:\n    spec:\n      containers:\n"
        "        - name: bot\n"
        f"          image: registry.example.com/binance-grid-bot@sha256:{g.hex(64)}\n"
        "          env:\n"
        "            - name: BINANCE_API_KEY\n"
        "              valueFrom:\n"
        "                secretKeyRef:\n"
        "                  name: binance-credentials\n"
        "                  key: BINANCE_API_KEY\n"
        "            - name: BINANCE_API_SECRET\n"
        "              valueFrom:\n"
        "                secretKeyRef:\n"
        "                  name: binance-credentials\n"
        "                  key: BINANCE_API_SECRET\n"
    )
    return Spec("deploy/deployment.yaml", text)


@negative("cargo_lock_checksums")
def _(g: Gen) -> Spec:
    out = ["# This file is automatically @generated by Cargo.", "version = 3", ""]
    for p in ["binance", "hmac", "sha2", "reqwest"]:
        out += [
            "[[package]]",
            f'name = "{p}"',
            f'version = "0.{g.rng.randrange(30)}.{g.rng.randrange(10)}"',
            'source = "registry+https://github.com/rust-lang/crates.io-index"',
            f'checksum = "{g.hex(64)}"',
            "",
        ]
    return Spec("Cargo.lock", "\n".join(out))


@negative("requirements_hashes")
def _(g: Gen) -> Spec:
    out = []
    for p in ["python-binance==1.0.19", "requests==2.31.0", "websockets==12.0"]:
        out.append(f"{p} \\")
        out.append(f"    --hash=sha256:{g.hex(64)} \\")
        out.append(f"    --hash=sha256:{g.hex(64)}")
    return Spec("requirements.txt", "\n".join(out) + "\n")


@negative("terraform_lock_hcl")
def _(g: Gen) -> Spec:
    text = (
        "# This file is maintained automatically by \"terraform init\".\n"
        'provider "registry.terraform.io/hashicorp/aws" {\n'
        '  version     = "5.31.0"\n'
        "  hashes = [\n"
        f'    "h1:{g.b64(32)}",\n'
        + "".join(f'    "zh:{g.hex(64)}",\n' for _ in range(4))
        + "  ]\n}\n"
    )
    return Spec(".terraform.lock.hcl", text)


@negative("sbom_sha256")
def _(g: Gen) -> Spec:
    comps = [
        {
            "type": "library",
            "name": n,
            "version": "1.0.19",
            "hashes": [{"alg": "SHA-256", "content": g.hex(64)}],
            "purl": f"pkg:pypi/{n}@1.0.19",
        }
        for n in ["python-binance", "aiohttp", "dateparser"]
    ]
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": comps}
    return Spec("sbom.cdx.json", json.dumps(doc, indent=2) + "\n")


@negative("git_shas")
def _(g: Gen) -> Spec:
    text = (
        "# Changelog\n\n## 2.3.0\n"
        + "".join(
            f"- {msg} ([{h[:7]}](https://github.com/acme/binance-bot/commit/{h}))\n"
            for msg, h in [("fix reconnect", g.hex(40)), ("bump connector", g.hex(40))]
        )
        + "\n## Repository moved to sha256 object format\n"
        + "".join(f"- {g.hex(64)} merge branch 'dev'\n" for _ in range(2))
    )
    return Spec("CHANGELOG.md", text)


@negative("git_blame_ignore_revs")
def _(g: Gen) -> Spec:
    text = "# black reformat\n" + g.hex(40) + "\n# isort\n" + g.hex(40) + "\n"
    return Spec(".git-blame-ignore-revs", text)


@negative("uuids")
def _(g: Gen) -> Spec:
    rows = [{"id": g.uuid(), "clientOrderId": g.uuid(), "traceId": g.uuid().replace("-", "")} for _ in range(3)]
    return Spec("fixtures/orders.json", json.dumps(rows, indent=2) + "\n")


@negative("mime_base64_attachment")
def _(g: Gen) -> Spec:
    body = b64(g.raw(1500))
    text = (
        "From: reports@example.com\nTo: me@example.com\nSubject: monthly binance statement\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\n--b1\n'
        'Content-Type: application/pdf; name="statement.pdf"\n'
        "Content-Transfer-Encoding: base64\n\n" + "\n".join(wrap(body, 76)) + "\n--b1--\n"
    )
    return Spec("mail/statement.eml", text)


@negative("pgp_armored_64_wrap")
def _(g: Gen) -> Spec:
    # GnuPG armor wraps at 64 characters: ~13% of lines are pure alnum by chance
    body = b64(g.raw(1200))
    text = (
        "-----BEGIN PGP SIGNATURE-----\n\n"
        + "\n".join(wrap(body, 64))
        + f"\n={b64(g.raw(3))}\n-----END PGP SIGNATURE-----\n"
    )
    return Spec("release/binance-bot-1.2.0.tar.gz.asc", text)


@negative("base64_blob_64_wrap_no_header")
def _(g: Gen) -> Spec:
    # `base64 -w 64 model.bin > model.b64`
    body = b64(g.raw(2400))
    return Spec("assets/model.b64", "\n".join(wrap(body, 64)) + "\n")


@negative("base64_single_line_blob")
def _(g: Gen) -> Spec:
    doc = {"name": "icon", "mime": "application/octet-stream", "payload": b64(g.raw(900))}
    return Spec("assets/icon.json", json.dumps(doc) + "\n")


@negative("pem_certificate_chain", crypto=True)
def _(g: Gen) -> Spec:
    text = g.cert_pem(g.shared_rsa(), "api.example.com") + g.cert_pem(g.ed25519(), "ca.example.com")
    return Spec("certs/fullchain.pem", text)


@negative("pem_public_keys_binance_context", crypto=True)
def _(g: Gen) -> Spec:
    # What Binance asks you to paste when registering an Ed25519/RSA API key: the PUBLIC key.
    text = (
        "# Binance API key registration\n\n"
        "Paste this public key in *API Management -> Create API -> Self-generated*:\n\n"
        "```\n" + public_pem(g.ed25519()) + "```\n\n"
        "Old RSA key (revoked):\n\n```\n" + public_pem(g.shared_rsa()) + "```\n"
    )
    return Spec("docs/binance-keys.md", text)


@negative("k8s_tls_secret_no_binance", crypto=True)
def _(g: Gen) -> Spec:
    key = g.shared_rsa()
    crt = g.cert_pem(key, "shop.example.com")
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ingress-tls\n"
        "type: kubernetes.io/tls\ndata:\n"
        f"  tls.crt: {b64(crt)}\n"
        f"  tls.key: {b64(private_pem(key))}\n"
    )
    return Spec("k8s/ingress-tls.yaml", text)


@negative("ssh_public_keys", crypto=True)
def _(g: Gen) -> Spec:
    text = (
        ssh_pub(g.ed25519(), "deploy@binance-bot") + "\n"
        + ssh_pub(g.shared_rsa(), "ci@runner") + "\n"
    )
    return Spec(".ssh/authorized_keys", text)


@negative("ssh_known_hosts_fingerprints")
def _(g: Gen) -> Spec:
    text = (
        f"|1|{g.b64(20)}|{g.b64(20)} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{g.b64(32)[:43]}\n"
        f"# ED25519 key fingerprint is SHA256:{g.b64(32).rstrip('=')}.\n"
        f"# sha256 fingerprint: {':'.join(g.hex(2) for _ in range(32))}\n"
    )
    return Spec("known_hosts", text)


@negative("jwts")
def _(g: Gen) -> Spec:
    def seg(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    h = seg({"alg": "HS256", "typ": "JWT"})
    p = seg({"sub": g.uuid(), "name": "binance-bot", "iat": 1716239022, "scope": "read trade"})
    sig = base64.urlsafe_b64encode(
        hmac.new(g.raw(32), f"{h}.{p}".encode(), hashlib.sha256).digest()
    ).decode().rstrip("=")
    h2 = seg({"alg": "RS256", "typ": "JWT", "kid": g.hex(16)})
    p2 = seg({"iss": "https://auth.example.com", "aud": "api", "exp": 1893456000, "uid": g.hex(24)})
    text = (
        f"Authorization: Bearer {h}.{p}.{sig}\n"
        f"id_token={h2}.{p2}.{g.b64url(256)}\n"
    )
    return Spec("docs/auth-debug.txt", text)


@negative("camelcase_identifiers")
def _(g: Gen) -> Spec:
    words = ["Abstract", "Binance", "Futures", "Order", "Book", "Depth", "Snapshot", "Websocket",
             "Stream", "Handler", "Factory", "Bean", "Proxy", "Singleton", "Listener", "Adapter",
             "Manager", "Provider", "Service", "Impl", "Configuration", "Update", "Event", "Queue"]

    def ident(n: int) -> str:
        while True:
            w = "".join(g.choice(words) for _ in range(10))
            if len(w) >= n:
                return w[:n]

    a, b = ident(64), ident(64)
    text = (
        "package com.example.binance;\n\n"
        f"public class {a} implements {b[:60]}V2 {{\n"
        f"    private final {b} delegate;\n"
        "}\n"
    )
    return Spec("src/main/java/com/example/binance/Generated.java", text)


@negative("placeholders_env_example")
def _(g: Gen) -> Spec:
    text = (
        "# copy to .env and fill in\n"
        "BINANCE_API_KEY=your_api_key_here\n"
        "BINANCE_API_SECRET=your_api_secret_here\n"
        "#BINANCE_API_KEY=" + "x" * 64 + "\n"
        "#BINANCE_API_SECRET=" + "X" * 64 + "\n"
        "BINANCE_TESTNET_KEY=<API_KEY>\n"
        "BINANCE_TESTNET_SECRET=<SECRET_KEY>\n"
        "BINANCE_KEY_FROM_VAULT=${BINANCE_API_KEY}\n"
        "BINANCE_SECRET_PLACEHOLDER=YOUR_BINANCE_SECRET_KEY_GOES_HERE_0123456789_ABCDEFGHIJKLMNOPQRS\n"
    )
    return Spec(".env.example", text)


@negative("placeholders_code")
def _(g: Gen) -> Spec:
    text = (
        "import os\n"
        "from binance.client import Client\n\n"
        'client = Client(os.getenv("BINANCE_API_KEY"), os.getenv("BINANCE_API_SECRET"))\n'
        'spot = Spot(api_key=os.environ["BINANCE_API_KEY"], api_secret=os.environ["BINANCE_API_SECRET"])\n'
        "ex = ccxt.binance({'apiKey': '<YOUR_API_KEY>', 'secret': '<YOUR_SECRET>'})\n"
        "um = UMFutures(key='" + "*" * 64 + "', secret='" + "0" * 64 + "')\n"
        "# api_key = '" + "YourApiKey" * 6 + "1234'\n"
    )
    return Spec("examples/quickstart.py", text)


@negative("github_actions_secrets_refs")
def _(g: Gen) -> Spec:
    text = (
        "jobs:\n  trade:\n    runs-on: ubuntu-latest\n    env:\n"
        "      BINANCE_API_KEY: ${{ secrets.BINANCE_API_KEY }}\n"
        "      BINANCE_API_SECRET: ${{ secrets.BINANCE_API_SECRET }}\n"
        "    steps:\n"
        f"      - uses: actions/checkout@{g.hex(40)} # v4\n"
        f"      - uses: actions/setup-python@{g.hex(40)} # v5\n"
    )
    return Spec(".github/workflows/trade.yml", text)


@negative("binance_doc_example_keys")
def _(g: Gen) -> Spec:
    sig = hmac.new(DOC_SECRET_KEY.encode(), DOC_QUERY.encode(), hashlib.sha256).hexdigest()
    text = (
        "## SIGNED Endpoint Examples for POST /api/v3/order\n\n"
        "| Key | Value |\n|---|---|\n"
        f"| apiKey | {DOC_API_KEY} |\n"
        f"| secretKey | {DOC_SECRET_KEY} |\n\n"
        "```shell\n"
        f'$ echo -n "{DOC_QUERY}" | openssl dgst -sha256 -hmac "{DOC_SECRET_KEY}"\n'
        f"(stdin)= {sig}\n\n"
        f'$ curl -H "X-MBX-APIKEY: {DOC_API_KEY}" -X POST '
        f"'https://api.binance.com/api/v3/order' -d '{DOC_QUERY}&signature={sig}'\n"
        "```\n\n"
        "```python\n"
        f"client = Client('{DOC_API_KEY}', '{DOC_SECRET_KEY}')\n"
        "```\n"
    )
    return Spec("docs/signed-endpoints.md", text)


@negative("hmac_signature_request_log")
def _(g: Gen) -> Spec:
    lines = []
    for _ in range(4):
        q = f"symbol=ETHUSDT&timestamp={g.ts()}&recvWindow=5000"
        lines.append(
            f'{g.date()} DEBUG https://api.binance.com:443 "GET /api/v3/openOrders?{q}'
            f'&signature={g.hex(64)} HTTP/1.1" 200 2'
        )
    lines.append(f"{g.date()} DEBUG signature={g.hex(64)} payload={q}")
    return Spec("logs/requests.log", "\n".join(lines) + "\n")


@negative("aws_sigv4_log")
def _(g: Gen) -> Spec:
    akid = "AKIA" + g.chars(string.ascii_uppercase + "234567", 16)
    text = (
        "PUT /binance-trades/2024/03/01.parquet HTTP/1.1\n"
        "Host: bucket.s3.eu-central-1.amazonaws.com\n"
        f"x-amz-content-sha256: {g.hex(64)}\n"
        f"Authorization: AWS4-HMAC-SHA256 Credential={akid}/20240301/eu-central-1/s3/aws4_request, "
        f"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={g.hex(64)}\n"
        f'ETag: "{g.hex(32)}"\n'
    )
    return Spec("debug/s3-upload.txt", text)


@negative("crypto_addresses_and_txids")
def _(g: Gen) -> Spec:
    eth = "0x" + g.hex(40)
    text = (
        f"ETH deposit address: {eth}\n"
        f"ETH tx: https://etherscan.io/tx/0x{g.hex(64)}\n"
        f"BTC (bech32): bc1q{g.chars(BECH32, 38)}\n"
        f"BTC (legacy): 1{g.chars(B58, 33)}\n"
        f"BTC txid: {g.hex(64)}\n"
        f"xpub: xpub{g.chars(B58, 107)}\n"
        f"SOL: {g.chars(B58, 44)}\n"
        f"SOL tx: https://solscan.io/tx/{g.chars(B58, 88)}\n"
        f"XMR: 4{g.chars(B58, 94)}\n"
        f"solana keypair: {json.dumps(list(g.raw(64)))}\n"
    )
    return Spec("wallets.md", text)


@negative("binance_deposit_history_csv")
def _(g: Gen) -> Spec:
    rows = ["Date(UTC),Coin,Network,Amount,TransactionFee,Address,TXID,SourceAddress,PaymentID,Status"]
    for _ in range(5):
        net = g.choice(["BTC", "ETH", "BSC", "TRX"])
        if net == "BTC":
            addr, txid = "bc1q" + g.chars(BECH32, 38), g.hex(64)
        elif net == "TRX":
            addr, txid = "T" + g.chars(B58, 33), g.hex(64)
        else:
            addr, txid = "0x" + g.hex(40), "0x" + g.hex(64)
        rows.append(f"{g.date()},USDT,{net},{g.rng.randrange(1, 5000)}.0,0,{addr},{txid},,,Completed")
    return Spec("exports/binance_deposit_history.csv", "\n".join(rows) + "\n")


@negative("ipfs_cids")
def _(g: Gen) -> Spec:
    text = (
        f"ipfs://Qm{g.chars(B58, 44)}\n"
        f"https://{'bafy' + g.chars(B32L, 55)}.ipfs.dweb.link/metadata.json\n"
        f"ipfs://bafkrei{g.chars(B32L, 53)}\n"
    )
    return Spec("nft/metadata-links.txt", text)


@negative("other_service_tokens")
def _(g: Gen) -> Spec:
    text = (
        f"GITHUB_TOKEN=ghp_{g.alnum(36)}\n"
        f"GH_PAT=github_pat_{g.alnum(22)}_{g.alnum(59)}\n"
        f"STRIPE_SECRET_KEY=sk_live_{g.alnum(99)}\n"
        f"STRIPE_PUBLISHABLE_KEY=pk_live_{g.alnum(99)}\n"
        f"AWS_ACCESS_KEY_ID=AKIA{g.chars(string.ascii_uppercase + '234567', 16)}\n"
        f"AWS_SECRET_ACCESS_KEY={g.chars(ALNUM + '+/', 40)}\n"
        f"SLACK_BOT_TOKEN=xoxb-{g.rng.randrange(10**11, 10**12)}-{g.rng.randrange(10**12, 10**13)}-{g.alnum(24)}\n"
        f"OPENAI_API_KEY=sk-proj-{g.b64url(120)}\n"
        f"SENDGRID_API_KEY=SG.{g.b64url(16)}.{g.b64url(32)}\n"
        f"TELEGRAM_BOT_TOKEN={g.rng.randrange(10**9, 10**10)}:AA{g.chars(ALNUM + '_-', 33)}\n"
    )
    return Spec(".env.services", text)


@negative("other_exchange_secrets")
def _(g: Gen) -> Spec:
    # real formats of other exchanges' credentials
    text = (
        f"KUCOIN_API_KEY={g.hex(24)}\n"
        f"KUCOIN_API_SECRET={g.uuid()}\n"
        "KUCOIN_API_PASSPHRASE=trading-bot-2024\n"
        f"GATE_API_KEY={g.hex(32)}\n"
        f"GATE_API_SECRET={g.hex(64)}\n"
        f"KRAKEN_API_KEY={g.b64(42)}\n"
        f"KRAKEN_PRIVATE_KEY={g.b64(64)}\n"
        f"OKX_API_KEY={g.uuid()}\n"
        f"OKX_SECRET_KEY={g.hex(32).upper()}\n"
        f"BYBIT_API_KEY={g.alnum(18)}\n"
        f"BYBIT_API_SECRET={g.alnum(36)}\n"
    )
    return Spec(".env.exchanges", text)


@negative("django_secret_key")
def _(g: Gen) -> Spec:
    sym = string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)"
    while True:
        sk = g.chars(sym, 50)
        if any(c in "!@#$%^&*(-_=+)" for c in sk):
            break
    text = (
        "# SECURITY WARNING: keep the secret key used in production secret!\n"
        f"SECRET_KEY = 'django-insecure-{sk}'\n"
        f'SECRET_KEY_FALLBACKS = ["{g.chars(sym, 50)}"]\n'
        f"SECRET_KEY_BASE = '{g.hex(128)}'  # rails style\n"
    )
    return Spec("mysite/settings.py", text)


@negative("urlsafe_tokens_64")
def _(g: Gen) -> Spec:
    def tok() -> str:
        while True:
            t = g.b64url(48)  # secrets.token_urlsafe(48): 64 chars
            if "_" in t or "-" in t:
                return t

    text = (
        f"SESSION_SECRET={tok()}\n"
        f"CSRF_TOKEN={tok()}\n"
        f"reset_link=https://app.example.com/reset?token={tok()}\n"
    )
    return Spec(".env.web", text)


@negative("alnum_63_and_65")
def _(g: Gen) -> Spec:
    text = (
        f"request_id: {g.alnum(63)}\n"
        f"trace: {g.alnum(65)}\n"
        f"cursor={g.alnum(63)}&limit=100\n"
        f"session {g.alnum(65)}\n"
    )
    return Spec("debug/ids.txt", text)


@negative("data_uri_css_html")
def _(g: Gen) -> Spec:
    img = b64(png(g))
    text = (
        "<!doctype html>\n<html><head><style>\n"
        f".logo {{ background-image: url(data:image/png;base64,{img}); }}\n"
        "</style></head>\n<body>\n"
        f'<img alt="binance chart" src="data:image/png;base64,{b64(png(g, 20, 8))}">\n'
        "</body></html>\n"
    )
    return Spec("report/index.html", text)


@negative("notebook_png_output")
def _(g: Gen) -> Spec:
    img = b64(png(g, 16, 16))
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 7,
                "metadata": {},
                "outputs": [
                    {
                        "data": {"image/png": img, "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                        "metadata": {},
                        "output_type": "display_data",
                    }
                ],
                "source": ["df['close'].plot(title='BTCUSDT on Binance')"],
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return Spec("notebooks/chart.ipynb", json.dumps(nb, indent=1) + "\n")


@negative("minified_js")
def _(g: Gen) -> Spec:
    ids = [g.choice(string.ascii_letters) + g.alnum(g.rng.randrange(0, 3)) for _ in range(400)]
    code = ";".join(
        f"var {a}={b}({c},{g.rng.randrange(999)})" if i % 3 else f"function {a}({b}){{return {b}.{c}}}"
        for i, (a, b, c) in enumerate(zip(ids[::3], ids[1::3], ids[2::3]))
    )
    smap = b64(json.dumps({"version": 3, "sources": ["a.js"], "mappings": g.b64(600)}))
    text = f"!function(){{{code}}}();\n//# sourceMappingURL=data:application/json;base64,{smap}\n"
    return Spec("dist/app.min.js", text)


@negative("sequential_repeated")
def _(g: Gen) -> Spec:
    text = (
        "API_KEY=" + ("0123456789" * 7)[:64] + "\n"
        "API_SECRET=" + (string.ascii_letters + string.digits + "ab") + "\n"
        "TEST_KEY=" + "A" * 64 + "\n"
        "TEST_SECRET=" + ("abcd1234" * 8) + "\n"
        "DUMMY=" + ("AbCdEfGh" * 8) + "\n"
    )
    return Spec("tests/fixtures/.env.test", text)


@negative("listen_keys")
def _(g: Gen) -> Spec:
    lk = [g.chars(string.ascii_lowercase + string.digits, 60) for _ in range(2)]
    text = (
        f'{g.date()} INFO user stream started {{"listenKey": "{lk[0]}"}}\n'
        f"{g.date()} DEBUG connecting wss://stream.binance.com:9443/ws/{lk[0]}\n"
        f"{g.date()} INFO keepalive PUT /api/v3/userDataStream?listenKey={lk[1]}\n"
    )
    return Spec("logs/userstream.log", text)


@negative("sri_integrity")
def _(g: Gen) -> Spec:
    text = (
        f'<script src="https://cdn.jsdelivr.net/npm/chart.js@4.4.1" integrity="sha384-{g.b64(48)}" '
        'crossorigin="anonymous"></script>\n'
        f'<link rel="stylesheet" href="/css/app.css" integrity="sha256-{g.b64(32)}">\n'
        f'<script src="/js/binance-widget.js" integrity="sha512-{g.b64(64)}"></script>\n'
    )
    return Spec("templates/base.html", text)


@negative("docker_inspect_ids")
def _(g: Gen) -> Spec:
    doc = [
        {
            "Id": "sha256:" + g.hex(64),
            "RepoTags": ["binance-bot:latest"],
            "RepoDigests": ["acme/binance-bot@sha256:" + g.hex(64)],
            "Parent": "",
            "Container": g.hex(64),
            "RootFS": {"Type": "layers", "Layers": ["sha256:" + g.hex(64) for _ in range(3)]},
        }
    ]
    return Spec("debug/docker-inspect.json", json.dumps(doc, indent=4) + "\n")


@negative("onion_and_nostr")
def _(g: Gen) -> Spec:
    text = (
        f"tor: http://{g.chars(B32L, 56)}.onion/\n"
        f"nostr: npub1{g.chars(BECH32, 58)}\n"
        f"relay pubkey (hex): {g.hex(64)}\n"
    )
    return Spec("contact.txt", text)


@negative("password_hashes")
def _(g: Gen) -> Spec:
    bc = "./" + ALNUM
    text = (
        f"admin:$2b$12${g.chars(bc, 53)}\n"
        f"bot:$argon2id$v=19$m=65536,t=3,p=4${g.b64(16).rstrip('=')}${g.b64(32).rstrip('=')}\n"
        f"ops:pbkdf2_sha256$600000${g.alnum(22)}${g.b64(32)}\n"
        f"root:$6$rounds=5000${g.chars(bc, 16)}${g.chars(bc, 86)}\n"
    )
    return Spec("deploy/htpasswd", text)


@negative("xml_dsig")
def _(g: Gen) -> Spec:
    sigval = "\n".join(wrap(g.b64(256), 76))
    text = (
        '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">\n'
        "  <ds:SignedInfo><ds:Reference URI=\"#_1\">\n"
        f"    <ds:DigestValue>{g.b64(32)}</ds:DigestValue>\n"
        "  </ds:Reference></ds:SignedInfo>\n"
        f"  <ds:SignatureValue>\n{sigval}\n  </ds:SignatureValue>\n"
        "</ds:Signature>\n"
    )
    return Spec("saml/response.xml", text)


@negative("k8s_secret_non_key_b64")
def _(g: Gen) -> Spec:
    text = _k8s_secret(
        "binance-bot-db",
        [
            f"DATABASE_URL: {b64('postgresql://bot:' + g.alnum(20) + '@db:5432/trades')}",
            f"REDIS_PASSWORD: {b64(g.alnum(32))}",
            f"BINANCE_API_KEY: {b64('changeme')}",
        ],
    )
    return Spec("deploy/db-secret.yaml", text)


# --------------------------------------------------------------------------------------------
# assembly


def _line_of(text: str, needle: str) -> int:
    idx = text.find(needle)
    if idx < 0:
        raise AssertionError(f"needle not found in generated file ({needle[:6]}…)")
    if text.find(needle, idx + 1) != -1 and not needle.startswith("-----BEGIN"):
        raise AssertionError("needle occurs more than once")
    return text.count("\n", 0, idx) + 1


def build_corpus(seed: int, *, crypto: bool | None = None) -> list[CorpusFile]:
    """Every context once, with fresh secrets drawn from ``seed``."""
    use_crypto = CRYPTO if crypto is None else (crypto and CRYPTO)
    g = Gen(random.Random(seed))
    files: list[CorpusFile] = []
    contexts = [(n, f, True) for n, f in POSITIVE.items()] + [
        (n, f, False) for n, f in NEGATIVE.items()
    ]
    for i, (name, fn, is_pos) in enumerate(contexts):
        if name in NEEDS_CRYPTO and not use_crypto:
            continue
        spec = fn(g)
        path = f"case{i:03d}/{spec.path}"
        text = spec.text if isinstance(spec.text, str) else spec.text.decode("utf-8")
        truths, needles = [], []
        for needle, kind in spec.marks:
            truths.append(Truth(path, _line_of(text, needle), kind))
            needles.append(needle)
        files.append(
            CorpusFile(
                context=name,
                path=path,
                data=text.encode("utf-8"),
                positive=is_pos,
                truths=truths,
                ambiguous_kind=spec.ambiguous_kind,
                needles=needles,
            )
        )
    return files


def write_corpus(files: list[CorpusFile], root) -> None:  # type: ignore[no-untyped-def]
    """Write a built corpus under ``root`` (a pathlib.Path), e.g. a pytest tmp_path."""
    for f in files:
        p = root / f.path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f.data)
