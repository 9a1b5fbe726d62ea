"""--guardrails-sarif: SARIF 2.1.0, valid against the official schema, the same with and without
xdist."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import BACKEND_PYPROJECT
from conftest import Backend

jsonschema = pytest.importorskip("jsonschema")

SCHEMA = json.loads((Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json").read_text("utf-8"))
ITEMS = (
    "pyproject.toml::version-ssot[libs/schemas]",
    "pyproject.toml::legacy-examples",
    "pyproject.toml::legacy-examples[libs/schemas]",
    "pyproject.toml::ruff",
)
LEGACY = '{\n  "meta_info": {\n    "description": "Auto-converted from legacy bundle"\n  }\n}\n'


def validate(doc: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.fixture
def scanned(backend: Backend) -> Backend:
    """version-ssot strict with 2 findings, legacy-examples warn (root waived, 1 in the
    submodule), ruff warn with 1 finding."""
    pyproject = BACKEND_PYPROJECT.replace(
        'files = ["README.md", "docs/**/*.md"]', 'files = ["README.md", "docs/**/*.md"]\nmode = "strict"')
    backend.write({
        "pyproject.toml": pyproject + '\n[tool.guardrails.ignore]\n"legacy-examples[.]" = "examples are reviewed elsewhere"\n',
        "README.md": "---\nversion: 0.7.2\n---\n# Backend\n",
        "docs/guide.md": "---\ntitle: Guide\nversion: 0.7.1\n---\n",
        "app/unused.py": "import os\n",
    })
    backend.write({"examples/Old.json": LEGACY}, in_schemas=True)
    return backend


def sarif(backend: Backend, name: str, *args: str, items: tuple[str, ...] = ITEMS
          ) -> tuple[pytest.RunResult, dict[str, Any], str]:
    result = backend.run("--guardrails-only", f"--guardrails-sarif={name}", *args, *items)
    text = (backend.path / name).read_text(encoding="utf-8")
    return result, json.loads(text), text


def test_sarif_valid_one_result_per_finding(scanned: Backend) -> None:
    result, doc, _ = sarif(scanned, "guardrails.sarif")
    result.assert_outcomes(failed=1, xfailed=2, skipped=1)
    validate(doc)
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0"
    assert run["tool"]["driver"]["name"] == "pytest-guardrails"
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rules == ["legacy-examples", "ruff/F401", "version-ssot"]
    got = [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"].get("region", {}).get("startLine"))
           for r in run["results"]]
    assert got == [
        ("legacy-examples", "warning", "libs/schemas/examples/Old.json", 3),
        ("ruff/F401", "warning", "app/unused.py", 1),
        ("version-ssot", "error", "README.md", 2),
        ("version-ssot", "error", "docs/guide.md", 3),
    ]
    for r in run["results"]:
        assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["partialFingerprints"]["guardrails/v1"].endswith(":0")
    assert run["results"][1]["message"]["text"].startswith("F401 ")
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == scanned.path.resolve().as_uri() + "/"
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["toolExecutionNotifications"] == [{
        "level": "note",
        "message": {"text": "pyproject.toml::legacy-examples: waived (legacy-examples[.]): "
                            "examples are reviewed elsewhere"},
        "properties": {"guardrail": "legacy-examples", "target": ".", "status": "skipped"},
    }]


def test_sarif_same_with_xdist(scanned: Backend) -> None:
    _, _, serial = sarif(scanned, "serial.sarif", "-n", "0")
    _, _, parallel = sarif(scanned, "parallel.sarif", "-p", "xdist", "-n", "2")
    assert serial == parallel


def test_fingerprints_follow_moved_lines(scanned: Backend) -> None:
    _, before, _ = sarif(scanned, "a.sarif", items=ITEMS[:1])
    scanned.write({"docs/guide.md": "---\ntitle: Guide\nauthor: x\nversion: 0.7.1\n---\n"})
    _, moved, _ = sarif(scanned, "b.sarif", items=ITEMS[:1])
    scanned.write({"docs/guide.md": "---\ntitle: Guide\nauthor: x\nversion: 0.6.0\n---\n"})
    _, edited, _ = sarif(scanned, "c.sarif", items=ITEMS[:1])

    def guide(doc: dict[str, Any]) -> tuple[int, str]:
        (r,) = [r for r in doc["runs"][0]["results"]
                if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "docs/guide.md"]
        return (r["locations"][0]["physicalLocation"]["region"]["startLine"],
                r["partialFingerprints"]["guardrails/v1"])

    assert guide(before)[0] == 3 and guide(moved)[0] == 4
    assert guide(before)[1] == guide(moved)[1]
    assert guide(edited)[1] != guide(moved)[1]


def test_sarif_workspace_relative_and_escaped(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_WORKSPACE", str(backend.path.parent))
    backend.write({"docs/a b%.md": "---\nversion: 0.7.1\n---\n", "docs/x\n::error::X.md": "---\nversion: 0.7.1\n---\n"})
    result = backend.run("--guardrails-only", "--guardrails-sarif=out.sarif", ITEMS[0])
    result.assert_outcomes(xfailed=1)
    doc = json.loads((backend.path / "out.sarif").read_text(encoding="utf-8"))
    validate(doc)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]]
    assert uris[0] == f"{backend.path.name}/docs/a%20b%25.md"
    assert uris[1].startswith(f"{backend.path.name}/docs/x%")
    assert "\n" not in uris[1] and ":" not in uris[1]
    assert doc["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] == backend.path.parent.resolve().as_uri() + "/"


def test_cannot_run_is_a_notification(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> None:
    clone = tmp_path_factory.mktemp("clone") / "backend"  # its submodule is not checked out
    backend.git("clone", "-q", str(backend.path), str(clone))
    result = backend.pytester.runpytest(
        "-p", "guardrails", "-p", "no:cacheprovider", f"--rootdir={clone}", "--guardrails-mode=strict",
        "--guardrails-sarif=out.sarif", f"{clone}/{ITEMS[0]}")
    result.assert_outcomes(failed=1)
    doc = json.loads((backend.path / "out.sarif").read_text(encoding="utf-8"))
    validate(doc)
    run = doc["runs"][0]
    assert run["results"] == []
    assert run["invocations"][0]["executionSuccessful"] is False
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["message"]["text"].startswith(
        "pyproject.toml::version-ssot[libs/schemas]: cannot run: submodule")


@pytest.mark.parametrize(("arg", "message"), [
    ("--guardrails-sarif=missing/out.sarif", "*--guardrails-sarif=*missing/out.sarif: has no directory*"),
    ("--guardrails-sarif=docs", "*--guardrails-sarif=*docs: is a directory*"),
])
def test_bad_sarif_path_is_a_usage_error(backend: Backend, arg: str, message: str) -> None:
    result = backend.run("--guardrails-only", arg)
    assert result.ret == 4
    result.stderr.fnmatch_lines([message])


def test_sarif_needs_guardrails(backend: Backend) -> None:
    result = backend.run("--guardrails-sarif=out.sarif")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--guardrails-sarif writes the guardrails' findings; add --guardrails*"])
    assert not (backend.path / "out.sarif").exists()


def test_baselined_findings_are_suppressed(scanned: Backend) -> None:
    write = scanned.run("--guardrails-only", "--guardrails-baseline-write", ITEMS[0])
    assert write.ret == 0, write.stdout.str()
    scanned.write({"docs/new.md": "---\nversion: 0.6.0\n---\n"})
    result, doc, _ = sarif(scanned, "b.sarif", items=ITEMS[:1])
    result.assert_outcomes(failed=1)
    validate(doc)
    got = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r.get("suppressions")
           for r in doc["runs"][0]["results"]}
    accepted = [{"kind": "external", "status": "accepted",
                 "justification": "known finding: in the baseline (pytest --guardrails-baseline-write)"}]
    assert got == {"docs/new.md": None, "README.md": accepted, "docs/guide.md": accepted}
