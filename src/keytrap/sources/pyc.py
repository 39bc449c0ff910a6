"""Compiled Python (``.pyc``): the strings a module holds, with the names they were bound to.

A committed ``__pycache__/keys.cpython-38.pyc`` can outlive the ``keys.py`` it came from. Its
constants hold the values; its names (``co_names``), and the key tuples of dict literals and
keyword calls, hold what they were called. Their order follows the source, so a small
reconstruction gives the engine a ``name = "value"`` view it can judge as it judges source:

* consts ``v1, v2, ('api_key', 'secret_key')`` (a dict literal or a keyword call) read as
  ``api_key = "v1"`` / ``secret_key = "v2"`` (the key tuple names the values before it);
* module constants ``APIKey = '…'; SecretKey = '…'`` (consts ``v1, v2``, names ``APIKey,
  SecretKey``) read by zipping the values with the names that say key or secret, in order;
* a single-case 64-digit hex constant (a sha256, far more often than a hex key) is named only by
  keys that name both halves of a credential, and is left out otherwise: a tuple of strings may
  be no dict at all (``("binance", "x-mbx-apikey")`` beside digest constants).

The marshal format is walked by a small reader that builds nothing but strings, tuples of
strings and code objects (never ``marshal.loads`` on untrusted bytes): linear in the input, with
a cap on objects and nesting. Anything it cannot read returns None and the caller falls back to
the printable strings. Python 3.0 to 3.14 layouts are known (by the magic number); Python 2
files fall back.
"""

from __future__ import annotations

import struct

#: At most this many marshal objects are read from one file.
MAX_OBJECTS = 500_000
#: Nesting depth (code objects in code objects, tuples in tuples).
MAX_DEPTH = 100
#: A string constant longer than this is kept only as its printable text (a 1 MB docstring).
MAX_STRING = 1 << 20


class Code:
    """The parts of a code object the reconstruction reads."""

    __slots__ = ("consts", "names", "filename", "name")

    def __init__(self, consts: tuple, names: tuple, filename: object, name: object) -> None:
        self.consts = consts
        self.names = names
        self.filename = filename
        self.name = name


class _Other:
    """A constant of no interest (a number, None, bytes of code…)."""

    __slots__ = ()


OTHER = _Other()


class _Bad(Exception):
    pass


def _layout(magic: int) -> tuple[int, int, int] | None:
    """(header bytes, int32 fields before co_code, objects between co_names and co_filename) for
    a CPython 3 magic number; None for what this reader does not know."""
    if 3000 <= magic < 3230:
        return 8, 5, 3  # 3.0-3.2: argcount kwonly nlocals stacksize flags; varnames free cell
    if 3230 <= magic < 3390:
        return 12, 5, 3  # 3.3-3.6
    if 3390 <= magic < 3400:
        return 16, 5, 3  # 3.7
    if 3400 <= magic < 3450:
        return 16, 6, 3  # 3.8-3.10: + posonlyargcount
    if 3450 <= magic < 3700:
        return 16, 5, 2  # 3.11+: argcount posonly kwonly stacksize flags; localsplus names, kinds
    return None


#: Marshal types of a fixed size whose value is never a string: int32, int64, float, complex.
_FIXED = {"i": 4, "I": 8, "g": 8, "y": 16}


