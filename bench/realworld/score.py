#!/usr/bin/env python3
"""Score a keytrap build against the real-world labelled set.

    score.py [--keytrap PATH] [--repos repos.json] [--labels labels.jsonl]
             [--repo-root DIR] [--only NAME ...] [--jobs 2] [--json-out FILE]

For every repository in ``repos.json`` this runs

    KEYTRAP scan GITDIR --history --no-worktree --format json --min-confidence low

(history reads every blob once, so each secret is one finding) and matches the findings to
``labels.jsonl`` by keytrap's own fingerprint. A positive is a distinct value (sha256) per
repository: a secret labelled under two fingerprints (an Ed25519 PEM whose one body line is
also a 64-character token) is one positive, found when either is reported. It prints, per split (tune / heldout / all):
precision, recall, recall per positive class, false positives per negative class, the
findings no label knows (a labelling gap: label them), and the accuracy of the ``network``
field when findings carry one. Standard library only; no network.

Redaction: nothing here prints more than the first 4 and last 2 characters of a value.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPLITS = ("tune", "heldout", "all")


def short(redacted: str) -> str:
    """keytrap shows 4+4; keep 4+2 (first four, last two) for anything this script prints."""
    if "…" in redacted:
        head, tail = redacted.split("…", 1)
        return f"{head[:4]}…{tail[-2:]}"
    return "*" * min(len(redacted), 8)


def find_keytrap(arg: str | None) -> list[str]:
    if arg:
        p = Path(arg)
        if p.is_dir():  # a checkout or a venv: prefer its venv's entry point
            for cand in (p / ".venv/bin/keytrap", p / "bin/keytrap"):
                if cand.exists():
                    return [str(cand)]
            raise SystemExit(f"no keytrap entry point under {p}")
        return [str(p)]
    for cand in (HERE.parent.parent / ".venv/bin/keytrap",):
        if cand.exists():
            return [str(cand)]
    exe = shutil.which("keytrap")
    if not exe:
        raise SystemExit("keytrap not found: pass --keytrap PATH")
    return [exe]


def scan(keytrap: list[str], gitdir: str, timeout: int) -> tuple[list[dict], dict]:
    t0 = time.perf_counter()
    cmd = [*keytrap, "scan", gitdir, "--history", "--no-worktree", "--format", "json",
           "--min-confidence", "low", "--no-progress"]
    env = dict(os.environ, NO_COLOR="1")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        err = p.stderr.strip().splitlines()[-1:] or ["?"]
        return [], {"error": f"exit {p.returncode}: {err[0][:200]}", "wall_s": wall}
    doc = json.loads(p.stdout)
    stats = doc.get("stats", {})
    return doc.get("findings", []), {"wall_s": round(wall, 2), "blobs": stats.get("blobs_scanned"),
                                     "skipped": len(stats.get("skipped", []))}


def ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def evaluate(repos: list[dict], labels: dict[str, dict[str, dict]], results: dict[str, list[dict]]) -> dict:
    out: dict = {}
    for split in SPLITS:
        names = [r["name"] for r in repos if split == "all" or r["split"] == split]
        tp = fp = fn = 0
        pos_by_class: Counter = Counter()
        hit_by_class: Counter = Counter()
        fp_by_class: Counter = Counter()
        fp_unlabelled = 0
        fp_vendored = 0
        conf_tp: Counter = Counter()
        conf_fp: Counter = Counter()
        kind_ok = kind_n = 0
        net_ok = net_n = net_ok_default = 0
        net_seen = False
        unlabelled: list[dict] = []
        missed: list[dict] = []
        per_repo = []
        for name in names:
            lab = labels.get(name, {})
            finds = results.get(name, [])
            by_fp: dict[str, dict] = {}
            for f in finds:
                by_fp.setdefault(f["fingerprint"], f)
            r_tp = r_fp = 0
            tp_values: set[str] = set()
            for fpr, f in by_fp.items():
                L = lab.get(fpr)
                conf = f.get("confidence", "?")
                if "network" in f:
                    net_seen = True
                if L is None:
                    fp += 1
                    r_fp += 1
                    fp_unlabelled += 1
                    conf_fp[conf] += 1
                    unlabelled.append({"repo": name, "kind": f.get("kind"), "confidence": conf,
                                       "path": f.get("path"), "line": f.get("line"),
                                       "redacted": short(f.get("secret_redacted", "")),
                                       "fingerprint": fpr})
                elif L["label"] == "positive":
                    if L["sha256"] in tp_values:
                        continue  # the same secret under its other label (see below)
                    tp_values.add(L["sha256"])
                    tp += 1
                    r_tp += 1
                    conf_tp[conf] += 1
                    kind_n += 1
                    kind_ok += f.get("kind") == L["kind"]
                    if "network" in f and L.get("network"):
                        net_n += 1
                        net_ok += f["network"] == L["network"]
                        # keytrap's null means "nothing says": verification asks mainnet first
                        net_ok_default += (f["network"] or "mainnet") == L["network"]
                else:
                    fp += 1
                    r_fp += 1
                    conf_fp[conf] += 1
                    for c in L["classes"]:
                        fp_by_class[c] += 1
                    fp_vendored += "vendored" in L["classes"]
            r_pos = 0
            # one secret can carry two labels (an Ed25519 PEM body is also a 64-character
            # token: labelled once under each rule's fingerprint); it is one positive, found
            # when either is reported
            found_values = {L["sha256"] for fpr, L in lab.items() if L["label"] == "positive" and fpr in by_fp}
            seen_values: set[str] = set()
            for fpr, L in lab.items():
                if L["label"] != "positive" or L["sha256"] in seen_values:
                    continue
                seen_values.add(L["sha256"])
                hit = L["sha256"] in found_values
                r_pos += 1
                for c in L["classes"] + [f"kind:{L['kind']}", f"network:{L.get('network')}"]:
                    pos_by_class[c] += 1
                    if hit:
                        hit_by_class[c] += 1
                if not hit:
                    fn += 1
                    missed.append({"repo": name, "kind": L["kind"], "classes": L["classes"],
                                   "network": L.get("network"), "redacted": L["redacted"],
                                   "first_path": L["first_path"]})
            per_repo.append({"repo": name, "positives": r_pos, "tp": r_tp, "fp": r_fp,
                             "negatives": sum(1 for L in lab.values() if L["label"] == "negative")})
        out[split] = {
            "repos": len(names),
            "positives": tp + fn,
            "negatives": sum(1 for n in names for L in labels.get(n, {}).values() if L["label"] == "negative"),
            "tp": tp, "fp": fp, "fn": fn,
            "precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn),
            "fp_vendored": fp_vendored, "precision_without_vendored": ratio(tp, tp + fp - fp_vendored),
            "recall_by_class": {c: {"found": hit_by_class[c], "total": n, "recall": ratio(hit_by_class[c], n)}
                                for c, n in sorted(pos_by_class.items())},
            "fp_by_negative_class": dict(sorted(fp_by_class.items(), key=lambda kv: -kv[1])),
            "fp_unlabelled": fp_unlabelled,
            "confidence_tp": dict(conf_tp), "confidence_fp": dict(conf_fp),
            "kind_accuracy": ratio(kind_ok, kind_n),
            "network_accuracy": ratio(net_ok, net_n) if net_seen else None,
            "network_accuracy_null_as_mainnet": ratio(net_ok_default, net_n) if net_seen else None,
            "unlabelled": unlabelled, "missed": missed, "per_repo": per_repo,
        }
    return out


def report(ev: dict, meta: dict) -> str:
    lines = [f"keytrap: `{meta['keytrap']}` ({meta.get('version', '?')}), {meta['repos']} repositories, "
             f"scan wall time {meta['wall_s']:.1f} s", ""]
    lines += ["| split | repos | positives | negatives | TP | FP | FN | precision | recall | kind acc. | network acc. "
              "| network acc. (null = mainnet) | FP in vendored code | precision without them |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in SPLITS:
        e = ev[s]
        lines.append(f"| {s} | {e['repos']} | {e['positives']} | {e['negatives']} | {e['tp']} | {e['fp']} | {e['fn']} "
                     f"| {fmt(e['precision'])} | {fmt(e['recall'])} | {fmt(e['kind_accuracy'])} "
                     f"| {fmt(e['network_accuracy'])} | {fmt(e.get('network_accuracy_null_as_mainnet'))} "
                     f"| {e['fp_vendored']} | {fmt(e['precision_without_vendored'])} |")
    classes = sorted({c for s in SPLITS for c in ev[s]["recall_by_class"]})
    lines += ["", "Recall per positive class (found/total):", "",
              "| class | " + " | ".join(SPLITS) + " |", "|---|" + "---|" * len(SPLITS)]
    for c in classes:
        cells = []
        for s in SPLITS:
            d = ev[s]["recall_by_class"].get(c)
            cells.append("" if d is None else f"{d['found']}/{d['total']} ({fmt(d['recall'])})")
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    neg = sorted({c for s in SPLITS for c in ev[s]["fp_by_negative_class"]} | {"(unlabelled)"})
    lines += ["", "False positives per negative class (a finding counts once per class tag it carries):", "",
              "| negative class | " + " | ".join(SPLITS) + " |", "|---|" + "---|" * len(SPLITS)]
    for c in neg:
        cells = [str(ev[s]["fp_unlabelled"] if c == "(unlabelled)" else ev[s]["fp_by_negative_class"].get(c, 0))
                 for s in SPLITS]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    lines += ["", "Findings by confidence (all): TP " + json.dumps(ev["all"]["confidence_tp"]) +
              ", FP " + json.dumps(ev["all"]["confidence_fp"])]
    if ev["all"]["unlabelled"]:
        lines += ["", "Unlabelled findings (labelling gaps: go back and label them):", ""]
        for u in ev["all"]["unlabelled"]:
            lines.append(f"- {u['repo']} {u['kind']} {u['confidence']} {u['path']}:{u['line']} {u['redacted']}")
    lines += ["", "Per repository (all):", "", "| repo | split | positives | TP | FP | negatives |", "|---|---|---|---|---|---|"]
    split_of = meta["split_of"]
    for r in ev["all"]["per_repo"]:
        lines.append(f"| {r['repo']} | {split_of[r['repo']]} | {r['positives']} | {r['tp']} | {r['fp']} | {r['negatives']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keytrap", help="keytrap executable, or a checkout/venv folder holding one")
    ap.add_argument("--repos", default=str(HERE / "repos.json"))
    ap.add_argument("--labels", default=str(HERE / "labels.jsonl"))
    ap.add_argument("--repo-root", help="folder holding OWNER+NAME.git copies (overrides repos.json paths)")
    ap.add_argument("--only", nargs="*", help="score only these repositories")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--json-out")
    a = ap.parse_args(argv)

    keytrap = find_keytrap(a.keytrap)
    try:
        version = subprocess.run([*keytrap, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception:
        version = "?"
    repos = json.load(open(a.repos))["repositories"]
    if a.only:
        repos = [r for r in repos if r["name"] in set(a.only)]
    labels: dict[str, dict[str, dict]] = defaultdict(dict)
    for line in open(a.labels):
        if line.strip():
            L = json.loads(line)
            labels[L["repo"]][L["fingerprint"]] = L

    def gitdir(r: dict) -> str:
        if a.repo_root:
            return str(Path(a.repo_root) / (r["name"].replace("/", "+") + ".git"))
        return r["local_path"]

    results: dict[str, list[dict]] = {}
    runs: dict[str, dict] = {}
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futs = {r["name"]: pool.submit(scan, keytrap, gitdir(r), a.timeout) for r in repos}
        for name, fut in futs.items():
            finds, info = fut.result()
            results[name] = finds
            runs[name] = info
            if "error" in info:
                print(f"warning: {name}: {info['error']}", file=sys.stderr)
    wall = time.perf_counter() - t0
    ev = evaluate(repos, labels, results)
    meta = {"keytrap": " ".join(keytrap), "version": version, "repos": len(repos), "wall_s": wall,
            "split_of": {r["name"]: r["split"] for r in repos}}
    print(report(ev, meta))
    if a.json_out:
        with open(a.json_out, "w") as fh:
            json.dump({"meta": meta, "runs": runs, "results": ev}, fh, indent=1, ensure_ascii=False)
    return 0 if not any("error" in i for i in runs.values()) else 2


if __name__ == "__main__":
    sys.exit(main())
