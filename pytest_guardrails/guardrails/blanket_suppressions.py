"""Suppression comments name the rule they silence."""

from __future__ import annotations

from collections.abc import Iterator
import re
from typing import Any

from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.api import Run
from pytest_guardrails.fingerprint import at_offset
from pytest_guardrails.fingerprint import can_stamp_at
from pytest_guardrails.options import ConfigError
from pytest_guardrails.options import Option
from pytest_guardrails.sources import Scan
from pytest_guardrails.sources import Source
from pytest_guardrails.sources import Unreadable
from pytest_guardrails.sources import python_files

NAME = "blanket-suppressions"

KINDS = ("noqa", "file-noqa", "type-ignore", "pyright-ignore")


def _validate_kinds(key: str, value: Any) -> None:
    for i, kind in enumerate(value):
        if kind not in KINDS:
            raise ConfigError(f"{key}[{i}]", f"{key}[{i}]: unknown kind {kind!r}; kinds are "
                              + ", ".join(map(repr, KINDS)))


OPTIONS = {
    "kinds": Option("str-list", KINDS,
                    "which suppressions to report: `\"noqa\"`, `\"file-noqa\"`, `\"type-ignore\"`, "
                    "`\"pyright-ignore\"`", validate=_validate_kinds),
}

# One directive inside a comment token; one comment may hold several directives. ``noqa`` and
# the tool names are case-insensitive (as in ruff and flake8); ``type:`` and ``pyright:`` are not
# (mypy and pyright only honour the lower-case spelling). As in ruff and pyright, a directive word
# must end the comment or be followed by a space, ``#`` or its ``:``/``[``: "noqa'd" and a
# back-quoted mention in prose are not directives.
_DIRECTIVE = re.compile(
    r"""
    \#[ \t]*(?:
        (?P<file>(?i:ruff|flake8)[ \t]*[:=][ \t]*(?i:noqa))(?=[ \t:\#]|$)
            (?P<fcolon>[ \t]*:[ \t]*(?P<fcode>[A-Za-z]+[0-9]+)?)?
      | (?P<noqa>(?i:noqa))(?=[ \t:\#]|$)
            (?P<colon>[ \t]*:[ \t]*(?P<code>[A-Za-z]+[0-9]+)?)?
            (?P<nocolon>[ \t]+[A-Z]+[0-9]+\b)?
      | (?P<type>type:[ \t]*ignore)(?=[ \t\#\[]|$)
            (?P<trules>[ \t]*\[[ \t]*(?P<trule>[^\]\s])?[^\]\n]*\]?)?
      | (?P<pyright>pyright:[ \t]*ignore)(?=[ \t\#\[]|$)
            (?P<prules>[ \t]*\[[ \t]*(?P<prule>[^\]\s])?[^\]\n]*\]?)?
    )
    """,
    re.X,
)


def directives(comment: str, kinds: frozenset[str],
               at_top: bool = False) -> Iterator[tuple[int, str, str]]:
    """(offset in ``comment``, kind, message) of each blanket suppression in one comment;
    ``at_top``: no code comes before the comment in its file."""
    for m in _DIRECTIVE.finditer(comment):
        written = m.group().rstrip()
        if m.group("file"):
            tool = m.group("file").split(":")[0].split("=")[0].strip().lower()
            if "file-noqa" not in kinds:
                continue
            if tool == "flake8":
                why = " (flake8 ignores the codes there)" if m.group("fcode") else ""
                msg = (f"`{written}` makes flake8 skip the whole file{why}; name the code "
                       "per line: `# noqa: F401`, or use per-file-ignores")
            elif m.group("fcode"):
                continue
            else:
                msg = (f"`{written}` silences every rule in the file; name the codes: "
                       "`# ruff: noqa: F401`")
            yield m.start(), "file-noqa", msg
        elif m.group("noqa"):
            if "noqa" not in kinds or m.group("code"):
                continue
            if m.group("nocolon"):
                code = m.group("nocolon").strip()
                msg = (f"`{written}` without a colon silences every rule on the line; "
                       f"name the code: `# noqa: {code}`")
            elif m.group("colon"):
                msg = (f"`{written}` with no code silences every rule on the line; "
                       "name the code: `# noqa: F401`")
            else:
                msg = f"`{written}` silences every rule on the line; name the code: `# noqa: F401`"
            yield m.start(), "noqa", msg
        elif m.group("type"):
            if "type-ignore" not in kinds or m.group("trule"):
                continue
            if at_top and not m.group("trules"):
                yield m.start(), "type-ignore", (
                    f"`{written}` before any code makes mypy skip the whole file; "
                    "name the code on each line instead: `# type: ignore[attr-defined]`")
                continue
            yield m.start(), "type-ignore", (
                f"`{written}` silences every type error on the line; "
                "name the code: `# type: ignore[attr-defined]`")
        elif m.group("pyright"):
            if "pyright-ignore" not in kinds or m.group("prule"):
                continue
            yield m.start(), "pyright-ignore", (
                f"`{written}` silences every pyright rule on the line; "
                "name the rule: `# pyright: ignore[reportAttributeAccessIssue]`")


