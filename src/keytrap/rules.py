"""Every rule keytrap knows, declared as data in one place.

A rule says what a secret looks like, which words around it raise confidence, and carries its
own examples and counter-examples. ``{key}`` and ``{secret}`` in the examples are filled with
freshly generated random values by ``tests/test_rules.py``: no key-shaped literal lives here,
except Binance's public documentation examples, which exist to be rejected.
"""

from __future__ import annotations

from collections import namedtuple

#: Binance publishes these in its API documentation (SIGNED endpoint examples). They appear in
#: thousands of tutorials and tests and are never a leak. Extend with ``example_keys`` in config.
BINANCE_DOC_EXAMPLE_KEYS: frozenset[str] = frozenset(
    {
        # apiKey / secretKey of the "SIGNED (TRADE and USER_DATA) Endpoint" examples
        "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
        # a widely copied variant of the apiKey above (BKEX docs)
        "vmsUZE6mv9SD5VNak4HlWFsOr6aKE2zvsw0MuIgwCIGy6utIco14y7Ju91duEh82",
    }
)


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
    examples: tuple[str, ...]  # must be found ({key}/{secret} filled at test time)
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
    ),
    counter_examples=(
        # sha256 digests are 64 characters too
        "sha256 = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
        # Binance's own documentation example pair
        "apiKey = vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A\n",
        # placeholders
        "BINANCE_API_KEY=your_binance_api_key_here\nBINANCE_API_SECRET=${{BINANCE_API_SECRET}}\n",
        "api_key = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n",
        # an identifier made of words
        "thisIsAVeryLongFunctionNameThatKeepsGoingForeverAndEverAndEver1 = 1\n",
        # a key-shaped run inside a longer token
        "token = {key}Zq\n",
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
