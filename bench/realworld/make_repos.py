#!/usr/bin/env python3
"""Write repos.json (what was fetched, from where, at which snapshot) and choose the held-out split.

    make_repos.py --names names.txt [--mirror-root /work/.mirror] [--full-root /work/realworld-data/repos]
    make_repos.py --split            # once: choose tune/heldout from labels.jsonl, fixed seed

The split is made once and then frozen: ``--split`` refuses to touch a repos.json that already
has one, and a later ``--names`` run keeps every existing entry's split.

Split rule (by repository, seed SEED): each repository gets one stratum, the rarest of the
strata its labels show (``positional``, ``binary-only``, ``hex``, ``pem``, ``testnet``,
``named`` for positives; ``sdk-docs`` and ``negatives-only`` otherwise). Inside a stratum the
repositories are shuffled with the seed and ``max(1, round(n/3))`` of them go to ``heldout``,
so every stratum, including one seen in a single repository, is represented in the held-out
third.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261129
SDK_DOCS = {
    "binance/binance-spot-api-docs", "binance/binance-api-swagger", "binance/binance-connector-python",
    "binance/binance-connector-js", "binance/binance-connector-go", "binance/binance-futures-connector-python",
    "sammchardy/python-binance", "foreverchens/binance-connector-java",
}
STRATA_ORDER = ["positional", "binary-only", "hex", "pem", "testnet", "named", "sdk-docs", "negatives-only"]


def git(gitdir: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(gitdir), *args], capture_output=True, text=True).stdout.strip()


def mirror_gitdir(root: Path, key: str) -> Path:
    d = root / key / "repo"
    return d / ".git" if (d / ".git").is_dir() else d


def write_names(a: argparse.Namespace) -> None:
    path = HERE / "repos.json"
    old = {r["name"]: r for r in json.load(open(path))["repositories"]} if path.exists() else {}
    out = []
    for key in [n.strip() for n in open(a.names) if n.strip()]:
        name = key.replace("+", "/", 1)
        m = mirror_gitdir(Path(a.mirror_root), key)
        full = Path(a.full_root) / f"{key}.git"
        rec = {
            "name": name,
            "source": f"github:{name}",
            "category": "sdk-docs" if name in SDK_DOCS else "user-code",
            "snapshot_head": git(m, "rev-parse", "HEAD"),
            "snapshot_date": git(m, "log", "-1", "--format=%cI", "HEAD"),
            "fetched_on": __import__("datetime").date.fromtimestamp(m.stat().st_mtime).isoformat(),
            "mirror_path": str(m),
            "local_path": str(full),
            "local_head": git(full, "rev-parse", "HEAD"),
            "commits": int(git(full, "rev-list", "--all", "--count") or 0),
            "blobs": sum(1 for l in git(full, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype)").splitlines()
                         if l == "blob"),
        }
        if name in old and "split" in old[name]:
            rec["split"] = old[name]["split"]
            rec["stratum"] = old[name].get("stratum")
        out.append(rec)
    json.dump({"note": "fetched snapshots live outside git: mirror_path (partial snapshot) and local_path "
                       "(complete copy made by make-full-repo.sh, commit ids rewritten); split frozen once chosen",
               "seed": SEED, "repositories": out}, open(path, "w"), indent=1)
    print(f"{len(out)} repositories -> {path}")


def choose_split(a: argparse.Namespace) -> None:
    path = HERE / "repos.json"
    doc = json.load(open(path))
    repos = doc["repositories"]
    if any("split" in r for r in repos):
        raise SystemExit("repos.json already has a split: it is frozen")
    strata_of: dict[str, set[str]] = defaultdict(set)
    for line in open(HERE / "labels.jsonl"):
        L = json.loads(line)
        if L["label"] == "positive":
            c = set(L["classes"])
            if "positional" in c:
                strata_of[L["repo"]].add("positional")
            if "binary-only" in c:
                strata_of[L["repo"]].add("binary-only")
            if "hex" in c:
                strata_of[L["repo"]].add("hex")
            if L["kind"] == "private_key":
                strata_of[L["repo"]].add("pem")
            if L.get("network") in ("testnet", "demo"):
                strata_of[L["repo"]].add("testnet")
            strata_of[L["repo"]].add("named")
    counts = defaultdict(int)
    for r in repos:
        s = strata_of.get(r["name"]) or {"sdk-docs" if r["category"] == "sdk-docs" else "negatives-only"}
        if r["category"] == "sdk-docs":
            s = s | {"sdk-docs"}
        strata_of[r["name"]] = s
        for x in s:
            counts[x] += 1
    groups: dict[str, list[str]] = defaultdict(list)
    for r in repos:
        s = strata_of[r["name"]]
        # rarest stratum first (fewest repositories), ties by STRATA_ORDER
        best = min(s, key=lambda x: (counts[x], STRATA_ORDER.index(x)))
        r["stratum"] = best
        groups[best].append(r["name"])
    rng = random.Random(SEED)
    held: set[str] = set()
    for stratum in STRATA_ORDER:
        names = sorted(groups.get(stratum, []))
        if not names:
            continue
        rng.shuffle(names)
        k = max(1, round(len(names) / 3))
        held.update(names[:k])
    for r in repos:
        r["split"] = "heldout" if r["name"] in held else "tune"
    json.dump(doc, open(path, "w"), indent=1)
    for stratum in STRATA_ORDER:
        names = groups.get(stratum, [])
        print(f"{stratum:15s} {len(names):2d} repos, heldout: {sorted(n for n in names if n in held)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--names")
    ap.add_argument("--mirror-root", default="/work/.mirror")
    ap.add_argument("--full-root", default="/work/realworld-data/repos")
    ap.add_argument("--split", action="store_true")
    a = ap.parse_args()
    if a.names:
        write_names(a)
    if a.split:
        choose_split(a)


if __name__ == "__main__":
    main()
