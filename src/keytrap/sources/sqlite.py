"""SQLite database files: their rows as ``INSERT INTO table (columns) VALUES (…)`` text.

A committed ``bot.db`` stores a row's values back to back, with no separator: an API key and its
secret in one row are one 128-character run to a strings reader. This reader walks each table's
b-tree from the root page ``sqlite_master`` gives it and writes its rows out as SQL, which the
engine already reads (``engine._sql_column`` names each value by its column).

Bounded and tolerant: at most ``MAX_PAGES`` pages are visited, each once (a page cycle ends the
walk), overflow pages are not followed (a value that overflows its page is cut), anything
malformed ends that table's walk. Only the standard library; no ``sqlite3`` on untrusted bytes.
"""

from __future__ import annotations

import re

MAGIC = b"SQLite format 3\x00"
#: Pages visited in one file, all tables together.
MAX_PAGES = 20_000
#: Rows written out per table.
MAX_ROWS = 100_000
_CREATE = re.compile(r"(?is)^\s*create\s+table\s+(?:if\s+not\s+exists\s+)?([^\s(]+)\s*\((.*)\)")


def is_sqlite(data: bytes) -> bool:
    return data.startswith(MAGIC)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(9):
        if pos + i >= len(data):
            raise ValueError("truncated varint")
        b = data[pos + i]
        if i == 8:
            return (value << 8) | b, pos + 9
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, pos + i + 1
    raise ValueError("bad varint")  # pragma: no cover


class _Db:
    def __init__(self, data: bytes) -> None:
        self.data = data
        size = int.from_bytes(data[16:18], "big")
        self.page_size = 65536 if size == 1 else size
        if self.page_size < 512 or self.page_size & (self.page_size - 1):
            raise ValueError("bad page size")
        self.reserved = data[20]
        self.usable = self.page_size - self.reserved
        self.budget = MAX_PAGES

    def page(self, number: int) -> tuple[bytes, int]:
        """(the page's bytes, where its b-tree header starts)."""
        start = (number - 1) * self.page_size
        if number < 1 or start >= len(self.data):
            raise ValueError("no such page")
        return self.data[start : start + self.page_size], 100 if number == 1 else 0

    def rows(self, root: int) -> list[list[object]]:
        out: list[list[object]] = []
        stack, seen = [root], set()
        while stack and len(out) < MAX_ROWS:
            number = stack.pop()
            if number in seen or self.budget <= 0:
                continue
            seen.add(number)
            self.budget -= 1
            page, hdr = self.page(number)
            kind = page[hdr]
            cells = int.from_bytes(page[hdr + 3 : hdr + 5], "big")
            if kind == 0x05:  # interior table page: children, rightmost last
                pointers = page[hdr + 12 : hdr + 12 + 2 * cells]
                children = [int.from_bytes(page[int.from_bytes(pointers[i : i + 2], "big"):][:4], "big")
                            for i in range(0, len(pointers), 2)]
                children.append(int.from_bytes(page[hdr + 8 : hdr + 12], "big"))
                stack.extend(reversed(children))
            elif kind == 0x0D:  # leaf table page: the rows
                pointers = page[hdr + 8 : hdr + 8 + 2 * cells]
                for i in range(0, len(pointers), 2):
                    try:
                        out.append(self._record(page, int.from_bytes(pointers[i : i + 2], "big")))
                    except (ValueError, IndexError):
                        continue
            # index pages and anything else: no row values to read
        return out

    def _record(self, page: bytes, pos: int) -> list[object]:
        payload, pos = _varint(page, pos)
        _rowid, pos = _varint(page, pos)
        local = min(payload, self.usable - 35)  # an overflowing payload: its local part only
        body = page[pos : pos + local]
        header_len, p = _varint(body, 0)
        types = []
        while p < header_len:
            t, p = _varint(body, p)
            types.append(t)
        values: list[object] = []
        at = header_len
        for t in types:
            if t in (0, 8, 9, 10, 11):
                values.append(None if t == 0 else t - 8 if t in (8, 9) else None)
                continue
            if 1 <= t <= 7:
                size = (0, 1, 2, 3, 4, 6, 8, 8)[t]
                raw = body[at : at + size]
                values.append(int.from_bytes(raw, "big", signed=True) if t < 7 else None)
                at += size
                continue
            size = (t - 12) // 2 if t % 2 == 0 else (t - 13) // 2
            raw = body[at : at + size]
            at += size
            values.append(raw.decode("utf-8", "replace") if t % 2 else None)
        return values


def _columns(sql: str) -> tuple[str, list[str]] | None:
    m = _CREATE.match(sql)
    if m is None:
        return None
    name = m.group(1).strip("\"'`[]")
    columns: list[str] = []
    depth, part = 0, ""
    for ch in m.group(2) + ",":
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            words = part.strip().split()
            if words and words[0].upper() not in ("PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"):
                columns.append(words[0].strip("\"'`[]"))
            part = ""
        else:
            part += ch
    return name, columns


def _quote(value: object) -> str:
    if value is None:
        return "NULL"
    text = str(value).replace("'", "''").replace("\n", " ")
    return f"'{text}'"


def view(data: bytes) -> bytes | None:
    """Every table's rows as SQL ``INSERT`` statements, or None for what is not a database."""
    if not is_sqlite(data) or len(data) < 512:
        return None
    try:
        db = _Db(data)
        master = db.rows(1)
    except (ValueError, IndexError):
        return None
    out: list[str] = []
    for row in master:
        if len(row) < 5 or row[0] != "table" or not isinstance(row[4], str) or not isinstance(row[3], int):
            continue
        parsed = _columns(row[4])
        if parsed is None:
            continue
        name, columns = parsed
        try:
            rows = db.rows(row[3])
        except (ValueError, IndexError):
            continue
        if not rows:
            continue
        out.append(f"INSERT INTO {name} ({', '.join(columns)}) VALUES")
        out.extend(f"({', '.join(_quote(v) for v in values)})," for values in rows)
    return ("\n".join(out) + "\n").encode("utf-8", "replace") if out else b""