def _alternatives(kinds: frozenset[str]) -> str:
    parts: list[str] = []
    if "noqa" in kinds:
        parts.append("[nN][oO][qQ][aA]")
    if "file-noqa" in kinds:
        parts.append("[rR][uU][fF][fF]|[fF][lL][aA][kK][eE]8")
    if "type-ignore" in kinds:
        parts.append("type:[ \t]*ignore")
    if "pyright-ignore" in kinds:
        parts.append("pyright:[ \t]*ignore")
    return "|".join(parts) or "(?!)"


def prefilter(kinds: frozenset[str]) -> re.Pattern[bytes]:
    """A bytes regex that every file holding a directive of ``kinds`` matches (and most do not)."""
    return re.compile(b"#[ \t]*(?:" + _alternatives(kinds).encode() + b")")


def candidates(kinds: frozenset[str]) -> re.Pattern[str]:
    """The same on text: where directives may start (in comments, strings or docstrings)."""
    return re.compile("#[ \t]*(?:" + _alternatives(kinds) + ")")


def scan_source(source: Source, kinds: frozenset[str],
                where: re.Pattern[str] | None = None, target: str | None = None
                ) -> Iterator[Finding]:
    """Blanket suppressions in one file's comments (``Unreadable`` if it cannot be decoded).

    Only comments holding a candidate ``#`` are parsed, and the file is lexed only up to its
    last candidate. With ``target`` (its label), findings come fingerprinted from where they
    were found, sparing the engine a table of the file's lines."""
    text = source.text
    spots = [m.start() for m in (where or candidates(kinds)).finditer(text)]
    if not spots:
        return
    stamp = target if target is not None and can_stamp_at(source.rel, text) else None
    i = 0
    at_top = True  # no code (nor docstring) before this comment
    previous_end = 0
    for offset, comment in source.comments(until=spots[-1]):
        end = offset + len(comment)
        if at_top and text[previous_end:offset].strip():
            at_top = False
        previous_end = end
        while i < len(spots) and spots[i] < offset:
            i += 1  # a candidate inside a string: not a comment
        if i == len(spots):
            return
        if spots[i] >= end:
            continue
        for at, _, message in directives(comment, kinds, at_top):
            line, col = source.location(offset + at)
            found = Finding(message, source.rel, line, col)
            if stamp is not None:
                found = Finding(message, source.rel, line, col, fingerprint=at_offset(
                    NAME, stamp, found, text, offset + at))
            yield found


def check(run: Run) -> Iterator[Finding]:
    kinds = frozenset(run.settings["kinds"])
    target = run.target
    run.project.require_checked_out(target)
    might_have = prefilter(kinds).search
    where = candidates(kinds)
    scan = Scan(run)
    for source in scan.sources(python_files(run.project.files(target))):
        if might_have(source.raw) is None:
            continue
        try:
            yield from scan_source(source, kinds, where, target.label)
        except Unreadable as exc:
            scan.error(source.rel, exc)
    yield from scan.finish()


GUARDRAIL = Guardrail(
    name=NAME,
    code="GR005",
    summary=__doc__ or "",
    check=check,
    options=OPTIONS,
    noun="blanket suppression",
    fix="name the rule in each suppression (`# noqa: F401`, `# type: ignore[attr-defined]`, "
        "`# pyright: ignore[reportAttributeAccessIssue]`); see docs/guardrails/blanket-suppressions.md",
    cache_inputs="python",
)
