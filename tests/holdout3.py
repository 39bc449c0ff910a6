"""A THIRD HOLDOUT corpus for keytrap: contexts none of tests/corpus.py, tests/holdout.py,
tests/holdout2.py (nor ``fixtures/``) has.

The earlier corpora were all used to tune the engine, so they no longer measure it honestly.
This module was written against them only to *avoid* their templates. Where a leak channel is
common enough that an earlier corpus already has it (a ``.bash_history``, a getenv default, a
``docker run -e``, a Postman file, a log of request headers ...), the context here is a NEW
surface form of it (zsh extended history, ``os.environ.setdefault``, a one-line ``--env`` deploy
script, a collection-level Postman variable, pytest ``--showlocals`` output ...).

Conventions are those of ``tests/holdout2.py``: ``build_holdout3(seed)`` returns ``HoldoutFile``
records, each a realistic file plus one ``Truth(path, line, kind)`` per secret a careful human
reviewing a Binance key leak would report. Kinds come from the context (field name, column
header, sentence, the order Binance shows them in).

Secrets are generated fresh from the seed (``SeededGen`` with a salt of its own). No key-shaped
literal lives in this file except Binance's public documentation example pair
(``DOC_API_KEY``/``DOC_SECRET_KEY``), which only appears where it must NOT be reported.

Negatives carry a ``hardness`` tag:

* ``shape``   -- a careful scanner can reject the token by its shape alone (hex, length,
  alphabet, padding, separators, encoded binary);
* ``context`` -- the token is 64 characters of [A-Za-z0-9] (or a real private key) exactly like
  a Binance secret; only the words around it say it is something else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import string

from seeded import (  # noqa: F401 - the records are part of each holdout's interface
    A, ALNUM, DOC_API_KEY, DOC_SECRET_KEY, HoldoutFile, P, Registry, S, SeededGen, Spec, Truth,
)

try:
    import cryptography  # noqa: F401 - real key material needs it (see SeededGen.ed25519_pem)

    CRYPTO = True
except ImportError:  # pragma: no cover
    CRYPTO = False

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
B64URL = ALNUM + "-_"

#: Binance's public API documentation example pair. Must never be reported.
# --------------------------------------------------------------------------------------------
# random material


class Gen(SeededGen):
    SALT = (1299709, 31)  # neither holdout.py's nor holdout2.py's salt


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


@positive("jupyter_markdown_cell_python_dict")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": [
                "## Setup\n", "\n",
                "Paste your keys into the dict below before running (my own ones for now):\n", "\n",
                "```python\n",
                "CREDS = {\n",
                f"    \"apiKey\": \"{k}\",\n",
                f"    \"secret\": \"{s}\",\n",
                "}\n",
                "```\n",
            ]},
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
             "source": ["import ccxt\n", "ex = ccxt.binance(CREDS)\n"]},
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    return Spec("notebooks/01_setup.ipynb", json.dumps(nb, indent=1) + "\n", [(k, A), (s, S)])


@positive("bot_settings_py_key_secret_dict")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        '"""Settings for the grid bot."""\n\n'
        'SYMBOL = "ETHUSDT"\n'
        "GRID_LEVELS = 12\n"
        "GRID_STEP_PCT = 0.35\n\n"
        f'BINANCE = {{"key": "{k}", "secret": "{s}"}}\n\n'
        'TELEGRAM_CHAT_ID = -100' + str(g.int(10**9, 10**10)) + "\n"
    )
    return Spec("gridbot/settings.py", text, [(k, A), (s, S)])


@positive("dotenv_production_local_quoted")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# .env.production.local -- DO NOT COMMIT\n"
        "NODE_ENV=production\n"
        "PORT=8080\n"
        f"DATABASE_URL=postgres://bot:{g.alnum(16)}@db:5432/bot\n\n"
        "# Binance (main account, spot+futures, IP restricted)\n"
        f'BINANCE_APIKEY="{k}"\n'
        f'BINANCE_SECRETKEY="{s}"\n'
        "BINANCE_RECV_WINDOW=5000\n"
    )
    return Spec("server/.env.production.local", text, [(k, A), (s, S)])


@positive("deploy_sh_docker_run_env_oneline")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "#!/usr/bin/env bash\n"
        "set -euo pipefail\n"
        "docker pull ghcr.io/edeng23/binance-trade-bot:latest\n"
        "docker rm -f btb || true\n"
        f'docker run -d --name btb --env BINANCE_KEY="{k}" --env BINANCE_SECRET="{s}" '
        "-v /srv/btb/data:/app/data ghcr.io/edeng23/binance-trade-bot:latest\n"
        "docker logs -f btb\n"
    )
    return Spec("ops/deploy.sh", text, [(k, A), (s, S)])


@positive("kubectl_create_secret_from_literal")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# Runbook: rotate Binance credentials\n\n"
        "1. Create the new key pair on binance.com (enable spot trading, restrict IP).\n"
        "2. Replace the secret in the cluster:\n\n"
        "```sh\n"
        "kubectl -n trading delete secret binance-creds\n"
        "kubectl -n trading create secret generic binance-creds \\\n"
        f"  --from-literal=api-key={k} \\\n"
        f"  --from-literal=api-secret={s}\n"
        "kubectl -n trading rollout restart deploy/arb-engine\n"
        "```\n"
    )
    return Spec("docs/runbooks/rotate-binance.md", text, [(k, A), (s, S)])


@positive("heroku_config_set_same_line")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "heroku login\n"
        "heroku create crypto-dca-worker\n"
        "heroku buildpacks:set heroku/python\n"
        f"heroku config:set BINANCE_API_KEY={k} BINANCE_API_SECRET={s} -a crypto-dca-worker\n"
        "git push heroku main\n"
        "heroku ps:scale worker=1 -a crypto-dca-worker\n"
    )
    return Spec("notes/heroku-setup.txt", text, [(k, A), (s, S)])


@positive("flyio_secrets_set_markdown")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# Deploying to Fly.io\n\n"
        "```console\n"
        "$ fly launch --no-deploy\n"
        "$ fly secrets set \\\n"
        f"    BINANCE_API_KEY='{k}' \\\n"
        f"    BINANCE_SECRET_KEY='{s}'\n"
        "Secrets are staged for the first deployment\n"
        "$ fly deploy\n"
        "```\n"
    )
    return Spec("DEPLOY.md", text, [(k, A), (s, S)])


@positive("github_issue_environment_section")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "**Describe the bug**\n"
        "Every order fails with `APIError(code=-1022): Signature for this request is not valid.`\n\n"
        "**To Reproduce**\n"
        "1. Start the bot with the config below\n"
        "2. Wait for the first buy signal\n\n"
        "**Environment**\n"
        "- OS: Ubuntu 22.04\n"
        "- python-binance: 1.0.19\n"
        f"- API key: {k}\n"
        f"- Secret key: {s}\n\n"
        "I already regenerated the key twice, any idea?\n"
    )
    return Spec("issues/842.md", text, [(k, A), (s, S)])


@positive("stackoverflow_question_requests_hmac")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "Binance API returns {\"code\":-2014,\"msg\":\"API-key format invalid.\"} with Python requests\n"
        "=============================================================================================\n\n"
        "I'm trying to get my account balance but I always get -2014. What am I doing wrong?\n\n"
        "    import time, hmac, hashlib, requests\n\n"
        f"    api_key = \"{k}\"\n"
        f"    secret = \"{s}\"\n\n"
        "    q = f\"timestamp={int(time.time() * 1000)}\"\n"
        "    sig = hmac.new(secret.encode(), q.encode(), hashlib.sha256).hexdigest()\n"
        "    r = requests.get(f\"https://api.binance.com/api/v3/account?{q}&signature={sig}\",\n"
        "                     headers={\"X-MBX-APIKEY\": api_key + \"\\n\"})\n"
        "    print(r.json())\n\n"
        "python binance-api hmac\n"
    )
    return Spec("so/question-77012345.md", text, [(k, A), (s, S)])


@positive("telegram_bot_config_json")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    tg = f"{g.int(10**9, 10**10)}:AA{g.chars(B64URL, 33)}"
    doc = {
        "telegram": {"token": tg, "admins": [g.int(10**8, 10**9)]},
        "binance": {"apiKey": k, "apiSecret": s, "futures": True},
        "alerts": {"pump_pct": 4.5, "interval": "5m"},
    }
    return Spec("tg-signal-bot/config.json", json.dumps(doc, indent=4) + "\n", [(k, A), (s, S)])


@positive("go_os_setenv_main")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "package main\n\n"
        "import (\n"
        "\t\"log\"\n"
        "\t\"os\"\n\n"
        "\t\"github.com/adshao/go-binance/v2\"\n"
        ")\n\n"
        "func init() {\n"
        "\t// quick hack for local runs\n"
        f"\tos.Setenv(\"BINANCE_API_KEY\", \"{k}\")\n"
        f"\tos.Setenv(\"BINANCE_SECRET_KEY\", \"{s}\")\n"
        "}\n\n"
        "func main() {\n"
        "\tc := binance.NewClient(os.Getenv(\"BINANCE_API_KEY\"), os.Getenv(\"BINANCE_SECRET_KEY\"))\n"
        "\tlog.Println(c.BaseURL)\n"
        "}\n"
    )
    return Spec("cmd/scalper/main.go", text, [(k, A), (s, S)])


@positive("node_cjs_env_or_fallback_object")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "const Binance = require('node-binance-api');\n\n"
        "const binance = new Binance().options({\n"
        f"  APIKEY: process.env.BINANCE_KEY||'{k}',\n"
        f"  APISECRET: process.env.BINANCE_SECRET||\"{s}\",\n"
        "  useServerTime: true,\n"
        "  recvWindow: 60000,\n"
        "});\n\n"
        "module.exports = binance;\n"
    )
    return Spec("lib/binance.js", text, [(k, A), (s, S)])


@positive("python_environ_setdefault_and_or")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "import os\n"
        "from binance.um_futures import UMFutures\n\n"
        f'os.environ.setdefault("BINANCE_API_KEY", "{k}")\n'
        f"API_SECRET = os.getenv('BINANCE_API_SECRET') or '{s}'\n\n"
        "client = UMFutures(key=os.environ['BINANCE_API_KEY'], secret=API_SECRET)\n"
    )
    return Spec("hedge/run_hedge.py", text, [(k, A), (s, S)])


@positive("toml_nested_accounts_literal_strings")
def _(g: Gen) -> Spec:
    k1, s1 = g.pair()
    k2, s2 = g.pair()
    text = (
        "[general]\n"
        'log_level = "info"\n'
        'quote = "USDT"\n\n'
        "[accounts.binance.main]\n"
        f"key = '{k1}'\n"
        f"secret = '{s1}'\n\n"
        "[accounts.binance.sub1]\n"
        f"key = '{k2}'\n"
        f"secret = '{s2}'\n"
        "weight = 0.25\n"
    )
    return Spec("rebalancer.toml", text, [(k1, A), (s1, S), (k2, A), (s2, S)])


@positive("helm_secrets_yaml_plaintext")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# helm secrets edit charts/market-maker/secrets.yaml  (forgot to encrypt!)\n"
        "secrets:\n"
        f"  binanceApiKey: {k}\n"
        f"  binanceSecretKey: {s}\n"
        f"  postgresPassword: {g.alnum(20)}\n"
    )
    return Spec("charts/market-maker/secrets.yaml", text, [(k, A), (s, S)])


@positive("csv_several_accounts_ip_whitelist")
def _(g: Gen) -> Spec:
    rows, marks = [], []
    for label in ("main", "sub-grid", "sub-futures"):
        k, s = g.pair()
        ip = f"{g.int(1, 223)}.{g.int(0, 255)}.{g.int(0, 255)}.{g.int(1, 254)}"
        rows.append(f"{label},binance,{k},{s},{ip},2024-0{g.int(1, 9)}-1{g.int(0, 9)}")
        marks += [(k, A), (s, S)]
    text = "label,exchange,api_key,api_secret,ip_whitelist,created\n" + "\n".join(rows) + "\n"
    return Spec("ops/binance_accounts.csv", text, marks)


@positive("postman_collection_level_variables")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    doc = {
        "info": {"_postman_id": g.uuid(), "name": "My Binance",
                 "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [{"name": "account", "request": {"method": "GET", "header": [
            {"key": "X-MBX-APIKEY", "value": "{{binance-api-key}}"}],
            "url": "https://api.binance.com/api/v3/account?timestamp={{ts}}&signature={{sig}}"}}],
        "variable": [
            {"key": "binance-api-key", "value": k, "type": "string"},
            {"key": "binance-secret-key", "value": s, "type": "string"},
        ],
    }
    return Spec("postman/my-binance.postman_collection.json", json.dumps(doc, indent="\t") + "\n",
                [(k, A), (s, S)])


@positive("unittest_setup_connector_client")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "import unittest\n\n"
        "from binance.spot import Spot\n\n\n"
        "class TestLiveOrders(unittest.TestCase):\n"
        "    def setUp(self):\n"
        "        self.client = Spot(\n"
        f"            api_key=\"{k}\",\n"
        f"            api_secret=\"{s}\",\n"
        "        )\n\n"
        "    def test_open_orders(self):\n"
        "        self.assertIsInstance(self.client.get_open_orders(\"BTCUSDT\"), list)\n"
    )
    return Spec("tests/test_live_orders.py", text, [(k, A), (s, S)])


@positive("zsh_extended_history")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    t = 1712000000 + g.int(0, 10**6)
    text = (
        f": {t}:0;cd ~/code/futures-bot\n"
        f": {t + 12}:0;export BINANCE_API_KEY={k}\n"
        f": {t + 31}:0;export BINANCE_API_SECRET={s}\n"
        f": {t + 40}:3;python -m bot --live\n"
        f": {t + 95}:0;git status\n"
    )
    return Spec("home/.zsh_history", text, [(k, A), (s, S)])


@positive("pytest_showlocals_traceback")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "=================================== FAILURES ===================================\n"
        "_______________________________ test_place_order _______________________________\n\n"
        "    def test_place_order():\n"
        ">       client = Client(API_KEY, API_SECRET)\n\n"
        f"API_KEY    = '{k}'\n"
        f"API_SECRET = '{s}'\n\n"
        "tests/test_orders.py:14: \n"
        "E   binance.exceptions.BinanceAPIException: APIError(code=-2015): Invalid API-key, IP, or permissions for action.\n"
        "=========================== short test summary info ============================\n"
        "FAILED tests/test_orders.py::test_place_order\n"
    )
    return Spec("ci/pytest-output.txt", text, [(k, A), (s, S)])


@positive("python_traceback_request_headers_repr")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "Traceback (most recent call last):\n"
        '  File "/app/bot/exchange.py", line 88, in _signed\n'
        "    resp.raise_for_status()\n"
        '  File "/usr/local/lib/python3.11/site-packages/requests/models.py", line 1021, in raise_for_status\n'
        "    raise HTTPError(http_error_msg, response=self)\n"
        "requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://fapi.binance.com/fapi/v2/balance\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "bot.errors.ExchangeError: request failed; headers={'User-Agent': 'python-requests/2.31.0', "
        f"'Accept': '*/*', 'X-MBX-APIKEY': '{k}', 'Content-Type': 'application/json'}}\n"
    )
    return Spec("crash/2024-04-02T03-11-09.txt", text, [(k, A)])


@positive("log_client_api_key_attribute")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    d = "2024-05-17 08:0"
    text = (
        f"{d}1:12,004 INFO  [main] starting grid bot v0.9.2\n"
        f"{d}1:12,118 INFO  [exchange] Binance client ready: client.API_KEY={k}\n"
        f"{d}1:12,119 DEBUG [exchange] client.API_SECRET={s}\n"
        f"{d}1:12,640 INFO  [exchange] server time offset -31 ms\n"
    )
    return Spec("logs/gridbot.log", text, [(k, A), (s, S)])


@positive("ansible_ini_inventory_host_vars")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "[bots]\n"
        f"vps1 ansible_host=203.0.113.{g.int(2, 250)} ansible_user=root "
        f"binance_api_key={k} binance_api_secret={s}\n\n"
        "[bots:vars]\n"
        "ansible_python_interpreter=/usr/bin/python3\n"
    )
    return Spec("inventory/hosts.ini", text, [(k, A), (s, S)])


@positive("docker_secret_create_printf")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# swarm bootstrap\n"
        "docker swarm init\n"
        f"printf '%s' '{k}' | docker secret create binance_api_key -\n"
        f"printf '%s' '{s}' | docker secret create binance_api_secret -\n"
        "docker stack deploy -c stack.yml trading\n"
    )
    return Spec("swarm/bootstrap.sh", text, [(k, A), (s, S)])


@positive("gh_secret_set_body")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "#!/bin/sh\n"
        "# one-off: push repo secrets for the backtest workflow\n"
        f"gh secret set BINANCE_API_KEY --body \"{k}\"\n"
        f"gh secret set BINANCE_API_SECRET --body \"{s}\"\n"
        "gh workflow run backtest.yml\n"
    )
    return Spec("scripts/set-gh-secrets.sh", text, [(k, A), (s, S)])


@positive("aws_ssm_put_parameter_cli")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "aws ssm put-parameter --name /prod/bot/binance/api-key --type SecureString \\\n"
        f"    --value {k} --overwrite\n"
        "aws ssm put-parameter --name /prod/bot/binance/api-secret --type SecureString \\\n"
        f"    --value {s} --overwrite\n"
    )
    return Spec("infra/bootstrap-params.sh", text, [(k, A), (s, S)])


@positive("insomnia_export_environment")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    doc = {
        "_type": "export", "__export_format": 4, "__export_source": "insomnia.desktop.app:v2023.5.8",
        "resources": [
            {"_id": "env_" + g.hex(32), "_type": "environment", "name": "Binance prod",
             "data": {"base_url": "https://api.binance.com", "binance_api_key": k, "binance_secret": s}},
            {"_id": "req_" + g.hex(32), "_type": "request", "name": "Account",
             "url": "{{ _.base_url }}/api/v3/account", "method": "GET"},
        ],
    }
    return Spec("insomnia/Insomnia_2024-05-01.json", json.dumps(doc, indent=2) + "\n", [(k, A), (s, S)])


@positive("python_dataclass_defaults")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "from dataclasses import dataclass\n\n\n"
        "@dataclass(frozen=True)\n"
        "class BinanceConfig:\n"
        f"    api_key: str = \"{k}\"\n"
        f"    api_secret: str = \"{s}\"\n"
        "    testnet: bool = False\n"
        "    recv_window: int = 5000\n"
    )
    return Spec("trader/config.py", text, [(k, A), (s, S)])


@positive("serverless_yml_environment")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "service: binance-dca\n"
        "frameworkVersion: '3'\n"
        "provider:\n"
        "  name: aws\n"
        "  runtime: python3.11\n"
        "  region: ap-northeast-1\n"
        "  environment:\n"
        f"    BINANCE_API_KEY: {k}\n"
        f"    BINANCE_API_SECRET: {s}\n"
        "functions:\n"
        "  buy:\n"
        "    handler: handler.buy\n"
        "    events:\n"
        "      - schedule: cron(0 0 * * ? *)\n"
    )
    return Spec("serverless.yml", text, [(k, A), (s, S)])


@positive("notebook_stream_output_client_dict")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    out = (
        f"{{'API_KEY': '{k}', 'API_SECRET': '{s}', 'REQUEST_TIMEOUT': 10, "
        "'session': <requests.sessions.Session object at 0x7f3a1c2b9d90>, 'testnet': False}\n"
    )
    nb = {
        "cells": [{
            "cell_type": "code", "execution_count": 7, "metadata": {},
            "outputs": [{"name": "stdout", "output_type": "stream", "text": [out]}],
            "source": ["print(client.__dict__)"],
        }],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    return Spec("research/debug_client.ipynb", json.dumps(nb, indent=1) + "\n", [(k, A), (s, S)])


@positive("go_raw_string_ed25519_pem", crypto=True)
def _(g: Gen) -> Spec:
    k = g.key()
    pem = g.ed25519_pem()
    text = (
        "package signer\n\n"
        "// Binance Ed25519 API key (registered 2024-03-02)\n"
        f"const binanceAPIKey = \"{k}\"\n\n"
        "const binancePrivateKeyPEM = `" + pem + "`\n"
    )
    return Spec("internal/signer/keys.go", text, [(k, A), ("-----BEGIN PRIVATE KEY-----", P)])


# ============================================================================================
# NEGATIVES


@negative("poetry_lock_content_hash", "shape")
def _(g: Gen) -> Spec:
    text = (
        "[[package]]\n"
        'name = "python-binance"\n'
        'version = "1.0.19"\n'
        'description = "Binance REST API python implementation"\n'
        "optional = false\n"
        'python-versions = "*"\n'
        "files = [\n"
        f'    {{file = "python_binance-1.0.19-py2.py3-none-any.whl", hash = "sha256:{g.hex(64)}"}},\n'
        f'    {{file = "python-binance-1.0.19.tar.gz", hash = "sha256:{g.hex(64)}"}},\n'
        "]\n\n"
        "[metadata]\n"
        'lock-version = "2.0"\n'
        'python-versions = "^3.11"\n'
        f'content-hash = "{g.hex(64)}"\n'
    )
    return Spec("poetry.lock", text)


@negative("pipfile_lock_meta", "shape")
def _(g: Gen) -> Spec:
    doc = {
        "_meta": {"hash": {"sha256": g.hex(64)}, "pipfile-spec": 6,
                  "requires": {"python_version": "3.11"}, "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}]},
        "default": {"ccxt": {"hashes": ["sha256:" + g.hex(64), "sha256:" + g.hex(64)], "index": "pypi", "version": "==4.2.80"},
                    "binance-connector": {"hashes": ["sha256:" + g.hex(64)], "version": "==3.7.0"}},
        "develop": {},
    }
    return Spec("Pipfile.lock", json.dumps(doc, indent=4) + "\n")


@negative("freqtrade_api_server_tokens_empty_exchange", "shape")
def _(g: Gen) -> Spec:
    doc = {
        "max_open_trades": 3, "stake_currency": "USDT", "dry_run": True,
        "exchange": {"name": "binance", "key": "", "secret": "", "pair_whitelist": ["BTC/USDT", "ETH/USDT"]},
        "api_server": {"enabled": True, "listen_ip_address": "0.0.0.0", "listen_port": 8080,
                       "jwt_secret_key": g.hex(64), "ws_token": g.b64url(25),
                       "username": "freqtrader", "password": g.alnum(12)},
    }
    return Spec("user_data/config-dryrun.json", json.dumps(doc, indent=4) + "\n")


@negative("env_sentry_telegram_blank_binance", "shape")
def _(g: Gen) -> Spec:
    text = (
        f"SENTRY_DSN=https://{g.hex(32)}@o{g.int(10**5, 10**6)}.ingest.sentry.io/{g.int(10**6, 10**7)}\n"
        f"TELEGRAM_BOT_TOKEN={g.int(10**9, 10**10)}:AA{g.chars(B64URL, 33)}\n"
        f"DISCORD_WEBHOOK=https://discord.com/api/webhooks/{g.int(10**17, 10**18)}/{g.chars(B64URL, 68)}\n"
        "BINANCE_API_KEY=\n"
        "BINANCE_API_SECRET=\n"
    )
    return Spec("deploy/.env.staging", text)


@negative("binance_pay_webhook_headers", "shape")
def _(g: Gen) -> Spec:
    text = (
        "POST /webhooks/binance-pay HTTP/1.1\n"
        "Host: shop.example.com\n"
        "Content-Type: application/json\n"
        f"BinancePay-Timestamp: {g.ts()}\n"
        f"BinancePay-Nonce: {g.alnum(32)}\n"
        f"BinancePay-Certificate-SN: {g.hex(64)}\n"
        f"BinancePay-Signature: {g.b64(256)}\n\n"
        f'{{"bizType":"PAY","bizId":{g.int(10**17, 10**18)},"bizStatus":"PAY_SUCCESS","data":"{{\\"merchantTradeNo\\":\\"{g.alnum(32)}\\"}}"}}\n'
    )
    return Spec("captures/binance-pay-webhook.http", text)


@negative("tradingview_alert_passphrase", "context")
def _(g: Gen) -> Spec:
    text = (
        "TradingView alert message (paste into the alert's Message box):\n\n"
        "{\n"
        f'  "passphrase": "{g.key()}",\n'
        '  "ticker": "{{ticker}}",\n'
        '  "side": "{{strategy.order.action}}",\n'
        '  "qty": "{{strategy.order.contracts}}",\n'
        '  "exchange": "binance"\n'
        "}\n\n"
        "The passphrase is checked by our webhook server (WEBHOOK_PASSPHRASE), it is NOT a Binance key.\n"
    )
    return Spec("docs/tradingview-alert.md", text)


@negative("doc_pair_openssl_dgst_readme", "context")
def _(g: Gen) -> Spec:
    q = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    sig = hmac.new(DOC_SECRET_KEY.encode(), q.encode(), hashlib.sha256).hexdigest()  # the docs' c8db…6b71
    text = (
        "## How signing works\n\n"
        "Straight from the Binance docs (example credentials, not ours):\n\n"
        "```console\n"
        f'$ echo -n "{q}" | openssl dgst -sha256 -hmac "{DOC_SECRET_KEY}"\n'
        f"(stdin)= {sig}\n"
        f"$ curl -H \"X-MBX-APIKEY: {DOC_API_KEY}\" -X POST 'https://api.binance.com/api/v3/order' -d '{q}&signature={sig}'\n"
        "```\n"
    )
    return Spec("docs/SIGNING.md", text)


@negative("github_actions_cache_log", "shape")
def _(g: Gen) -> Spec:
    text = (
        f"2024-05-02T10:11:0{g.int(0, 9)}.1234567Z ##[group]Run actions/cache@v4\n"
        f"2024-05-02T10:11:05.0000000Z Cache restored from key: Linux-pip-{g.hex(64)}\n"
        f"2024-05-02T10:11:05.0000001Z Received {g.int(10**7, 10**8)} of {g.int(10**8, 10**9)} bytes\n"
        f"2024-05-02T10:11:09.0000000Z Cache saved with key: Linux-venv-3.11-{g.hex(64)}\n"
    )
    return Spec("ci/logs/backtest-job.txt", text)


@negative("pre_commit_config_revs", "shape")
def _(g: Gen) -> Spec:
    text = (
        "repos:\n"
        "  - repo: https://github.com/psf/black\n"
        f"    rev: {g.hex(40)}  # frozen: 24.3.0\n"
        "    hooks: [{id: black}]\n"
        "  - repo: https://github.com/astral-sh/ruff-pre-commit\n"
        f"    rev: {g.hex(40)}  # frozen: v0.4.1\n"
        "    hooks: [{id: ruff}]\n"
    )
    return Spec(".pre-commit-config.yaml", text)


@negative("prometheus_exporter_metrics_hashes", "shape")
def _(g: Gen) -> Spec:
    h = g.hex(64)
    text = (
        "# HELP binance_account_balance Free balance per asset\n"
        "# TYPE binance_account_balance gauge\n"
        f'binance_account_balance{{asset="BTC",account_fingerprint="{h}"}} 0.0132\n'
        f'binance_account_balance{{asset="USDT",account_fingerprint="{h}"}} 812.44\n'
        f'binance_exporter_build_info{{commit="{g.hex(40)}",version="0.6.1"}} 1\n'
    )
    return Spec("debug/metrics.txt", text)


@negative("pancakeswap_abi_bytecode_topics", "shape")
def _(g: Gen) -> Spec:
    doc = {
        "contractName": "ArbRouter",
        "bytecode": "0x608060405234801561001057600080fd5b50" + g.hex(900),
        "deployedBytecode": "0x6080604052" + g.hex(700),
        "events": {"Swap": "0x" + g.hex(64), "Sync": "0x" + g.hex(64)},
        "router": "0x" + g.hex(40),
    }
    return Spec("contracts/build/ArbRouter.json", json.dumps(doc, indent=2) + "\n")


@negative("cloudflared_tunnel_credentials", "shape")
def _(g: Gen) -> Spec:
    doc = {"AccountTag": g.hex(32), "TunnelSecret": g.b64(32), "TunnelID": g.uuid()}
    return Spec("cloudflared/dashboard-tunnel.json", json.dumps(doc) + "\n")


@negative("ngrok_and_ml_tokens", "shape")
def _(g: Gen) -> Spec:
    text = (
        "# ngrok + experiment tracking for the LSTM price model\n"
        f"NGROK_AUTHTOKEN={g.int(1, 3)}{g.alnum(26)}_{g.alnum(21)}\n"
        f"WANDB_API_KEY={g.hex(40)}\n"
        f"HF_TOKEN=hf_{g.chars(string.ascii_letters, 34)}\n"
        f"MLFLOW_RUN_ID={g.hex(32)}\n"
    )
    return Spec("ml/.env", text)


@negative("commercial_bot_license_key", "context")
def _(g: Gen) -> Spec:
    text = (
        "# TradeBotPro config -- the licence key below is from the vendor's customer portal\n"
        "license:\n"
        f"  key: {g.key()}\n"
        "  email: me@example.com\n"
        "exchanges:\n"
        "  binance:\n"
        '    api_key: ""\n'
        '    api_secret: ""\n'
    )
    return Spec("tradebotpro/config.yaml", text)


@negative("express_session_secret_dashboard", "context")
def _(g: Gen) -> Spec:
    text = (
        "const session = require('express-session');\n"
        "const Binance = require('binance-api-node').default;\n\n"
        "const client = Binance({ apiKey: process.env.BINANCE_API_KEY, apiSecret: process.env.BINANCE_API_SECRET });\n\n"
        "app.use(session({\n"
        f"  secret: '{g.key()}', // cookie signing secret for the dashboard\n"
        "  resave: false,\n"
        "  saveUninitialized: false,\n"
        "}));\n"
    )
    return Spec("dashboard/server.js", text)


@negative("encrypted_api_keys_db_rows", "shape")
def _(g: Gen) -> Spec:
    rows = []
    for i in range(1, 4):
        rows.append(
            f"  ({i}, 'binance', 'gAAAAA{g.b64url(150)}', 'gAAAAA{g.b64url(150)}', '{g.b64(12)}')"
        )
    text = (
        "-- copy-trading SaaS: user exchange credentials, Fernet-encrypted at rest\n"
        "INSERT INTO exchange_credentials (user_id, exchange, api_key_enc, api_secret_enc, nonce) VALUES\n"
        + ",\n".join(rows) + ";\n"
    )
    return Spec("db/seed/credentials.sql", text)


@negative("binance_order_response_client_ids", "shape")
def _(g: Gen) -> Spec:
    doc = {
        "symbol": "BTCUSDT", "orderId": g.int(10**10, 10**11), "orderListId": -1,
        "clientOrderId": "x-" + g.alnum(30), "transactTime": g.ts(), "price": "0.00000000",
        "origQty": "0.00100000", "executedQty": "0.00100000", "status": "FILLED",
        "type": "MARKET", "side": "BUY", "selfTradePreventionMode": "EXPIRE_MAKER",
        "fills": [{"price": "67012.10", "qty": "0.001", "commission": "0.00000100",
                   "commissionAsset": "BTC", "tradeId": g.int(10**9, 10**10)}],
    }
    return Spec("tests/fixtures/order_market_buy.json", json.dumps(doc, indent=2) + "\n")


@negative("api_key_hash_audit_log", "shape")
def _(g: Gen) -> Spec:
    lines = "".join(
        f"2024-05-0{i} 12:00:0{i} AUDIT key rotated account=main old_sha256={g.hex(64)} new_sha256={g.hex(64)} key_hint={g.alnum(4)}…{g.alnum(4)}\n"
        for i in range(1, 4)
    )
    return Spec("logs/key-audit.log", lines)


@negative("backtest_run_ids_context", "context")
def _(g: Gen) -> Spec:
    rows = "".join(
        f"{g.key()},BTCUSDT,1h,{g.int(-30, 80)}.{g.int(10, 99)},{g.int(50, 400)}\n" for _ in range(4)
    )
    text = "run_id,symbol,timeframe,profit_pct,trades\n" + rows
    return Spec("backtests/summary.csv", text)


@negative("jupyter_widget_model_ids", "shape")
def _(g: Gen) -> Spec:
    nb = {
        "cells": [{"cell_type": "code", "execution_count": 3, "metadata": {}, "source": ["plot_equity(df)"],
                   "outputs": [{"output_type": "display_data", "metadata": {}, "data": {
                       "application/vnd.jupyter.widget-view+json": {"model_id": g.hex(32), "version_major": 2, "version_minor": 0},
                       "text/plain": ["FigureWidget()"]}}]}],
        "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {
            g.hex(32): {"model_name": "LayoutModel", "state": {}}, g.hex(32): {"model_name": "FigureModel", "state": {}}}}}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    return Spec("research/equity_curve.ipynb", json.dumps(nb, indent=1) + "\n")


@negative("websocket_stream_hmac_signatures_log", "shape")
def _(g: Gen) -> Spec:
    lines = "".join(
        f"2024-05-0{i} 00:00:0{i} DEBUG ws-api -> {{\"id\":\"{g.uuid()}\",\"method\":\"order.status\","
        f"\"params\":{{\"apiKey\":\"***\",\"symbol\":\"BTCUSDT\",\"timestamp\":{g.ts()},\"signature\":\"{g.hex(64)}\"}}}}\n"
        for i in range(1, 4)
    )
    return Spec("logs/ws-api.log", lines)


@negative("masked_keys_in_bot_startup_log", "context")
def _(g: Gen) -> Spec:
    k = g.key()
    text = (
        "2024-05-17 08:01:12 INFO  starting\n"
        f"2024-05-17 08:01:12 INFO  Binance API key: {k[:6]}{'*' * 52}{k[-6:]}\n"
        f"2024-05-17 08:01:12 INFO  Binance secret:  {'*' * 64}\n"
        f"2024-05-17 08:01:12 INFO  key fingerprint sha256:{g.b64(32).rstrip('=')}\n"
    )
    return Spec("logs/startup.log", text)


@negative("github_pat_and_npm_in_release_script", "shape")
def _(g: Gen) -> Spec:
    text = (
        "#!/bin/sh\n"
        f"export GH_TOKEN=github_pat_{g.alnum(22)}_{g.alnum(59)}\n"
        f"export NPM_TOKEN=npm_{g.alnum(36)}\n"
        "npm publish --access public\n"
    )
    return Spec("scripts/release.sh", text)


# --------------------------------------------------------------------------------------------
# assembly


def build_holdout3(seed: int, *, crypto: bool | None = None) -> list[HoldoutFile]:
    """Every context once, with fresh secrets drawn from ``seed``."""
    use_crypto = CRYPTO if crypto is None else (crypto and CRYPTO)
    return _REGISTRY.build(Gen(seed), "k", use_crypto)
