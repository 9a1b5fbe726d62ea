"""JUnit XML: warn-mode findings in the XML, properties per testcase, junit-10.xsd validity."""

from __future__ import annotations

from pathlib import Path
import xml.etree.ElementTree as ET

import pytest
import xmlschema

from conftest import Backend
from tests.test_ide import ID
from tests.test_ide import noisy  # noqa: F401 - the fixture

#: Jenkins' xUnit plugin schema for JUnit reports (see tests/data/README.md)
XSD = Path(__file__).parent / "data" / "junit-10.xsd"
SELECT = "forbid or legacy or version"
FINDINGS = [f"app/noisy.py:{n}:1: `print(` matches `print\\(`: log instead" for n in range(1, 41)]


def case_of(path: Path) -> ET.Element:
    cases = list(ET.parse(path).iter("testcase"))
    assert len(cases) == 1
    return cases[0]


def no_properties(backend: Backend) -> None:
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": pyproject.replace(
        "[tool.guardrails.version-ssot]", "[tool.guardrails]\njunit-properties = false\n\n"
        "[tool.guardrails.version-ssot]")})


def test_warn_findings_are_in_the_xml(noisy: Backend) -> None:  # noqa: F811
    noisy.run("--guardrails-only", "--junitxml=out.xml", ID).assert_outcomes(xfailed=1)
    case = case_of(noisy.path / "out.xml")
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message") == "forbid-no-print: 40 forbidden matches"
    out = case.findall("system-out")
    assert len(out) == 1 and out[0].text is not None
    assert out[0].text.splitlines()[1:41] == FINDINGS
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["findings"] == "40" and props["mode"] == "warn"


def test_junit_logging_writes_the_findings_once(noisy: Backend) -> None:  # noqa: F811
    noisy.run("--guardrails-only", "--junitxml=out.xml", "-o", "junit_logging=system-out", ID)
    out = case_of(noisy.path / "out.xml").findall("system-out")
    assert len(out) == 1 and out[0].text is not None
    assert out[0].text.count(FINDINGS[0]) == 1 and FINDINGS[-1] in out[0].text


@pytest.mark.parametrize("args", [(), ("--guardrails-mode=strict",), ("-n", "2")])
def test_without_properties_the_xml_is_valid_junit_10(noisy: Backend, args: tuple[str, ...]) -> None:  # noqa: F811
    schema = xmlschema.XMLSchema(XSD)
    # the guardrails that start no tool: the XML of the others is no different
    noisy.run("--guardrails-only", "--junitxml=with.xml", "-k", SELECT, *args)
    # properties inside a testcase are what junit-10.xsd rejects
    assert not schema.is_valid(str(noisy.path / "with.xml"))
    no_properties(noisy)
    noisy.run("--guardrails-only", "--junitxml=without.xml", "-k", SELECT, *args)
    schema.validate(str(noisy.path / "without.xml"))
    root = ET.parse(noisy.path / "without.xml").getroot()
    assert len(list(root.iter("testcase"))) == 5 and not list(root.iter("property"))
    case = next(c for c in root.iter("testcase") if c.get("name") == "forbid-no-print")
    text = "".join(e.text or "" for e in case if e.tag in ("system-out", "failure"))
    assert FINDINGS[-1] in text


def test_junit_properties_must_be_a_boolean(noisy: Backend) -> None:  # noqa: F811
    pyproject = (noisy.path / "pyproject.toml").read_text()
    noisy.write({"pyproject.toml": "[tool.guardrails]\njunit-properties = \"no\"\n" + pyproject})
    result = noisy.run("--guardrails-only")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*pyproject.toml:2: tool.guardrails.junit-properties: expected true or false, got a string"])
