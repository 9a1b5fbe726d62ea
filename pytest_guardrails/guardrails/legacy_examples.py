"""Example JSON files carry no legacy conversion notes."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence
import json
import re
from typing import Any
from typing import Union

from pytest_guardrails import bounded
from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.api import NotApplicable
from pytest_guardrails.api import Run
from pytest_guardrails.fs import Unreadable
from pytest_guardrails.options import Option
from pytest_guardrails.selection import matching

NAME = "legacy-examples"

#: a compiled pattern: ``bounded.Pattern`` here, ``re.Pattern`` also works
Searcher = Union[bounded.Pattern[str], "re.Pattern[str]"]

OPTIONS = {
    "files": Option("globs", ("**/examples/**/*.json",),
                    "JSON files to audit (globs relative to each target's root)"),
    "patterns": Option("regexes", ("(?i)auto-converted from legacy",),
                       "regular expressions; a string value matching any of them is a finding"),
}

#: a snippet of the matching value is shown up to this length
SNIPPET = 80


def _pointer_token(key: str | int) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def matches(data: Any, regexes: Sequence[Searcher], pointer: str = ""
            ) -> Iterator[tuple[str, str]]:
    """(JSON pointer, value) of every string value matching a regex, in document order.

    Iterative, so any nesting depth ``json.loads`` accepted is walked without a RecursionError."""
    stack: list[tuple[Any, str]] = [(data, pointer)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, str):
            if any(r.search(node) for r in regexes):
                yield at, node
        elif isinstance(node, dict):
            items: list[tuple[Any, Any]] = list(node.items())  # pyright: ignore[reportUnknownArgumentType, reportUnknownMemberType]
            stack.extend((v, f"{at}/{_pointer_token(k)}") for k, v in reversed(items))
        elif isinstance(node, list):
            values: list[Any] = node  # pyright: ignore[reportUnknownVariableType]
            stack.extend((v, f"{at}/{i}") for i, v in reversed(list(enumerate(values))))


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+', re.S)


def value_lines(text: str, wanted: set[str]) -> dict[str, int]:
    """1-based line of the value at each JSON pointer in ``wanted`` (``text`` is valid JSON)."""
    found: dict[str, int] = {}
    # stack entries: [container kind, current key or index, pointer prefix]
    stack: list[list[Any]] = []
    expect_key = False
    line = 1
    pos = 0
    for m in _TOKEN.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        tok = m.group()
        if tok == "{":
            ptr = _current(stack)
            stack.append(["o", None, ptr])
            expect_key = True
        elif tok == "[":
            ptr = _current(stack)
            stack.append(["a", 0, ptr])
            expect_key = False
        elif tok in "}]":
            stack.pop()
            expect_key = False
        elif tok == ",":
            if stack and stack[-1][0] == "a":
                stack[-1][1] += 1
            expect_key = bool(stack) and stack[-1][0] == "o"
        elif tok == ":":
            expect_key = False
        elif expect_key:
            stack[-1][1] = json.loads(tok)
        else:
            ptr = _current(stack)
            if ptr in wanted:
                found[ptr] = line
                if len(found) == len(wanted):
                    break
    return found


def _current(stack: list[list[Any]]) -> str:
    if not stack:
        return ""
    kind, key, prefix = stack[-1]
    del kind
    return f"{prefix}/{_pointer_token(key)}"


def _snippet(value: str) -> str:
    one = " ".join(value.split())
    return one if len(one) <= SNIPPET else one[: SNIPPET - 3] + "..."


def check_file(rel: str, raw: bytes, regexes: Sequence[Searcher]) -> Iterator[Finding]:
    if b"\0" in raw[:8192]:
        yield Finding("binary file, not JSON", rel, error=True)
        return
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        yield Finding(f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})", rel, line,
                      error=True)
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Finding(f"invalid JSON: {exc.msg}", rel, exc.lineno, exc.colno, error=True)
        return
    except RecursionError:
        yield Finding("JSON nested too deeply to read", rel, error=True)
        return
    except ValueError as exc:  # an integer of more digits than int() converts
        yield Finding(f"invalid JSON: {exc}", rel, error=True)
        return
    hits = list(matches(data, regexes))
    if not hits:
        return
    lines = value_lines(text, {p for p, _ in hits})
    for pointer, value in hits:
        yield Finding(f"{pointer or '/'}: {_snippet(value)}", rel, lines.get(pointer))


def check(run: Run) -> Iterator[Finding]:
    s = run.settings
    patterns: tuple[str, ...] = s["patterns"]
    if not patterns:
        raise NotApplicable(f"no patterns: set [tool.guardrails.{NAME}] patterns")
    target = run.target
    run.project.require_checked_out(target)
    budget = bounded.Budget()
    regexes = [bounded.compile_str(p, budget=budget) for p in patterns]
    files = matching(run, run.project.files(target), OPTIONS["files"].default)
    for rel in files:
        try:
            raw = run.read(target.rel(rel))
        except (FileNotFoundError, IsADirectoryError):
            continue
        except Unreadable as exc:
            yield Finding(exc.message, target.rel(rel), error=True)
            continue
        except OSError as exc:
            yield Finding(f"cannot read: {exc.strerror}", target.rel(rel), error=True)
            continue
        try:
            yield from check_file(target.rel(rel), raw, regexes)
        except bounded.RegexTimeout as exc:
            yield Finding(str(exc), target.rel(rel), error=True)
            return


GUARDRAIL = Guardrail(
    name=NAME,
    code="GR008",
    summary=__doc__ or "",
    check=check,
    options=OPTIONS,
    noun="legacy note",
    fix="rewrite or remove the legacy note in the example (or regenerate it in its source repo)",
    cache_inputs="target",
)
