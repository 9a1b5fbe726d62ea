"""Source files read once per session and shared by the scanning guardrails.

Each file is read once (bytes), decoded once (PEP 263 aware for Python), lexed for comments and
strings once and parsed into an AST once, all lazily and cached on the ``Project``: a scanner pays
only for what it uses, and three scanners over the same tree read it once. Scanners first test the
raw bytes with cheap ``in``/``find`` prefilters, so most files are never decoded, lexed or parsed.

Bad input raises nothing but ``Unreadable`` (with a location) out of here: a file that cannot be
read, decoded or parsed. Files are read through ``fs.Reader``: one outside the target's root
(a symlink out), a FIFO, socket or device, or a file over ``max-file-size`` is not read at all
and is named in a note on the run.
"""

from __future__ import annotations

import ast
from bisect import bisect_right
import codecs
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from itertools import accumulate
import os
import re
import sys
import warnings

from pytest_guardrails.api import Finding
from pytest_guardrails.api import Run
from pytest_guardrails.fs import DEFAULT_MAX_FILE_SIZE
from pytest_guardrails.fs import NotRead
from pytest_guardrails.fs import Reader
from pytest_guardrails.fs import TooBig
from pytest_guardrails.fs import Unreadable
from pytest_guardrails.fs import byte_location
from pytest_guardrails.fs import size_text

__all__ = ["MAX_BYTES", "NotRead", "Source", "SourceCache", "TooBig", "Unreadable"]

#: the default size bound (``[tool.guardrails] max-file-size``)
MAX_BYTES = DEFAULT_MAX_FILE_SIZE

#: file contents kept in memory per session, shared by the scanners; beyond it files are re-read
CACHE_BYTES = 512 * 1024 * 1024

PYTHON_SUFFIXES = (".py", ".pyi")

# PEP 263: an encoding declaration on line 1 or 2
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.M)
_BLANK_OR_COMMENT = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)")

# Comments and string literals, in source order (a lexer for exactly these two tokens). Prefixes
# (r, b, f, u) need no handling: they are letters before the quote and change no token boundary.
# Unrolled loops keep the regex engine in tight character-class runs on long docstrings. A string
# left open ends where Python's tokenizer gives up on it (the end of its line, or of the text), so
# every quote is consumed in one pass: skipping only the quote would rescan the rest of the line
# from each later quote, quadratic on a line such as '\'\'\'... (minutes for 200 kB).
#: the four kinds of string literal (verbose syntax), shared by both regexes below
_STRINGS = r"""
      '''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|\\?\Z)
    | \"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:\"\"\"|\\?\Z)
    | '[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*(?:'|(?=[\r\n])|\\?\Z)
    | "[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*(?:"|(?=[\r\n])|\\?\Z)
"""
_LEX = re.compile(r"(?P<c>\#[^\r\n]*) |" + _STRINGS, re.S | re.X)


# The comments alone, as the lexer above finds them: each match runs over what precedes the next
# comment (whole strings, other characters, a quote that opens no string) inside the regex
# engine, and ends at that comment (group 1) or at the end of the text (group 1 is None, so a
# search never restarts past the last comment).
_COMMENT = re.compile(
    r"(?: " + _STRINGS + r""" | [^\#'"]+ | ['"] )*? (?:(\#[^\r\n]*)|\Z)""", re.S | re.X)