class _Reader:
    __slots__ = ("data", "pos", "refs", "count", "fields", "between")

    def __init__(self, data: bytes, pos: int, fields: int, between: int) -> None:
        self.data = data
        self.pos = pos
        self.refs: list[object] = []
        self.count = 0
        self.fields = fields
        self.between = between

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise _Bad
        out = self.data[self.pos : end]
        self.pos = end
        return out

    def int32(self) -> int:
        return struct.unpack("<i", self.take(4))[0]

    def size(self) -> int:
        n = self.int32()
        if n < 0 or n > len(self.data):
            raise _Bad
        return n

    def obj(self, depth: int = 0) -> object:
        self.count += 1
        if self.count > MAX_OBJECTS or depth > MAX_DEPTH:
            raise _Bad
        code = self.take(1)[0]
        flag, t = code & 0x80, chr(code & 0x7F)
        slot = -1
        if flag:
            slot = len(self.refs)
            self.refs.append(None)
        value = self._value(t, depth)
        if flag:
            self.refs[slot] = value
        return value

    def _value(self, t: str, depth: int) -> object:  # noqa: C901 - one branch per marshal type
        if t == "T":
            return True
        if t == "F":
            return False
        if t in "NS.0":
            return OTHER
        if t in _FIXED:
            self.take(_FIXED[t])
            return OTHER
        if t in "fx":
            for _ in range(1 if t == "f" else 2):
                self.take(self.take(1)[0])
            return OTHER
        if t == "l":
            n = self.int32()
            self.take(2 * min(abs(n), len(self.data)))
            return OTHER
        if t in "zZ":
            return self._text(self.take(self.take(1)[0]))
        if t in "aAtu":
            return self._text(self.take(self.size()))
        if t == "s":
            raw = self.take(self.size())
            return OTHER if len(raw) > MAX_STRING else raw  # co_code, line tables, bytes literals
        if t in "()[<>":
            n = self.take(1)[0] if t == ")" else self.size()  # ")" small tuple, "(" tuple
            items = tuple(self.obj(depth + 1) for _ in range(n))
            return items if t in "()" else OTHER
        if t == "{":
            while True:
                if self.data[self.pos : self.pos + 1] == b"0":
                    self.pos += 1
                    return OTHER
                self.obj(depth + 1)
                self.obj(depth + 1)
        if t == "r":
            i = self.int32()
            if not 0 <= i < len(self.refs):
                raise _Bad
            return self.refs[i]
        if t == ":":  # 3.14 slice constant
            for _ in range(3):
                self.obj(depth + 1)
            return OTHER
        if t == "c":
            return self._code(depth)
        raise _Bad

    def _text(self, raw: bytes) -> object:
        if len(raw) > MAX_STRING:
            return OTHER
        return raw.decode("utf-8", "surrogateescape")

    def _code(self, depth: int) -> Code:
        self.take(4 * self.fields)
        self.obj(depth + 1)  # co_code
        consts = self.obj(depth + 1)
        names = self.obj(depth + 1)
        for _ in range(self.between):
            self.obj(depth + 1)
        filename = self.obj(depth + 1)
        name = self.obj(depth + 1)
        if self.between == 2:
            self.obj(depth + 1)  # qualname
        self.take(4)  # firstlineno
        self.obj(depth + 1)  # lnotab / linetable
        if self.between == 2:
            self.obj(depth + 1)  # exceptiontable
        if not isinstance(consts, tuple) or not isinstance(names, tuple):
            raise _Bad
        return Code(consts, names, filename, name)


def parse(data: bytes) -> Code | None:
    """The module code object of a ``.pyc``, or None when it is not one this reader knows."""
    if len(data) < 16 or data[2:4] != b"\r\n":
        return None
    layout = _layout(int.from_bytes(data[:2], "little"))
    if layout is None:
        return None
    header, fields, between = layout
    reader = _Reader(data, header, fields, between)
    try:
        top = reader.obj()
    except (_Bad, struct.error, IndexError, RecursionError):
        return None
    return top if isinstance(top, Code) else None


def is_pyc(data: bytes) -> bool:
    return len(data) >= 16 and data[2:4] == b"\r\n" and _layout(int.from_bytes(data[:2], "little")) is not None


# --- the view ----------------------------------------------------------------------------------


def _credential_name(name: str) -> bool:
    from keytrap.candidates.context import classify_name

    return classify_name(name) in ("api_key", "secret_key")


def _pair_names(keys: tuple[str, ...]) -> bool:
    """Keys naming both halves of a credential (``{'api_key': …, 'secret_key': …}``,
    ``Client(api_key=…, api_secret=…)``): the only names a single-case hex value takes here."""
    from keytrap.candidates.context import classify_name

    roles = {classify_name(k) for k in keys}
    return "api_key" in roles and "secret_key" in roles


def _hex_value(value: object) -> bool:
    """A 64-digit single-case hex string: a sha256 far more often than a hex key. In a
    reconstruction it is named only by a credential pair's keys (``_pair_names``), never by a
    guess (a tuple of header names beside digest constants is no dict), and never left unnamed
    for the engine to find a guessed context around."""
    from keytrap.filters.heuristics import is_hex

    return isinstance(value, str) and len(value) == 64 and is_hex(value)


