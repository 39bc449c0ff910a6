"""Make repository text safe to show: the one place every report and message goes through.

Every byte of a scanned repository is hostile: file names, commit subjects, author names, ref
names, submodule paths and config values can carry terminal escapes (``ESC [2J`` clears the
screen and a fake "No Binance secrets found." follows), newlines, Unicode bidi overrides that
reorder what is shown, or text that a CI runner reads as a command. Pure functions, stdlib only
(the hook imports this).

- ``show(text)``: one repository string, safe on one line. Every character Python does not
  call printable (C0 and C1 controls, DEL, bidi overrides and isolates, line and paragraph
  separators, zero-width and other format characters, lone surrogates, non-ASCII spaces) is
  shown escaped (``\\x1b``, ``\\u202e``); GitHub workflow commands are defused (below).
- ``guard_lines(text)``: a whole plain-text output, as a second line of defence (rich wraps
  long table cells onto new lines): no line may start with ``::`` or hold ``##[``.
- ``json_safe(text)``: serialised JSON with the same defences, as JSON escapes (the values a
  consumer parses are unchanged).
- ``ascii_fallback(stream)``: a stream that cannot encode the report's ``…`` or ``→`` writes
  ``...`` and ``->`` (and ``\\uXXXX`` for the rest) instead of failing.

GitHub's runner (actions/runner ``ActionCommand``) reads a line as a workflow command when,
after its leading whitespace is trimmed, it starts with ``::`` (``::set-output …``,
``::stop-commands::…``), and, in the legacy form, when ``##[`` appears anywhere in it. Only the
``github`` format may print either, and only for its own commands.
"""

from __future__ import annotations

import codecs
import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import IO

#: ASCII stand-ins for the few non-ASCII characters keytrap itself prints.
ASCII_STANDINS: dict[str, str] = {
    "\u2026": "...",  # … (redacted secrets, "and N more")
    "\u2192": "->",  # → (actions)
    "\u2014": "-",  # —
    "\u2013": "-",  # –
    "\u00d7": "x",  # ×
    "\u2265": ">=",
    "\u2264": "<=",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
}


def _escape_char(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def _defuse(text: str) -> str:
    """No workflow command: escape a leading ``::`` and every ``##[``."""
    if "##[" in text:
        text = text.replace("##[", "##\\x5b")
    stripped = text.lstrip()
    if stripped.startswith("::"):
        lead = len(text) - len(stripped)
        text = text[:lead] + "\\x3a" + text[lead + 1 :]
    return text


def show(text: object, keep: str = "") -> str:
    """``text`` (a path, a name, a commit subject, a message) safe to print on one line.

    Printable text is returned unchanged; anything else is escaped, so the same input always
    shows the same way and nothing is silently dropped. Backslashes are left alone: the
    escapes are for a human reading a report, not a format to parse back. ``keep`` names
    characters the caller's format encodes itself (GitHub's ``%0A`` for a newline).
    """
    s = text if isinstance(text, str) else str(text)
    if not s.isprintable():
        s = "".join(ch if ch.isprintable() or ch in keep else _escape_char(ch) for ch in s)
    if "::" in s or "##[" in s:
        s = _defuse(s)
    return s


def guard_lines(text: str) -> str:
    """A whole plain-text output with no line that a CI runner would read as a command."""
    if "::" not in text and "##[" not in text:
        return text
    return "\n".join(_defuse(line) for line in text.split("\n"))


#: What ``json.dumps(..., ensure_ascii=False)`` leaves raw that a terminal or an editor acts on:
#: DEL and C1 controls, soft hyphen, bidi and zero-width format characters, line and paragraph
#: separators, BOM, interlinear annotations, lone surrogates, tag characters.
#: (compiled on first use: the hook imports this module and never needs it)
_JSON_RAW = (
    "[\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
    "\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)


def _json_escape(m: re.Match[str]) -> str:
    return _utf16_escape(ord(m.group()))


def _utf16_escape(cp: int) -> str:
    """``\\uXXXX`` (a surrogate pair above U+FFFF): valid in JSON, readable as text."""
    if cp > 0xFFFF:
        cp -= 0x10000
        return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"
    return f"\\u{cp:04x}"


def json_safe(text: str) -> str:
    """Serialised JSON (made by ``json.dumps``) with no raw control or bidi character and no
    ``##[``: they become ``\\uXXXX`` escapes, which parse back to the same values. JSON text
    never has ``##`` outside a string, so the replacement always lands inside one.
    """
    if not text.isascii() or "\x7f" in text:
        text = re.sub(_JSON_RAW, _json_escape, text)
    if "##[" in text:
        text = text.replace("##[", "##\\u005b")
    return text


# --- streams that cannot encode everything ------------------------------------------------------

_HANDLER = "keytrap-ascii"


def _ascii_handler(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):  # pragma: no cover - only registered for encoding
        raise exc
    out = []
    for ch in exc.object[exc.start : exc.end]:
        standin = ASCII_STANDINS.get(ch)
        out.append(standin if standin is not None else _utf16_escape(ord(ch)))
    return "".join(out), exc.end


def ascii_fallback(stream: IO[str] | None) -> None:
    """Let ``stream`` (stdout, stderr) write what its encoding lacks as ASCII stand-ins.

    ``PYTHONIOENCODING=latin-1`` or a C/POSIX locale without UTF-8 mode gives a stream that
    cannot encode ``…``; a report with findings would otherwise fail (exit 3). ``\\uXXXX``
    escapes keep a JSON report valid JSON.
    """
    if stream is None or not hasattr(stream, "reconfigure"):
        return
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        if codecs.lookup(encoding).name == "utf-8":
            return
    except LookupError:  # pragma: no cover - Python opened the stream with it
        return
    try:
        codecs.lookup_error(_HANDLER)
    except LookupError:
        codecs.register_error(_HANDLER, _ascii_handler)
    try:
        stream.reconfigure(errors=_HANDLER)
    except (AttributeError, ValueError, OSError):  # pragma: no cover - a replaced stream
        pass
