"""How raw bytes become text the engine can read: encodings that carry no BOM, and binary files.

Pure functions, no I/O. ``files.decode_for_scan`` (every source) uses :func:`bomless_codec`; the
staged source (the hook), which must skip nothing, also reads binary files through
:func:`printable_strings`, as ``strings(1)`` does.

Extending: a format with structure worth more than its printable runs (``.pyc`` constants, zip
members) gets its own pure function here, chosen by the caller before the generic fallback.
"""

from __future__ import annotations

import re
from collections import namedtuple

#: Shortest printable run kept from a binary file: shorter than any key (64), long enough that
#: a run is rarely noise, and it keeps ``NAME=`` context in front of a key.
MIN_STRING = 20

_PRINTABLE = rb"[\t\x20-\x7e]"
_RUNS: dict[int, re.Pattern[bytes]] = {}
_PRINTABLE_BYTES = bytes([9, *range(0x20, 0x7F)])
#: The head every source sniffs (git's own rule: a NUL byte in the first 8000 bytes makes a file
#: binary, unless a BOM or a UTF-16/32 pattern says otherwise).
BINARY_SNIFF = 8000


#: First bytes of every BOM ``text_codec`` knows (UTF-32 BE starts with NUL).
_BOM_LEADS = (b"\xff", b"\xfe", b"\x00")


def plain_text(data: bytes) -> bool:
    """No BOM's first byte starts ``data`` and no NUL is in its head: then it is read as it is
    (``decode_for_scan(data) is data``). What almost every file is, asked without copying the
    head (a history scan asks 155k times); False means only "decode it to know"."""
    return data[:1] not in _BOM_LEADS and data.find(b"\x00", 0, BINARY_SNIFF) < 0


