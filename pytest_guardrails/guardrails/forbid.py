"""User-defined forbidden patterns: one ``forbid-<name>`` guardrail per configured table."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
import re
from typing import TYPE_CHECKING
from typing import Any

from pytest_guardrails import bounded
from pytest_guardrails import escape
from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.api import Run
from pytest_guardrails.options import ConfigError
from pytest_guardrails.options import Option
from pytest_guardrails.options import as_table
from pytest_guardrails.options import convert_table
from pytest_guardrails.selection import matching
from pytest_guardrails.selection import name_files
from pytest_guardrails.sources import Scan
from pytest_guardrails.sources import Unreadable
from pytest_guardrails.targeting import own_keys as _own

if TYPE_CHECKING:
    from regex import Match

PREFIX = "tool.guardrails.forbid"

OPTIONS = {
    "pattern": Option("regex", None, "regular expression searched line by line (required)"),
    "files": Option("globs", ("**/*",), "globs (relative to each target's root) of files to search"),
    "message": Option("str", "", "what to do instead; shown with every finding"),
    "code-only": Option("bool", False,
                        "Python files: match code only, never comments or string literals"),
}


# Assertions that look past a line's ends (lookaround, \A, \Z) behave differently on a whole
# file than on one line, so such patterns are searched line by line without the file prefilter.
_CONTEXT_SENSITIVE = re.compile(r"\(\?<?[=!]|\\[AZ]")


_BRACES = re.compile(r"\{\d*(?:,\d*)?\}")


def required_literal(pattern: str) -> bytes | None:
    """An ASCII string that every match of ``pattern`` contains, or None if none is known.

    Conservative: only plain characters outside groups, classes and alternation count, and a
    character followed by a quantifier does not. A file whose bytes lack it cannot match, in
    any ASCII-compatible encoding, so it is neither decoded nor searched.
    """
    try:
        if re.compile(pattern).flags & (re.IGNORECASE | re.VERBOSE):
            return None
    except re.error:
        return None
    best: list[str] = []
    run: list[str] = []
    i, n = 0, len(pattern)

    def cut() -> None:
        nonlocal run, best
        if len(run) > len(best):
            best = run
        run = []

    while i < n:
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1:i + 2]
            if nxt and not nxt.isalnum() and nxt.isascii():
                run.append(nxt)
                i += 2
                continue
            cut()  # a class (\d), an assertion (\b) or a coded character (\x41, \N{...})
            i += 2 + {"x": 2, "u": 4, "U": 8}.get(nxt, 0)
            if nxt == "N" and pattern[i:i + 1] == "{":
                i = pattern.find("}", i) + 1 or n
            while nxt.isdigit() and i < n and pattern[i].isdigit():
                i += 1
            continue
        if c == "|" or c == ")":
            return None  # top-level alternation (or unbalanced): nothing is required
        if c == "{":
            m = _BRACES.match(pattern, i)
            if m is None:
                cut()  # a literal "{": harmless to leave out
                i += 1
                continue
            if run:
                run.pop()
            cut()
            i = m.end()
            continue
        if c in "*?+":
            if c != "+" and run:
                run.pop()
            cut()
        elif c in ".^$":
            cut()
        elif c == "[":
            cut()
            i = _skip_class(pattern, i)
            continue
        elif c == "(":
            cut()
            i = _skip_group(pattern, i)
            continue
        elif c.isascii() and c.isprintable():
            run.append(c)
        else:
            cut()
        i += 1
    cut()
    return "".join(best).encode() if len(best) >= 2 else None


def _skip_class(pattern: str, i: int) -> int:
    """The index after the character class starting at ``pattern[i] == "["``."""
    j = i + 1
    if pattern[j:j + 1] == "^":
        j += 1
    if pattern[j:j + 1] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def _skip_group(pattern: str, i: int) -> int:
    """The index after the group starting at ``pattern[i] == "("``."""
    depth = 0
    j = i
    while j < len(pattern):
        c = pattern[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = _skip_class(pattern, j)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return j


@dataclass(frozen=True)
class Matcher:
    """A pattern searched line by line, with a whole-text prefilter where that is exact."""

    pattern: str
    line: bounded.Pattern[str]
    whole: bounded.Pattern[str] | None

    @classmethod
    def compile(cls, pattern: str) -> Matcher:
        """Both searches bounded by one ``bounded.Budget`` (one per guardrail item)."""
        budget = bounded.Budget()
        line = bounded.compile_str(pattern, budget=budget)
        whole = (None if _CONTEXT_SENSITIVE.search(pattern)
                 else bounded.compile_str(pattern, bounded.MULTILINE, budget))
        return cls(pattern, line, whole)

    def lines(self, text: str) -> Iterator[tuple[int, int, str]]:
        r"""(1-based line number, offset of the line in ``text``, line) of each matching line.

        Without lookaround or ``\A``/``\Z``, a match within one line is also a match in the
        whole text, so lines are only tried from each whole-text match on: exact and fast.
        """
        search = self.line.search
        if self.whole is None or "\r" in text:
            begin = 0
            for lineno, line in enumerate(text.split("\n"), start=1):
                line_ = line.removesuffix("\r")
                if search(line_):
                    yield lineno, begin, line_
                begin += len(line) + 1
            return
        whole = self.whole.search
        pos = 0
        lineno = 1
        counted = 0
        n = len(text)
        while pos <= n:
            wm = whole(text, pos)
            if wm is None:
                return
            begin = text.rfind("\n", 0, wm.start()) + 1
            end = text.find("\n", wm.start())
            end = n if end == -1 else end
            lineno += text.count("\n", counted, begin)
            counted = begin
            line = text[begin:end]
            if search(line):
                yield lineno, begin, line
            pos = end + 1


def _first_in_code(regex: bounded.Pattern[str], line: str, begin: int,
                   spans: list[tuple[int, int]], starts: list[int]) -> Match[str] | None:
    """The first match in ``line`` that touches no comment or string span (text offsets)."""
    pos = 0
    while pos <= len(line):
        m = regex.search(line, pos)
        if m is None:
            return None
        s, e = begin + m.start(), begin + m.end()
        i = bisect_right(starts, max(s, e - 1)) - 1
        if i < 0 or spans[i][1] <= s:
            return m
        pos = m.start() + 1
    return None


def check(run: Run) -> Iterator[Finding]:
    at: list[str] = []
    try:
        yield from _check(run, at)
    except bounded.RegexTimeout as exc:  # a catastrophic pattern: located, and no further search
        yield Finding(str(exc), at[0] if at else None, error=True)


def _check(run: Run, at: list[str]) -> Iterator[Finding]:
    s = run.settings
    target = run.target
    run.project.require_checked_out(target)
    matcher = Matcher.compile(s["pattern"])
    literal = required_literal(s["pattern"])
    message: str = s["message"]
    code_only: bool = s["code-only"]
    scan = Scan(run)
    as_bytes: list[str] = []
    binary: list[str] = []
    not_code: list[str] = []
    for source in scan.sources(matching(run, run.project.files(target), OPTIONS["files"].default)):
        at[:] = [source.rel]
        if literal is not None and literal not in source.raw:
            continue
        try:
            text = source.text
        except Unreadable:
            # as git grep: not UTF-8 text is searched as bytes (each undecodable byte matches
            # only what matches any character); a binary file (NUL byte) only says it matches
            text = source.raw.decode("utf-8", "surrogateescape")
            if b"\0" in source.raw:
                binary.append(source.rel)
                if next(matcher.lines(text), None) is not None:
                    yield Finding(f"binary file matches `{s['pattern']}`", source.rel)
                continue
            if code_only and source.is_python:
                not_code.append(source.rel)  # no tokens to tell code from comments
                continue
            as_bytes.append(source.rel)
        spans: list[tuple[int, int]] | None = None
        starts: list[int] = []
        for line, begin, line_text in matcher.lines(text):
            if code_only and source.is_python:
                if spans is None:
                    spans = source.non_code_spans()
                    starts = [a for a, _ in spans]
                m = _first_in_code(matcher.line, line_text, begin, spans, starts)
            else:
                m = matcher.line.search(line_text)
            if m is None:
                continue
            found = f"`{escape.line(m.group())}` matches `{s['pattern']}`"
            yield Finding(f"{found}: {message}" if message else found, source.rel, line,
                          m.start() + 1)
    for what, paths in (("not UTF-8, searched as bytes (as git grep does)", as_bytes),
                        ("binary, searched as bytes (a match is reported without a line)", binary),
                        ("not searched: not decodable as Python, so code cannot be told from "
                         "comments (code-only = true)", not_code)):
        if paths:
            run.notes.append(f"{what}: {name_files(paths)}")
    yield from scan.finish()


def expand(raw: Any) -> list[Guardrail]:
    tables = as_table(raw)
    if tables is None:
        raise ConfigError(PREFIX, f"{PREFIX}: expected tables [{PREFIX}.<name>]")
    out: list[Guardrail] = []
    for name, table in tables.items():
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
            raise ConfigError(f"{PREFIX}.{name}",
                              f"{PREFIX}.{name}: names are kebab-case (a-z, 0-9, -)")
        own = _own(table)
        settings = convert_table(f"{PREFIX}.{name}", own, OPTIONS, required=("pattern",))
        out.append(Guardrail(
            name=f"forbid-{name}",
            code="GR100",
            summary=settings["message"] or f"no match for {settings['pattern']!r}",
            check=check,
            options={},
            noun="forbidden match",
            fix=settings["message"],
            settings=settings,
            cache_inputs="target",
        ))
    return out
