from __future__ import annotations

import pytest

from conftest import Backend
from pytest_guardrails.guardrails.version_ssot import frontmatter
from pytest_guardrails.guardrails.version_ssot import frontmatter_value
from pytest_guardrails.guardrails.version_ssot import normalize

ID = "pyproject.toml::version-ssot[libs/schemas]"


def run(backend: Backend, *args: str) -> pytest.RunResult:
    return backend.run(ID, "--guardrails-mode=strict", *args)


@pytest.mark.parametrize(("doc", "expected"), [
    ("---\nversion: 1.10\n---\n", "1.10"),       # YAML 1.1 would read the float 1.1
    ("---\nversion: '0.7.3'\n---\n", "0.7.3"),
    ("\ufeff---\nversion: 0.7.3\n---\n", "0.7.3"),  # a BOM before the fence
    ("---\r\nversion: 0.7.3\r\n---\r\n", "0.7.3"),
    ("---\nmeta:\n  version: 2\n---\n", None),
])
def test_frontmatter_keeps_strings(doc: str, expected: str | None) -> None:
    fm = frontmatter(doc)
    assert fm is not None
    value, _ = frontmatter_value(fm[0], "version")
    assert value == expected


def test_frontmatter_dotted_key_and_line() -> None:
    fm = frontmatter("---\ntitle: x\nmeta:\n  version: 0.7.3\n---\n")
    assert fm is not None
    assert frontmatter_value(fm[0], "meta.version") == ("0.7.3", 2)


@pytest.mark.parametrize(("a", "b", "allow_v", "equal"), [
    ("0.7.3", "v0.7.3", True, True),
    ("0.7.3", "v0.7.3", False, False),
    ("1.10", "1.10.0", True, True),    # PEP 440: trailing zeros are equal
    ("1.10", "1.1", True, False),
    ("0.7.3rc1", "0.7.3-rc.1", True, True),
    ("not-a-version", "not-a-version", True, True),
])
def test_normalize(a: str, b: str, allow_v: bool, equal: bool) -> None:
    assert (normalize(a, allow_v) == normalize(b, allow_v)) is equal


def test_every_mismatch_is_reported_with_its_line(backend: Backend) -> None:
    backend.write({
        "README.md": "\ufeff---\ntitle: Backend\nversion: 0.7.2\n---\n# Backend\n",
        "docs/guide.md": "---\nversion: 1.10\n---\n",
        "docs/nested/ok.md": "---\nversion: v0.7.3\n---\n",
        "docs/nested/plain.md": "# no frontmatter\n",
        "docs/nested/nokey.md": "---\ntitle: t\n---\n",
    })
    result = run(backend)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "version-ssot[[]libs/schemas[]]: 4 stale versions",
        "README.md:3: version '0.7.2' != '0.7.3' (libs/schemas/version.json schemaVersion)",
        "docs/guide.md:2: version '1.10' != '0.7.3' (libs/schemas/version.json schemaVersion)",
        "docs/nested/nokey.md:1: frontmatter has no `version`; expected 0.7.3",
        "docs/nested/plain.md:1: no YAML frontmatter; expected `version: 0.7.3`",
        "how to fix: set `version: 0.7.3` in each file's frontmatter*",
    ])


def test_toml_source_in_the_root(backend: Backend) -> None:
    backend.write({
        "pyproject.toml": (backend.path / "pyproject.toml").read_text().replace(
            'source = "libs/schemas/version.json"\nkey = "schemaVersion"',
            'source = "pyproject.toml"\nkey = "project.version"'),
        "README.md": "---\nversion: 0.1.0\n---\n",
        "docs/guide.md": "---\nversion: 0.2.0\n---\n",
    })
    collected = backend.run("--guardrails-only", "--collect-only", "-q")
    assert "pyproject.toml::version-ssot" in collected.stdout.lines
    result = backend.run("pyproject.toml::version-ssot", "--guardrails-mode=strict")
    result.stdout.fnmatch_lines([
        "version-ssot: 1 stale version",
        "docs/guide.md:2: version '0.2.0' != '0.1.0' (pyproject.toml project.version)",
    ])


def test_untracked_docs_are_checked_and_ignored_ones_are_not(backend: Backend) -> None:
    backend.write({".gitignore": "docs/build/\n"})
    backend.write({"docs/new.md": "---\nversion: 0.0.1\n---\n",
                   "docs/build/out.md": "---\nversion: 0.0.1\n---\n"}, commit=False)
    result = run(backend)
    result.stdout.fnmatch_lines(["version-ssot[[]libs/schemas[]]: 1 stale version",
                                 "docs/new.md:2: version '0.0.1' != '0.7.3'*"])


@pytest.mark.parametrize(("content", "message"), [
    (b"---\nversion: [0.7\n---\n", "docs/guide.md:2: invalid YAML frontmatter: expected ',' or ']', but got '<stream end>'"),
    (b"---\nversion: \xff\n---\n", "docs/guide.md:1: not UTF-8 (byte 13)"),
])
def test_unreadable_docs_are_located_errors(backend: Backend, content: bytes, message: str) -> None:
    backend.write({"docs/guide.md": content})
    warn = backend.run(ID, "-rx")
    warn.assert_outcomes(xfailed=1)
    warn.stdout.fnmatch_lines(["XFAIL*version-ssot[[]libs/schemas[]]: error: 1 input could not be read"])
    strict = run(backend)
    strict.stdout.fnmatch_lines([message])


@pytest.mark.parametrize(("source", "reason"), [
    ('{"schemaVersion": ', "cannot parse version source libs/schemas/version.json: Expecting value: line 1 column 19 (char 18)"),
    ('{"version": "1"}', "version source libs/schemas/version.json has no key 'schemaVersion'"),
    ('{"schemaVersion": {"a": 1}}', 'libs/schemas/version.json: schemaVersion is {"a": 1}, not a version string'),
])
def test_bad_source_is_an_error(backend: Backend, source: str, reason: str) -> None:
    backend.write({"version.json": source}, in_schemas=True)
    result = backend.run(ID, "-rx")
    result.assert_outcomes(xfailed=1)
    result.stdout.fnmatch_lines([f"XFAIL*: error: {reason}"])


def test_no_source_configured_is_skipped(backend: Backend) -> None:
    text = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": text.split("[tool.guardrails.version-ssot]")[0]})
    result = backend.run("pyproject.toml::version-ssot", "-rs", "--guardrails-mode=strict")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([
        "SKIPPED*version-ssot: no version source: set [[]tool.guardrails.version-ssot[]] source"])


def test_source_must_be_json_or_toml(backend: Backend) -> None:
    text = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": text.replace("version.json", "VERSION")})
    result = backend.run("--guardrails-only")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: pyproject.toml:6: *'libs/schemas/VERSION' must be a .json or .toml file"])
