"""Which Binance network a key belongs to, read from the text around it. Pure and cheap.

Every finding gets ``network``: ``"mainnet"``, ``"testnet"``, ``"demo"`` or ``None`` (no
evidence either way). The evidence, strongest first:

1. the name the value is bound to: ``BINANCE_TESTNET_API_KEY``, ``DEMO_SECRET``,
   ``MAINNET_KEY``, and in CI configuration ``TEST_…`` names;
2. markers near the finding (``WINDOW`` bytes each side), the nearest of the strongest kind:
   flags and calls (``testnet=True``, ``"testnet": false``, ``TEST_TESTNET: "true"``,
   ``demo=True``, ``set_sandbox_mode(True)``, ``exchange.urls['test']``,
   ``network: testnet``, ``--testnet``), then base URLs (``testnet.binance.vision``,
   ``testnet.binancefuture.com``, ``demo-api.binance.com``, ``api.binance.com``…), then the
   words ``testnet`` / ``mainnet`` inside other names (``BINANCE_TESTNET_KEY``, ``useTestnet``;
   not in prose);
3. the path (``config/testnet.yaml``, ``.env.testnet``, ``demo-trading/``; not ``sandbox/``);
4. the file as a whole (its first ``FULL_SCAN`` bytes when larger), when all its flags and
   URLs point to one network.

A key and its secret (same ``pair``) get the network of the half with the strongest evidence.

Cost: nothing on a clean file (the engine only calls this for files with findings). Then a
lowercase copy and ``bytes.find`` for a few keywords, with small anchored regexes at each hit,
over the file's first ``FULL_SCAN`` bytes (at most ``MAX_FILE_HITS`` hits of each keyword:
file-level evidence) and over the merged windows around the findings: linear in the bytes
read, and bounded by ``FULL_SCAN`` + 2 x ``WINDOW`` per finding however large the file.
"""

from __future__ import annotations

import bisect
import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from keytrap.findings import Finding

MAINNET = "mainnet"
TESTNET = "testnet"
DEMO = "demo"
NETWORKS = (MAINNET, TESTNET, DEMO)

#: Bytes looked at on each side of a finding for flags, URLs and words.
WINDOW = 1536
#: Files up to this size are read whole for evidence; of a larger one, this many bytes at its
#: head stand for the file, plus the windows around its findings.
FULL_SCAN = 256 * 1024
#: Keyword hits looked at, per keyword, for file-level evidence.
MAX_FILE_HITS = 512

# strength of each kind of evidence (higher wins; pair halves take the strongest)
BY_NAME, BY_FLAG, BY_URL, BY_WORD, BY_PATH, BY_FILE = 6, 5, 4, 3, 2, 1

_KEYWORDS = (b"testnet", b"sandbox", b"demo", b"binance", b"mainnet", b"urls")
_TRUE = frozenset({b"true", b"yes", b"on", b"1"})
#: ``<key containing the keyword> = <bool>``, matched from the keyword onwards.
_FLAG_TAIL = re.compile(rb"""[a-z0-9_\-]*["'\]]?[ \t]*(?:=>|:=|[:=])[ \t]*["']?(true|false|yes|no|on|off|1|0)\b""")
_SANDBOX_CALL = re.compile(rb"set_?sandbox_?mode[ \t]*\([ \t]*(true|false)\b")
_CCXT_TEST_URLS = re.compile(rb"""urls[ \t]*\[[ \t]*["']test["'][ \t]*\]""")
#: ``network: testnet``: the keyword is the value. Searched in the bytes that end at the hit.
_VALUE_BEFORE = re.compile(
    rb"""(?:^|[^a-z0-9_])(?:env|environment|network|net|mode|trading_?mode|exchange_?mode|"""
    rb"""stage|binance_?env|binance_?network)["']?[ \t]*(?:=>|:=|[:=])[ \t]*["']?\Z"""
)
_HOSTS = re.compile(
    rb"""(?<![a-z0-9.\-])(?:"""
    rb"""(?P<testnet>testnet\.binance\.vision|(?:[a-z0-9\-]+\.)?binancefuture\.com)"""
    rb"""|(?P<demo>demo-[a-z\-]+\.binance\.com|demo\.binance\.com)"""
    rb"""|(?P<mainnet>(?:api\d?|api-gcp|fapi|dapi|papi|eapi|stream|fstream|dstream|ws-api|ws-fapi)\.binance\.com)"""
    rb""")"""
)
_CI_PATHS = re.compile(
    r"(?:^|/)(?:\.github/workflows/|\.gitlab-ci\.ya?ml$|\.circleci/|azure-pipelines\.ya?ml$|"
    r"\.travis\.ya?ml$|bitbucket-pipelines\.ya?ml$|jenkinsfile$|\.drone\.ya?ml$|\.woodpecker|"
    r"\.buildkite/|\.gitea/workflows/|\.forgejo/workflows/)"
)
_NAME_TOKENS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_PATH_WORDS = re.compile(r"[a-z0-9]+")


