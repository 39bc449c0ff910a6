"""Every rule keytrap knows, declared as data in one place.

A rule says what a secret looks like, which words around it raise confidence, and carries its
own examples and counter-examples. ``{key}`` and ``{secret}`` in the examples are filled with
freshly generated random values by ``tests/test_rules.py``: no key-shaped literal lives here,
except the apiKey of Binance's public documentation example (a counter-example): Binance's
published example values are held as sha256 only.
"""

from __future__ import annotations

from collections import namedtuple

class PublishedExample(namedtuple("PublishedExample", "sha256 kind why source")):
    """A value Binance itself publishes: never a leak, wherever it is copied."""

    __slots__ = ()
    sha256: str  # of the exact value (a PEM: of its body reduced to [A-Za-z0-9+/=])
    kind: str  # "key" (an apiKey/secretKey, 64 characters) or "private_key" (a signing key)
    why: str  # "doc-example": shown in docs/examples/mocks; "test-vector": a connector test key
    source: str  # where it was seen first: repository and path


#: Binance's published example values, as sha256 (no raw value is stored here). The API docs
#: (REST/WebSocket/FIX request examples), the official OpenAPI specs and connectors (example
#: scripts, docstrings, ``expected_response`` mocks, test signing keys) carry them; SDK forks and
#: tutorials copy them by the thousand. Harvested from the ``tune`` split of the real-world set
#: (``bench/realworld/binance_examples.json``, ``harvest_examples.py``). Extend with
#: ``example_keys`` in config (raw values).
BINANCE_PUBLISHED_EXAMPLES: tuple[PublishedExample, ...] = (
    PublishedExample("faa8e34289486621947a2c2117863ef76dce78816841bf70a9afb0e8f89ec892", "key", "doc-example",
                     "Binance API docs, SIGNED endpoint example (a widely copied variant, BKEX docs)"),
    PublishedExample("5ba1ed8425baaa72d558afddb8aaacdfe29ad0dc1a44dae76640127e83626d29", "key", "doc-example",
                     "binance/binance-connector-python:binance/websocket/spot/websocket_api/_account.py"),
    PublishedExample("09e59e63ee59f4f16875000cd3c33690f130ceab4aff3b75c96e8e88836f1b8a", "key", "doc-example",
                     "binance/binance-connector-python:binance/websocket/spot/websocket_api/_trade.py"),
    PublishedExample("9cd8af77c9ba453389dec726d31425ea880a9df1081f613f22dbb0c562fe9351", "key", "doc-example",
                     "binance/binance-connector-python:binance/websocket/spot/websocket_api/_trade.py"),
    PublishedExample("1ddf3901c52fabb03f9049d81a501a6f1c6cb472a3d4d903cc047e4f055e29d4", "key", "doc-example",
                     "binance/binance-connector-python:clients/convert/examples/rest_api/MarketData/list_all_convert_pairs.py"),
    PublishedExample("ba0def0d89b0fd3077e2cf0ac2ab1d82a6cb0dd40245d0068a51a57d33d241b6", "key", "doc-example",
                     "binance/binance-connector-python:clients/convert/examples/rest_api/MarketData/list_all_convert_pairs.py"),
    PublishedExample("c2242140f15ceee1aebda3f3c2030e8e96d88d9c58645712052b54aec0cb60cb", "key", "doc-example",
                     "binance/binance-connector-python:clients/margin_trading/tests/unit/rest_api/test_trade_api.py"),
    PublishedExample("e031e4ca7b8238b83840b909ed23c76f26299bfb04689e3564939d18a6edddd3", "key", "doc-example",
                     "binance/binance-connector-python:clients/margin_trading/tests/unit/rest_api/test_trade_api.py"),
    PublishedExample("fc5a6c54a2079828a413a5700719d35e9e0b7e5035e8a371eedd56b39ef82f27", "key", "doc-example",
                     "binance/binance-connector-python:clients/margin_trading/tests/unit/rest_api/test_trade_api.py"),
    PublishedExample("3b76d52c452446111712fa1a02da33ede27938e6e2ba943f514f3929b837f043", "key", "doc-example",
                     "binance/binance-connector-python:clients/spot/tests/unit/websocket_api/test_auth_api_ws_api.py"),
    PublishedExample("837c36e0e488641f69d273dfe538bf13bcca586f04322630b87812623e91340a", "key", "doc-example",
                     "binance/binance-connector-python:examples/spot/blvt/user_limit_info.py"),
    PublishedExample("9620a6a5f4b28bdcdb0219c2045c20b8fc5b9fe8fc39e17ed929674ed282aaed", "key", "doc-example",
                     "binance/binance-connector-python:examples/spot/blvt/user_limit_info.py"),
    PublishedExample("12843c55e9c45e8fdb29f01de349896733396e2a8e8008c37642f5c238d2163b", "key", "doc-example",
                     "binance/binance-connector-python:examples/websocket/spot/websocket_api/market/all.py"),
    PublishedExample("23e9efa3ced6e70c7f2dbe0d08295f18f94b0cbd5c6026677e3bc51897ee31f2", "key", "doc-example",
                     "binance/binance-connector-python:tests/lib/test_authentication.py"),
    PublishedExample("0c1cc8ea05afd55a92ed4f3ca2269ee35cae1b8aa6ba13a1c88ac4214f41e69f", "key", "doc-example",
                     "binance/binance-spot-api-docs:faqs/api_key_types.md"),
    PublishedExample("88a07940499df805e429410fb07b23408a5375962ad3960210e7c2c7aac67779", "key", "doc-example",
                     "binance/binance-spot-api-docs:rest-api.md"),
    PublishedExample("5761ecfd2239d284ccfd5aeb29621653335f7a69af5a2176ae2c86a512674665", "key", "doc-example",
                     "binance/binance-spot-api-docs:testnet/fix-api.md"),
    PublishedExample("f70a225fd07a0050137e0a9dcf2d366ff495fbad326f182eb5104bbeb99dd537", "key", "doc-example",
                     "binance/binance-spot-api-docs:testnet/fix-api.md"),
    PublishedExample("163479d8466a420a6e9b343c136cc1398afa1d1498849c99ecd59c8cecf86874", "key", "doc-example",
                     "binance/binance-spot-api-docs:testnet/web-socket-api.md"),
    PublishedExample("3ace0da1f0e32affb8240a438f06964af778af285ade589f787a8862181f3c5a", "key", "doc-example",
                     "binance/binance-spot-api-docs:testnet/web-socket-api.md"),
    PublishedExample("6a2f10e571ba3c7fcb0253911d1a3a40a70dac0793b7dea4b52bbd11775610fb", "key", "doc-example",
                     "binance/binance-spot-api-docs:testnet/web-socket-api.md"),
    PublishedExample("8988c60ac0be43a2adee594559e75784a0e6e9eb7f0be38c19d3cd7ea08a0e0f", "key", "doc-example",
                     "binance/binance-spot-api-docs:testnet/web-socket-api.md"),
    PublishedExample("d996d642dd7d8ff19759fd9ccf1037d9979a6bcf29af9add09654ed8008c92df", "key", "doc-example",
                     "binance/binance-spot-api-docs:testnet/web-socket-api.md"),
    PublishedExample("dda7ecd568b230e7ac4fe9f94195cd20e9f6f4fd25e991d7abf8a0dacd610fa7", "key", "doc-example",
                     "binance/binance-spot-api-docs:testnet/web-socket-api.md"),
    PublishedExample("3dc1adcf0fa055b2b2d0cbf5faba2bb243bfb6f9f90fb7537b7c1f5a1c4b3b59", "key", "doc-example",
                     "binance/binance-spot-api-docs:web-socket-api.md"),
    PublishedExample("6fd2063f1cd370c21f4d8e65c50d84c9c19bd87f10c7d134f9ce714e292aeee2", "key", "doc-example",
                     "binance/binance-spot-api-docs:web-socket-api.md"),
    PublishedExample("0a43f2da37197a03bef77c986aa65c3763bf6a6612f0834ab32bbbc30c321212", "private_key", "test-vector",
                     "binance/binance-connector-python:tests/lib/test_authentication.py"),
    PublishedExample("a3f08b75ebcbed21f68a43ad58b69ca50a8b6228239929b59d027e0ae507b920", "private_key", "test-vector",
                     "binance/binance-connector-python:tests/lib/test_authentication.py"),
    PublishedExample("b608935f7ef9f033854043a898e181c6382c9fbb99f377646f8a3b5b0afbc948", "private_key", "test-vector",
                     "binance/binance-connector-python:tests/lib/test_authentication.py"),
    PublishedExample("5053ebf5ac726b85783e41f802c78d0144c7c675236324d218ffe9090963528e", "private_key", "doc-example",
                     "binance/binance-spot-api-docs:testnet/fix-api.md"),
    PublishedExample("4f90da513aff0809e775abe7c97e14e6cc9ab3860d891b4552fc08e22bea41c3", "private_key", "test-vector",
                     "foreverchens/binance-connector-java:src/test/java/unit/TestRsaSignatureGenerator.java"),
    PublishedExample("52af2bdc5d0b05cec459a6def485dd7ff35c4c7e9e0c7710a0067c170601a43b", "private_key", "test-vector",
                     "foreverchens/binance-connector-java:src/test/java/unit/TestRsaSignatureGenerator.java"),
)

