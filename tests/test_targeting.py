"""Per-target settings: ``targets = [...]`` and ``[tool.guardrails.<id>.target."<path>"]``."""

from __future__ import annotations

import pytest

from conftest import Backend

FILES: dict[str, str | bytes] = {
    "app/notes.txt": "TODO: root\nFIXME: root\n",
}
SCHEMAS_FILES: dict[str, str | bytes] = {"notes.txt": "TODO: schemas\nFIXME: schemas\n"}


def configure(backend: Backend, text: str) -> None:
    backend.write(SCHEMAS_FILES, in_schemas=True)
    backend.git("add", backend.submodule)
    backend.write({**FILES, "pyproject.toml": (backend.path / "pyproject.toml").read_text() + text})


def test_targets_limit_the_items(backend: Backend) -> None:
    configure(backend, """
[tool.guardrails.forbid.todo]
pattern = 'TODO'
targets = ["."]

[tool.guardrails.legacy-examples]
patterns = ["legacy"]
targets = ["libs/schemas"]
""")
    result = backend.run("--guardrails-only", "--collect-only", "-q")
    ids = [line for line in result.stdout.lines if line.startswith("pyproject.toml::")]
    assert "pyproject.toml::forbid-todo" in ids
    assert "pyproject.toml::forbid-todo[libs/schemas]" not in ids
    assert "pyproject.toml::legacy-examples" not in ids
    assert "pyproject.toml::legacy-examples[libs/schemas]" in ids
    assert "pyproject.toml::ruff[libs/schemas]" in ids  # tables without targets: every target


def test_a_target_table_overrides_the_keys_for_that_target(backend: Backend) -> None:
    configure(backend, """
[tool.guardrails.forbid.marker]
pattern = 'TODO'
files = ["app/**"]
message = "track it in an issue"

[tool.guardrails.forbid.marker.target."libs/schemas"]
pattern = 'FIXME'
files = ["notes.txt"]
mode = "strict"
""")
    result = backend.run("--guardrails-only", "-k", "forbid", "-rx")
    result.stdout.fnmatch_lines([
        "*_ GR100 pyproject.toml::forbid-marker[[]libs/schemas[]] _*",
        "forbid-marker[[]libs/schemas[]]: 1 forbidden match",
        "libs/schemas/notes.txt:2:1: `FIXME` matches `FIXME`: track it in an issue",
    ])
    result.stdout.fnmatch_lines([
        "pyproject.toml::forbid-marker: 1 forbidden match",
        "    app/notes.txt:1:1: `TODO` matches `TODO`: track it in an issue",
    ])
    result.assert_outcomes(failed=1, xfailed=1)  # the submodule item is strict, the root warns
    assert result.ret == 1


@pytest.mark.parametrize(("table", "line", "error"), [
    ('[tool.guardrails.ruff]\ntargets = [".", "libs/schema"]\n', 11,
     "tool.guardrails.ruff.targets[1]: unknown target 'libs/schema' (targets: ., libs/schemas); "
     "did you mean 'libs/schemas'?"),
    ('[tool.guardrails.ruff]\ntargets = ["libs/schemas", "libs/schemas"]\n', 11,
     "tool.guardrails.ruff.targets: 'libs/schemas' is listed twice"),
    ('[tool.guardrails.ruff.target."libs/other"]\nargs = []\n', 10,
     'tool.guardrails.ruff.target."libs/other": unknown target \'libs/other\' (targets: ., '
     "libs/schemas); did you mean 'libs/schemas'?"),
    ('[tool.guardrails.ruff.target."libs/schemas"]\nargz = []\n', 11,
     "unknown key 'tool.guardrails.ruff.target.\"libs/schemas\".argz'; did you mean 'args'?"),
    ('[tool.guardrails.dependency-pins]\ntargets = ["."]\n', 11,
     "tool.guardrails.dependency-pins.targets[0]: unknown target '.' (targets: libs/schemas)"),
    ('[tool.guardrails.ruff]\ntargets = ["."]\n[tool.guardrails.ruff.target."libs/schemas"]\n'
     "args = []\n", 12,
     'tool.guardrails.ruff.target."libs/schemas": target \'libs/schemas\' is not in '
     "tool.guardrails.ruff.targets, so it has no item to configure"),
    ('[tool.guardrails]\nsubmodules = [".", "libs/schemas"]\n', 11,
     'tool.guardrails.submodules[0]: "." is the repository itself, always a target; list only '
     "submodule paths"),
    ('[tool.guardrails]\nsubmodules = ["libs/schemas", "libs/schemas"]\n', 11,
     "tool.guardrails.submodules[1]: 'libs/schemas' is listed twice"),
])
def test_bad_targets_are_usage_errors(backend: Backend, table: str, line: int, error: str) -> None:
    backend.write({"pyproject.toml": (backend.path / "pyproject.toml").read_text() + "\n" + table})
    result = backend.run("--guardrails-only")
    assert result.ret == 4
    assert result.stderr.lines[0] == f"ERROR: pyproject.toml:{line}: {error}"
