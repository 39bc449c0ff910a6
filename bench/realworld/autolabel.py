#!/usr/bin/env python3
"""Turn extracted candidates into labels: rules for the obvious negatives, reviewed decisions for the rest.

    autolabel.py --cand-dir /work/realworld-data/cand --repos repos.json \
                 --manual manual.jsonl --out labels.jsonl [--review review.txt]

Order of decision for each distinct value of each repository:

1. a reviewed decision in ``manual.jsonl`` (keyed by repo + sha256 of the value), made by
   reading the value's context (``--review`` lists every value that still needs one);
2. the rules below, for values whose shape or place says what they are without reading more:

   * not 64 characters (Binance HMAC keys are exactly 64): ``not-64`` plus what it is;
   * touching ``+`` or ``/`` (a slice of a base64 body), or lying inside a PEM block or a
     notebook's image output: ``base64-body`` / ``pem-body`` / ``notebook-image``;
   * in a lockfile: ``digest``;
   * only in third-party code committed with the project (a ``venv/``, ``site-packages/``,
     ``node_modules/``, ``vendor/``, a ``.phar``): ``vendored`` (its test vectors, digests,
     documentation examples and test private keys; an owner's key is never only there);
   * hexadecimal and not bound to a key or secret name: ``digest``;
   * not mixing upper case, lower case and digits (and not hex): ``id``;
   * one of Binance's published example keys (``binance_examples.json``): ``doc-example``;
   * a PEM block beside ``private_key_id`` / ``client_email`` / ``"type": "service_account"``:
     ``other-system-private-key`` (a Google service account).

Anything else is left for review and is not written until reviewed: an unlabelled candidate is
an error, so the set stays complete. The output holds no raw value: sha256, keytrap
fingerprint and a 4+2 redaction only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCKFILES = re.compile(
    r"(^|/)(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|poetry\.lock|Pipfile\.lock|"
    r"go\.sum|Cargo\.lock|composer\.lock|Gemfile\.lock|uv\.lock|pdm\.lock|[^/]*\.lock)$"
)
KEYNAME = re.compile(r"key|secret|api|private|passphrase|token|credential|auth|sign|hmac", re.I)
HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
VENDORED = re.compile(
    r"(^|/)(venv|\.venv|env|virtualenv|site-packages|dist-packages|node_modules|bower_components|vendor)/|\.phar$"
    r"|(^|/)Scripts/(Activate\.ps1|activate(\.bat)?)$"  # a Windows virtualenv committed under any name
)
GCP = re.compile(r"private_key_id|client_email|service_account|gserviceaccount", re.I)
ED25519_PREFIX = "MC4CAQAwBQYDK2Vw"


def redact(v: str) -> str:
    return f"{v[:4]}…{v[-2:]}"


def mixed(v: str) -> bool:
    return bool(re.search("[A-Z]", v) and re.search("[a-z]", v) and re.search("[0-9]", v))


def pem_algo(body: str, pem_type: str) -> str:
    """ed25519 / rsa-pkcs1 / rsa-pkcs8 / ec / openssh / encrypted / other, from the DER."""
    if pem_type.startswith("RSA"):
        return "rsa-pkcs1"
    if pem_type.startswith("EC"):
        return "ec"
    if pem_type.startswith("OPENSSH"):
        return "openssh"
    if pem_type.startswith("ENCRYPTED"):
        return "encrypted"
    if pem_type.startswith("DSA"):
        return "dsa"
    if body.startswith(ED25519_PREFIX):
        return "ed25519"
    try:
        der = base64.b64decode(body + "=" * (-len(body) % 4))
    except Exception:
        return "other"
    if bytes.fromhex("2a864886f70d010101") in der[:40]:
        return "rsa-pkcs8"
    if bytes.fromhex("2a8648ce3d0201") in der[:40]:
        return "ec"
    return "other"


def rule_label(r: dict, examples: set[str]) -> tuple[str, list[str]] | None:
    """(label, classes) for an obvious negative, else None (needs review)."""
    v = r["value"]
    occ = r["occ"]
    ctxs = " ".join(o.get("ctx", "") + " " + o.get("outer_ctx", "") for o in occ)
    vendored = all(VENDORED.search(o["path"]) for o in occ)
    if r["kind"] == "pem":
        if GCP.search(ctxs):
            return "negative", ["other-system-private-key", "gcp-service-account"]
        if vendored:
            return "negative", ["vendored", "other-system-private-key"]
        return None
    if vendored:
        # third-party code committed with the project: its test vectors, digests and examples
        extra = ["test-vector"] if any(re.search(r"test", o["path"], re.I) for o in occ) else []
        if any("# SIG #" in o.get("ctx", "") or re.search(r"⏎# [A-Za-z0-9+/]{2,4}…", o.get("ctx", ""))
               for o in occ if o["path"].endswith(".ps1")):
            extra = ["base64-body", "authenticode-signature"]  # `# SIG #` block of a committed Activate.ps1
        return "negative", ["vendored", *extra]
    if r["sha256"] in examples:
        return "negative", ["doc-example"]
    text_occ = [o for o in occ if o.get("shape") == "text"]
    classes: list[str] = []
    if len(v) != 64:
        classes.append("not-64")
    b64 = any(o.get("before") in ("+", "/") or o.get("after") in ("+", "/") for o in text_occ) or (
        text_occ and all(o.get("after") == "=" and o.get("before") not in ("=", " ", ":", '"', "'") for o in text_occ)
    )
    if b64:
        if "image/png" in ctxs or "image/jpeg" in ctxs:
            classes.append("notebook-image")
        elif "PRIVATE KEY" in ctxs or "CERTIFICATE" in ctxs:
            classes.append("pem-body")
        else:
            classes.append("base64-body")
    elif "PRIVATE KEY-----" in ctxs and all("\\n" in o.get("ctx", "") or "⏎" in o.get("ctx", "") for o in occ) and not any(
        KEYNAME.search(o.get("name") or "") for o in occ
    ):
        classes.append("pem-body")
    if all(LOCKFILES.search(o["path"].split("!")[0]) for o in occ):
        classes.append("digest")
    named = any(KEYNAME.search(o.get("name") or "") for o in occ)
    if HEX.fullmatch(v) and not named:
        classes.append("digest")
    if not HEX.fullmatch(v) and not mixed(v) and not named:
        classes.append("id")
    if classes:
        return "negative", sorted(set(classes))
    if len(v) != 64:
        return "negative", ["not-64"]
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cand-dir", default="/work/realworld-data/cand")
    ap.add_argument("--repos", default=str(HERE / "repos.json"))
    ap.add_argument("--manual", default=str(HERE / "manual.jsonl"))
    ap.add_argument("--examples", default=str(HERE / "binance_examples.json"))
    ap.add_argument("--out", default=str(HERE / "labels.jsonl"))
    ap.add_argument("--review", default="/work/realworld-data/review.txt")
    a = ap.parse_args(argv)

    repos = json.load(open(a.repos))["repositories"]
    examples: set[str] = set()
    if Path(a.examples).exists():
        examples = {e["sha256"] for e in json.load(open(a.examples))["examples"]}
    manual: dict[tuple[str, str], dict] = {}
    if Path(a.manual).exists():
        for line in open(a.manual):
            if line.strip():
                m = json.loads(line)
                manual[(m["repo"], m["sha256"])] = m
    out = []
    review = []
    used = set()
    for repo in repos:
        name = repo["name"]
        path = Path(a.cand_dir) / (name.replace("/", "+") + ".jsonl")
        for line in open(path):
            r = json.loads(line)
            v = r["value"]
            m = manual.get((name, r["sha256"]))
            base = {
                "repo": name,
                "sha256": r["sha256"],
                "fingerprint": r["fingerprint"],
                "redacted": redact(v),
                "length": r["length"],
                "first_path": r["first_path"],
                "first_commit": r["first_commit"],
                "shapes": r["shapes"],
            }
            if r["kind"] == "pem":
                base["pem_algo"] = pem_algo(v, r["occ"][0].get("pem_type", ""))
            if m is not None:
                used.add((name, r["sha256"]))
                rec = dict(base, label=m["label"], kind=m.get("kind", "none"), classes=m["classes"],
                           network=m.get("network"), note=m.get("note", ""), source="reviewed")
            else:
                rl = rule_label(r, examples)
                if rl is None:
                    review.append((name, r))
                    continue
                rec = dict(base, label=rl[0], kind="none", classes=rl[1], network=None, note="", source="rule")
            out.append(rec)
    stale = set(manual) - used
    with open(a.review, "w") as fh:
        for name, r in review:
            v = r["value"]
            fh.write(json.dumps({
                "repo": name, "sha256": r["sha256"], "redacted": redact(v), "kind": r["kind"], "len": r["length"],
                "hex": bool(HEX.fullmatch(v)), "mixed": mixed(v), "shapes": r["shapes"], "n_blobs": r["n_blobs"],
                "first_path": r["first_path"],
                "pem": pem_algo(v, r["occ"][0].get("pem_type", "")) if r["kind"] == "pem" else None,
                "occ": [{k: o.get(k) for k in ("path", "shape", "name", "ctx", "outer_ctx")} for o in r["occ"][:4]],
            }, ensure_ascii=False) + "\n")
    keyorder = ["repo", "label", "kind", "classes", "network", "sha256", "fingerprint", "redacted", "first_path",
                "first_commit", "note", "length", "shapes", "pem_algo", "source"]
    with open(a.out, "w") as fh:
        for rec in out:
            fh.write(json.dumps({k: rec[k] for k in keyorder if k in rec}, ensure_ascii=False) + "\n")
    print(f"labels: {len(out)} written, {len(review)} need review ({a.review}), {len(stale)} stale manual entries",
          file=sys.stderr)
    return 1 if review else 0


if __name__ == "__main__":
    sys.exit(main())