# the line breaks Python's tokenizer knows (str.splitlines also splits on \f, \v, \x1c, ...)
_NEWLINE = re.compile(r"\r\n?|\n")
#: what ``str.splitlines`` breaks at besides "\n" (and "\r", which Python's tokenizer knows too)
_SPLITLINES_ONLY = re.compile("[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _detect_encoding(raw: bytes) -> str:
    """The source encoding of Python bytes: BOM, else a PEP 263 cookie on line 1-2, else UTF-8."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    head = raw[:2048]
    first, _, rest = head.partition(b"\n")
    m = _COOKIE.match(first)
    if m is None and _BLANK_OR_COMMENT.match(first):
        m = _COOKIE.match(rest.partition(b"\n")[0])
    if m is None:
        return "utf-8"
    name = m.group(1).decode("ascii", "replace")
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise Unreadable(f"unknown encoding {name!r} in the coding declaration",
                         1 if m.string is first else 2) from None


@dataclass
class Source:
    """One file's content and what is derived from it, each computed at most once."""

    path: str
    #: path relative to the repository root (as shown in findings)
    rel: str
    raw: bytes
    _text: str | None = field(default=None, repr=False)
    _starts: list[int] | None = field(default=None, repr=False)
    _lookups: int = field(default=0, repr=False)
    _lf_lines: int | None = field(default=None, repr=False)
    _lexed: list[tuple[int, int, bool]] | None = field(default=None, repr=False)
    _tree: ast.Module | Unreadable | None = field(default=None, repr=False)

    @property
    def is_python(self) -> bool:
        return self.rel.endswith(PYTHON_SUFFIXES)

    @property
    def text(self) -> str:
        """The decoded text (PEP 263 for Python files, UTF-8 otherwise); raises ``Unreadable``."""
        if self._text is None:
            raw = self.raw
            if b"\0" in raw:
                off = raw.index(b"\0")
                line, col = self._byte_location(off)
                raise Unreadable("contains a NUL byte: binary, not source text", line, col)
            encoding = _detect_encoding(raw) if self.is_python else "utf-8-sig"
            try:
                self._text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                line, col = self._byte_location(exc.start)
                raise Unreadable(f"not valid {encoding.removesuffix('-sig').upper()}: byte "
                                 f"0x{raw[exc.start]:02x} cannot be decoded", line, col) from None
        return self._text

    def _byte_location(self, off: int) -> tuple[int, int]:
        return byte_location(self.raw, off)

    # --- positions ---------------------------------------------------------------------------

    def location(self, offset: int) -> tuple[int, int]:
        """1-based (line, column in characters) of a character offset in ``text``."""
        text = self.text
        if self._starts is None and self._lookups < 16 and "\r" not in text:
            self._lookups += 1  # a few lookups need no line table
            return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)
        starts = self._line_starts()
        i = bisect_right(starts, offset) - 1
        return i + 1, offset - starts[i] + 1

    def _line_starts(self) -> list[int]:
        if self._starts is None:
            text = self.text
            if _SPLITLINES_ONLY.search(text):
                self._starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
            else:  # the common case, counted in C: here splitlines breaks at "\n" only
                starts = [0, *accumulate(map(len, text.splitlines(True)))]
                if text and not text.endswith("\n"):
                    starts.pop()  # the end of the text is not the start of a line
                self._starts = starts
        return self._starts

    def line_count(self) -> int:
        """Lines in ``text``, counted by ``\n`` (one more than there are)."""
        if self._lf_lines is None:
            self._lf_lines = self.text.count("\n") + 1
        return self._lf_lines

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line``, without its line break."""
        starts = self._line_starts()
        begin = starts[line - 1]
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[begin:end].rstrip("\r\n")

    # --- lexing ------------------------------------------------------------------------------

    def _lex(self) -> list[tuple[int, int, bool]]:
        if self._lexed is None:
            self._lexed = [(m.start(), m.end(), m.lastgroup == "c") for m in _LEX.finditer(self.text)]
        return self._lexed

    def comments(self, until: int | None = None) -> Iterator[tuple[int, str]]:
        """(character offset, text) of every comment, in order; ``#`` inside strings is not one.

        With ``until``, lexing stops at the first token starting after that offset (the file
        is only lexed as far as a caller needs, unless it was fully lexed before)."""
        text = self.text
        if self._lexed is not None or until is None:
            for start, end, is_comment in self._lex():
                if until is not None and start > until:
                    return
                if is_comment:
                    yield start, text[start:end]
            return
        for m in _COMMENT.finditer(text):
            start = m.start(1)
            if start < 0 or start > until:
                return
            yield start, m.group(1)

    def non_code_spans(self) -> list[tuple[int, int]]:
        """(start, end) character offsets of every comment and string literal, in order."""
        return [(start, end) for start, end, _ in self._lex()]

    # --- parsing -----------------------------------------------------------------------------

    def tree(self) -> ast.Module:
        """The module's AST; raises ``Unreadable`` (located) for a syntax error."""
        if self._tree is None:
            self._tree = self._parse()
        if isinstance(self._tree, Unreadable):
            raise self._tree
        return self._tree

    def _parse(self) -> ast.Module | Unreadable:
        try:
            text = self.text
        except Unreadable as exc:
            return exc
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escape sequences in scanned code
                return ast.parse(text, self.rel)
        except SyntaxError as exc:
            hint = " (Python 2 syntax?)" if _looks_like_python2(text) else ""
            msg, col = exc.msg, exc.offset
            if sys.version_info < (3, 10):
                msg, col = self._legacy_statement_error(msg, exc.lineno, col)
            return Unreadable(f"cannot parse: {msg}{hint}", exc.lineno, col)
        except (RecursionError, MemoryError):
            return Unreadable("cannot parse: nested too deeply")
        except ValueError as exc:
            return Unreadable(f"cannot parse: {exc}")

    def _legacy_statement_error(self, msg: str, line: int | None, col: int | None
                                ) -> tuple[str, int | None]:
        """``msg`` and ``col`` of a 3.9 syntax error in the words and place of Python >= 3.10."""
        m = _LEGACY_MESSAGE.match(msg)
        if m is None or line is None or not 0 < line <= len(self._line_starts()):
            return msg, col
        at = _LEGACY_KEYWORD.match(self.line_text(line))
        if at is None:
            return msg, col
        return f"Missing parentheses in call to '{m[1]}'. Did you mean {m[1]}(...)?", at.end() + 1


