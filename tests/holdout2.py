"""A SECOND HOLDOUT corpus for keytrap: contexts neither tests/corpus.py nor tests/holdout.py has.

``tests/corpus.py``, ``tests/holdout.py`` and ``fixtures/`` were all used to tune the engine, so
they no longer measure it honestly. This module was written against them only to *avoid* their
templates: every context below is a file shape none of them contains (Elixir/Erlang config,
HOCON, EDN, Lua, R, MATLAB, PowerShell ``$env:``, .bat, Makefile, CMake, Nix, Dart, Julia, Perl,
Haskell, OCaml, Zig, Jenkinsfile, CircleCI/Travis/Azure Pipelines, Vault KV, 1Password CSV,
localStorage dumps, HAR, raw HTTP, e-mail, SQL, mongoexport, Redis MONITOR, .reg, plist, ...).

Conventions are those of ``tests/holdout.py``: ``build_holdout2(seed)`` returns ``HoldoutFile``
records, each a realistic file plus one ``Truth(path, line, kind)`` per secret a careful human
reviewing a Binance key leak would report. Kinds come from the context (field name, column
header, sentence, the order Binance shows them in).

Secrets are generated fresh from the seed (with a salt different from ``holdout.py``'s, so the
same seed gives different keys). No key-shaped literal lives in this file except Binance's
public documentation example pair (``DOC_API_KEY``/``DOC_SECRET_KEY``), which only appears where
it must NOT be reported.

Negatives carry a ``hardness`` tag:

* ``shape``   -- a careful scanner can reject the token by its shape alone (hex, length,
  alphabet, padding, separators, encoded binary);
* ``context`` -- the token is 64 characters of [A-Za-z0-9] (or a real private key) exactly like
  a Binance secret; only the words around it say it is something else.
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
    SALT = (104729, 2)  # not holdout.py's salt


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


@positive("elixir_runtime_exs")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "import Config\n\n"
        "config :ledger, Ledger.Repo,\n"
        '  url: System.get_env("DATABASE_URL"),\n'
        "  pool_size: 10\n\n"
        "config :ledger, :binance,\n"
        f'  api_key: "{k}",\n'
        f'  secret_key: "{s}",\n'
        '  base_url: "https://api.binance.com"\n'
    )
    return Spec("config/runtime.exs", text, [(k, A), (s, S)])


@positive("erlang_sys_config")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "%% -*- mode: erlang -*-\n"
        "[\n"
        " {kernel, [{logger_level, info}]},\n"
        " {mm_bot, [\n"
        "   {exchange, binance},\n"
        f'   {{api_key, "{k}"}},\n'
        f'   {{api_secret, <<"{s}">>}},\n'
        "   {symbols, [<<\"BTCUSDT\">>, <<\"ETHUSDT\">>]}\n"
        " ]}\n"
        "].\n"
    )
    return Spec("config/sys.config", text, [(k, A), (s, S)])


@positive("play_hocon_application_conf")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        'play.http.secret.key = ${?APPLICATION_SECRET}\n'
        'play.i18n.langs = [ "en" ]\n\n'
        "binance {\n"
        '  base-url = "https://api.binance.com"\n'
        f'  api-key = "{k}"\n'
        f'  api-key = ${{?BINANCE_API_KEY}}\n'
        f"  secret-key = {s}\n"
        "  recv-window = 5s\n"
        "}\n"
    )
    return Spec("conf/application.conf", text, [(k, A), (s, S)])


@positive("clojure_edn_config")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "{:http {:port 3000}\n"
        " :db   {:jdbc-url \"jdbc:postgresql://localhost/ticks\"}\n"
        " :exchange {:name    :binance\n"
        f'            :api-key "{k}"\n'
        f'            :secret  "{s}"}}}}\n'
    )
    return Spec("resources/config.edn", text, [(k, A), (s, S)])


@positive("lua_table_config")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "-- config.lua for the OpenResty price relay\n"
        "local M = {}\n\n"
        "M.binance = {\n"
        '  rest = "https://api.binance.com",\n'
        f'  apiKey = "{k}",\n'
        f"  apiSecret = '{s}',\n"
        "}\n\n"
        "return M\n"
    )
    return Spec("lua/config.lua", text, [(k, A), (s, S)])


@positive("r_binancer_credentials")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "library(binancer)\n"
        "library(data.table)\n\n"
        f"binance_credentials('{k}',\n"
        f"                    '{s}')\n\n"
        "balances <- binance_balances()\n"
        "print(balances[usd > 1])\n"
    )
    return Spec("analysis/portfolio.R", text, [(k, A), (s, S)])


@positive("r_rprofile_sys_setenv")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        'options(repos = c(CRAN = "https://cloud.r-project.org"))\n'
        "Sys.setenv(\n"
        f'  BINANCE_KEY = "{k}",\n'
        f'  BINANCE_SECRET = "{s}"\n'
        ")\n"
        "message('Rprofile loaded')\n"
    )
    return Spec(".Rprofile", text, [(k, A), (s, S)])


@positive("matlab_weboptions")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "%% Binance account snapshot\n"
        f"apiKey    = '{k}';\n"
        f"secretKey = '{s}';\n"
        "ts = num2str(posixtime(datetime('now','TimeZone','UTC'))*1000, '%.0f');\n"
        "query = ['timestamp=' ts];\n"
        "sig = lower(dec2hex(HMAC(secretKey, query, 'SHA-256')))';\n"
        "opts = weboptions('HeaderFields', {'X-MBX-APIKEY', apiKey});\n"
        "acct = webread(['https://api.binance.com/api/v3/account?' query '&signature=' sig(:)'], opts);\n"
    )
    return Spec("matlab/account_snapshot.m", text, [(k, A), (s, S)])


@positive("powershell_env_drive")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# dev.ps1 -- run the bot locally\n"
        "Set-Location $PSScriptRoot\n"
        f'$env:BINANCE_API_KEY = "{k}"\n'
        f"$env:BINANCE_API_SECRET = '{s}'\n"
        ".\\.venv\\Scripts\\Activate.ps1\n"
        "python -m bot --paper\n"
    )
    return Spec("scripts/dev.ps1", text, [(k, A), (s, S)])


@positive("windows_bat_set")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "@echo off\r\n"
        "REM start the Binance DCA bot\r\n"
        "setlocal\r\n"
        f"set BINANCE_API_KEY={k}\r\n"
        f'set "BINANCE_API_SECRET={s}"\r\n'
        "cd /d %~dp0\r\n"
        "node dca.js\r\n"
        "endlocal\r\n"
    )
    return Spec("start-bot.bat", text, [(k, A), (s, S)])


@positive("makefile_variables")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        ".PHONY: run test\n\n"
        f"BINANCE_API_KEY ?= {k}\n"
        f"BINANCE_API_SECRET := {s}\n"
        "export BINANCE_API_KEY BINANCE_API_SECRET\n\n"
        "run:\n"
        "\tgo run ./cmd/bot\n\n"
        "test:\n"
        "\tgo test ./...\n"
    )
    return Spec("Makefile", text, [(k, A), (s, S)])


@positive("cmake_cache_definitions")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "cmake_minimum_required(VERSION 3.20)\n"
        "project(hft_gateway CXX)\n\n"
        f'set(BINANCE_API_KEY "{k}" CACHE STRING "Binance API key")\n'
        f'set(BINANCE_SECRET_KEY "{s}" CACHE STRING "Binance secret")\n\n'
        "add_executable(gateway src/main.cpp)\n"
        'target_compile_definitions(gateway PRIVATE BINANCE_API_KEY="${BINANCE_API_KEY}"\n'
        '                                           BINANCE_SECRET_KEY="${BINANCE_SECRET_KEY}")\n'
    )
    return Spec("CMakeLists.txt", text, [(k, A), (s, S)])


@positive("nixos_module_environment")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "{ config, pkgs, ... }:\n"
        "{\n"
        "  systemd.services.binance-bot = {\n"
        '    description = "Binance grid bot";\n'
        '    wantedBy = [ "multi-user.target" ];\n'
        "    environment = {\n"
        f'      BINANCE_API_KEY = "{k}";\n'
        f'      BINANCE_API_SECRET = "{s}";\n'
        "    };\n"
        '    serviceConfig.ExecStart = "${pkgs.python3}/bin/python /srv/bot/main.py";\n'
        "  };\n"
        "}\n"
    )
    return Spec("hosts/vps/bot.nix", text, [(k, A), (s, S)])


@positive("dart_flutter_constants")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "// lib/env.dart\n"
        "class Env {\n"
        "  static const String binanceBaseUrl = 'https://api.binance.com';\n"
        f"  static const String binanceApiKey = '{k}';\n"
        f"  static const String binanceSecretKey = '{s}';\n"
        "}\n"
    )
    return Spec("lib/env.dart", text, [(k, A), (s, S)])


@positive("julia_env_and_const")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "using HTTP, JSON3, SHA\n\n"
        f'ENV["BINANCE_API_KEY"] = "{k}"\n'
        f'ENV["BINANCE_API_SECRET"] = "{s}"\n\n'
        "function signed(q)\n"
        '    sig = bytes2hex(hmac_sha256(Vector{UInt8}(ENV["BINANCE_API_SECRET"]), q))\n'
        '    return q * "&signature=" * sig\n'
        "end\n"
    )
    return Spec("src/Binance.jl", text, [(k, A), (s, S)])


@positive("perl_script")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "#!/usr/bin/env perl\n"
        "use strict;\nuse warnings;\n"
        "use Digest::SHA qw(hmac_sha256_hex);\n"
        "use LWP::UserAgent;\n\n"
        f"my $api_key    = '{k}';\n"
        f'my $api_secret = "{s}";\n'
        "my $q   = 'timestamp=' . int(time * 1000);\n"
        "my $sig = hmac_sha256_hex($q, $api_secret);\n"
        "my $ua  = LWP::UserAgent->new;\n"
        "my $res = $ua->get(\"https://api.binance.com/api/v3/account?$q&signature=$sig\", 'X-MBX-APIKEY' => $api_key);\n"
        "print $res->decoded_content;\n"
    )
    return Spec("bin/balance.pl", text, [(k, A), (s, S)])


@positive("haskell_record")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "{-# LANGUAGE OverloadedStrings #-}\n"
        "module Config where\n\n"
        "import Binance.Types (Credentials (..))\n\n"
        "credentials :: Credentials\n"
        "credentials = Credentials\n"
        f'  {{ apiKey    = "{k}"\n'
        f'  , secretKey = "{s}"\n'
        "  }\n"
    )
    return Spec("src/Config.hs", text, [(k, A), (s, S)])


@positive("ocaml_let_bindings")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "(* binance credentials for the market maker *)\n"
        f'let api_key = "{k}"\n'
        f'let secret_key = "{s}"\n\n'
        "let sign query = Digestif.SHA256.(hmac_string ~key:secret_key query |> to_hex)\n"
    )
    return Spec("bin/creds.ml", text, [(k, A), (s, S)])


@positive("zig_consts")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        'const std = @import("std");\n\n'
        'pub const binance_host = "api.binance.com";\n'
        f'pub const api_key = "{k}";\n'
        f'pub const api_secret = "{s}";\n'
    )
    return Spec("src/secrets.zig", text, [(k, A), (s, S)])


@positive("jenkinsfile_environment_block")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "pipeline {\n"
        "  agent { docker { image 'python:3.12' } }\n"
        "  environment {\n"
        f"    BINANCE_API_KEY    = '{k}'\n"
        f"    BINANCE_API_SECRET = '{s}'\n"
        "    PYTHONUNBUFFERED   = '1'\n"
        "  }\n"
        "  stages {\n"
        "    stage('Integration') {\n"
        "      steps { sh 'pytest -m binance_testnet' }\n"
        "    }\n"
        "  }\n"
        "}\n"
    )
    return Spec("Jenkinsfile", text, [(k, A), (s, S)])


@positive("android_gradle_buildconfigfield")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "android {\n"
        "    defaultConfig {\n"
        '        applicationId "com.example.cryptowatch"\n'
        "        minSdk 24\n"
        f'        buildConfigField "String", "BINANCE_API_KEY", "\\"{k}\\""\n'
        f'        buildConfigField "String", "BINANCE_SECRET_KEY", "\\"{s}\\""\n'
        "    }\n"
        "}\n"
    )
    return Spec("app/build.gradle", text, [(k, A), (s, S)])


@positive("circleci_job_environment")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "version: 2.1\n"
        "jobs:\n"
        "  backtest:\n"
        "    docker:\n"
        "      - image: cimg/python:3.12\n"
        "    environment:\n"
        f"      BINANCE_API_KEY: {k}\n"
        f"      BINANCE_API_SECRET: {s}\n"
        "    steps:\n"
        "      - checkout\n"
        "      - run: pip install -r requirements.txt && python backtest.py\n"
        "workflows:\n"
        "  nightly:\n"
        "    jobs: [backtest]\n"
    )
    return Spec(".circleci/config.yml", text, [(k, A), (s, S)])


@positive("travis_env_global")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "language: node_js\n"
        "node_js: [20]\n"
        "env:\n"
        "  global:\n"
        f"    - BINANCE_APIKEY={k}\n"
        f"    - BINANCE_APISECRET={s}\n"
        "script: npm test\n"
    )
    return Spec(".travis.yml", text, [(k, A), (s, S)])


@positive("azure_pipelines_name_value")
def _(g: Gen) -> Spec:
    # the name is on the line above the value
    k, s = g.pair()
    text = (
        "trigger: [main]\n"
        "pool:\n"
        "  vmImage: ubuntu-latest\n"
        "variables:\n"
        "  - name: BINANCE_API_KEY\n"
        f"    value: {k}\n"
        "  - name: BINANCE_API_SECRET\n"
        f"    value: {s}\n"
        "  - group: shared-settings\n"
        "steps:\n"
        "  - script: python -m bot.smoke\n"
    )
    return Spec("azure-pipelines.yml", text, [(k, A), (s, S)])


@positive("bitbucket_pipelines_inline_export")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "image: python:3.11\n"
        "pipelines:\n"
        "  default:\n"
        "    - step:\n"
        "        name: Testnet orders\n"
        "        script:\n"
        "          - pip install python-binance pytest\n"
        f'          - BINANCE_TESTNET_KEY="{k}" BINANCE_TESTNET_SECRET="{s}" pytest tests/live\n'
    )
    return Spec("bitbucket-pipelines.yml", text, [(k, A), (s, S)])


@positive("vault_kv_get_json", crypto=True)
def _(g: Gen) -> Spec:
    k = g.key()
    pem = g.ed25519_pem()
    doc = {
        "request_id": g.uuid(),
        "lease_id": "",
        "lease_duration": 0,
        "renewable": False,
        "data": {
            "data": {"api_key": k, "private_key": pem},
            "metadata": {
                "created_time": "2024-04-02T09:14:55.123456Z",
                "deletion_time": "",
                "destroyed": False,
                "version": 3,
            },
        },
        "warnings": None,
    }
    return Spec("ops/vault-binance.json", json.dumps(doc, indent=2) + "\n",
                [(k, A), ("-----BEGIN PRIVATE KEY-----", P)])


@positive("onepassword_csv_export")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        '"Title","Website","Username","Password","Notes","Type"\n'
        f'"GitHub","https://github.com","trader-sam","{g.chars(ALNUM + "!#%", 20)}","","Login"\n'
        f'"Binance API (bot)","https://www.binance.com","{k}","{s}","username = API key, password = secret key","Login"\n'
    )
    return Spec("backup/1Password-export.csv", text, [(k, A), (s, S)])


@positive("browser_localstorage_dump")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    doc = {
        "origin": "http://localhost:5173",
        "localStorage": {
            "theme": "dark",
            "tradingview.chartproperties": json.dumps({"paneProperties": {"background": "#131722"}}),
            "binance.apiKey": k,
            "binance.apiSecret": s,
            "lastSymbol": "BTCUSDT",
        },
    }
    return Spec("debug/localStorage.json", json.dumps(doc, indent=2) + "\n", [(k, A), (s, S)])


@positive("discord_bot_config")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    bot_id = base64.b64encode(str(g.int(10**17, 10**18)).encode()).decode().rstrip("=")
    doc = {
        "token": f"{bot_id}.{g.b64url(5)[:6]}.{g.b64url(28)[:38]}",
        "prefix": "!",
        "alertChannel": str(g.int(10**17, 10**18)),
        "binance": {"key": k, "secret": s},
    }
    return Spec("discord-bot/config.json", json.dumps(doc, indent=2) + "\n", [(k, A), (s, S)])


@positive("telegram_bot_toml")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "[telegram]\n"
        f'token = "{g.int(10**9, 10**10)}:AA{g.b64url(25)[:33]}"\n'
        f"chat_id = -100{g.int(10**9, 10**10)}\n\n"
        "[binance]\n"
        f'key = "{k}"\n'
        f'secret = "{s}"\n'
    )
    return Spec("signals/bot.toml", text, [(k, A), (s, S)])


@positive("excel_spreadsheetml_cells")
def _(g: Gen) -> Spec:
    # column headers are in the row above; each cell on its own line
    k, s = g.pair()
    text = (
        '<?xml version="1.0"?>\n'
        '<?mso-application progid="Excel.Sheet"?>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"\n'
        ' xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">\n'
        ' <Worksheet ss:Name="Binance">\n'
        "  <Table>\n"
        "   <Row>\n"
        '    <Cell><Data ss:Type="String">Label</Data></Cell>\n'
        '    <Cell><Data ss:Type="String">API Key</Data></Cell>\n'
        '    <Cell><Data ss:Type="String">Secret Key</Data></Cell>\n'
        "   </Row>\n"
        "   <Row>\n"
        '    <Cell><Data ss:Type="String">fund-main</Data></Cell>\n'
        f'    <Cell><Data ss:Type="String">{k}</Data></Cell>\n'
        f'    <Cell><Data ss:Type="String">{s}</Data></Cell>\n'
        "   </Row>\n"
        "  </Table>\n"
        " </Worksheet>\n"
        "</Workbook>\n"
    )
    return Spec("exports/keys.xml", text, [(k, A), (s, S)])


@positive("har_request_header")
def _(g: Gen) -> Spec:
    k = g.key()
    ts = g.ts()
    doc = {
        "log": {
            "version": "1.2",
            "creator": {"name": "Firefox", "version": "125.0"},
            "entries": [
                {
                    "startedDateTime": "2024-04-20T10:11:12.345+02:00",
                    "request": {
                        "method": "GET",
                        "url": f"https://api.binance.com/api/v3/openOrders?timestamp={ts}&signature={g.hex(64)}",
                        "httpVersion": "HTTP/2",
                        "headers": [
                            {"name": "Accept", "value": "application/json"},
                            {"name": "X-MBX-APIKEY", "value": k},
                        ],
                        "queryString": [{"name": "timestamp", "value": str(ts)}],
                    },
                    "response": {"status": 200, "statusText": "OK"},
                }
            ],
        }
    }
    return Spec("debug/binance.har", json.dumps(doc, indent=2) + "\n", [(k, A)])


@positive("raw_http_follow_stream")
def _(g: Gen) -> Spec:
    k = g.key()
    body = f"symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=25&timestamp={g.ts()}"
    text = (
        "POST /api/v3/order HTTP/1.1\r\n"
        "Host: api.binance.com\r\n"
        "User-Agent: python-requests/2.31.0\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-MBX-APIKEY: {k}\r\n"
        f"Content-Length: {len(body) + 75}\r\n"
        "\r\n"
        f"{body}&signature={g.hex(64)}"
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json;charset=UTF-8\r\n"
        "\r\n"
        f'{{"symbol":"BTCUSDT","orderId":{g.int(10**10, 10**11)},"status":"FILLED"}}\r\n'
    )
    return Spec("captures/order-stream.txt", text, [(k, A)])


@positive("email_eml_pasted")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "Return-Path: <ops@fund.example>\n"
        f"Message-ID: <{g.hex(16)}@mail.fund.example>\n"
        "Date: Tue, 09 Apr 2024 16:02:11 +0200\n"
        "From: Ops <ops@fund.example>\n"
        "To: dev@contractor.example\n"
        "Subject: creds for the exchange integration\n"
        "MIME-Version: 1.0\n"
        'Content-Type: text/plain; charset="UTF-8"\n'
        "Content-Transfer-Encoding: 7bit\n\n"
        "Hi,\n\n"
        "as discussed, here is the read-only pair for the Binance sub-account:\n\n"
        f"API Key: {k}\n"
        f"Secret Key: {s}\n\n"
        "Please don't commit them.\n"
        "-- \nOps\n"
    )
    return Spec("mail/creds.eml", text, [(k, A), (s, S)])


@positive("sql_insert_api_keys")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    k2, s2 = g.pair()
    text = (
        "-- seed data for the staging database\n"
        "INSERT INTO exchange_api_keys (user_id, exchange, api_key, api_secret, created_at) VALUES\n"
        f"  (17, 'binance', '{k}', '{s}', '2024-03-01 10:00:00'),\n"
        f"  (42, 'binance', '{k2}', '{s2}', '2024-03-02 11:30:00');\n"
    )
    return Spec("db/seeds/002_api_keys.sql", text, [(k, A), (s, S), (k2, A), (s2, S)])


@positive("mongoexport_jsonl")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    rows = [
        {"_id": {"$oid": g.hex(24)}, "userId": {"$oid": g.hex(24)}, "exchange": "binance",
         "apiKey": k, "apiSecret": s, "createdAt": {"$date": "2024-03-01T10:00:00.000Z"}},
        {"_id": {"$oid": g.hex(24)}, "userId": {"$oid": g.hex(24)}, "exchange": "kraken",
         "apiKey": g.b64(42)[:56], "apiSecret": g.b64(64), "createdAt": {"$date": "2024-03-03T12:00:00.000Z"}},
    ]
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
    return Spec("dump/exchange_accounts.json", text, [(k, A), (s, S)])


@positive("redis_monitor_hset")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    t = 1712000000 + g.int(0, 10**6)
    text = (
        "OK\n"
        f'{t}.101223 [0 172.18.0.5:41822] "PING"\n'
        f'{t}.204511 [0 172.18.0.5:41822] "HSET" "user:1042:exchange:binance" "api_key" "{k}" "api_secret" "{s}"\n'
        f'{t}.204980 [0 172.18.0.5:41822] "EXPIRE" "user:1042:exchange:binance" "2592000"\n'
    )
    return Spec("debug/redis-monitor.log", text, [(k, A), (s, S)])


@positive("systemd_setcredential")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "[Unit]\nDescription=Binance futures hedger\n\n"
        "[Service]\n"
        "DynamicUser=yes\n"
        f"SetCredential=binance_api_key:{k}\n"
        f"SetCredential=binance_api_secret:{s}\n"
        "ExecStart=/usr/local/bin/hedger --creds-dir ${CREDENTIALS_DIRECTORY}\n"
    )
    return Spec("deploy/hedger.service", text, [(k, A), (s, S)])


@positive("windows_registry_export")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_CURRENT_USER\\Software\\TradeStation Bridge\\Binance]\r\n"
        f'"ApiKey"="{k}"\r\n'
        f'"ApiSecret"="{s}"\r\n'
        '"Testnet"=dword:00000000\r\n'
    )
    return Spec("backup/bridge.reg", text, [(k, A), (s, S)])


@positive("plist_key_string")
def _(g: Gen) -> Spec:
    # Apple plists put the name in <key> on the line above the <string>
    k, s = g.pair()
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
        '<plist version="1.0">\n'
        "<dict>\n"
        "\t<key>BinanceAPIKey</key>\n"
        f"\t<string>{k}</string>\n"
        "\t<key>BinanceSecretKey</key>\n"
        f"\t<string>{s}</string>\n"
        "\t<key>RefreshInterval</key>\n"
        "\t<integer>15</integer>\n"
        "</dict>\n"
        "</plist>\n"
    )
    return Spec("PortfolioBar/Secrets.plist", text, [(k, A), (s, S)])


@positive("java_properties_unicode_escapes")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "# Konfiguration f\\u00fcr den Binance-Handelsroboter\n"
        "app.titel=Handelsroboter \\u00dcbersicht\n"
        "# API-Schl\\u00fcssel (nicht weitergeben!)\n"
        f"binance.apiSchluessel={k}\n"
        f"binance.geheimerSchluessel={s}\n"
    )
    return Spec("src/main/resources/messages_de.properties", text, [(k, A), (s, S)])


@positive("yaml_anchor_alias")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "x-binance-creds: &binance_creds\n"
        f"  api_key: {k}\n"
        f"  api_secret: {s}\n\n"
        "bots:\n"
        "  grid:\n"
        "    <<: *binance_creds\n"
        "    symbol: BTCUSDT\n"
        "  dca:\n"
        "    <<: *binance_creds\n"
        "    symbol: ETHUSDT\n"
    )
    return Spec("bots.yaml", text, [(k, A), (s, S)])


@positive("json5_with_comments")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "// config.json5\n"
        "{\n"
        "  exchange: 'binance', // spot only\n"
        "  /* rotate monthly */\n"
        f"  apiKey: '{k}',\n"
        f'  secretKey: "{s}",\n'
        "  pairs: ['BTC/USDT', 'ETH/USDT',],\n"
        "}\n"
    )
    return Spec("config.json5", text, [(k, A), (s, S)])


@positive("hjson_unquoted")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "{\n"
        "  # Binance credentials\n"
        "  binance: {\n"
        f"    key: {k}\n"
        f"    secret: {s}\n"
        "  }\n"
        "  interval: 1m\n"
        "}\n"
    )
    return Spec("settings.hjson", text, [(k, A), (s, S)])


@positive("terraform_heredoc_rsa_pem")
def _(g: Gen) -> Spec:
    k = g.key()
    pem = g.rsa_like_pem()
    text = (
        f'binance_api_key = "{k}"\n'
        "binance_private_key = <<-EOT\n"
        + "".join("    " + ln + "\n" for ln in pem.strip().split("\n"))
        + "  EOT\n"
        'region = "ap-northeast-1"\n'
    )
    return Spec("envs/prod/terraform.tfvars", text, [(k, A), ("-----BEGIN PRIVATE KEY-----", P)])


@positive("ruby_heredoc_ed25519", crypto=True)
def _(g: Gen) -> Spec:
    k = g.key()
    pem = g.ed25519_pem()
    text = (
        "require 'binance'\n\n"
        "PRIVATE_KEY = <<~PEM\n"
        + pem
        + "PEM\n\n"
        f"client = Binance::Spot.new(key: '{k}', private_key: PRIVATE_KEY)\n"
        "puts client.account\n"
    )
    return Spec("scripts/ed25519_account.rb", text, [("-----BEGIN PRIVATE KEY-----", P), (k, A)])


@positive("consul_kv_export_base64")
def _(g: Gen) -> Spec:
    # `consul kv export bots/`: values are base64; the name is the last path segment of "key"
    k, s = g.pair()
    ek, es = base64.b64encode(k.encode()).decode(), base64.b64encode(s.encode()).decode()
    rows = [
        {"key": "bots/binance/api_key", "flags": 0, "value": ek},
        {"key": "bots/binance/api_secret", "flags": 0, "value": es},
        {"key": "bots/binance/symbols", "flags": 0, "value": base64.b64encode(b"BTCUSDT,ETHUSDT").decode()},
    ]
    return Spec("ops/consul-kv.json", json.dumps(rows, indent="\t") + "\n", [(ek, A), (es, S)])


@positive("vault_kv_get_table")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        "$ vault kv get secret/trading/binance\n"
        "======= Secret Path =======\n"
        "secret/data/trading/binance\n\n"
        "======= Metadata =======\n"
        "Key                Value\n"
        "---                -----\n"
        "created_time       2024-04-02T09:14:55.123456Z\n"
        "version            4\n\n"
        "====== Data ======\n"
        "Key           Value\n"
        "---           -----\n"
        f"api_key       {k}\n"
        f"secret_key    {s}\n"
    )
    return Spec("notes/vault-session.txt", text, [(k, A), (s, S)])


@positive("binance_web_copy_paste")
def _(g: Gen) -> Spec:
    # text copied from Binance's API Management page right after creating a key
    k, s = g.pair()
    text = (
        "Binance - API Management\n"
        "Label: grid-bot-2024\n\n"
        "API Key\n"
        f"{k}\n"
        "Secret Key\n"
        f"{s}\n"
        "For security, the Secret Key is only shown once.\n"
    )
    return Spec("notes/binance-new-key.txt", text, [(k, A), (s, S)])


@positive("netrc_machine")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        f"machine github.com login trader-sam password ghp_{g.alnum(36)}\n"
        f"machine api.binance.com login {k} password {s}\n"
    )
    return Spec("home/.netrc", text, [(k, A), (s, S)])


@positive("sql_insert_secret_first")
def _(g: Gen) -> Spec:
    k, s = g.pair()
    text = (
        'INSERT INTO "bots_exchangeaccount" ("id", "owner_id", "exchange", "secret_key", "api_key", "testnet")\n'
        f"VALUES (3, 1, 'binance', '{s}', '{k}', false);\n"
    )
    return Spec("db/fixtures/accounts.sql", text, [(s, S), (k, A)])


@positive("ccxt_verbose_log")
def _(g: Gen) -> Spec:
    k = g.key()
    ts = g.ts()
    text = (
        f"fetch Request: binance GET https://api.binance.com/api/v3/account?timestamp={ts}&recvWindow=10000&signature={g.hex(64)} "
        f"RequestHeaders: {{'X-MBX-APIKEY': '{k}', 'Content-Type': 'application/x-www-form-urlencoded', "
        "'User-Agent': 'python-requests/2.31.0'} RequestBody: None\n"
        "fetch Response: binance GET https://api.binance.com/api/v3/account 200 ResponseHeaders: "
        "{'Content-Type': 'application/json;charset=UTF-8', 'x-mbx-used-weight-1m': '20'}\n"
    )
    return Spec("logs/ccxt-verbose.log", text, [(k, A)])


@positive("nginx_access_log_query")
def _(g: Gen) -> Spec:
    # a settings form submitted with GET: the keys end up in the query string
    k, s = g.pair()
    ip = f"203.0.113.{g.int(2, 250)}"
    text = (
        f'{ip} - - [02/Apr/2024:10:11:12 +0000] "GET /settings HTTP/1.1" 200 5120 "-" "Mozilla/5.0"\n'
        f'{ip} - - [02/Apr/2024:10:11:40 +0000] "GET /settings/save?exchange=binance&api_key={k}&api_secret={s} HTTP/1.1" 302 0 "-" "Mozilla/5.0"\n'
    )
    return Spec("logs/nginx/access.log", text, [(k, A), (s, S)])


# ============================================================================================
# NEGATIVES


@negative("video_asset_ids_in_urls", "context")
def _(g: Gen) -> Spec:
    rows = []
    for _ in range(3):
        vid, aid = g.key(), g.key()
        rows.append(
            f"  - video_id: {vid}\n"
            f"    asset_id: {aid}\n"
            f"    hls: https://stream.example-cdn.com/v/{vid}/master.m3u8\n"
            f"    thumb: https://img.example-cdn.com/a/{aid}/poster.jpg\n"
        )
    text = "# course videos (lesson 4: placing your first Binance order)\nvideos:\n" + "".join(rows)
    return Spec("content/videos.yml", text)


@negative("ml_config_seed_hash", "context")
def _(g: Gen) -> Spec:
    text = (
        "# hydra config: LSTM on Binance BTCUSDT 1m klines\n"
        "data:\n"
        "  source: binance\n"
        "  symbol: BTCUSDT\n"
        "  interval: 1m\n"
        "train:\n"
        "  epochs: 40\n"
        "  lr: 3.0e-4\n"
        f"  seed_hash: {g.key()}\n"
        f"  dataset_fingerprint: {g.key()}\n"
        f"run_id: {g.hex(32)}\n"
    )
    return Spec("conf/experiment/lstm.yaml", text)


@negative("k8s_serviceaccount_token_ci_log", "shape")
def _(g: Gen) -> Spec:
    tok = g.jwt({"aud": ["https://kubernetes.default.svc"], "exp": 1712003600,
                 "iss": "https://kubernetes.default.svc",
                 "sub": "system:serviceaccount:trading:binance-bot"})
    text = (
        "$ kubectl -n trading create token binance-bot --duration=1h\n"
        f"{tok}\n"
        "$ kubectl -n trading rollout restart deploy/binance-bot\n"
        "deployment.apps/binance-bot restarted\n"
    )
    return Spec("ci/logs/deploy-4411.txt", text)


@negative("terraform_state_random_string", "context")
def _(g: Gen) -> Spec:
    doc = {
        "version": 4,
        "terraform_version": "1.7.5",
        "serial": 12,
        "lineage": g.uuid(),
        "resources": [
            {"mode": "managed", "type": "random_string", "name": "webhook_token", "provider":
             'provider["registry.terraform.io/hashicorp/random"]',
             "instances": [{"schema_version": 2, "attributes": {
                 "id": (w := g.key()), "length": 64, "lower": True, "numeric": True,
                 "special": False, "upper": True, "result": w}}]},
            {"mode": "managed", "type": "aws_security_group", "name": "bot", "provider":
             'provider["registry.terraform.io/hashicorp/aws"]',
             "instances": [{"schema_version": 1, "attributes": {
                 "id": f"sg-0{g.hex(16)}", "name": "binance-bot", "vpc_id": f"vpc-0{g.hex(16)}"}}]},
        ],
    }
    return Spec("infra/terraform.tfstate", json.dumps(doc, indent=2) + "\n")


@negative("bitcoin_xpubs_wallet_export", "shape")
def _(g: Gen) -> Spec:
    text = (
        "# watch-only wallet for withdrawals from Binance\n"
        f"xpub: xpub6{g.chars(B58, 106)}\n"
        f"zpub: zpub6{g.chars(B58, 106)}\n"
        f"fingerprint: {g.hex(8)}\n"
        "derivation: m/84'/0'/0'\n"
    )
    return Spec("wallet/watch-only.yaml", text)


@negative("monero_wallet_keys", "shape")
def _(g: Gen) -> Spec:
    text = (
        "Monero wallet (withdrawal target for Binance XMR)\n"
        f"Address: 4{g.chars(B58, 94)}\n"
        f"View key (private): {g.hex(64)}\n"
        f"Spend key (public): {g.hex(64)}\n"
        "Restore height: 3100000\n"
    )
    return Spec("wallet/xmr.txt", text)


@negative("nostr_price_bot_config", "shape")
def _(g: Gen) -> Spec:
    doc = {
        "relays": ["wss://relay.damus.io", "wss://nos.lol"],
        "source": "binance:BTCUSDT",
        "npub": "npub1" + g.chars(BECH32, 58),
        "nsec": "nsec1" + g.chars(BECH32, 58),
        "post_every_minutes": 60,
    }
    return Spec("nostr-ticker/config.json", json.dumps(doc, indent=2) + "\n")


@negative("age_and_ssh_identities", "shape")
def _(g: Gen) -> Spec:
    text = (
        f"# created: 2024-03-01T10:00:00Z\n"
        f"# public key: age1{g.chars(BECH32, 58)}\n"
        f"AGE-SECRET-KEY-1{g.chars(BECH32.upper(), 58)}\n"
        f"# deploy: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{g.b64(32)[:43]} deploy@binance-bot\n"
    )
    return Spec("secrets/keys.txt", text)


@negative("django_fixture_password_hashes", "shape")
def _(g: Gen) -> Spec:
    def b64nopad(n: int) -> str:
        return base64.b64encode(g.raw(n)).decode().rstrip("=")

    rows = [
        {"model": "auth.user", "pk": 1, "fields": {"username": "admin",
         "password": f"pbkdf2_sha256$720000${g.alnum(22)}${g.b64(32)}"}},
        {"model": "auth.user", "pk": 2, "fields": {"username": "trader",
         "password": f"argon2$argon2id$v=19$m=102400,t=2,p=8${b64nopad(16)}${b64nopad(32)}"}},
        {"model": "auth.user", "pk": 3, "fields": {"username": "bot",
         "password": f"bcrypt_sha256$$2b$12${g.chars(ALNUM + './', 53)}"}},
    ]
    return Spec("portfolio/fixtures/users.json", json.dumps(rows, indent=2) + "\n")


@negative("nginx_csp_sha256", "shape")
def _(g: Gen) -> Spec:
    text = (
        "server {\n"
        "  server_name dash.example.com;  # Binance portfolio dashboard\n"
        "  add_header Content-Security-Policy \"default-src 'self'; "
        f"script-src 'self' 'sha256-{g.b64(32)}' 'sha384-{g.b64(48)}'; "
        "connect-src 'self' wss://stream.binance.com:9443\" always;\n"
        "}\n"
    )
    return Spec("nginx/dash.conf", text)


@negative("content_addressed_cache_paths", "shape")
def _(g: Gen) -> Spec:
    text = "".join(
        f"{g.int(1000, 90000):>8}  /home/ci/.cache/bazel/_bazel_ci/cache/repos/v1/content_addressable/sha256/{g.hex(64)}/file\n"
        for _ in range(4)
    ) + f"   4096  /srv/hugo/resources/_gen/assets/scss/main.scss_{g.hex(32)}.content\n"
    return Spec("ci/du-cache.txt", text)


@negative("unity_meta_and_unreal_guids", "shape")
def _(g: Gen) -> Spec:
    text = (
        "fileFormatVersion: 2\n"
        f"guid: {g.hex(32)}\n"
        "MonoImporter:\n"
        "  externalObjects: {}\n"
        "  serializedVersion: 2\n"
        f"  # Unreal: PackageGuid={{{g.uuid().upper()}}} PersistentGuid={g.hex(32).upper()}\n"
    )
    return Spec("Assets/Scripts/BinanceTicker.cs.meta", text)


@negative("payment_provider_ids", "shape")
def _(g: Gen) -> Spec:
    text = (
        "# checkout for the premium signals plan (paid in USDT via Binance Pay or card)\n"
        f"STRIPE_PUBLISHABLE_KEY=pk_live_51{g.alnum(97)}\n"
        f"STRIPE_PRICE_ID=price_1{g.alnum(23)}\n"
        f"PAYPAL_CLIENT_ID=A{g.chars(B64URL, 79)}\n"
        f"ADYEN_MERCHANT_ACCOUNT=SignalsECOM\n"
        f"ADYEN_CLIENT_KEY=live_{g.chars(string.ascii_uppercase + string.digits, 32)}\n"
    )
    return Spec("web/.env.production", text)


@negative("binance_user_stream_events", "shape")
def _(g: Gen) -> Spec:
    lk = g.alnum(60)
    ev1 = {"e": "executionReport", "E": g.ts(), "s": "BTCUSDT", "c": f"web_{g.hex(32)}",
           "S": "BUY", "o": "LIMIT", "i": g.int(10**10, 10**11), "C": "", "x": "NEW"}
    ev2 = {"e": "executionReport", "E": g.ts(), "s": "ETHUSDT", "c": f"x-{g.alnum(20)}",
           "S": "SELL", "o": "MARKET", "i": g.int(10**10, 10**11), "C": f"and_{g.hex(32)}", "x": "TRADE"}
    text = (
        f"10:00:00 connected wss://stream.binance.com:9443/ws/{lk}\n"
        f"10:00:03 {json.dumps(ev1, separators=(',', ':'))}\n"
        f"10:00:09 {json.dumps(ev2, separators=(',', ':'))}\n"
        f'11:00:00 {{"e":"listenKeyExpired","E":{g.ts()},"listenKey":"{lk}"}}\n'
    )
    return Spec("logs/user-stream.log", text)


@negative("binance_deposit_addresses_koinly", "shape")
def _(g: Gen) -> Spec:
    text = (
        "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Label,Description,TxHash\n"
        f"2024-02-01 10:00:00 UTC,,,0.25,BTC,,Deposit to Binance bc1q{g.chars(BECH32, 38)},{g.hex(64)}\n"
        f"2024-02-03 12:00:00 UTC,,,1.5,ETH,,Deposit to Binance 0x{g.hex(40)},0x{g.hex(64)}\n"
        f"2024-02-04 08:00:00 UTC,,,500,USDT,,Deposit to Binance T{g.chars(B58, 33)},{g.hex(64)}\n"
        f"2024-02-05 09:00:00 UTC,100,USDT,,,,Internal transfer,Internal transfer {g.int(10**11, 10**12)}\n"
    )
    return Spec("tax/koinly-import.csv", text)


@negative("binance_website_har_cookies", "shape")
def _(g: Gen) -> Spec:
    doc = {"log": {"version": "1.2", "entries": [{"request": {
        "method": "GET",
        "url": "https://www.binance.com/bapi/asset/v2/public/asset-service/product/get-products",
        "headers": [
            {"name": "bnc-uuid", "value": g.uuid()},
            {"name": "csrftoken", "value": g.hex(32)},
            {"name": "device-info", "value": g.b64(180)},
            {"name": "fvideo-id", "value": g.hex(40)},
            {"name": "x-trace-id", "value": g.uuid()},
        ],
        "cookies": [{"name": "cr00", "value": g.hex(32).upper()},
                    {"name": "p20t", "value": f"web.{g.int(10**8, 10**9)}.{g.hex(32).upper()}"}],
    }, "response": {"status": 200}}]}}
    return Spec("debug/binance-com.har", json.dumps(doc, indent=2) + "\n")


@negative("webhook_secret_other_service", "context")
def _(g: Gen) -> Spec:
    text = (
        "# TradingView -> bot bridge; the bot then trades on Binance\n"
        "TRADINGVIEW_WEBHOOK_PASSPHRASE=long-and-boring-passphrase\n"
        f"GITHUB_WEBHOOK_SECRET={g.key()}\n"
        f"SENTRY_DSN=https://{g.hex(32)}@o{g.int(10**5, 10**6)}.ingest.sentry.io/{g.int(10**6, 10**7)}\n"
    )
    return Spec("bridge/.env", text)


@negative("doc_pair_elixir_exunit", "context")
def _(g: Gen) -> Spec:
    q = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    sig = hmac.new(DOC_SECRET_KEY.encode(), q.encode(), hashlib.sha256).hexdigest()
    text = (
        "defmodule Ledger.SignerTest do\n"
        "  use ExUnit.Case, async: true\n\n"
        "  # example from the Binance API documentation (SIGNED endpoints)\n"
        f'  @api_key "{DOC_API_KEY}"\n'
        f'  @secret "{DOC_SECRET_KEY}"\n\n'
        "  test \"signature matches the documented example\" do\n"
        f'    assert Ledger.Signer.sign("{q}", @secret) == "{sig}"\n'
        "  end\n"
        "end\n"
    )
    return Spec("test/ledger/signer_test.exs", text)


@negative("dkim_ed25519_private_key", "context", crypto=True)
def _(g: Gen) -> Spec:
    pem = g.ed25519_pem()
    return Spec("mail/dkim/example.com.ed25519.key", pem)


@negative("placeholder_keys_in_lua_and_r", "context")
def _(g: Gen) -> Spec:
    text = (
        "-- fill in your own Binance credentials\n"
        'local apiKey    = "YOUR_BINANCE_API_KEY_GOES_HERE_0000000000000000000000000000000000"\n'
        'local apiSecret = "' + "x" * 64 + '"\n'
        "-- R: binance_credentials('<api key>', '<secret>')\n"
        'local example   = "' + "aB3" * 21 + "a" + '"\n'
    )
    return Spec("examples/credentials.lua", text)


@negative("mobileprovision_plist_data", "shape")
def _(g: Gen) -> Spec:
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<plist version="1.0">\n<dict>\n'
        "\t<key>AppIDName</key>\n\t<string>Binance Ticker Widget</string>\n"
        "\t<key>DeveloperCertificates</key>\n\t<array>\n"
        f"\t\t<data>{g.b64(1400)}</data>\n"
        "\t</array>\n"
        "\t<key>UUID</key>\n"
        f"\t<string>{g.uuid()}</string>\n"
        "</dict>\n</plist>\n"
    )
    return Spec("ios/embedded.mobileprovision.plist", text)


@negative("firebase_google_services", "shape")
def _(g: Gen) -> Spec:
    doc = {
        "project_info": {"project_number": str(g.int(10**11, 10**12)), "project_id": "binance-alerts-app"},
        "client": [{
            "client_info": {"mobilesdk_app_id": f"1:{g.int(10**11, 10**12)}:android:{g.hex(22)}"},
            "api_key": [{"current_key": "AIza" + g.chars(B64URL, 35)}],
            "oauth_client": [{"client_id": f"{g.int(10**11, 10**12)}-{g.chars(string.ascii_lowercase + string.digits, 32)}.apps.googleusercontent.com"}],
        }],
    }
    return Spec("android/app/google-services.json", json.dumps(doc, indent=2) + "\n")


@negative("base62_cache_keys_redis_log", "context")
def _(g: Gen) -> Spec:
    t = 1712000000 + g.int(0, 10**6)
    lines = "".join(
        f'{t}.{g.int(100000, 999999)} [0 10.0.0.7:52210] "GET" "ohlcv:binance:BTCUSDT:1m:{g.key()}"\n'
        for _ in range(3)
    )
    return Spec("debug/redis-cache-monitor.log", "OK\n" + lines)


@negative("windows_reg_installation_ids", "shape")
def _(g: Gen) -> Spec:
    text = (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_CURRENT_USER\\Software\\Binance\\Binance Desktop]\r\n"
        f'"InstallationId"="{{{g.uuid().upper()}}}"\r\n'
        f'"MachineHash"="{g.hex(64).upper()}"\r\n'
        f'"WindowPlacement"=hex:{",".join(g.hex(2) for _ in range(44))}\r\n'
    )
    return Spec("backup/binance-desktop.reg", text)


@negative("mongo_export_order_history", "shape")
def _(g: Gen) -> Spec:
    rows = [
        {"_id": {"$oid": g.hex(24)}, "exchange": "binance", "symbol": "BTCUSDT",
         "orderId": g.int(10**10, 10**11), "clientOrderId": g.alnum(22),
         "origClientOrderId": f"electron_{g.hex(20)}", "tradeIds": [g.int(10**9, 10**10) for _ in range(3)],
         "status": "FILLED"}
        for _ in range(3)
    ]
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
    return Spec("dump/orders.json", text)


@negative("sql_session_tokens_other_table", "context")
def _(g: Gen) -> Spec:
    text = (
        "-- staging dump: sessions of the Binance copy-trading dashboard\n"
        "INSERT INTO user_sessions (session_id, user_id, csrf_token, expires_at) VALUES\n"
        + ",\n".join(
            f"  ('{g.key()}', {g.int(1, 500)}, '{g.b64url(32)}', '2024-05-0{i} 00:00:00')" for i in range(1, 4)
        )
        + ";\n"
    )
    return Spec("db/dumps/sessions.sql", text)


@negative("email_dkim_signature_headers", "shape")
def _(g: Gen) -> Spec:
    text = (
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=binance.com; s=s1; t=1712000000;\n"
        f"\th=From:To:Subject:Date; bh={g.b64(32)};\n"
        f"\tb={g.b64(256)}\n"
        "From: Binance <do_not_reply@mailer.binance.com>\n"
        "Subject: [Binance] API Key Created\n"
        f"Message-ID: <{g.alnum(40)}@mailer.binance.com>\n\n"
        "You have successfully created a new API key. If this was not you, disable your account.\n"
        f"Link: https://www.binance.com/en/my/settings/api-management?ref={g.alnum(12)}\n"
    )
    return Spec("mail/binance-notice.eml", text)


@negative("wasm_sourcemap_mappings", "shape")
def _(g: Gen) -> Spec:
    vlq = ALNUM + "+/"
    segs = ";".join(",".join(g.chars(vlq, g.int(4, 7)) for _ in range(g.int(3, 12))) for _ in range(30))
    doc = {"version": 3, "file": "binance-widget.min.js", "sources": ["src/widget.ts"],
           "names": [], "mappings": segs}
    return Spec("dist/binance-widget.min.js.map", json.dumps(doc) + "\n")


# --------------------------------------------------------------------------------------------
# assembly


def build_holdout2(seed: int, *, crypto: bool | None = None) -> list[HoldoutFile]:
    """Every context once, with fresh secrets drawn from ``seed``."""
    use_crypto = CRYPTO if crypto is None else (crypto and CRYPTO)
    return _REGISTRY.build(Gen(seed), "k", use_crypto)