#: The hashes the engine looks values up in (raw digests: no hex conversion per lookup).
BINANCE_EXAMPLE_SHA256: frozenset[bytes] = frozenset(bytes.fromhex(e.sha256) for e in BINANCE_PUBLISHED_EXAMPLES)


def published_example(value: str) -> bool:
    """Is ``value`` (a 64-character key, or a PEM body reduced to [A-Za-z0-9+/=]) Binance's own?"""
    return _sha256(value.encode()).digest() in BINANCE_EXAMPLE_SHA256


def _sha256(data: bytes):  # type: ignore[no-untyped-def]
    global _sha256
    from hashlib import sha256

    _sha256 = sha256  # imported on first use: the hook's start-up stays lean
    return sha256(data)


class Rule(
    namedtuple("Rule", "id description kinds length min_entropy keywords examples counter_examples")
):
    __slots__ = ()
    id: str
    description: str
    kinds: tuple[str, ...]
    length: int | None  # exact token length, None for block rules
    min_entropy: float  # Shannon entropy floor, bits per character
    keywords: tuple[str, ...]  # lowercase words that put a hit in Binance context
    examples: tuple[str, ...]  # must be found ({key}/{secret} filled at test time; "@PATH\n" first
    # scans the example as the file PATH)
    counter_examples: tuple[str, ...]  # must not be found


