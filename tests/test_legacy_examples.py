from __future__ import annotations

import re

import pytest

from conftest import Backend
from pytest_guardrails.api import Finding
from pytest_guardrails.guardrails.legacy_examples import check_file

REGEXES = [re.compile("(?i)auto-converted from legacy")]

BUNDLE = """{
  "name": "bundle",
  "rule_bundle": {
    "rules": [
      {"id": "a", "note": "fine"},
      {"id": "b", "note": "Auto-converted from legacy v1"}
    ],
    "meta_info": {
      "description": "AUTO-CONVERTED FROM LEGACY bundle",
      "a/b~c": "auto-converted from legacy (escaped pointer)"
    }
  },
  "description": "auto-converted from legacy, top level"
}
"""


def findings(raw: bytes) -> list[str]:
    return [str(f) for f in check_file("examples/X.json", raw, REGEXES)]


def test_every_match_with_pointer_and_line() -> None:
    assert findings(BUNDLE.encode()) == [
        "examples/X.json:6: /rule_bundle/rules/1/note: Auto-converted from legacy v1",
        "examples/X.json:9: /rule_bundle/meta_info/description: AUTO-CONVERTED FROM LEGACY bundle",
        "examples/X.json:10: /rule_bundle/meta_info/a~1b~0c: auto-converted from legacy (escaped pointer)",
        "examples/X.json:13: /description: auto-converted from legacy, top level",
    ]


def test_keys_numbers_and_escapes() -> None:
    doc = '{"auto-converted from legacy": 1, "x": "\\u0041uto-converted from legacy", "n": [1, 2.5e3, true, null]}'
    assert findings(doc.encode()) == ["examples/X.json:1: /x: Auto-converted from legacy"]


def test_long_values_are_shortened() -> None:
    doc = '{"d": "auto-converted from legacy ' + "x" * 200 + '"}'
    (only,) = findings(doc.encode())
    assert only.endswith("...") and len(only.split(": ", 2)[2]) == 80


@pytest.mark.parametrize(("raw", "expected"), [
    (b'{"a": 1,\n "b": }', Finding("invalid JSON: Expecting value", "examples/X.json", 2, 7, error=True)),
    (b'{"a": "\xff"}', Finding("not UTF-8 (byte 0xff at offset 7)", "examples/X.json", 1, error=True)),
    (b"\x89PNG\r\n\x1a\n\x00\x00", Finding("binary file, not JSON", "examples/X.json", error=True)),
    (b"\xef\xbb\xbf{}", None),  # a BOM is fine
    (b"[" * 100_000, Finding("JSON nested too deeply to read", "examples/X.json", error=True)),
])
def test_bad_input_is_a_located_error(raw: bytes, expected: Finding | None) -> None:
    got = list(check_file("examples/X.json", raw, REGEXES))
    assert got == ([expected] if expected else [])


def test_per_target_items(backend: Backend) -> None:
    backend.write({"examples/Legacy.json": BUNDLE}, in_schemas=True)
    backend.write({"app/examples/mine.json": '{"d": "auto-converted from legacy"}',
                   "app/examples/broken.json": "{", "app/notes.json": '{"d": "auto-converted from legacy"}'})
    result = backend.run("-k", "legacy-examples", "--guardrails-only", "--guardrails-mode=strict")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "legacy-examples: error: 1 input could not be read, 1 legacy note",
        "app/examples/broken.json:1:2: invalid JSON: Expecting property name enclosed in double quotes",
        "app/examples/mine.json:1: /d: auto-converted from legacy",
    ])
    result.stdout.fnmatch_lines([
        "legacy-examples[[]libs/schemas[]]: 4 legacy notes",
        "libs/schemas/examples/Legacy.json:6: /rule_bundle/rules/1/note: Auto-converted from legacy v1",
    ])
    assert "app/notes.json" not in result.stdout.str()
    assert "libs/schemas/" not in result.stdout.str().split("legacy-examples[libs/schemas]")[0]


def test_custom_files_and_patterns(backend: Backend) -> None:
    text = (backend.path / "pyproject.toml").read_text()
    backend.write({
        "pyproject.toml": text + '\n[tool.guardrails.legacy-examples]\nfiles = ["fixtures/*.json"]\npatterns = ["TODO", "(?i)fixme"]\n',
        "fixtures/a.json": '{"x": ["ok", "TODO later", "FixMe"]}',
    })
    result = backend.run("pyproject.toml::legacy-examples", "--guardrails-mode=strict")
    result.stdout.fnmatch_lines([
        "legacy-examples: 2 legacy notes",
        "fixtures/a.json:1: /x/1: TODO later",
        "fixtures/a.json:1: /x/2: FixMe",
    ])
