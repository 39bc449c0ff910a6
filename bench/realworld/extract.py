#!/usr/bin/env python3
"""Extract every key-shaped candidate from every blob of a git repository, for labelling.

    extract.py GITDIR --out CANDIDATES.jsonl [--max-blob 20M]

What is a candidate (one record per distinct value per repository):

* ``token``: a run of exactly 60..70 ``[A-Za-z0-9]`` characters with no alphanumeric on
  either side (hex runs included), in any blob, text or binary;
* ``token`` with ``encoding: base64``: a 60..70 run found in the decoding of a base64 run
  (``[A-Za-z0-9+/]{86,}`` plus padding) that decodes to printable text;
* ``pem``: a ``-----BEGIN … PRIVATE KEY-----`` block (any algorithm); its identity is the body
  with everything but ``[A-Za-z0-9+/=]`` (and literal ``\\n``/``\\r`` escapes) removed, exactly
  as keytrap's engine normalises it;
* inside binary blobs the same regexes run over the raw bytes (``.pyc``, ``.class``, SQLite and
  pickle files keep their strings as plain bytes); zip containers (``.zip``, ``.whl``,
  ``.jar``, ``.xlsx``, ``.docx``) and gzip streams are opened and each member is scanned.

Every occurrence keeps a short context in which every other 40+ character alphanumeric run is
cut to ``abcd…yz``, so a reviewer reads names and shapes, not secrets. The output file holds the
raw values (the score needs their fingerprints): it is written outside the repository
(``/work/realworld-data``) and must never be committed.

Standard library only; never runs or imports anything from the scanned repository.
"""

from __future__ import annotations

import argparse
import binascii
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from collections import defaultdict

TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{60,70}(?![A-Za-z0-9])")
B64RUN = re.compile(rb"[A-Za-z0-9+/]{86,262144}={0,2}")
LONG_ALNUM = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64,}")
PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY)-----(.{16,16384}?)-----END \1-----", re.DOTALL)
PEM_JUNK = re.compile(rb"\\[nr]|[^A-Za-z0-9+/=]")  # keytrap.engine._PEM_JUNK
LONGRUN = re.compile(r"[A-Za-z0-9+/]{40,}")
NAME = re.compile(
    r"""(?<![A-Za-z0-9_.$-])([A-Za-z_$][A-Za-z0-9_.$-]{0,39})\s*["'`\]]?\s*(?:=>|:=|=|:|,)\s*(?:[A-Za-z_.]*\(\s*)?["'`]?\s*$"""
)
CALL = re.compile(r"""(?<![A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_.]{0,39})\s*\(\s*(?:[A-Za-z_]+\s*=\s*)?["'`]?\s*$""")
CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r") + b"\x7f"
MAX_MEMBERS = 5000
MAX_OCC = 6


def fingerprint(rule: str, secret: str) -> str:
    """keytrap.findings.fingerprint, copied so the extractor needs no install."""
    return hashlib.sha256(f"keytrap:v1:{rule}:{secret}".encode()).hexdigest()[:32]


def redact_run(m: re.Match[str]) -> str:
    s = m.group(0)
    return f"{s[:4]}…{s[-2:]}"


def safe_text(b: bytes) -> str:
    s = b.decode("utf-8", "replace")
    s = "".join(ch if ch.isprintable() or ch == "\t" else ("⏎" if ch == "\n" else ".") for ch in s)
    return LONGRUN.sub(redact_run, s)


def context(data: bytes, start: int, end: int, binary: bool) -> tuple[str, str, str]:
    """(context lines, line prefix before the value, bound name) with long runs redacted."""
    if binary:
        pre = data[max(0, start - 160) : start]
        post = data[end : end + 80]
        return safe_text(pre) + "«»" + safe_text(post), "", ""
    ls = data.rfind(b"\n", 0, start) + 1
    le = data.find(b"\n", end)
    le = len(data) if le == -1 else le
    p1 = data.rfind(b"\n", 0, max(0, ls - 1)) + 1 if ls else ls
    p2 = data.rfind(b"\n", 0, max(0, p1 - 1)) + 1 if p1 else p1
    n1 = data.find(b"\n", le + 1)
    n1 = len(data) if n1 == -1 else n1
    prefix = data[max(ls, start - 200) : start]
    lines = [data[max(p2, ls - 600) : ls], prefix, b"\xab\xbb", data[end : min(le, end + 160)], data[le:min(n1, le + 240)]]
    ctx = safe_text(lines[0])[-400:] + safe_text(lines[1]) + "«»" + safe_text(lines[3]) + safe_text(lines[4])
    pre_s = prefix.decode("utf-8", "replace")
    name = ""
    m = NAME.search(pre_s)
    if m:
        name = m.group(1)
    else:
        m = CALL.search(pre_s)
        if m:
            name = m.group(1) + "("
    return ctx, LONGRUN.sub(redact_run, pre_s[-120:]), name


