"""Waivers with an expiry date, and waivers that waive nothing."""

from __future__ import annotations

import pytest

from conftest import Backend


def waive(b: Backend, table: str) -> None:
    pyproject = b.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + f"\n[tool.guardrails.ignore]\n{table}",
                         encoding="utf-8")


def run(b: Backend, *args: str) -> pytest.RunResult:
    return b.run("--guardrails-only", "-k", "version-ssot", "-rA", *args)


@pytest.fixture
def stale_readme(backend: Backend) -> Backend:
    backend.write({"README.md": "---\nversion: 0.7.2\n---\n# Backend\n"})
    return backend


def test_waiver_until_a_future_date_waives(stale_readme: Backend) -> None:
    waive(stale_readme, '"version-ssot" = { reason = "docs follow in 0.8", until = "2999-12-31" }\n')
    result = run(stale_readme, "--guardrails-mode=strict")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * waived (version-ssot): docs follow in 0.8"])


@pytest.mark.parametrize("until", ['"2020-01-31"', "2020-01-31"])  # a string or a TOML date
def test_expired_waiver_runs_the_item_and_says_so(stale_readme: Backend, until: str) -> None:
    waive(stale_readme, f'"version-ssot[libs/schemas]" = {{ reason = "docs follow", until = {until} }}\n')
    result = run(stale_readme, "--guardrails-mode=strict", "--junitxml=w.xml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "version-ssot[[]libs/schemas[]]: 1 stale version",
        "README.md:2: *",
        "waiver 'version-ssot[[]libs/schemas[]]' expired on 2020-01-31: docs follow",
    ])
    stale_readme.write({"README.md": "---\nversion: 0.7.3\n---\n"})
    result = run(stale_readme, "--guardrails-mode=strict")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["version-ssot[[]libs/schemas[]]: waiver 'version-ssot[[]libs/schemas[]]' "
                                 "expired on 2020-01-31: docs follow"])


@pytest.mark.parametrize(("table", "message"), [
    ('"version-ssot" = { reason = "x", until = "2027-02-30" }\n',
     "pyproject.toml:11: tool.guardrails.ignore.\"version-ssot\".until: invalid date '2027-02-30': *"),
    ('"version-ssot" = { reason = "x", until = "31/03/2027" }\n',
     "pyproject.toml:11: tool.guardrails.ignore.\"version-ssot\".until: expected a date \"YYYY-MM-DD\", got '31/03/2027'"),
    ('"version-ssot" = { reason = "x", until = 2027-03-31T10:00:00 }\n',
     "pyproject.toml:11: tool.guardrails.ignore.\"version-ssot\".until: expected a date *"),
    ('"version-ssot" = { until = "2027-03-31" }\n',
     "pyproject.toml:11: tool.guardrails.ignore.\"version-ssot\": a waiver needs a reason*"),
    ('"version-ssot" = { reason = "x", util = "2027-03-31" }\n',
     "pyproject.toml:11: tool.guardrails.ignore.\"version-ssot\": unknown key 'util'*"),
    # codegen-drift has one item per submodule, none for the repository itself
    ('"ruff" = "fine"\n"codegen-drift[.]" = "no such item"\n',
     "pyproject.toml:12: tool.guardrails.ignore.\"codegen-drift[[].[]]\": waives no item: "
     "codegen-drift has items for libs/schemas"),
])
def test_bad_waiver_is_a_usage_error(backend: Backend, table: str, message: str) -> None:
    waive(backend, table)
    result = run(backend)
    assert result.ret == 4, result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines([f"ERROR: {message}"])


def test_waiver_of_a_deselected_item_is_not_an_error(backend: Backend) -> None:
    waive(backend, '"legacy-examples[libs/schemas]" = "rewritten in 0.8"\n')
    run(backend).assert_outcomes(passed=1)  # -k version-ssot: the waived item exists, unselected