#: One piece of evidence in the file: (position, strength, network).
Marker = tuple[int, int, str]


def _tokens(name: str) -> list[str]:
    """``BINANCE_TESTNET_KEY`` / ``binanceTestnetKey`` / ``api.demo.key`` -> lower-case words."""
    return [t.lower() for t in _NAME_TOKENS.findall(name)]


def from_name(name: str | None, path: str) -> str | None:
    """The network a variable name says (``TESTNET_API_KEY``), or None."""
    if not name:
        return None
    low = name.lower()
    if "testnet" in low or "sandbox" in low:
        return TESTNET
    words = _tokens(name)
    if "demo" in words:
        return DEMO
    if "mainnet" in low:
        return MAINNET
    if is_ci_config(path) and words[:1] == ["test"]:
        return TESTNET  # TEST_BINANCE_API_KEY in a CI workflow: the test job's (testnet) key
    return None


def is_ci_config(path: str) -> bool:
    return bool(_CI_PATHS.search(path.replace("\\", "/").lower()))


def from_path(path: str) -> str | None:
    """``config/testnet.yaml``, ``.env.testnet``, ``demo-trading/``: the path names a network."""
    words = _PATH_WORDS.findall(path.lower())
    if "testnet" in words:  # not "sandbox": a sandbox/ folder is anybody's scratch space
        return TESTNET
    joined = "-".join(words)
    if "demo-trading" in joined or "demotrading" in words or "demo-mode" in joined:
        return DEMO
    if "mainnet" in words:
        return MAINNET
    return None


def _in_identifier(before: bytes, after: bytes) -> bool:
    """A word glued into a name (``BINANCE_TESTNET_KEY``, ``useTestnet``), not prose: a comment
    saying "try it on the testnet" is no evidence about the key below it."""
    return before == b"_" or after == b"_" or before.isalnum() or after.isalnum()


def _at(data: bytes, low: bytes, kw: bytes, p: int) -> tuple[int, str] | None:
    """The marker (strength, network) that the keyword hit at ``p`` starts, if any."""
    end = p + len(kw)
    if kw in (b"testnet", b"sandbox", b"demo"):
        if kw == b"demo":
            # a word of its own: demo, demo_mode, isDemo, DEMO_TRADING; not demonstrate/democracy
            before = data[p - 1 : p] if p else b""
            after = data[end : end + 1]
            camel_before = before.islower() and data[p : p + 1].isupper()
            if before.isalpha() and not camel_before:
                return None
            if after.isalpha() and not (after.isupper() and data[p + 3 : p + 4].islower()):
                if not low.startswith(b"trading", end):
                    return None
        net = DEMO if kw == b"demo" else TESTNET
        if kw == b"testnet" and _HOSTS.match(low, p):
            return None  # the host marker (found from its "binance") says it
        if kw == b"sandbox":
            for call in _SANDBOX_CALL.finditer(low, max(0, p - 4), min(len(low), p + 40)):
                if call.start() <= p < call.end():
                    return BY_FLAG, (TESTNET if call.group(1) == b"true" else MAINNET)
        flag = _FLAG_TAIL.match(low, end)
        if flag is not None:
            return BY_FLAG, (net if flag.group(1) in _TRUE else MAINNET)
        if _VALUE_BEFORE.search(low, max(0, p - 48), p):
            return BY_FLAG, net
        if low[max(0, p - 2) : p] == b"--" and not low[p - 3 : p - 2].isalnum():
            return BY_FLAG, net  # a --testnet / --demo command-line flag
        if kw == b"testnet" and _in_identifier(data[p - 1 : p] if p else b"", data[end : end + 1]):
            return BY_WORD, TESTNET  # BINANCE_TESTNET_KEY, testnet_client, useTestnet
        return None
    if kw == b"binance":
        for m in _HOSTS.finditer(low, max(0, p - 24), min(len(low), p + 40)):
            if m.start() <= p < m.end():
                return BY_URL, next(k for k, v in m.groupdict().items() if v)
        return None
    if kw == b"mainnet":
        flag = _FLAG_TAIL.match(low, end)
        if flag is not None:
            return (BY_FLAG, MAINNET) if flag.group(1) in _TRUE else None
        if _VALUE_BEFORE.search(low, max(0, p - 48), p):
            return BY_FLAG, MAINNET
        if _in_identifier(data[p - 1 : p] if p else b"", data[end : end + 1]):
            return BY_WORD, MAINNET
        return None
    if kw == b"urls" and _CCXT_TEST_URLS.match(low, p):
        return BY_FLAG, TESTNET
    return None