class Collector:
    def __init__(self) -> None:
        self.recs: dict[tuple[str, str], dict] = {}

    def add(self, kind: str, value: str, occ: dict, blob: str) -> None:
        key = (kind, value)
        r = self.recs.get(key)
        if r is None:
            if kind == "pem":
                fp = fingerprint("binance-private-key", value)
            else:
                fp = fingerprint("binance-hmac-key", value)
            r = self.recs[key] = {
                "kind": kind,
                "value": value,
                "sha256": hashlib.sha256(value.encode()).hexdigest(),
                "fingerprint": fp,
                "length": len(value),
                "blobs": set(),
                "occ": [],
                "shapes": set(),
            }
        r["blobs"].add(blob)
        shape = occ.get("shape", "text")
        r["shapes"].add(shape)
        # keep a few occurrences, preferring new shapes and new paths
        paths = {o["path"] for o in r["occ"]}
        if len(r["occ"]) < MAX_OCC or (shape not in {o.get("shape") for o in r["occ"]}) or (
            occ["path"] not in paths and len(r["occ"]) < 2 * MAX_OCC
        ):
            r["occ"].append(occ)


def printable(decoded: bytes) -> bool:
    return decoded.isascii() and len(decoded.translate(None, CONTROL)) == len(decoded)


def scan(col: Collector, data: bytes, blob: str, path: str, shape: str, depth: int = 0) -> None:
    if depth > 3:
        return
    binary = b"\0" in data[:8192]
    if data[:4] == b"PK\x03\x04":
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            for i, info in enumerate(zf.infolist()):
                if i >= MAX_MEMBERS or info.file_size > 50 << 20 or info.is_dir():
                    continue
                try:
                    member = zf.read(info)
                except Exception:
                    continue
                scan(col, member, blob, f"{path}!{info.filename}", "zip-member", depth + 1)
        except Exception:
            pass
    elif data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                member = gz.read(50 << 20)
            scan(col, member, blob, f"{path}!gunzip", "gzip-member", depth + 1)
        except Exception:
            pass
    if binary and shape == "text":
        shape = "binary"
    for m in TOKEN.finditer(data):
        tok = m.group(0).decode()
        ctx, prefix, name = context(data, m.start(), m.end(), binary)
        before = data[m.start() - 1 : m.start()].decode("latin-1") if m.start() else ""
        after = data[m.end() : m.end() + 1].decode("latin-1")
        col.add(
            "token",
            tok,
            {"path": path, "blob": blob, "shape": shape, "ctx": ctx, "prefix": prefix, "name": name,
             "before": before, "after": after},
            blob,
        )
    if binary:
        # length-prefixed strings glued to the next field: marshal (.pyc: 'Z'/'z' + 1-byte length,
        # 's'/'u'/'t' + 4-byte LE length), pickle (SHORT_BINUNICODE + 1 byte, BINUNICODE + 4 bytes),
        # Java class files (CONSTANT_Utf8 + 2-byte BE length): take exactly 64 characters.
        for m in LONG_ALNUM.finditer(data):
            s = m.start()
            if m.end() - s == 64:
                continue  # already an exact token
            if data[s - 1 : s] == b"@" or data[s - 4 : s] == b"@\0\0\0" or data[s - 2 : s] == b"\0@":
                tok = data[s : s + 64].decode()
                ctx, prefix, name = context(data, s, s + 64, binary)
                col.add(
                    "token",
                    tok,
                    {"path": path, "blob": blob, "shape": shape, "ctx": ctx, "prefix": prefix, "name": name,
                     "before": data[s - 1 : s].decode("latin-1"), "after": "", "length_prefixed": True},
                    blob,
                )
    if b"PRIVATE KEY-----" in data:
        for m in PEM.finditer(data):
            body = PEM_JUNK.sub(b"", m.group(2)).decode("ascii")
            if len(body) < 40:
                continue
            ctx, prefix, name = context(data, m.start(), m.start(), binary)
            col.add(
                "pem",
                body,
                {"path": path, "blob": blob, "shape": shape, "ctx": ctx, "prefix": prefix, "name": name,
                 "pem_type": m.group(1).decode()},
                blob,
            )
    if depth < 2 and shape in ("text", "zip-member", "gzip-member"):
        for m in B64RUN.finditer(data):
            chunk = m.group(0)
            if len(chunk) % 4:
                continue
            try:
                dec = binascii.a2b_base64(chunk, strict_mode=True)
            except (binascii.Error, ValueError):
                continue
            if not printable(dec):
                continue
            if not TOKEN.search(dec) and b"PRIVATE KEY-----" not in dec:
                continue
            outer_ctx, prefix, name = context(data, m.start(), m.start(), binary)
            sub = Collector()
            scan(sub, dec, blob, path, "base64", depth + 1)
            for (kind, value), r in sub.recs.items():
                for o in r["occ"]:
                    o = dict(o, shape="base64", outer_ctx=outer_ctx, outer_name=name)
                    col.add(kind, value, o, blob)


