"""A HOLDOUT corpus for keytrap: contexts the engine was never tuned on.

``tests/corpus.py`` was used to tune the engine, so it no longer measures it honestly. This
module was written against it only to *avoid* its templates: every context below is a file
shape that corpus does not contain (Airflow connection exports, Slack exports, systemd units,
Databricks widgets, SOPS files, sealed secrets, ...).

``build_holdout(seed)`` returns ``HoldoutFile`` records: a realistic file plus its ground truth,
one ``Truth(path, line, kind)`` per secret a careful human reviewing a Binance key leak would
report. Kinds were decided from the context as such a reviewer would (the field name, the
column header, the sentence around it, the order Binance shows them in).

Secrets are generated fresh from the seed. No key-shaped literal lives in this file except
Binance's public documentation example pair (``DOC_API_KEY``/``DOC_SECRET_KEY``), which only
appears where it must NOT be reported.

Negatives carry a ``hardness`` tag:

* ``shape``   -- a careful scanner can reject the token by its shape alone (hex, length,
  alphabet, padding, encoded binary);
* ``context`` -- the token is 64 characters of [A-Za-z0-9] (or a real private key) exactly like
  a Binance secret, only the words around it say it is something else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string

from seeded import (  # noqa: F401 - the records are part of each holdout's interface
    A, ALNUM, DOC_API_KEY, DOC_SECRET_KEY, HoldoutFile, P, Registry, S, SeededGen, Spec, Truth,
)

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.x509.oid import NameOID

    CRYPTO = True
except ImportError:  # pragma: no cover
    CRYPTO = False

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
NIX32 = "0123456789abcdfghijklmnpqrsvwxyz"

#: Binance's public API documentation example pair. Must never be reported.
# --------------------------------------------------------------------------------------------
# random material


class Gen(SeededGen):
    SALT = (7919, 17)

    def ed25519_key(self):  # type: ignore[no-untyped-def]
        return ed25519.Ed25519PrivateKey.from_private_bytes(self.raw(32))

    def ec_pem(self) -> str:
        d = int.from_bytes(self.raw(32), "big") % (2**255) + 1
        key = ec.derive_private_key(d, ec.SECP256R1())
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()

    def cert_der_b64(self, cn: str) -> str:
        import datetime as dt

        key = self.ed25519_key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(int.from_bytes(self.raw(16), "big") >> 1)
            .not_valid_before(dt.datetime(2024, 1, 1))
            .not_valid_after(dt.datetime(2027, 1, 1))
            .sign(key, None)
        )
        return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


# --------------------------------------------------------------------------------------------
# registry

_REGISTRY = Registry()
POSITIVE = _REGISTRY.positives
NEGATIVE = _REGISTRY.negatives
NEEDS_CRYPTO = _REGISTRY.needs_crypto
positive = _REGISTRY.positive
negative = _REGISTRY.negative


# ============================================================================================
# POSITIVES


@positive("django_settings_module")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    sym = string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)"
    text = (
        '"""Django settings for tradedesk project."""\n'
        "from pathlib import Path\n\n"
        "BASE_DIR = Path(__file__).resolve().parent.parent\n\n"
        "# SECURITY WARNING: keep the secret key used in production secret!\n"
        f"SECRET_KEY = 'django-insecure-{g.chars(sym, 50)}'\n"
        "DEBUG = True\n"
        "ALLOWED_HOSTS = []\n\n"
        "INSTALLED_APPS = [\n"
        "    'django.contrib.admin',\n"
        "    'django.contrib.auth',\n"
        "    'portfolio',\n"
        "]\n\n"
        "# --- exchange ---\n"
        f"BINANCE_API_KEY = '{k}'\n"
        f"BINANCE_SECRET_KEY = '{s}'\n"
        "CELERY_BROKER_URL = 'redis://localhost:6379/0'\n"
    )
    return Spec("tradedesk/settings.py", text, [(k, A), (s, S)])


@positive("fastapi_pydantic_settings")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "from pydantic import SecretStr\n"
        "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\n"
        "class Settings(BaseSettings):\n"
        '    model_config = SettingsConfigDict(env_file=".env", env_prefix="BOT_")\n\n'
        '    app_name: str = "binance-signals"\n'
        f'    binance_api_key: str = "{k}"\n'
        f'    binance_api_secret: SecretStr = SecretStr("{s}")\n'
        '    symbols: list[str] = ["BTCUSDT", "ETHUSDT"]\n\n\n'
        "settings = Settings()\n"
    )
    return Spec("app/core/config.py", text, [(k, A), (s, S)])


@positive("streamlit_secrets_inline_table")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# .streamlit/secrets.toml\n"
        '[connections.postgresql]\n'
        'dialect = "postgresql"\n'
        'host = "localhost"\n'
        'password = "dashboard"\n\n'
        f'binance = {{ api_key = "{k}", api_secret = "{s}" }}\n'
    )
    return Spec(".streamlit/secrets.toml", text, [(k, A), (s, S)])


@positive("airflow_connections_export")
def _(g: Gen) -> Spec:
    # `airflow connections export conns.json`: HTTP connection, key in login, secret in password
    k, s = g.pair()
    doc = {
        "binance_default": {
            "conn_type": "http",
            "description": "Binance spot REST",
            "login": k,
            "password": s,
            "host": "https://api.binance.com",
            "port": None,
            "schema": "",
            "extra": json.dumps({"recvWindow": 5000}),
        },
        "postgres_default": {
            "conn_type": "postgres",
            "description": "",
            "login": "airflow",
            "password": "airflow",
            "host": "postgres",
            "port": 5432,
            "schema": "airflow",
            "extra": "",
        },
    }
    return Spec("dags/conns.json", json.dumps(doc, indent=4) + "\n", [(k, A), (s, S)])


@positive("npmrc_custom_config")
def _(g: Gen) -> Spec:
    # npm exposes these to scripts as $npm_config_binance_api_key
    k, s = g.pair()
    text = (
        "registry=https://registry.npmjs.org/\n"
        "save-exact=true\n"
        f"binance_api_key={k}\n"
        f"binance_api_secret={s}\n"
        "engine-strict=true\n"
    )
    return Spec(".npmrc", text, [(k, A), (s, S)])


@positive("dockerfile_arg_defaults")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# syntax=docker/dockerfile:1.6\n"
        "FROM node:20-bookworm-slim\n"
        f"ARG BINANCE_API_KEY={k}\n"
        f"ARG BINANCE_API_SECRET={s}\n"
        "ENV BINANCE_API_KEY=$BINANCE_API_KEY \\\n"
        "    BINANCE_API_SECRET=$BINANCE_API_SECRET\n"
        "WORKDIR /srv\n"
        "COPY package*.json ./\n"
        "RUN npm ci --omit=dev\n"
        "COPY . .\n"
        'ENTRYPOINT ["node", "src/index.js"]\n'
    )
    return Spec("Dockerfile", text, [(k, A), (s, S)])


@positive("readme_docker_run")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "## Running\n\n"
        "```bash\n"
        "docker run -d --restart=always --name gridbot \\\n"
        f"  -e BINANCE_API_KEY={k} \\\n"
        f"  -e BINANCE_API_SECRET={s} \\\n"
        "  -v $(pwd)/state:/state \\\n"
        "  ghcr.io/acme/gridbot:1.4.0\n"
        "```\n"
    )
    return Spec("README.md", text, [(k, A), (s, S)])


@positive("helm_values_nested")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "replicaCount: 1\n\n"
        "image:\n"
        "  repository: ghcr.io/acme/arb-engine\n"
        '  tag: "2.7.1"\n'
        "  pullPolicy: IfNotPresent\n\n"
        "resources:\n"
        "  limits:\n"
        "    memory: 512Mi\n\n"
        "exchanges:\n"
        "  binance:\n"
        "    enabled: true\n"
        "    credentials:\n"
        f'      apiKey: "{k}"\n'
        f'      apiSecret: "{s}"\n'
        "  kraken:\n"
        "    enabled: false\n"
    )
    return Spec("charts/arb-engine/values.yaml", text, [(k, A), (s, S)])


@positive("ansible_copy_content_block")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "---\n"
        "- name: Configure grid bot\n"
        "  hosts: bots\n"
        "  become: true\n"
        "  tasks:\n"
        "    - name: Write environment file\n"
        "      ansible.builtin.copy:\n"
        "        dest: /etc/gridbot/env\n"
        "        owner: gridbot\n"
        '        mode: "0600"\n'
        "        content: |\n"
        f"          BINANCE_API_KEY={k}\n"
        f"          BINANCE_API_SECRET={s}\n"
        "          GRID_LEVELS=24\n"
        "      notify: restart gridbot\n"
    )
    return Spec("playbooks/gridbot.yml", text, [(k, A), (s, S)])


@positive("terraform_ssm_parameters")
def _(g: Gen) -> Spec:
    # the value line only says `value`; the resource/parameter name says which one it is
    k, s = g.pair()
    blocks = [
        ("binance_api_key", "/trading/binance/api_key", k),
        ("binance_api_secret", "/trading/binance/api_secret", s),
    ]
    if g.rng.random() < 0.5:
        blocks.reverse()
    text = "".join(
        f'resource "aws_ssm_parameter" "{rid}" {{\n'
        f'  name  = "{pname}"\n'
        '  type  = "SecureString"\n'
        f'  value = "{val}"\n'
        "}\n\n"
        for rid, pname, val in blocks
    )
    return Spec("infra/ssm.tf", text, [(k, A), (s, S)])


@positive("postman_collection_apikey_auth")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    doc = {
        "info": {
            "_postman_id": g.uuid(),
            "name": "Binance private endpoints",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "auth": {
            "type": "apikey",
            "apikey": [
                {"key": "value", "value": k, "type": "string"},
                {"key": "key", "value": "X-MBX-APIKEY", "type": "string"},
            ],
        },
        "event": [
            {
                "listen": "prerequest",
                "script": {
                    "type": "text/javascript",
                    "exec": [
                        f"const apiSecret = '{s}';",
                        "const ts = Date.now();",
                        "const qs = `timestamp=${ts}`;",
                        "const sig = CryptoJS.HmacSHA256(qs, apiSecret).toString();",
                        "pm.variables.set('qs', `${qs}&signature=${sig}`);",
                    ],
                },
            }
        ],
        "item": [
            {"name": "Account", "request": {"method": "GET", "url": "https://api.binance.com/api/v3/account?{{qs}}"}}
        ],
    }
    return Spec("postman/private.postman_collection.json", json.dumps(doc, indent="\t") + "\n", [(k, A), (s, S)])


@positive("vscode_launch_env")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "{\n"
        "    // Use IntelliSense to learn about possible attributes.\n"
        '    "version": "0.2.0",\n'
        '    "configurations": [\n'
        "        {\n"
        '            "name": "Python: live bot",\n'
        '            "type": "debugpy",\n'
        '            "request": "launch",\n'
        '            "program": "${workspaceFolder}/bot/main.py",\n'
        '            "console": "integratedTerminal",\n'
        '            "env": {\n'
        f'                "BINANCE_API_KEY": "{k}",\n'
        f'                "BINANCE_API_SECRET": "{s}",\n'
        '                "LOG_LEVEL": "DEBUG"\n'
        "            }\n"
        "        }\n"
        "    ]\n"
        "}\n"
    )
    return Spec(".vscode/launch.json", text, [(k, A), (s, S)])


@positive("pytest_monkeypatch_setenv")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "import pytest\n\n"
        "from bot.exchange import make_client\n\n\n"
        "@pytest.fixture(autouse=True)\n"
        "def live_credentials(monkeypatch):\n"
        "    # TODO move to CI secrets\n"
        f'    monkeypatch.setenv("BINANCE_API_KEY", "{k}")\n'
        f'    monkeypatch.setenv("BINANCE_API_SECRET", "{s}")\n\n\n'
        "def test_balance_positive():\n"
        '    assert make_client().get_asset_balance("USDT")["free"]\n'
    )
    return Spec("tests/conftest.py", text, [(k, A), (s, S)])


@positive("go_struct_literal")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "package config\n\n"
        "type Exchange struct {\n"
        "\tName      string\n"
        "\tAPIKey    string\n"
        "\tSecretKey string\n"
        "\tTestnet   bool\n"
        "}\n\n"
        "var Default = Exchange{\n"
        '\tName:      "binance",\n'
        f'\tAPIKey:    "{k}",\n'
        f'\tSecretKey: "{s}",\n'
        "\tTestnet:   false,\n"
        "}\n"
    )
    return Spec("internal/config/default.go", text, [(k, A), (s, S)])


@positive("rust_const_str")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "//! Binance credentials (do not commit!)\n\n"
        f'pub const BINANCE_API_KEY: &str = "{k}";\n'
        f'pub const BINANCE_SECRET_KEY: &str = "{s}";\n\n'
        "pub fn recv_window() -> u64 {\n"
        "    5_000\n"
        "}\n"
    )
    return Spec("src/secrets.rs", text, [(k, A), (s, S)])


@positive("swift_static_let")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "import Foundation\n\n"
        "enum BinanceCredentials {\n"
        f'    static let apiKey = "{k}"\n'
        f'    static let secretKey = "{s}"\n'
        '    static let baseURL = URL(string: "https://api.binance.com")!\n'
        "}\n"
    )
    return Spec("PortfolioApp/Services/BinanceCredentials.swift", text, [(k, A), (s, S)])


@positive("kotlin_private_val")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "package com.example.portfolio.data\n\n"
        "import okhttp3.OkHttpClient\n\n"
        "class BinanceRepository(private val http: OkHttpClient) {\n"
        f'    private val apiKey = "{k}"\n'
        f'    private val apiSecret = "{s}"\n\n'
        "    fun balances() = get(\"/api/v3/account\")\n"
        "}\n"
    )
    return Spec("app/src/main/java/com/example/portfolio/data/BinanceRepository.kt", text, [(k, A), (s, S)])


@positive("cpp_define")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "#pragma once\n\n"
        "// Binance spot account used by the HFT gateway\n"
        f'#define BINANCE_API_KEY    "{k}"\n'
        f'#define BINANCE_SECRET_KEY "{s}"\n'
        '#define BINANCE_REST_HOST  "api.binance.com"\n'
    )
    return Spec("include/credentials.h", text, [(k, A), (s, S)])


@positive("excel_csv_bom_crlf")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    k2, s2 = g.pair()
    text = (
        "\ufeffAccount,Binance API Key,Secret Key,Permissions\r\n"
        f'main,{k},{s},"Spot, Margin"\r\n'
        f"sub-01,{k2},{s2},Futures\r\n"
    )
    return Spec("exports/api_keys.csv", text, [(k, A), (s, S), (k2, A), (s2, S)])


@positive("slack_export_message")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    ts1 = f"{g.int(1700000000, 1730000000)}.{g.int(100000, 999999)}"
    text = (
        "[\n"
        "    {\n"
        '        "type": "message",\n'
        f'        "user": "U0{g.chars(string.ascii_uppercase + string.digits, 9)}",\n'
        f'        "text": "here are the binance keys: {k} \\/ {s}",\n'
        f'        "ts": "{ts1}"\n'
        "    },\n"
        "    {\n"
        '        "type": "message",\n'
        f'        "user": "U0{g.chars(string.ascii_uppercase + string.digits, 9)}",\n'
        '        "text": "thx, adding them to the bot now :+1:",\n'
        f'        "ts": "{ts1[:-1]}9"\n'
        "    }\n"
        "]\n"
    )
    return Spec("slack-export/trading/2024-03-04.json", text, [(k, A), (s, S)])


@positive("telegram_bot_command_log")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    uid = g.int(10**8, 10**10)
    text = (
        f"2024-03-01 10:00:00 INFO  update from {uid} (@alice): /start\n"
        "2024-03-01 10:00:00 INFO  reply: Welcome! Send /connect <exchange> <api key> <secret>\n"
        f"2024-03-01 10:00:41 INFO  update from {uid} (@alice): /connect binance {k} {s}\n"
        "2024-03-01 10:00:42 INFO  reply: Binance account connected\n"
    )
    return Spec("logs/telegram-bot.log", text, [(k, A), (s, S)])


@positive("readme_prose_inline_code")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# rebalancer\n\n"
        "## Configuration\n\n"
        "Open `config.yml` and set the exchange to `binance`. For the shared demo account set\n"
        f"`api_key` to `{k}` and\n"
        f"`api_secret` to `{s}` (read-only, please do not change the permissions).\n"
    )
    return Spec("README.md", text, [(k, A), (s, S)])


@positive("crontab_inline_env")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# m h  dom mon dow   command\n"
        "MAILTO=\"\"\n"
        f"*/15 * * * * BINANCE_API_KEY={k} BINANCE_API_SECRET={s} /opt/dca/.venv/bin/python /opt/dca/buy.py >> /var/log/dca.log 2>&1\n"
        "0 4 * * * /usr/bin/find /var/log -name 'dca*.log' -mtime +7 -delete\n"
    )
    return Spec("deploy/crontab", text, [(k, A), (s, S)])


@positive("systemd_environment")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    if g.rng.random() < 0.5:
        env = f'Environment="BINANCE_API_KEY={k}"\nEnvironment="BINANCE_API_SECRET={s}"\n'
    else:
        env = f"Environment=BINANCE_API_KEY={k} BINANCE_API_SECRET={s}\n"
    text = (
        "[Unit]\n"
        "Description=Funding rate arbitrage bot\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "User=arb\n"
        "WorkingDirectory=/opt/arb\n"
        + env
        + "ExecStart=/opt/arb/venv/bin/python -m arb\n"
        "Restart=on-failure\n\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )
    return Spec("deploy/arb.service", text, [(k, A), (s, S)])


@positive("supervisord_environment")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "[program:scalper]\n"
        "command=/home/trader/venv/bin/python scalper.py\n"
        "directory=/home/trader/scalper\n"
        "autostart=true\n"
        "autorestart=true\n"
        f'environment=BINANCE_API_KEY="{k}",BINANCE_API_SECRET="{s}",PYTHONUNBUFFERED="1"\n'
        "stdout_logfile=/var/log/scalper.out.log\n"
    )
    return Spec("supervisor/scalper.conf", text, [(k, A), (s, S)])


@positive("bashrc_function_prefix_env")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# ~/.bashrc: executed by bash(1) for non-login shells.\n"
        "[ -z \"$PS1\" ] && return\n"
        "HISTCONTROL=ignoreboth\n"
        "alias ll='ls -alF'\n\n"
        "bot() {\n"
        f"  BINANCE_API_KEY='{k}' \\\n"
        f"  BINANCE_API_SECRET='{s}' \\\n"
        '  python3 ~/code/bot/main.py "$@"\n'
        "}\n"
    )
    return Spec("dotfiles/.bashrc", text, [(k, A), (s, S)])


@positive("hummingbot_connector_yml")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "########################################\n"
        "###   Binance connector settings     ###\n"
        "########################################\n\n"
        "connector: binance\n"
        f"binance_api_key: {k}\n"
        f"binance_api_secret: {s}\n"
    )
    return Spec("conf/connectors/binance.yml", text, [(k, A), (s, S)])


@positive("jesse_env_multi_exchange")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "PASSWORD=jesse-dashboard\n"
        "APP_PORT=9000\n\n"
        "# Bybit USDT Perpetual\n"
        f"BYBIT_USDT_PERPETUAL_API_KEY={g.alnum(18)}\n"
        f"BYBIT_USDT_PERPETUAL_API_SECRET={g.alnum(36)}\n\n"
        "# Binance Perpetual Futures\n"
        f"BINANCE_PERPETUAL_FUTURES_API_KEY={k}\n"
        f"BINANCE_PERPETUAL_FUTURES_API_SECRET={s}\n"
    )
    return Spec("jesse-bot/.env", text, [(k, A), (s, S)])


@positive("threecommas_account_payload")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "import hashlib, hmac, requests\n\n"
        f'TC_KEY = "{g.hex(64)}"\n'
        f'TC_SECRET = "{g.hex(256)}"\n'
        'BASE = "https://api.3commas.io/public/api"\n\n'
        "payload = {\n"
        '    "type": "binance",\n'
        '    "name": "Binance spot",\n'
        f'    "api_key": "{k}",\n'
        f'    "secret": "{s}",\n'
        "}\n"
        "path = \"/ver1/accounts/new\"\n"
        "sig = hmac.new(TC_SECRET.encode(), path.encode(), hashlib.sha256).hexdigest()\n"
        'requests.post(BASE + path, json=payload, headers={"APIKEY": TC_KEY, "Signature": sig})\n'
    )
    return Spec("scripts/connect_3commas.py", text, [(k, A), (s, S)])


@positive("ccxt_js_shorthand_split")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "import ccxt from 'ccxt';\n\n"
        f"const apiKey = '{k}';\n"
        "const secret =\n"
        f"  '{s}';\n\n"
        "const exchange = new ccxt.binance({ apiKey, secret, options: { defaultType: 'future' } });\n"
        "console.log(await exchange.fetchPositions());\n"
    )
    return Spec("src/positions.mjs", text, [(k, A), (s, S)])


@positive("websocket_listenkey_aiohttp")
def _(g: Gen) -> Spec:
    k = g.key()
    text = (
        "import asyncio\n\n"
        "import aiohttp\n"
        "import websockets\n\n"
        f'API_KEY = "{k}"\n'
        'REST = "https://api.binance.com"\n\n\n'
        "async def user_stream():\n"
        '    async with aiohttp.ClientSession(headers={"X-MBX-APIKEY": API_KEY}) as http:\n'
        '        async with http.post(f"{REST}/api/v3/userDataStream") as r:\n'
        '            listen_key = (await r.json())["listenKey"]\n'
        '    async with websockets.connect(f"wss://stream.binance.com:9443/ws/{listen_key}") as ws:\n'
        "        async for msg in ws:\n"
        "            print(msg)\n\n\n"
        "asyncio.run(user_stream())\n"
    )
    return Spec("stream/user_data.py", text, [(k, A)])


@positive("databricks_notebook_widgets")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# Databricks notebook source\n"
        "import pandas as pd\n"
        "from binance.client import Client\n\n"
        "# COMMAND ----------\n\n"
        f'dbutils.widgets.text("binance_api_key", "{k}")\n'
        f'dbutils.widgets.text("binance_api_secret", "{s}")\n\n'
        "# COMMAND ----------\n\n"
        'client = Client(dbutils.widgets.get("binance_api_key"), dbutils.widgets.get("binance_api_secret"))\n'
        'orders = pd.DataFrame(client.get_all_orders(symbol="BTCUSDT"))\n'
        "display(orders.tail(20))\n"
    )
    return Spec("notebooks/orders_analysis.py", text, [(k, A), (s, S)])


@positive("okhttp_wire_log_header")
def _(g: Gen) -> Spec:
    k = g.key()
    q = f"timestamp={g.ts()}"
    text = (
        f"05-01 12:00:01.123  4242  4301 D OkHttp  : --> GET https://api.binance.com/api/v3/account?{q}&signature={g.hex(64)}\n"
        f"05-01 12:00:01.123  4242  4301 D OkHttp  : X-MBX-APIKEY: {k}\n"
        "05-01 12:00:01.124  4242  4301 D OkHttp  : --> END GET\n"
        "05-01 12:00:01.380  4242  4301 D OkHttp  : <-- 200 https://api.binance.com/api/v3/account (256ms)\n"
    )
    return Spec("bugreport/logcat.txt", text, [(k, A)])


@positive("git_log_commit_message")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        f"commit {g.hex(40)}\n"
        "Author: Sam Trader <sam@example.com>\n"
        "Date:   Tue Mar 5 10:11:12 2024 +0100\n\n"
        "    WIP: test live orders on the sub-account\n\n"
        f"    binance key {k}\n"
        f"    secret {s}\n"
        "    (will rotate after testing)\n\n"
        f"commit {g.hex(40)}\n"
        "Author: Sam Trader <sam@example.com>\n"
        "Date:   Mon Mar 4 18:01:02 2024 +0100\n\n"
        "    initial grid strategy\n"
    )
    return Spec("notes/gitlog.txt", text, [(k, A), (s, S)])


@positive("yaml_block_scalars")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "exchange:\n"
        "  name: binance\n"
        "  api_key: >-\n"
        f"    {k}\n"
        "  api_secret: |-\n"
        f"    {s}\n"
        "strategy:\n"
        "  name: mean_reversion\n"
    )
    return Spec("config/live.yaml", text, [(k, A), (s, S)])


@positive("json_minified_multi_exchange")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    doc = {
        "accounts": [
            {"id": "kucoin", "apiKey": g.hex(24), "secret": g.uuid(), "password": "trade-pass-01"},
            {"id": "binance", "apiKey": k, "secret": s},
            {"id": "bybit", "apiKey": g.alnum(18), "secret": g.alnum(36)},
        ],
        "quote": "USDT",
    }
    return Spec("arb/accounts.min.json", json.dumps(doc, separators=(",", ":")), [(k, A), (s, S)])


@positive("aws_secretsmanager_output")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    doc = {
        "ARN": f"arn:aws:secretsmanager:eu-west-1:{g.int(10**11, 10**12)}:secret:prod/binance-{g.alnum(6)}",
        "Name": "prod/binance",
        "VersionId": g.uuid(),
        "SecretString": json.dumps({"BINANCE_API_KEY": k, "BINANCE_API_SECRET": s}, separators=(",", ":")),
        "VersionStages": ["AWSCURRENT"],
        "CreatedDate": "2024-02-11T10:22:33.123000+01:00",
    }
    return Spec("debug/get-secret-value.json", json.dumps(doc, indent=4) + "\n", [(k, A), (s, S)])


@positive("spring_application_properties")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "spring.application.name=portfolio-service\n"
        "server.port=8081\n"
        "spring.datasource.url=jdbc:postgresql://localhost:5432/portfolio\n"
        f"binance.api.key={k}\n"
        f"binance.api.secret={s}\n"
        "binance.api.base-url=https://api.binance.com\n"
    )
    return Spec("src/main/resources/application.properties", text, [(k, A), (s, S)])


@positive("powershell_setenvironmentvariable")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# one-time setup on the trading VM\n"
        f'[Environment]::SetEnvironmentVariable("BINANCE_API_KEY", "{k}", "User")\n'
        f'[Environment]::SetEnvironmentVariable("BINANCE_API_SECRET", "{s}", "User")\n'
        "Write-Host \"done, restart the terminal\"\n"
    )
    return Spec("setup.ps1", text, [(k, A), (s, S)])


@positive("ts_env_fallback")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "import { USDMClient } from 'binance';\n\n"
        f"const key = process.env.BINANCE_API_KEY ?? '{k}';\n"
        f"const secret = process.env.BINANCE_API_SECRET || '{s}';\n\n"
        "export const client = new USDMClient({ api_key: key, api_secret: secret });\n"
    )
    return Spec("src/client.ts", text, [(k, A), (s, S)])


@positive("laravel_services_php")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "<?php\n\n"
        "return [\n"
        "    'mailgun' => [\n"
        "        'domain' => env('MAILGUN_DOMAIN'),\n"
        "        'secret' => env('MAILGUN_SECRET'),\n"
        "    ],\n\n"
        "    'binance' => [\n"
        f"        'key' => env('BINANCE_KEY', '{k}'),\n"
        f"        'secret' => env('BINANCE_SECRET', '{s}'),\n"
        "    ],\n"
        "];\n"
    )
    return Spec("config/services.php", text, [(k, A), (s, S)])


@positive("gitlab_ci_variables_api")
def _(g: Gen) -> Spec:
    # GET /projects/:id/variables, one object per line; order is whatever the API returned
    k, s = g.pair()
    rows = [
        {"variable_type": "env_var", "key": "BINANCE_API_KEY", "value": k, "protected": False, "masked": True},
        {"variable_type": "env_var", "key": "BINANCE_API_SECRET", "value": s, "protected": False, "masked": True},
        {"variable_type": "env_var", "key": "DEPLOY_ENV", "value": "prod", "protected": False, "masked": False},
    ]
    g.rng.shuffle(rows)
    text = "[\n" + ",\n".join("  " + json.dumps(r) for r in rows) + "\n]\n"
    return Spec("ci/variables.json", text, [(k, A), (s, S)])


@positive("dotnet_app_config")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<configuration>\n"
        "  <appSettings>\n"
        '    <add key="Exchange" value="Binance" />\n'
        f'    <add key="BinanceApiKey" value="{k}" />\n'
        f'    <add key="BinanceApiSecret" value="{s}" />\n'
        '    <add key="PollSeconds" value="30" />\n'
        "  </appSettings>\n"
        "</configuration>\n"
    )
    return Spec("TradingDesk/App.config", text, [(k, A), (s, S)])


@positive("yaml_flow_sequence_pair")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# accounts: name -> [api key, secret key]\n"
        "accounts:\n"
        f"  binance_main: [{k}, {s}]\n"
        "  binance_sub: null\n"
    )
    return Spec("accounts.yaml", text, [(k, A), (s, S)])


@positive("saved_html_settings_form")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "<!-- saved from url=(0042)http://localhost:8080/settings/exchange -->\n"
        "<html><body>\n"
        '<form method="post" action="/settings/exchange">\n'
        '  <label>Binance API Key</label>\n'
        f'  <input type="text" name="api_key" value="{k}">\n'
        '  <label>Binance Secret Key</label>\n'
        f'  <input type="password" name="api_secret" value="{s}">\n'
        '  <button type="submit">Save</button>\n'
        "</form>\n"
        "</body></html>\n"
    )
    return Spec("docs/screens/settings.html", text, [(k, A), (s, S)])


@negative("openssl_rand_base64_app_secrets", "context")
def _(g: Gen) -> Spec:
    # `openssl rand -base64 48`: 64 characters, pure [A-Za-z0-9] in ~13% of draws
    text = (
        "# Next.js dashboard for the Binance portfolio\n"
        "NEXTAUTH_URL=https://dash.example.com\n"
        f"NEXTAUTH_SECRET={g.b64(48)}\n"
        f"PAYLOAD_SECRET={g.b64(48)}\n"
        "DATABASE_URL=postgresql://dash:dash@db:5432/dash\n"
    )
    return Spec("dashboard/.env.production", text)


@positive("ed25519_pem_file_binance_dir", crypto=True)
def _(g: Gen) -> Spec:
    # what Binance's key generator saves; the folder is the only Binance hint
    pem = g.ed25519_pem()
    return Spec("keys/binance/test-prv-key.pem", pem, [("-----BEGIN PRIVATE KEY-----", P)])


@positive("ed25519_pem_dotenv_escaped", crypto=True)
def _(g: Gen) -> Spec:
    k = g.key()
    pem = g.ed25519_pem().strip().replace("\n", "\\n")
    text = (
        "EXCHANGE=binance\n"
        f"BINANCE_API_KEY={k}\n"
        f'BINANCE_PRIVATE_KEY="{pem}"\n'
        "SYMBOL=BTCUSDT\n"
    )
    return Spec(".env.prod", text, [(k, A), ("-----BEGIN PRIVATE KEY-----", P)])


@positive("rsa_pem_python_docstring")
def _(g: Gen) -> Spec:
    k = g.key()
    pem = g.rsa_like_pem()
    text = (
        "from binance.spot import Spot\n\n"
        f'API_KEY = "{k}"\n'
        'PRIVATE_KEY = """' + pem + '"""\n\n'
        "client = Spot(api_key=API_KEY, private_key=PRIVATE_KEY)\n"
        "print(client.account())\n"
    )
    return Spec("rsa_client.py", text, [(k, A), ("-----BEGIN PRIVATE KEY-----", P)])


# ============================================================================================
# NEGATIVES


@negative("powershell_filehash_upper_hex", "shape")
def _(g: Gen) -> Spec:
    rows = "".join(
        f"SHA256          {g.hex(64).upper()}       C:\\bots\\binance\\{n}\r\n"
        for n in ("gridbot.exe", "gridbot.dll", "config.json")
    )
    text = (
        "PS C:\\bots\\binance> Get-FileHash *\r\n\r\n"
        "Algorithm       Hash                                                                   Path\r\n"
        "---------       ----                                                                   ----\r\n"
        + rows
        + f"\r\nexpected: {g.hex(32).upper()}{g.hex(32)}\r\n"
    )
    return Spec("release/hashes.txt", text)


@negative("solana_base58_in_arb_config", "shape")
def _(g: Gen) -> Spec:
    text = (
        "# CEX/DEX arbitrage: Binance <-> Raydium\n"
        "cex: binance\n"
        "solana:\n"
        f"  wallet: {g.chars(B58, 44)}\n"
        f"  keypair_b58: {g.chars(B58, 88)}\n"
        f"  last_sig: {g.chars(B58, 88)}\n"
        f"  program: {g.chars(B58, 43)}\n"
        "binance:\n"
        "  api_key: ${BINANCE_API_KEY}\n"
        "  api_secret: ${BINANCE_API_SECRET}\n"
    )
    return Spec("arb/config.yaml", text)


@negative("base64_codec_test_vectors", "context")
def _(g: Gen) -> Spec:
    words = ["binance", "order", "book", "price", "fill", "market", "limit", "stop", "grid",
             "spread", "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "Ledger"]
    rows = []
    while len(rows) < 3:
        txt = " ".join(g.choice(words) for _ in range(14))[:48]
        if len(txt) < 48:
            continue
        # natural distribution: some encodings are pure [A-Za-z0-9], most carry + or /
        rows.append((txt, base64.b64encode(txt.encode()).decode()))
    text = (
        "import base64\n\nimport pytest\n\n"
        "VECTORS = [\n"
        + "".join(f'    ("{t}",\n     "{e}"),\n' for t, e in rows)
        + "]\n\n\n"
        '@pytest.mark.parametrize("plain,encoded", VECTORS)\n'
        "def test_roundtrip(plain, encoded):\n"
        "    assert base64.b64encode(plain.encode()).decode() == encoded\n"
    )
    return Spec("tests/test_b64.py", text)


@negative("totp_base32_binance_2fa", "shape")
def _(g: Gen) -> Spec:
    text = (
        "Binance 2FA backup (Google Authenticator)\n"
        f"otpauth://totp/Binance.com:me%40example.com?secret={g.chars(B32, 32)}&issuer=Binance.com\n"
        f"long seed (hardware token): {g.chars(B32, 64)}\n"
        f"recovery: {' '.join(g.chars(B32, 4) for _ in range(8))}\n"
    )
    return Spec("personal/2fa-backup.txt", text)


@negative("go_work_sum", "shape")
def _(g: Gen) -> Spec:
    mods = ["github.com/adshao/go-binance/v2 v2.4.5", "github.com/gorilla/websocket v1.5.1",
            "github.com/bitly/go-simplejson v0.5.1", "golang.org/x/net v0.21.0"]
    out = []
    for m in mods:
        out.append(f"{m} h1:{g.b64(32)}")
        out.append(f"{m}/go.mod h1:{g.b64(32)}")
    return Spec("go.work.sum", "\n".join(out) + "\n")


@negative("nix_hashes", "shape")
def _(g: Gen) -> Spec:
    text = (
        "{ lib, buildGoModule, fetchFromGitHub }:\n\n"
        "buildGoModule rec {\n"
        '  pname = "binance-exporter";\n'
        '  version = "0.3.1";\n'
        "  src = fetchFromGitHub {\n"
        '    owner = "acme";\n'
        '    repo = pname;\n'
        f'    rev = "{g.hex(40)}";\n'
        f'    sha256 = "{g.chars(NIX32, 52)}";\n'
        "  };\n"
        f'  vendorHash = "sha256-{g.b64(32)}";\n'
        f"  # /nix/store/{g.chars(NIX32, 32)}-binance-exporter-0.3.1\n"
        "}\n"
    )
    return Spec("nix/binance-exporter.nix", text)


@negative("oci_image_index", "shape")
def _(g: Gen) -> Spec:
    doc = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": f"sha256:{g.hex(64)}",
                "size": g.int(400, 2000),
                "platform": {"architecture": arch, "os": "linux"},
            }
            for arch in ("amd64", "arm64")
        ],
        "annotations": {"org.opencontainers.image.revision": g.hex(40),
                        "org.opencontainers.image.title": "binance-gridbot"},
    }
    return Spec("oci/index.json", json.dumps(doc, indent=2) + "\n")


@negative("helm_chart_lock_and_index", "shape")
def _(g: Gen) -> Spec:
    text = (
        "dependencies:\n"
        "- name: redis\n"
        "  repository: oci://registry-1.docker.io/bitnamicharts\n"
        "  version: 18.19.2\n"
        f"digest: sha256:{g.hex(64)}\n"
        "generated: \"2024-03-14T09:12:44.123456+01:00\"\n"
        "---\n"
        "apiVersion: v1\n"
        "entries:\n"
        "  binance-bot:\n"
        "  - created: \"2024-03-14T09:13:00Z\"\n"
        f"    digest: {g.hex(64)}\n"
        "    urls:\n"
        "    - https://charts.example.com/binance-bot-0.4.2.tgz\n"
    )
    return Spec("charts/Chart.lock", text)


@negative("android_keystore_b64_ci", "shape")
def _(g: Gen) -> Spec:
    text = (
        "# release signing for the Binance portfolio widget app\n"
        f"ANDROID_KEYSTORE_BASE64={g.b64(2200)}\n"
        "ANDROID_KEY_ALIAS=upload\n"
        f"ANDROID_KEYSTORE_PASSWORD={g.alnum(16)}\n"
    )
    return Spec("android/signing.env", text)


@negative("jwks_json", "shape")
def _(g: Gen) -> Spec:
    keys = [
        {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": g.b64url(32),
         "n": g.b64url(256), "e": "AQAB", "x5t#S256": g.b64url(32)},
        {"kty": "OKP", "crv": "Ed25519", "use": "sig", "kid": g.b64url(32), "x": g.b64url(32)},
        {"kty": "EC", "crv": "P-256", "kid": g.hex(16), "x": g.b64url(32), "y": g.b64url(32)},
    ]
    return Spec("public/.well-known/jwks.json", json.dumps({"keys": keys}, indent=2) + "\n")


@negative("saml_metadata_x509", "shape", crypto=True)
def _(g: Gen) -> Spec:
    cert = g.cert_der_b64("idp.example.com")
    text = (
        '<?xml version="1.0"?>\n'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com">\n'
        '  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n'
        '    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        f"<ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n"
        "  </md:IDPSSODescriptor>\n"
        "</md:EntityDescriptor>\n"
    )
    return Spec("sso/idp-metadata.xml", text)


@negative("webpack_bundle_hashes", "shape")
def _(g: Gen) -> Spec:
    chunks = {str(g.int(100, 999)): g.hex(20) for _ in range(4)}
    text = (
        f'(self.webpackChunkbinance_dashboard=self.webpackChunkbinance_dashboard||[]).push([[{g.int(100, 999)}],{{'
        f'{g.int(1000, 9999)}:function(e,t,n){{"use strict";n.d(t,{{Z:function(){{return r}}}});'
        f'var r={{persistedQuery:{{version:1,sha256Hash:"{g.hex(64)}"}},'
        f'operationName:"AccountSnapshot",chunk:"{g.hex(8)}"}}}}}}]);\n'
        f"__webpack_require__.u=function(e){{return\"static/js/\"+e+\".\"+{json.dumps(chunks)}[e]+\".chunk.js\"}};\n"
        f'//# debugId={g.uuid()}\n'
    )
    return Spec("build/static/js/main.chunk.js", text)


@negative("css_modules_hashed_classes", "shape")
def _(g: Gen) -> Spec:
    def cls(name: str) -> str:
        return f"{name}_{g.chars(ALNUM + '-_', 5)}__{g.b64url(6)}"

    text = "".join(
        f".{cls(n)}{{display:flex;color:#{g.hex(6)}}}"
        for n in ("OrderBook", "DepthChart", "TickerRow", "BinanceLogo")
    )
    text += f"\n@font-face{{font-family:Inter;src:url(data:font/woff2;base64,{g.b64(900)}) format('woff2')}}\n"
    return Spec("dist/assets/index-" + g.hex(8) + ".css", text)


@negative("git_lfs_pointer", "shape")
def _(g: Gen) -> Spec:
    text = (
        "version https://git-lfs.github.com/spec/v1\n"
        f"oid sha256:{g.hex(64)}\n"
        f"size {g.int(10**6, 10**8)}\n"
    )
    return Spec("models/binance_btcusdt_lstm.h5", text)


@negative("aws_presigned_url", "shape")
def _(g: Gen) -> Spec:
    akid = "ASIA" + g.chars(string.ascii_uppercase + "234567", 16)
    tok = g.b64(300).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    text = (
        "Download your Binance trade history export (link valid 7 days):\n"
        "https://binance-exports.s3.ap-northeast-1.amazonaws.com/trades/2024-03.csv"
        f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={akid}%2F20240301%2Fap-northeast-1%2Fs3%2Faws4_request"
        f"&X-Amz-Date=20240301T101112Z&X-Amz-Expires=604800&X-Amz-Security-Token={tok}"
        f"&X-Amz-SignedHeaders=host&X-Amz-Signature={g.hex(64)}\n"
    )
    return Spec("mail/export-ready.txt", text)


@negative("stripe_webhook_signature", "shape")
def _(g: Gen) -> Spec:
    t = g.int(1700000000, 1730000000)
    text = (
        "POST /webhooks/stripe HTTP/1.1\n"
        "Host: billing.example.com\n"
        "Content-Type: application/json; charset=utf-8\n"
        f"Stripe-Signature: t={t},v1={g.hex(64)},v0={g.hex(64)}\n\n"
        f'{{"id": "evt_{g.alnum(24)}", "type": "invoice.paid"}}\n'
        f"# STRIPE_WEBHOOK_SECRET=whsec_{g.alnum(32)}\n"
    )
    return Spec("docs/webhook-sample.http", text)


@negative("password_manager_export", "shape")
def _(g: Gen) -> Spec:
    sym = "!@#$%^&*()-_=+[]{};:,.<>?~"

    def pw(n: int) -> str:
        while True:
            p = g.chars(ALNUM + sym, n)
            # a generator with symbols on: no long symbol-free stretch
            if max(len(x) for x in "".join(c if c.isalnum() else " " for c in p).split()) < 20:
                return p

    rows = [
        "folder,favorite,type,name,notes,fields,login_uri,login_username,login_password,login_totp",
        f'Crypto,1,login,Binance,,,https://accounts.binance.com,me@example.com,"{pw(64)}",',
        f'Crypto,0,login,Binance sub-account,,,https://accounts.binance.com,sub1@example.com,"{pw(64)}",',
        f'Work,0,login,GitLab,,,https://gitlab.example.com,me,"{pw(40)}",',
    ]
    return Spec("backup/bitwarden_export.csv", "\n".join(rows) + "\n")


@negative("other_exchanges_real_formats", "shape", crypto=True)
def _(g: Gen) -> Spec:
    ec_pem = g.ec_pem().strip().replace("\n", "\\n")
    org, kid = g.uuid(), g.uuid()
    text = (
        "# exchange credentials for the aggregator (Binance ones live in Vault: see binance.env.tpl)\n"
        f"BITFINEX_API_KEY={g.alnum(43)}\n"
        f"BITFINEX_API_SECRET={g.alnum(43)}\n"
        f"BITGET_API_KEY=bg_{g.hex(32)}\n"
        f"BITGET_SECRET_KEY={g.hex(64)}\n"
        f"BITGET_PASSPHRASE={g.alnum(12)}\n"
        f"MEXC_API_KEY=mx0vgl{g.alnum(12)}\n"
        f"MEXC_SECRET_KEY={g.hex(32)}\n"
        f"HUOBI_ACCESS_KEY={g.hex(8)}-{g.hex(8)}-{g.hex(8)}-{g.hex(5)}\n"
        f"HUOBI_SECRET_KEY={g.hex(8)}-{g.hex(8)}-{g.hex(8)}-{g.hex(5)}\n"
        f"CRYPTOCOM_API_KEY={g.alnum(22)}\n"
        f"CRYPTOCOM_SECRET_KEY={g.alnum(22)}\n"
        f"BITSTAMP_API_KEY={g.chars(string.ascii_uppercase + string.digits, 32)}\n"
        f"BITMEX_API_ID={g.alnum(24)}\n"
        f"BITMEX_API_SECRET={g.chars(ALNUM + '_-', 48)}\n"
        f"COINBASE_API_KEY_NAME=organizations/{org}/apiKeys/{kid}\n"
        f'COINBASE_API_PRIVATE_KEY="{ec_pem}"\n'
    )
    return Spec(".env.aggregator", text)


@negative("binance_api_response_fixtures", "shape")
def _(g: Gen) -> Spec:
    lk = g.chars(ALNUM, 60)
    order = {
        "symbol": "BTCUSDT", "orderId": g.int(10**10, 10**11), "orderListId": -1,
        "clientOrderId": "x-" + g.chars(string.ascii_uppercase + string.digits, 8) + g.hex(22),
        "transactTime": g.ts(), "price": "0.00000000", "origQty": "0.00100000",
        "status": "FILLED", "type": "MARKET", "side": "BUY",
    }
    withdraw = {"id": g.hex(32), "amount": "10.5", "coin": "USDT", "network": "BSC",
                "txId": "0x" + g.hex(64), "applyTime": "2024-03-01 10:00:00", "status": 6}
    doc = {"userDataStream": {"listenKey": lk}, "newOrder": order, "withdrawHistory": [withdraw]}
    return Spec("tests/fixtures/binance_responses.json", json.dumps(doc, indent=2) + "\n")


@negative("bscscan_token_transfers_csv", "shape")
def _(g: Gen) -> Spec:
    rows = ['"Txhash","Blockno","UnixTimestamp","DateTime (UTC)","From","To","TokenValue","USDValueDayOfTx","ContractAddress","TokenName","TokenSymbol"']
    for _ in range(4):
        rows.append(
            f'"0x{g.hex(64)}","{g.int(3 * 10**7, 4 * 10**7)}","{g.int(1700000000, 1730000000)}",'
            f'"2024-03-01 10:00:00","0x{g.hex(40)}","0x{g.hex(40)}","{g.int(1, 9999)}","$0.00",'
            f'"0x55d398326f99059ff775485246999027b3197955","Binance-Peg BSC-USD","BSC-USD"'
        )
    return Spec("exports/bscscan-tokentxns.csv", "\n".join(rows) + "\n")


@negative("ed25519_jwt_signing_key_auth_service", "context", crypto=True)
def _(g: Gen) -> Spec:
    pem = g.ed25519_pem().strip().replace("\n", "\\n")
    text = (
        "# auth-service: EdDSA-signed access tokens\n"
        "JWT_ALGORITHM=EdDSA\n"
        "JWT_ISSUER=https://auth.example.com\n"
        "JWT_TTL_SECONDS=900\n"
        f'JWT_PRIVATE_KEY="{pem}"\n'
    )
    return Spec("services/auth/.env", text)


@negative("k8s_sealed_secret", "shape")
def _(g: Gen) -> Spec:
    text = (
        "apiVersion: bitnami.com/v1alpha1\n"
        "kind: SealedSecret\n"
        "metadata:\n"
        "  name: binance-credentials\n"
        "  namespace: trading\n"
        "spec:\n"
        "  encryptedData:\n"
        f"    BINANCE_API_KEY: {g.b64(560)}\n"
        f"    BINANCE_API_SECRET: {g.b64(560)}\n"
    )
    return Spec("deploy/sealed-binance.yaml", text)


@negative("sops_encrypted_yaml", "shape")
def _(g: Gen) -> Spec:
    def enc(n: int) -> str:
        return f"ENC[AES256_GCM,data:{g.b64(n)},iv:{g.b64(32)},tag:{g.b64(16)},type:str]"

    text = (
        "binance:\n"
        f"    api_key: {enc(64)}\n"
        f"    api_secret: {enc(64)}\n"
        "sops:\n"
        "    age:\n"
        f"        - recipient: age1{g.chars('qpzry9x8gf2tvdw0s3jn54khce6mua7l', 58)}\n"
        "    lastmodified: \"2024-03-01T10:11:12Z\"\n"
        f"    mac: {enc(32)}\n"
        "    version: 3.8.1\n"
    )
    return Spec("secrets/binance.enc.yaml", text)


@negative("ansible_vault_file", "shape")
def _(g: Gen) -> Spec:
    body = g.hex(1200)
    text = "$ANSIBLE_VAULT;1.1;AES256\n" + "\n".join(body[i : i + 80] for i in range(0, len(body), 80)) + "\n"
    return Spec("group_vars/bots/vault.yml", text)


@negative("tls_keylog_file", "shape")
def _(g: Gen) -> Spec:
    text = "# SSLKEYLOGFILE captured while debugging api.binance.com timeouts\n" + "".join(
        f"{label} {g.hex(64)} {g.hex(96)}\n"
        for label in ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                      "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0")
    )
    return Spec("debug/sslkeys.log", text)


@negative("basic_auth_header_log", "context")
def _(g: Gen) -> Spec:
    # natural distribution: a 40-char generated password; ~13% of encodings are pure alnum
    enc = base64.b64encode(b"metrics:" + g.chars(ALNUM, 40).encode()).decode()
    text = (
        "2024-03-01 10:00:00 INFO binance.ws kline stream connected\n"
        "2024-03-01 10:00:05 DEBUG es POST https://es.internal:9200/_bulk\n"
        f"2024-03-01 10:00:05 DEBUG es > Authorization: Basic {enc}\n"
        "2024-03-01 10:00:05 DEBUG es < 200 OK\n"
    )
    return Spec("logs/metrics-shipper.log", text)


@negative("other_service_64char_tokens", "context")
def _(g: Gen) -> Spec:
    text = (
        "services:\n"
        "  meilisearch:\n"
        "    image: getmeili/meilisearch:v1.7\n"
        "    environment:\n"
        f"      MEILI_MASTER_KEY: {g.key()}\n"
        "  typesense:\n"
        "    image: typesense/typesense:26.0\n"
        f"    command: --data-dir /data --api-key={g.key()} --enable-cors\n"
    )
    return Spec("search/docker-compose.yml", text)


@negative("redacted_keys_in_issue", "shape")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    masked_k = k[:4] + "*" * 56 + k[-4:]
    text = (
        "### Bug: -2015 Invalid API-key, IP, or permissions\n\n"
        "Config (keys redacted):\n\n"
        "```yaml\n"
        "binance:\n"
        f'  api_key: "{masked_k}"\n'
        f'  api_secret: "{s[:6]}{"x" * 52}{s[-6:]}"\n'
        "```\n\n"
        f"Log: `using key {k[:4]}...{k[-4:]}`\n"
    )
    return Spec("issues/1234.md", text)


@negative("doc_example_hmac_unit_test", "context")
def _(g: Gen) -> Spec:
    query = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
             "&recvWindow=5000&timestamp=1499827319559")
    sig = hmac.new(DOC_SECRET_KEY.encode(), query.encode(), hashlib.sha256).hexdigest()
    text = (
        "from bot.signing import sign\n\n"
        "# test vector from the Binance API docs (SIGNED endpoint examples)\n"
        f'DOC_API_KEY = "{DOC_API_KEY}"\n'
        f'DOC_SECRET = "{DOC_SECRET_KEY}"\n'
        f'DOC_QUERY = "{query}"\n\n\n'
        "def test_sign_matches_docs():\n"
        f'    assert sign(DOC_SECRET, DOC_QUERY) == "{sig}"\n'
    )
    return Spec("tests/test_signing.py", text)


@negative("bsc_wallet_private_key_hex", "shape")
def _(g: Gen) -> Spec:
    text = (
        "# PancakeSwap sniper (BNB Smart Chain)\n"
        "RPC_URL=https://bsc-dataseed.binance.org/\n"
        f"WALLET_ADDRESS=0x{g.hex(40)}\n"
        f"WALLET_PRIVATE_KEY=0x{g.hex(64)}\n"
        f"BACKUP_PRIVATE_KEY={g.hex(64)}\n"
    )
    return Spec("sniper/.env", text)


@negative("pypirc_npm_tokens", "shape")
def _(g: Gen) -> Spec:
    text = (
        "[distutils]\nindex-servers = pypi\n\n"
        "[pypi]\nusername = __token__\n"
        f"password = pypi-AgEIcHlwaS5vcmc{g.b64url(160)}\n"
        f"# //registry.npmjs.org/:_authToken=npm_{g.alnum(36)}\n"
    )
    return Spec("release/.pypirc", text)


@negative("azure_storage_connection_string", "shape")
def _(g: Gen) -> Spec:
    text = (
        '{\n  "IsEncrypted": false,\n  "Values": {\n'
        f'    "AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountName=binancetrades;AccountKey={g.b64(64)};EndpointSuffix=core.windows.net",\n'
        '    "FUNCTIONS_WORKER_RUNTIME": "python"\n  }\n}\n'
    )
    return Spec("local.settings.json", text)


@negative("wireguard_conf", "shape")
def _(g: Gen) -> Spec:
    text = (
        "[Interface]\n"
        f"PrivateKey = {g.b64(32)}\n"
        "Address = 10.8.0.2/32\n\n"
        "[Peer]\n"
        f"PublicKey = {g.b64(32)}\n"
        f"PresharedKey = {g.b64(32)}\n"
        "Endpoint = vpn-tokyo.example.com:51820  # low-latency route to Binance\n"
        "AllowedIPs = 0.0.0.0/0\n"
    )
    return Spec("vpn/wg0.conf", text)


@negative("crypto_lib_test_vectors_go", "shape")
def _(g: Gen) -> Spec:
    text = (
        "package ed25519\n\n"
        "var vectors = []struct{ priv, pub, msg, sig string }{\n"
        + "".join(
            f'\t{{"{g.hex(64)}", "{g.hex(64)}", "{g.hex(2 * i)}",\n\t\t"{g.hex(128)}"}},\n'
            for i in range(3)
        )
        + "}\n\n"
        f'var hmacKey = "{g.hex(64).upper()}"\n'
    )
    return Spec("crypto/ed25519/vectors_test.go", text)


# --------------------------------------------------------------------------------------------
# assembly


def build_holdout(seed: int, *, crypto: bool | None = None) -> list[HoldoutFile]:
    """Every context once, with fresh secrets drawn from ``seed``."""
    use_crypto = CRYPTO if crypto is None else (crypto and CRYPTO)
    return _REGISTRY.build(Gen(seed), "h", use_crypto)
