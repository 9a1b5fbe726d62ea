"""JUnit XML (``--junitxml``): the findings of items whose element has no text of its own.

pytest writes a warn-mode xfail as ``<skipped type="pytest.xfail" message="<summary>">`` with no
body, and keeps an item's output out of the XML unless ``junit_logging`` asks for it. So for a
guardrail item that did not fail (xfailed, skipped, passed with notes) the full text, summary and
every finding, becomes the testcase's ``<system-out>``; a failure already carries it in
``<failure>``. With ``junit_logging = system-out`` (or ``out-err``, ``all``) pytest writes the same
text itself, from the item's report section.

``[tool.guardrails] junit-properties = false`` drops the per-testcase ``<properties>`` (the
engine clears the reports' ``user_properties``): the xunit ``junit-10.xsd`` that Jenkins' xUnit
plugin validates against has no ``<properties>`` in a ``<testcase>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

# the open testcase of a report: pytest's own record_xml_attribute fixture reaches it the same
# way, and there is no public accessor
from _pytest.junitxml import bin_xml_escape
from _pytest.junitxml import xml_key
import pytest

from pytest_guardrails.report import outcome_of

#: junit_logging values with which pytest itself writes the item's stdout sections
WRITES_STDOUT = ("system-out", "out-err", "all")


class JUnitOutput:
    """Registered on the controller as ``guardrails-junit`` when ``--junitxml`` is given."""

    NAME = "guardrails-junit"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)  # after junitxml opened the testcase and wrote its outcome
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = outcome_of(report)
        if outcome is None or report.failed or not outcome.text:
            return
        text = outcome.text
        xml = self.config.stash.get(xml_key, None)
        if xml is None or xml.logging in WRITES_STDOUT:
            return
        out = ET.Element("system-out")
        out.text = bin_xml_escape(text)
        xml.node_reporter(report).append(out)
