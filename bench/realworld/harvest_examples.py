#!/usr/bin/env python3
"""Collect Binance's published example keys into binance_examples.json (hashes only).

    harvest_examples.py [--labels labels.jsonl] [--out binance_examples.json]

Source: every value labelled ``doc-example`` (or a connector ``test-vector`` private key) in
Binance's own repositories (API docs, OpenAPI specs, official connectors and python-binance,
whose docstrings copy the docs). Kept: example API keys / secret keys (64-character values
that are not a signature, listenKey or identifier) and example signing keys (PEM private
keys). Each entry holds the sha256 of the exact value (for a PEM: of the body with
everything but ``[A-Za-z0-9+/=]`` removed, as keytrap normalises it), keytrap's fingerprint,
a 4+2 redaction and where it was seen. No raw value is written.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
OFFICIAL = {
    "binance/binance-spot-api-docs": "Binance API documentation",
    "binance/binance-api-swagger": "Binance official OpenAPI specification",
    "binance/binance-connector-python": "official Python connector",
    "binance/binance-connector-js": "official JavaScript connector",
    "binance/binance-connector-go": "official Go connector",
    "binance/binance-futures-connector-python": "official futures connector",
    "foreverchens/binance-connector-java": "fork of the official Java connector",
    "sammchardy/python-binance": "python-binance (docstrings copy the API docs)",
}
SKIP = {"signature", "id", "identifier", "pem-body", "public-key"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", default=str(HERE / "labels.jsonl"))
    ap.add_argument("--out", default=str(HERE / "binance_examples.json"))
    a = ap.parse_args()
    seen: dict[str, dict] = {}
    where: dict[str, list] = defaultdict(list)
    for line in open(a.labels):
        L = json.loads(line)
        if L["repo"] not in OFFICIAL or L["label"] != "negative":
            continue
        c = set(L["classes"])
        pem = "pem_algo" in L
        if c & SKIP:
            continue
        if not ("doc-example" in c or (pem and "test-vector" in c)):
            continue
        if not pem and L["length"] != 64:
            continue
        kind = "private_key" if pem else "api_or_secret_key"
        e = seen.setdefault(L["sha256"], {"sha256": L["sha256"], "fingerprint": L["fingerprint"], "kind": kind,
                                          "pem_algo": L.get("pem_algo"), "redacted": L["redacted"],
                                          "why": "test-vector" if "test-vector" in c else "doc-example"})
        where[L["sha256"]].append({"repo": L["repo"], "path": L["first_path"]})
    examples = []
    for sha, e in seen.items():
        e["seen_in"] = where[sha]
        if e["pem_algo"] is None:
            del e["pem_algo"]
        examples.append(e)
    examples.sort(key=lambda e: (e["kind"], e["redacted"]))
    doc = {
        "about": "Binance-published example API keys, secret keys and signing keys, as sha256 of the exact value "
                 "(PEM: of the body reduced to [A-Za-z0-9+/=]). keytrap can load these to reject them. "
                 "Harvested from the repositories listed in sources; no raw value is stored.",
        "sources": OFFICIAL,
        "count": len(examples),
        "examples": examples,
    }
    json.dump(doc, open(a.out, "w"), indent=1, ensure_ascii=False)
    print(f"{len(examples)} example values -> {a.out}")


if __name__ == "__main__":
    main()
