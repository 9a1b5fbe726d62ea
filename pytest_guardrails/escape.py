"""Text from the repository on its way to a terminal, a CI log or a shell: made inert.

A pull request controls file names, file contents and what the tools print about them. Before
any of it is shown:

- ``line(s)``: one line for a terminal or a CI log. Control characters (ESC, CR, LF, ...),
  Unicode bidirectional overrides and lone surrogates (a non-UTF-8 file name decoded with
  ``surrogateescape``) are rendered visibly as Python escapes (``\\x1b``, ``\\r``, ``\\xff``), and
  a line that would start a GitHub Actions workflow command (``::error::...``) is defused.
- ``text(s)``: the same for multi-line text, line by line.
- ``data(s)`` / ``prop(s)``: GitHub's escaping for a workflow command's message and properties.
- ``shell(s)``: a word safe to paste into a POSIX shell (``shlex.quote``).

Everything returned is valid UTF-8 (no lone surrogates), so it also survives pytest-xdist's
report serialisation and XML/JSON outputs.
"""

from __future__ import annotations

import re
import shlex

# C0 controls but TAB and LF, DEL, C1 controls, the bidi overrides/isolates (Trojan Source),
# the line/paragraph separators, BOM, and lone surrogates
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
                     "\ud800-\udfff]")
_UNSAFE_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                             "\ufeff\ud800-\udfff]")
_NAMED = {"\r": "\\r", "\n": "\\n"}
# a workflow command is a line whose first non-blank characters are "::"
_COMMAND = re.compile(r"^(\s*)::")


def _visible(m: re.Match[str]) -> str:
    c = m.group()
    if c in _NAMED:
        return _NAMED[c]
    n = ord(c)
    if 0xDC80 <= n <= 0xDCFF:  # surrogateescape: the original byte of a non-UTF-8 name
        return f"\\x{n - 0xDC00:02x}"
    if n <= 0xFF:
        return f"\\x{n:02x}"
    return f"\\u{n:04x}"


def _defuse(s: str) -> str:
    return _COMMAND.sub(r"\1\\x3a:", s, count=1) if "::" in s else s


def line(s: str) -> str:
    """``s`` as one inert line: no control characters, not a workflow command."""
    if _UNSAFE.search(s):
        s = _UNSAFE.sub(_visible, s)
    return _defuse(s)


def text(s: str) -> str:
    """Multi-line ``s`` with each line made inert (LF and TAB kept; a CR not in CRLF rendered
    visibly)."""
    if "\r\n" in s:
        s = s.replace("\r\n", "\n")
    if _UNSAFE_IN_TEXT.search(s):
        s = _UNSAFE_IN_TEXT.sub(_visible, s)
    if "::" not in s:
        return s
    return "\n".join(_defuse(ln) for ln in s.split("\n"))


def is_clean(s: str) -> bool:
    """``s`` is already what ``line`` would return."""
    return line(s) == s


def data(s: str) -> str:
    """A GitHub workflow command's message (the part after the second ``::``)."""
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def prop(s: str) -> str:
    """A GitHub workflow command's property value (``file=``, ``title=``)."""
    return data(s).replace(":", "%3A").replace(",", "%2C")


def shell(s: str) -> str:
    """``s`` as one POSIX shell word (``$(...)``, spaces and quotes cannot escape it)."""
    return shlex.quote(s)
