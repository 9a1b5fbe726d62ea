"""Hostile input: a pull request controls every file the guardrails read, the config included.

Each scenario builds a real backend repository with a real submodule (``conftest.backend``),
commits something an attacker could commit, runs the guardrails and asserts the outcome, the
located message, and that the other guardrails still ran.
"""

from __future__ import annotations

import re

import pytest

from conftest import Backend
from pytest_guardrails import escape

FORBID_TODO = """
[tool.guardrails.forbid.no-todo]
pattern = 'TODO'
files = ["**/*"]
message = "no TODO"
"""

NOT_SLOW = ["-k", "not pyright"]


def configure(backend: Backend, extra: str) -> None:
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": pyproject + extra})


def raw_output(result: pytest.RunResult) -> str:
    return "\n".join([*result.outlines, *result.errlines])


_ROW = re.compile(r"^(\S+)\s{2,}(\S+)\s{2,}(passed|failed|xfailed|skipped)\b")


def table(result: pytest.RunResult) -> dict[tuple[str, str], str]:
    """The guardrails summary table: (guardrail, target) -> pytest outcome word."""
    out: dict[tuple[str, str], str] = {}
    lines = result.outlines
    start = next(i for i, ln in enumerate(lines) if re.match(r"^=+ guardrails =+$", ln))
    for ln in lines[start + 2:]:
        m = _ROW.match(ln)
        if m is None:
            break
        out[(m.group(1), m.group(2))] = m.group(3)
    return out


def others_ran(result: pytest.RunResult, *hostile: tuple[str, str]) -> dict[tuple[str, str], str]:
    """Assert every guardrail item but ``hostile`` ran to a verdict (passed or a plain skip
    such as not-applicable), the scanners and ruff among them; return the table."""
    rows = table(result)
    for key in hostile:
        assert key in rows, (key, rows)
    rest = {k: v for k, v in rows.items() if k not in hostile}
    assert rest, rows
    assert all(v in ("passed", "skipped") for v in rest.values()), rest
    assert rest.get(("ruff", ".")) == "passed", rest
    assert rest.get(("blanket-suppressions", ".")) == "passed", rest
    return rows


# --- output hygiene ------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "shown"), [
    ("::error::x", "\\x3a:error::x"),
    ("  ::warning file=a::b", "  \\x3a:warning file=a::b"),
    ("a::b", "a::b"),
    ("red\x1b[31m\r", "red\\x1b[31m\\r"),
    ("f\udcff.py", "f\\xff.py"),
    ("\u202eabc", "\\u202eabc"),
    ("a\nb", "a\\nb"),
])
def test_escape_line(raw: str, shown: str) -> None:
    assert escape.line(raw) == shown
    assert escape.line(shown) == shown
    shown.encode("utf-8")


def test_escape_text_keeps_lines_and_defuses_each() -> None:
    assert escape.text("a\r\n::error::b\n\tc\x1b") == "a\n\\x3a:error::b\n\tc\\x1b"


def test_escape_shell() -> None:
    assert escape.shell("libs/$(touch pwned)") == "'libs/$(touch pwned)'"


@pytest.mark.parametrize("strict", [False, True])
def test_control_characters_and_workflow_command_in_file_name(
        backend: Backend, monkeypatch: pytest.MonkeyPatch, strict: bool) -> None:
    configure(backend, FORBID_TODO)
    name = "app/\x1b]0;owned\x07\r::error file=x::pwned.txt"
    backend.write({name: "TODO\n"})
    if strict:
        monkeypatch.setenv("STRICT_GUARDRAILS", "1")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = backend.run("--guardrails-only", *NOT_SLOW, "-rA")
    out = raw_output(result)
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out
    assert not [ln for ln in out.splitlines() if ln.lstrip().startswith("::") and "pwned" in ln
                and not ln.startswith("::")]
    # the only lines starting with "::" are our own annotations, with the path escaped
    for ln in out.splitlines():
        if ln.startswith("::"):
            assert re.match(r"::(error|warning) ", ln), ln
    assert "app/\\x1b]0;owned\\x07\\r\\x3a:error file=x::pwned.txt:1:1: " in out or \
        "app/\\x1b]0;owned\\x07\\r::error file=x::pwned.txt:1:1: " in out
    rows = others_ran(result, ("forbid-no-todo", "."))
    assert rows[("forbid-no-todo", ".")] == ("failed" if strict else "xfailed")
    assert result.ret == (1 if strict else 0)