def utf16_codec(head: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` when ``head`` (a file's first bytes, no BOM) looks like
    UTF-16: NUL bytes in alternate positions, as ASCII text in UTF-16 has. None otherwise.

    One parity must be mostly NUL (>= 40 %) and the other nearly never (<= 5 %): a binary
    file has NULs at both parities, UTF-8 text has none.
    """
    n = len(head) - len(head) % 2
    if n < 16:
        return None
    even, odd = head[0:n:2], head[1:n:2]
    half = n // 2
    nul_even, nul_odd = even.count(0), odd.count(0)
    if nul_odd >= 0.4 * half and nul_even <= 0.05 * half:
        return "utf-16-le"
    if nul_even >= 0.4 * half and nul_odd <= 0.05 * half:
        return "utf-16-be"
    return None


def utf32_codec(head: bytes) -> str | None:
    """``"utf-32-le"``/``"utf-32-be"`` when ``head`` (a file's first bytes, no BOM) looks like
    UTF-32: each 4-byte unit has its high byte NUL (always) and the next one NUL (Basic
    Multilingual Plane), while its low byte nearly never is. None otherwise.
    """
    n = len(head) - len(head) % 4
    if n < 32:
        return None
    quarter = n // 4
    nul = [head[i:n:4].count(0) for i in range(4)]
    if nul[3] >= 0.95 * quarter and nul[2] >= 0.9 * quarter and nul[0] <= 0.05 * quarter:
        codec = "utf-32-le"
    elif nul[0] >= 0.95 * quarter and nul[1] >= 0.9 * quarter and nul[3] <= 0.05 * quarter:
        codec = "utf-32-be"
    else:
        return None
    # text, not a table of small integers (which stays binary: read as printable strings)
    chars = head[:n].decode(codec, "replace")
    text = sum(1 for c in chars if c.isprintable() or c in "\t\n\r")
    return codec if text >= 0.9 * len(chars) else None


def bomless_codec(head: bytes) -> str | None:
    """UTF-32 or UTF-16 without a BOM (:func:`utf32_codec`, :func:`utf16_codec`), or None."""
    return utf32_codec(head) or utf16_codec(head)


def _runs(min_len: int) -> re.Pattern[bytes]:
    pattern = _RUNS.get(min_len)
    if pattern is None:
        pattern = _RUNS[min_len] = re.compile(_PRINTABLE + b"{%d,}" % min_len)
    return pattern


def printable_strings(data: bytes, min_len: int = MIN_STRING) -> bytes:
    """The printable ASCII runs of ``data`` (at least ``min_len`` bytes), in order.

    What lies between two runs becomes the newlines it holds (so a finding keeps the file's
    line number) or, when it holds none, one space (so two runs never merge into one token).
    """
    out: list[bytes] = []
    pos = 0
    for m in _runs(min_len).finditer(data):
        start = m.start()
        newlines = data.count(b"\n", pos, start)
        if newlines:
            out.append(b"\n" * newlines)
        elif out:
            out.append(b" ")
        out.append(m.group())
        pos = m.end()
    newlines = data.count(b"\n", pos)
    if newlines:
        out.append(b"\n" * newlines)
    return b"".join(out)


def trailing_printable(data: bytes) -> int:
    """Where the printable run that ends ``data`` starts (``len(data)`` if it ends otherwise):
    a stream cuts there, so that no run is split between two calls of :func:`printable_strings`."""
    return len(data.rstrip(_PRINTABLE_BYTES))


def leading_printable(data: bytes) -> int:
    """Length of the printable run that starts ``data``."""
    return len(data) - len(data.lstrip(_PRINTABLE_BYTES))


# --- binary files: what each format holds, then one scan for every source ---------------------
#
# A key survives in committed binaries: a ``__pycache__/*.pyc`` whose ``.py`` was never
# committed, a ``.jar``/``.whl``/``.xlsx`` (zip) member, a ``.tar.gz``, a SQLite file, a pickle.
# ``binary_views`` turns a binary blob into the text views the engine reads, and ``scan_blob``
# is the one function every source (working tree, staged index, history, audit) calls, so a
# finding is the same wherever it is found.
#
# Bounds (archives can be hostile): nesting ``MAX_DEPTH``, ``MAX_MEMBERS`` members per blob,
# ``MAX_MEMBER`` bytes per member (read with a limit: a zip header's size can lie), and
# ``MAX_TOTAL`` bytes decompressed per blob; a zip whose directory lists more than
# ``MAX_LISTED`` entries is not opened. Native code and media files inside an archive are not
# decompressed (16 bytes of a member tell). Any other binary is read only when it holds a
# key-shaped run or a PEM marker at all (one ``translate`` + ``find`` pass, the engine's own
# prefilter test): marshal, SQLite and pickles store strings as they are, so without one its
# constants, rows and strings could hold no finding either.

#: Archives inside archives are opened this deep (a ``.whl`` in a ``.zip``: depth 2).
MAX_DEPTH = 2
#: Members read from one blob, all archives in it together.
MAX_MEMBERS = 1000
#: Bytes read from one member (decompressed).
MAX_MEMBER = 16 << 20
#: Bytes decompressed from one blob in total.
MAX_TOTAL = 64 << 20
#: A zip directory listing more entries than this is not opened (its printable strings are).
MAX_LISTED = 20_000

#: Leading bytes of files not worth reading (and archive members not worth decompressing):
#: executables, object files and native libraries (a wheel's 10 MB ``.so``; their strings are
#: glued together anyway), images, audio, video, fonts, compressed streams that are not archives
#: keytrap opens. The staged index (the hook) reads them all the same, as their strings.
_NOT_READ = (
    b"\x7fELF", b"MZ", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
    b"\x00\x00\xff\xff", b"d\x86", b"L\x01", b"!<arch>\n",
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*", b"\x00\x00\x01\x00",
    b"icns", b"RIFF", b"OggS", b"fLaC", b"ID3", b"\xff\xfb", b"\x1aE\xdf\xa3",
    b"wOFF", b"wOF2", b"OTTO", b"\x00\x01\x00\x00\x00", b"%PDF", b"\xfd7zXZ", b"BZh", b"7z\xbc\xaf",
    b"(\xb5/\xfd", b"PAR1", b"ARROW1", b"\x89HDF",
)
_FTYP = b"ftyp"  # MP4/MOV/HEIC at offset 4


#: Views whose names are the content's own (an archive member's text, a SQLite row's column
#: names; a ``.pyc`` names a hex value only by a credential pair's keys: see ``pyc``). In
#: printable ``strings`` a name is whatever string came before: a single-case hex value found
#: there is never called a key (``engine.scan_bytes(hex_keys=)``).
_NAMED_VIEWS = frozenset({"zip", "gzip", "tar", "sqlite", "pyc"})


class View(namedtuple("View", "text member how lines")):
    """One text the engine reads out of a binary blob."""

    __slots__ = ()
    text: bytes
    member: str  # "" for the blob itself, else the member's path ("a.jar!com/x/Keys.class")
    how: str  # "pyc", "strings", or the archive it came out of: "zip", "gzip", "tar"
    lines: bool  # line numbers in ``text`` are the content's own (False: a reconstruction)


class _Budget:
    __slots__ = ("members", "total", "truncated")

    def __init__(self) -> None:
        self.members = MAX_MEMBERS
        self.total = MAX_TOTAL
        self.truncated = False


_KEYISH_TABLE = bytes(
    ord("A") if b in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" else ord(" ")
    for b in range(256)
)


def keyish(data: bytes) -> bool:
    """Could ``data`` hold anything the engine reports: a 64-character base64-alphabet run (a
    key, or base64 text), or a PEM private-key marker?"""
    return b"A" * 64 in data.translate(_KEYISH_TABLE) or b"PRIVATE KEY" in data


def not_read(data: bytes) -> bool:
    """An executable, image, font, audio/video or opaque compressed file."""
    return data.startswith(_NOT_READ) or data[4:8] == _FTYP


def _java_class(data: bytes) -> bool:
    # CAFEBABE is also a Mach-O universal binary: a class file has a small minor and a major >= 45
    return data[:4] == b"\xca\xfe\xba\xbe" and 45 <= int.from_bytes(data[6:8], "big") < 200


def binary_views(data: bytes, *, everything: bool = False, _depth: int = 0, _budget: _Budget | None = None,
                 _prefix: str = "") -> list[View]:
    """The text views of a binary blob (see the comment above). Pure; never raises.
    ``everything``: executables, object files and media are read as their strings too."""
    budget = _budget or _Budget()
    if not everything and not_read(data) and not _java_class(data):
        return []
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _zip_views(data, _depth, budget, _prefix)
    if data.startswith(b"\x1f\x8b"):
        return _gzip_views(data, _depth, budget, _prefix)
    if len(data) > 262 and data[257:262] == b"ustar":
        return _tar_views(data, _depth, budget, _prefix)
    if not keyish(data):
        return []  # nothing the engine could report: its strings, rows or constants hold none
    from keytrap.sources import pyc, sqlite

    if pyc.is_pyc(data):
        text = pyc.view(data)
        if text is not None:
            return [View(text, _prefix, "pyc", False)]
    if sqlite.is_sqlite(data):
        text = sqlite.view(data)
        if text is not None:  # its rows as SQL; what the b-tree walk cannot read, as strings
            rest = View(printable_strings(data), _prefix, "strings", True)
            return [View(text, _prefix, "sqlite", False)] + ([] if _covered(rest.text, text) else [rest])
    return [View(printable_strings(data), _prefix, "strings", True)]


def _covered(strings: bytes, rows: bytes) -> bool:
    """Every key-shaped run of a database's strings is already in its rows (the usual case)."""
    from keytrap.candidates.prefilter import find_runs

    known = {rows[r.start : r.end] for r in find_runs(rows)}
    return all(strings[r.start : r.end] in known for r in find_runs(strings))


def _member_views(raw: bytes, name: str, how: str, depth: int, budget: _Budget, prefix: str) -> list[View]:
    """A member's text (a text member as it is) or, for a binary member, its own views."""
    from keytrap.sources.files import decode_for_scan

    member = f"{prefix}!{name}" if prefix else name
    text = decode_for_scan(raw)
    if text is not None:
        return [View(text, member, how, True)]
    if depth + 1 > MAX_DEPTH and raw[:4] in (b"PK\x03\x04", b"\x1f\x8b\x08\x00"):
        budget.truncated = True
        return []
    return [v._replace(how=how if v.how == "strings" else v.how)
            for v in binary_views(raw, _depth=depth + 1, _budget=budget, _prefix=member)]


def _read_limited(fh, limit: int) -> bytes | None:  # type: ignore[no-untyped-def]
    data = fh.read(limit + 1)
    return None if len(data) > limit else data


def _zip_listed(data: bytes) -> int:
    """Entries the zip's end-of-directory record announces (0 when there is none)."""
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if eocd == -1 or eocd + 22 > len(data):
        return 0
    return int.from_bytes(data[eocd + 10 : eocd + 12], "little")


def _zip_views(data: bytes, depth: int, budget: _Budget, prefix: str) -> list[View]:
    import io
    import zipfile
    import zlib

    if _zip_listed(data) > MAX_LISTED:
        budget.truncated = True
        return [View(printable_strings(data), prefix, "strings", True)] if keyish(data) else []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError):
        return [View(printable_strings(data), prefix, "strings", True)] if keyish(data) else []
    out: list[View] = []
    for info in infos:
        if info.is_dir() or info.flag_bits & 0x1:
            continue  # a folder, or an encrypted member (no password to read it with)
        if budget.members <= 0 or budget.total <= 0:
            budget.truncated = True
            break
        budget.members -= 1
        limit = min(MAX_MEMBER, budget.total)
        try:
            with archive.open(info) as fh:
                head = fh.read(16)
                if not_read(head) and not _java_class(head):
                    continue  # a native library or an image inside a wheel or a jar
                rest = _read_limited(fh, limit - len(head))
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError,
                RuntimeError):
            continue
        if rest is None:
            budget.truncated = True
            continue
        raw = head + rest
        budget.total -= len(raw)
        out.extend(_member_views(raw, info.filename, "zip", depth, budget, prefix))
    return out


def _gzip_views(data: bytes, depth: int, budget: _Budget, prefix: str) -> list[View]:
    import zlib

    if budget.total <= 0:
        return []
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(data, min(MAX_MEMBER, budget.total))
    except zlib.error:
        return []
    if inflater.unconsumed_tail:
        budget.truncated = True  # larger than the budget: its head is read
    budget.total -= len(raw)
    from keytrap.sources.files import decode_for_scan

    text = decode_for_scan(raw)
    if text is not None:
        return [View(text, prefix, "gzip", True)]
    if depth + 1 > MAX_DEPTH:
        return []
    return [v._replace(how="gzip" if v.how == "strings" else v.how)
            for v in binary_views(raw, _depth=depth + 1, _budget=budget, _prefix=prefix)]


def _tar_views(data: bytes, depth: int, budget: _Budget, prefix: str) -> list[View]:
    import io
    import tarfile

    out: list[View] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for info in archive:
                if not info.isfile():
                    continue
                if budget.members <= 0 or budget.total <= 0:
                    budget.truncated = True
                    break
                budget.members -= 1
                if info.size > min(MAX_MEMBER, budget.total):
                    budget.truncated = True
                    continue
                fh = archive.extractfile(info)
                if fh is None:
                    continue
                raw = fh.read()
                budget.total -= len(raw)
                if not_read(raw[:16]) and not _java_class(raw):
                    continue
                out.extend(_member_views(raw, info.name, "tar", depth, budget, prefix))
    except (tarfile.TarError, OSError, ValueError, EOFError):
        return out
    return out


class Scanned(namedtuple("Scanned", "findings nbytes binary read")):
    """What one blob gave: findings and the bytes the engine read."""

    __slots__ = ()
    findings: list  # list[Finding]
    nbytes: int
    binary: bool  # the content is binary (read through ``binary_views``)
    read: bool  # False: a binary with nothing worth reading (listed as skipped)


def scan_blob(data: bytes, path: str, config, *, context_path: str | None = None,  # type: ignore[no-untyped-def]
              repo=None, everything: bool = False, gate=None) -> Scanned:
    """Findings in the content ``data`` of ``path``, read as every source reads it: text (UTF-8,
    or UTF-16/32 decoded), or a binary's views (``binary_views``). A finding in a view keeps the
    blob's path; ``encoding`` says where it was (``pyc``, ``zip``, ``gzip``, ``tar``, ``strings``),
    ``extra["member"]`` names an archive member. ``repo``: see ``engine.scan_bytes``.

    A binary with no view holds nothing the engine could report (no key-shaped run, no PEM
    marker), or is an executable, an object file or a media file (``not_read``): those are read
    as their strings only with ``everything`` (the staged index: the hook lets nothing through
    unread; a working-tree or history scan of a repository full of images stays as fast).
    ``gate`` (``candidates.gate``): a text it rules out holds no candidate run and no PEM marker,
    so the engine is not run on it."""
    from keytrap.engine import scan_bytes
    from keytrap.sources.files import decode_for_scan

    hint = context_path or path
    text = decode_for_scan(data)
    if text is not None:
        if gate is not None and not gate(text):
            return Scanned([], len(text), False, True)
        return Scanned(scan_bytes(text, path, config, context_path=context_path, repo=repo), len(text), False, True)
    views = binary_views(data, everything=everything)
    if not views:
        return Scanned([], 0, True, False)
    findings = []
    nbytes = 0
    for v in views:
        nbytes += len(v.text)
        where = f"{hint}!{v.member}" if v.member else hint
        for f in scan_bytes(v.text, path, config, context_path=where, repo=repo, hex_keys=v.how in _NAMED_VIEWS):
            f = f.with_(encoding=v.how) if f.encoding is None else f.with_(encoding=f"{v.how}+{f.encoding}")
            if not v.lines:
                f = f.with_(line=1, column=1)
            findings.append(f.with_extra(member=v.member) if v.member else f)
    return Scanned(findings, nbytes, True, True)


def ruled_out(data: bytes, gate) -> bool:  # type: ignore[no-untyped-def]
    """Would ``scan_blob(data, …, gate=gate)`` read ``data`` as text as it is and let the gate
    rule it out (no candidate run, no PEM marker: nothing to find)? A history worker asks this
    first, for the 95 % of blobs it is true of, without ``scan_blob``'s per-call work."""
    return gate is not None and plain_text(data) and not gate(data)


def has_pending(findings: list) -> bool:  # list[Finding]
    """Does a first pass hold PEM blocks only the repository's context can settle?"""
    return any(f.get("pending") for f in findings)


def settled(evidence):  # type: ignore[no-untyped-def]
    """The merged evidence of every file, ready to settle pending findings with."""
    return evidence._replace(pending=False)


def needs_repo(findings: list) -> bool:  # list[Finding]
    """Do these findings need the repository's context: a pending key file, or a finding whose
    own file names no network? (Collecting it costs a pass over the repository's code, so the
    sources collect it only then.)"""
    return any(f.get("pending") or f.get("network", "unset") is None for f in findings)


#: Files larger than this give no repository evidence (code and settings are small; data dumps
#: and bundles are not what names a key file or a network).
EVIDENCE_MAX = 1 << 20


def blob_evidence(data: bytes):  # type: ignore[no-untyped-def]
    """What one file's text says about key files (``candidates.keyfiles.file_evidence``)."""
    from keytrap.candidates.keyfiles import EMPTY, file_evidence
    from keytrap.sources.files import decode_for_scan

    if len(data) > EVIDENCE_MAX:
        return EMPTY
    text = decode_for_scan(data)
    return file_evidence(text) if text is not None else EMPTY


def repo_evidence(datas, pending: bool):  # type: ignore[no-untyped-def]
    """The settled evidence of the files ``datas`` yields (bytes, or None for an unreadable
    one), read lazily. With no pending key file only the network is wanted, and once Binance
    files point to two networks there is no one network to take: the rest is not read (a
    commit of 5,000 Binance files stops at the first disagreement)."""
    from keytrap.candidates.keyfiles import EMPTY

    evidence = EMPTY
    for data in datas:
        if data is None:
            continue
        evidence = evidence | blob_evidence(data)
        if not pending and len(evidence.networks) > 1:
            break
    return settled(evidence)


def with_repo_network(findings: list, repo) -> list:  # type: ignore[no-untyped-def]
    """Findings whose own file names no network take the one every Binance file of the
    repository points to (``RepoContext.network``), the weakest evidence there is."""
    net = repo.network if repo is not None else None
    if net is None or not any(f.get("network", "unset") is None for f in findings):
        return findings
    return [f.with_extra(network=net) if f.get("network", "unset") is None else f for f in findings]
