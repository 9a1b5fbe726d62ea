"""Every built-in guardrail has a docs page whose configuration table matches its options."""

from __future__ import annotations

from pathlib import Path
import re

import pytest

from pytest_guardrails.api import Guardrail
from pytest_guardrails.guardrails import builtin
from pytest_guardrails.guardrails import forbid

DOCS = Path(__file__).parent.parent / "docs"
SECTIONS = ["## What it checks", "## Why", "## Example", "## How to fix", "## Configuration",
            "## Waiving"]
# forbid-<name> guardrails are generated from config; their page documents the table's keys
PAGES: list[tuple[str, str, set[str]]] = [
    *((g.name, g.code, set(g.options)) for g in builtin()),
    ("forbid", "GR100", set(forbid.OPTIONS)),
]


def config_keys(page: str) -> set[str]:
    """Backticked keys in the first column of the table under ``## Configuration``."""
    section = page.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\|\s*`([a-z][a-z0-9-]*)`\s*\|", section, re.M))


@pytest.mark.parametrize(("name", "code", "options"), PAGES, ids=[p[0] for p in PAGES])
def test_page_exists_and_matches_code(name: str, code: str, options: set[str]) -> None:
    path = DOCS / "guardrails" / f"{name}.md"
    assert path.is_file(), f"missing docs page {path}"
    page = path.read_text(encoding="utf-8")
    assert page.splitlines()[0] == f"# {name} ({code})"
    for heading in SECTIONS:
        assert heading in page, f"{path.name}: no {heading!r} section"
    assert config_keys(page) == options | {"mode"}, f"{path.name}: configuration table != code"


@pytest.mark.parametrize("guardrail", builtin(), ids=lambda g: g.name)
def test_page_summary_is_module_docstring(guardrail: Guardrail) -> None:
    page = (DOCS / "guardrails" / f"{guardrail.name}.md").read_text(encoding="utf-8")
    first_paragraph = page.split("\n\n")[1].strip()
    assert first_paragraph == guardrail.summary.strip().splitlines()[0]


def test_configuration_page_lists_every_key() -> None:
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for name, _, options in PAGES:
        table = "tool.guardrails.forbid.<name>" if name == "forbid" else f"tool.guardrails.{name}"
        assert f"[{table}]" in page, f"configuration.md: no [{table}] section"
        for key in options:
            assert f"`{key}`" in page, f"configuration.md: {name} key {key!r} is not documented"