def _scan(data: bytes, lo: int, hi: int, cap: int | None = None) -> list[Marker]:
    """Every marker whose keyword starts in ``data[lo:hi]`` (read from that slice only); at
    most ``cap`` hits of each keyword are looked at."""
    seg = data[lo:hi]
    low = seg.lower()
    out: list[Marker] = []
    for kw in _KEYWORDS:
        pos, seen = low.find(kw), 0
        while pos != -1 and (cap is None or seen < cap):
            found = _at(seg, low, kw, pos)
            if found is not None:
                out.append((lo + pos, *found))
            seen += 1
            pos = low.find(kw, pos + len(kw))
    return out


def _merged(starts: list[int], size: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for s in sorted(starts):
        a, b = max(0, s - WINDOW), min(size, s + WINDOW)
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], b))
        else:
            spans.append((a, b))
    return spans


def _file_level(markers: list[Marker]) -> str | None:
    nets = {m[2] for m in markers if m[1] >= BY_URL}
    return next(iter(nets)) if len(nets) == 1 else None


def _nearest(markers: list[Marker], positions: list[int], pos: int) -> tuple[str, int] | None:
    """Strongest kind first, then nearest: ``(network, strength)`` within WINDOW of ``pos``."""
    i = bisect.bisect_left(positions, pos - WINDOW)
    j = bisect.bisect_right(positions, pos + WINDOW)
    best: tuple[int, int, str] | None = None  # (-strength, distance, network)
    for m in markers[i:j]:
        key = (-m[1], abs(m[0] - pos), m[2])
        if best is None or key < best:
            best = key
    return (best[2], -best[0]) if best is not None else None


def _line_starts(data: bytes, lines: set[int]) -> dict[int, int]:
    """Byte offset of each wanted 1-based line; walks newlines up to the last one needed."""
    out: dict[int, int] = {}
    want = sorted(lines)
    line, pos = 1, 0
    for target in want:
        while line < target:
            nl = data.find(b"\n", pos)
            if nl == -1:
                break
            pos, line = nl + 1, line + 1
        out[target] = pos
    return out


def annotate(
    data: bytes, path: str, findings: Sequence[Finding], starts: Sequence[int | None] = ()
) -> list[Finding]:
    """``findings`` with ``extra["network"]`` set. ``starts[i]`` is finding i's byte offset when
    known (the engine knows it for HMAC candidates); others are placed at their line's start.

    A finding that already carries a network (found inside base64-decoded text) keeps it.
    """
    if not findings:
        return []
    pos: list[int] = []
    missing = {f.line for i, f in enumerate(findings) if i >= len(starts) or starts[i] is None}
    lines = _line_starts(data, missing) if missing else {}
    for i, f in enumerate(findings):
        s = starts[i] if i < len(starts) else None
        pos.append(s if s is not None else lines.get(f.line, 0))
    # file-level evidence: the file (or its head, where settings live), a bounded number of
    # keyword hits; then every marker in the windows around the findings
    head = _scan(data, 0, min(len(data), FULL_SCAN), cap=MAX_FILE_HITS)
    file_net = _file_level(head)
    markers = list(head)
    for a, b in _merged(pos, len(data)):
        markers.extend(_scan(data, a, b))
    markers = sorted({m[0]: m for m in markers}.values())
    positions = [m[0] for m in markers]
    path_net = from_path(path)

    decided: list[tuple[str | None, int]] = []
    for f, p in zip(findings, pos):
        prior = f.get("network")
        if prior in NETWORKS:
            decided.append((prior, BY_NAME))  # type: ignore[arg-type]
            continue
        net = from_name(f.name, path)
        if net is not None:
            decided.append((net, BY_NAME))
            continue
        near = _nearest(markers, positions, p)
        if near is not None:
            decided.append(near)
        elif path_net is not None:
            decided.append((path_net, BY_PATH))
        elif file_net is not None:
            decided.append((file_net, BY_FILE))
        else:
            decided.append((None, 0))
    # both halves of a pair are one credential: the strongest evidence of either half wins
    best: dict[str, tuple[int, str | None]] = {}
    for f, (net, strength) in zip(findings, decided):
        if f.pair and net is not None:
            cur = best.get(f.pair)
            if cur is None or strength > cur[0] or (strength == cur[0] and f.kind == "api_key"):
                best[f.pair] = (strength, net)
    out = []
    for f, (net, _s) in zip(findings, decided):
        if f.pair in best:
            net = best[f.pair][1]
        out.append(f.with_extra(network=net))
    return out


def file_network(data: bytes) -> str | None:
    """The network a whole file points to (its head, as for file-level evidence), when all of
    its flags and URLs agree; None otherwise."""
    return _file_level(_scan(data, 0, min(len(data), FULL_SCAN), cap=MAX_FILE_HITS))