def _worth(value: str) -> bool:
    """A constant the engine could report: long enough to hold a key, or a PEM block."""
    return len(value) >= 40 and ("PRIVATE KEY" in value or any(len(w) >= 40 for w in value.split()))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' if "\n" not in value else '"""' + value + '"""'


def _walk(code: Code, out: list[str], seen: set[int], budget: list[int]) -> None:
    if id(code) in seen or budget[0] <= 0:
        return
    seen.add(id(code))
    budget[0] -= 1
    lines: list[str] = []
    used: set[int] = set()
    names_here = {n for n in code.names if isinstance(n, str)}
    pending: list[int] = []  # const indexes since the last key tuple
    groups: list[tuple[tuple[str, ...], int]] = []  # (credential keys, index of their tuple)
    for i, c in enumerate(code.consts):
        if isinstance(c, tuple) and c and all(isinstance(x, str) for x in c):
            keys = tuple(c)  # a dict literal's keys, or a keyword call's names
            values = pending[-len(keys) :]
            credential = any(_credential_name(k) for k in keys)
            if credential and all(k in names_here for k in keys if _credential_name(k)):
                # {'apiKey': apiKey, 'secret': secret}: the values are the module's variables
                # of those names, bound earlier; the names below take them
                pending = []
                continue
            if credential:
                groups.append((keys, i))
            pair = _pair_names(keys)
            for k, vi in zip(keys[len(keys) - len(values) :], values):
                value = code.consts[vi]
                if _hex_value(value) and not pair:
                    continue
                if isinstance(value, bool):
                    lines.append(f"{k} = {value}")  # testnet=True: what the network reads
                elif isinstance(value, str) and (_worth(value) or (credential and len(value) <= 200)):
                    lines.append(f"{k} = {_quote(value)}")
                    used.add(vi)
            pending = []
        elif not isinstance(c, Code):
            pending.append(i)  # any constant a call or a dict literal may load (True, 5, "x")
    left = [i for i, c in enumerate(code.consts) if isinstance(c, str) and _worth(c) and i not in used]
    names = [n for n in code.names if isinstance(n, str) and _credential_name(n)]
    # module constants (API = '…'): the names that say key/secret, in order, take the values
    # (not the hex ones: see _hex_value)
    guessable = [i for i in left if not _hex_value(code.consts[i])]
    if guessable and names:
        for name, vi in zip(names, guessable):
            lines.append(f"{name} = {_quote(code.consts[vi])}")
            used.add(vi)
        left = [i for i in left if i not in used]
    # a dict literal repeated with the same keys (one key tuple constant serves them all; the
    # repeats' values are constants first used after it: constants are numbered in that order)
    for keys, at in groups:
        pool = [i for i in left if i > at and (_pair_names(keys) or not _hex_value(code.consts[i]))]
        while len(pool) >= len(keys):
            chunk, pool = pool[: len(keys)], pool[len(keys) :]
            lines.extend(f"{k} = {_quote(code.consts[vi])}" for k, vi in zip(keys, chunk))
            used.update(chunk)
        left = [i for i in left if i not in used]
    out.extend(lines)
    out.extend(_quote(code.consts[i]) for i in left if not _hex_value(code.consts[i]))
    context = [s for i, s in enumerate(code.consts) if isinstance(s, str) and not _worth(s)]
    words = [n for n in code.names if isinstance(n, str)] + [s for s in context if len(s) <= 200]
    if words:
        out.append("# " + " ".join(w.replace("\n", " ") for w in words))
    for c in code.consts:
        if isinstance(c, Code):
            _walk(c, out, seen, budget)


def view(data: bytes) -> bytes | None:
    """The ``name = "value"`` view of a ``.pyc`` (see the module docstring), or None."""
    code = parse(data)
    if code is None:
        return None
    out: list[str] = []
    if isinstance(code.filename, str):
        out.append(f"# compiled from {code.filename}")
    _walk(code, out, set(), [10_000])
    return ("\n".join(out) + "\n").encode("utf-8", "surrogateescape")