#: Words that put a file in Binance context. Short ones ("mbx", "bnb") were dropped: they turn
#: up by chance inside random base64 (about 5% of RSA key bodies contain "mbx").
BINANCE_KEYWORDS: tuple[str, ...] = ("binance", "x-mbx-apikey")

HMAC_KEY = Rule(
    id="binance-hmac-key",
    description="Binance HMAC API key or secret key (64 characters of [A-Za-z0-9])",
    kinds=("api_key", "secret_key"),
    length=64,
    min_entropy=4.3,
    keywords=BINANCE_KEYWORDS,
    examples=(
        "BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n",
        'client = Client("{key}", "{secret}")\n',
        '"exchange": {{"name": "binance", "key": "{key}", "secret": "{secret}"}}\n',
        "exchange = ccxt.binance({{'apiKey': '{key}', 'secret': '{secret}'}})\n",
        'curl -H "X-MBX-APIKEY: {key}" https://api.binance.com/api/v3/account\n',
        "{key}\n{secret}\n",
        # a key a test really signs requests with is a leak, test file or not
        'def test_account():\n    client = Client("{key}", "{secret}")\n    assert client.get_account()\n',
        # a signed request written out in code (a captured request), not in documentation
        '@bot/replay.py\nREQUEST = {{"method": "account.status", "params": {{"apiKey": "{key}",\n'
        '    "signature": "c8f3a7e2b1d4f6a9e0b3c5d7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7", "timestamp": 1655716096498}}}}\n',
        # 64-digit hex keys (futures testnet, some older keys) where the context names a key
        "@.env\nBINANCE_API_KEY={hkey}\nBINANCE_API_SECRET={hsecret}\n",
        '@.github/workflows/test.yml\nenv:\n  TEST_FUTURES_API_KEY: "{hkey}"\n  TEST_FUTURES_API_SECRET: "{hsecret}"\n',
        '@bot.py\nfrom binance.client import Client\nTEST_API_KEY = "{hkey}"\nTEST_API_SECRET = "{hsecret}"\n'
        "client = Client(TEST_API_KEY, TEST_API_SECRET, testnet=True)\n",
        # the value on the line after its name, through a Rust type annotation
        '@src/binance/consts.rs\npub const TEST_FUTURE_API_KEY: &str =\n    "{hkey}";\n'
        'pub const TEST_FUTURE_SECRET_KEY: &str =\n    "{hsecret}";\n',
        '@src/binance/keys.rs\npub const API_KEY: &str = "{key}";\npub const SECRET_KEY: &str = "{secret}";\n',
    ),
    counter_examples=(
        # sha256 digests are 64 characters too
        "sha256 = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
        "{hkey}  dist/app-1.0.tar.gz\n{hsecret}  dist/app-1.0.whl\n",
        "@tests/test_aes.py\nkey = '{hkey}'\niv = '000102030405060708090a0b0c0d0e0f'\n",
        '@data/manifest.csv\ntype,name,path,hash\n"md","ux","steps/step-13-responsive-accessibility.md","{hkey}"\n',
        # a hex key of another API in a Binance file, and a key handed to another exchange's client
        '@scripts/connect.py\nimport binance\nTC_KEY = "{hkey}"\n',
        # another chain's private key named as an API secret, outside Binance code
        '@tests/test_dex_auth.py\nclass T:\n    api_secret = "{hkey}"\n',
        "API_KEY = '{key}'\nAPI_SECRET = '{secret}'\nclient = BitvavoRestClient(api_key=API_KEY, api_secret=API_SECRET)\n",
        # Binance's own documentation example pair
        "apiKey = vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A\n",
        # placeholders
        "BINANCE_API_KEY=your_binance_api_key_here\nBINANCE_API_SECRET=${{BINANCE_API_SECRET}}\n",
        "api_key = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n",
        # an identifier made of words
        "thisIsAVeryLongFunctionNameThatKeepsGoingForeverAndEverAndEver1 = 1\n",
        # a key-shaped run inside a longer token
        "token = {key}Zq\n",
        # what a mocked API response holds (connector unit tests: createApiKey, session.status)
        'expected_response = {{\n    "apiKey": "{key}",\n    "secretKey": "{secret}",\n}}\n',
        "responses.add(\n    responses.GET,\n    url,\n    json={{\"apiKey\": \"{key}\"}},\n)\n",
        # a known-answer signing test: the secret, the call, the digest it must give
        '@tests/test_authentication.py\nsecret = "{secret}"\n'
        "assert hmac_hashing(secret, 'timestamp=1578963600000') == "
        "'9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'\n",
        # a documented signed request (API docs, a connector's docstring), and a FIX logon message
        '@docs/web-socket-api.md\n```json\n{{"method": "account.status", "params": {{\n'
        '    "apiKey": "{key}",\n    "signature": "c8f3a7e2b1d4f6a9e0b3c5d7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7",\n    "timestamp": 1655716096498}}}}\n```\n',
        '@client/websocket_api.py\ndef account_status(self):\n    """Account status.\n\n    Example:\n'
        '        {{"apiKey": "{key}", "signature": "c8f3a7e2b1d4f6a9e0b3c5d7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7"}}\n    """\n',
        "@docs/fix-api.md\n8=FIX.4.4|9=248|35=A|34=1|49=EXAMPLE|56=SPOT|98=0|108=30|141=Y|553={key}|25035=1|10=000|\n",
    ),
)

PRIVATE_KEY = Rule(
    id="binance-private-key",
    description="Ed25519 or RSA private key in PEM, as used for Binance asymmetric API keys",
    kinds=("private_key",),
    length=None,
    min_entropy=0.0,
    keywords=BINANCE_KEYWORDS,
    examples=(),  # built from real generated keys in tests/test_engine.py
    counter_examples=(
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n",
    ),
)

RULES: tuple[Rule, ...] = (HMAC_KEY, PRIVATE_KEY)