_PY2 = re.compile(r"^\s*(?:print\s+[^\s(=]|exec\s+[\"'\w])|except\s+[\w.]+\s*,\s*\w+\s*:|\bur['\"]",
                  re.M)


def _looks_like_python2(text: str) -> bool:
    return _PY2.search(text) is not None


# Python 3.9 words a Python 2 print/exec statement as "Did you mean print('a', b)?" located at
# its arguments; 3.10 and later as "Did you mean print(...)?" located at the keyword
_LEGACY_MESSAGE = re.compile(r"Missing parentheses in call to '(print|exec)'")
# where 3.9 finds the keyword: first on the line, else first after the line's first colon
_LEGACY_KEYWORD = re.compile(r"\s*(?=(?:print|exec)\b)|[^:]*:\s*(?=(?:print|exec)\b)")


class SourceCache:
    """Per-session cache: absolute path -> ``Source`` (or why it cannot be read).

    Contents are kept up to ``CACHE_BYTES`` in total; past that, files are read again by each
    guardrail that needs them instead of growing the process without bound."""

    def __init__(self, max_size: int = DEFAULT_MAX_FILE_SIZE) -> None:
        self.max_size = max_size
        self._cache: dict[str, Source | Unreadable | None] = {}
        self._readers: dict[str, Reader] = {}
        self._bytes = 0

    def reader(self, root: str | os.PathLike[str]) -> Reader:
        """The (cached) ``fs.Reader`` contained in ``root``."""
        key = os.fspath(root)
        got = self._readers.get(key)
        if got is None:
            got = self._readers[key] = Reader(key, self.max_size)
        return got

    def get(self, root: str | os.PathLike[str], path: str, rel: str) -> Source | Unreadable | None:
        """The ``Source`` of ``path`` (relative to the target ``root``; ``rel``: as shown);
        ``Unreadable`` if it cannot be read (``NotRead``: deliberately not opened); None if it
        is gone or a directory."""
        reader = self.reader(root)
        key = os.path.join(reader.root, path)
        try:
            return self._cache[key]
        except KeyError:
            pass
        try:
            result: Source | Unreadable | None = Source(key, rel, reader.read(path))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            result = None
        except Unreadable as exc:
            result = exc
        except OSError as exc:
            result = Unreadable(f"cannot read: {exc.strerror or exc}")
        if isinstance(result, Source):
            if self._bytes + len(result.raw) > CACHE_BYTES:
                return result
            self._bytes += len(result.raw)
        self._cache[key] = result
        return result


@dataclass
class Scan:
    """Iterate a target's files as ``Source`` objects for one guardrail run.

    Unreadable files become error findings (``errors``); files not read on purpose (over
    ``max-file-size``, a symlink out of the target, a FIFO/socket/device) are named in notes on
    the run. Call ``finish()`` after iterating to get the error findings.
    """

    run: Run
    errors: list[Finding] = field(default_factory=lambda: [])
    too_big: list[str] = field(default_factory=lambda: [])
    not_read: list[str] = field(default_factory=lambda: [])

    def sources(self, rels: Iterable[str]) -> Iterator[Source]:
        target = self.run.target
        cache = self.run.project.sources
        for rel in rels:
            got = cache.get(target.root, rel, target.rel(rel))
            if got is None:
                continue
            if isinstance(got, TooBig):
                self.too_big.append(target.rel(rel))
            elif isinstance(got, NotRead):
                self.not_read.append(f"{target.rel(rel)} ({got.message.removeprefix('not read: ')})")
            elif isinstance(got, Unreadable):
                self.error(target.rel(rel), got)
            else:
                yield got

    def error(self, rel: str, exc: Unreadable) -> None:
        self.errors.append(Finding(exc.message, rel, exc.line, exc.col, error=True))

    def finish(self) -> list[Finding]:
        if self.too_big:
            n = len(self.too_big)
            limit = size_text(self.run.project.sources.max_size)
            self.run.notes.append(
                f"{n} file{'s' if n != 1 else ''} over max-file-size ({limit}) not scanned: "
                + ", ".join(self.too_big[:5]) + (", ..." if n > 5 else ""))
        if self.not_read:
            n = len(self.not_read)
            self.run.notes.append(
                f"{n} file{'s' if n != 1 else ''} not read: "
                + ", ".join(self.not_read[:5]) + (", ..." if n > 5 else ""))
        return self.errors


def python_files(files: Iterable[str]) -> list[str]:
    return [f for f in files if f.endswith(PYTHON_SUFFIXES)]
