"""pytest-timeout: a project's timeout, sized for unit tests, never fails a guardrail item."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conftest import Backend

TIMEOUT = "\n[tool.pytest.ini_options]\ntimeout = 1\n"


def test_guardrail_items_get_a_timeout_above_their_tools(backend: Backend) -> None:
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": pyproject + TIMEOUT})
    items, _ = backend.pytester.inline_genitems("-p", "guardrails", "-p", "timeout", "--guardrails-only")
    bounds = {i.name: i.get_closest_marker("timeout").args[0] for i in items}  # type: ignore[union-attr]
    assert bounds["pyright"] == 900 * 1.1 + 30  # pyright's own timeout (900 s) fires first
    assert bounds["ruff[libs/schemas]"] == 120 * 1.1 + 30
    assert bounds["legacy-examples"] == 600
    items, _ = backend.pytester.inline_genitems("-p", "guardrails", "-p", "timeout", "--guardrails-only",
                                                "--timeout=5000")
    assert {i.get_closest_marker("timeout").args[0] for i in items} == {5000}  # type: ignore[union-attr]


def test_project_timeout_does_not_fail_a_slow_tool(backend: Backend) -> None:
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": pyproject + TIMEOUT, "tests/test_app.py": "def test_app():\n    pass\n"})
    result = backend.run("-p", "timeout", "--guardrails", "--junitxml=out.xml", "-k", "app or pyright and not libs")
    result.assert_outcomes(passed=2)
    # the guardrail ran longer than the project's timeout: the bound was needed
    times = {c.get("name"): float(c.get("time", "0")) for c in ET.parse(backend.path / "out.xml").iter("testcase")}
    assert times["pyright"] > 1, times


def test_without_a_project_timeout_items_get_none(backend: Backend) -> None:
    items, _ = backend.pytester.inline_genitems("-p", "guardrails", "-p", "timeout", "--guardrails-only")
    assert all(i.get_closest_marker("timeout") is None for i in items)