def git(gitdir: str, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True).stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gitdir")
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-blob", type=int, default=20 << 20)
    a = ap.parse_args(argv)
    gd = a.gitdir

    blobs: list[str] = []
    for line in git(gd, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype) %(objectsize)").splitlines():
        oid, typ, size = line.decode().split()
        if typ == "blob" and int(size) <= a.max_blob:
            blobs.append(oid)
    blob_path: dict[str, str] = {}
    for line in git(gd, "rev-list", "--all", "--objects").splitlines():
        parts = line.decode("utf-8", "replace").split(" ", 1)
        if len(parts) == 2 and parts[0] not in blob_path:
            blob_path[parts[0]] = parts[1]
    # first commit (by commit time) that added or changed each blob, and its path there
    first: dict[str, tuple[int, str, str]] = {}
    cur = None
    out = git(gd, "log", "--all", "--format=C %H %ct", "--raw", "--no-abbrev", "--no-renames", "-c")
    for line in out.decode("utf-8", "replace").splitlines():
        if line.startswith("C "):
            _, h, t = line.split()
            cur = (int(t), h)
        elif line.startswith(":") and cur:
            meta, _, p = line.partition("\t")
            fields = meta.split()
            # plain and combined (-c) lines: the last full sha is the blob after the change
            dst = [f for f in fields if len(f) == 40][-1]
            p = p.split("\t")[-1]
            old = first.get(dst)
            if old is None or cur[0] < old[0]:
                first[dst] = (cur[0], cur[1], p)

    col = Collector()
    proc = subprocess.Popen(["git", "--git-dir", gd, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    import threading

    def feed() -> None:
        assert proc.stdin
        for b in blobs:
            proc.stdin.write(b.encode() + b"\n")
        proc.stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    assert proc.stdout
    for b in blobs:
        header = proc.stdout.readline().split()
        size = int(header[2])
        data = proc.stdout.read(size)
        proc.stdout.read(1)
        path = first.get(b, (0, "", blob_path.get(b, "")))[2] or blob_path.get(b, "") or f"<unreachable {b[:10]}>"
        scan(col, data, b, path, "text")
    proc.wait()

    with open(a.out, "w") as fh:
        for r in col.recs.values():
            firsts = [first[b] for b in r["blobs"] if b in first]
            if firsts:
                t, c, p = min(firsts)
                r["first_commit"], r["first_path"], r["first_time"] = c, p, t
            else:
                r["first_commit"], r["first_path"], r["first_time"] = None, r["occ"][0]["path"], None
            r["n_blobs"] = len(r["blobs"])
            r["blobs"] = sorted(r["blobs"])[:20]
            r["shapes"] = sorted(r["shapes"])
            fh.write(json.dumps(r) + "\n")
    print(f"{a.gitdir}: {len(blobs)} blobs, {len(col.recs)} distinct candidates -> {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
