"""keytrap: find Binance API keys, secret keys and private keys before they leak."""

__version__ = "0.1.0"
