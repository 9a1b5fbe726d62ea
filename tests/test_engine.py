from __future__ import annotations

from conftest import Backend


def test_collect_only_lists_node_ids(backend: Backend) -> None:
    result = backend.run("--guardrails-only", "--collect-only", "-q")
    result.stdout.fnmatch_lines([
        "pyproject.toml::version-ssot[[]libs/schemas[]]",
        "pyproject.toml::legacy-examples",
        "pyproject.toml::legacy-examples[[]libs/schemas[]]",
    ])
    assert result.ret == 0


def test_clean_backend_passes_strict(backend: Backend) -> None:
    result = backend.run("--guardrails-only", "--guardrails-mode=strict")
    result.assert_outcomes(passed=3)
