"""The controller's stream of outcomes, and what it prints after the run: warn-mode findings and
the table (other outputs read the same rows: ``pytest_guardrails.outputs``).

Outcomes travel from xdist workers as a JSON string on the report (``report.guardrail``), which
pytest's report serialisation carries like any other report attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields
import json
from typing import TYPE_CHECKING
from typing import Any
import weakref

import pytest

from pytest_guardrails.api import Finding

if TYPE_CHECKING:
    from pytest_guardrails.project import Project

#: findings shown per xfailed item in the terminal summary unless -v, and in an IDE's message
SHOWN = 20
#: characters kept of one line in an IDE's message
LINE_WIDTH = 400


@dataclass(frozen=True)
class Outcome:
    guardrail: str
    target: str
    mode: str
    #: passed | findings | error | cannot-run | not-applicable | skipped
    status: str
    reason: str = ""
    findings: tuple[Finding, ...] = ()
    tool: str | None = None
    text: str = ""
    #: findings the baseline accepts (not counted in ``findings``)
    known: tuple[Finding, ...] = ()
    #: baselined findings of this item that are gone
    stale: int = 0
    #: what the check did not look at (files not read, paths left out): shown on every outcome
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        # field by field: dataclasses.asdict deep-copies recursively, the run's largest
        # per-finding cost (~0.2 ms a finding) where every value is already a plain scalar
        d: dict[str, Any] = {name: getattr(self, name) for name in _OUTCOME_FIELDS}
        d["findings"] = [_finding_dict(f) for f in self.findings]
        d["known"] = [_finding_dict(f) for f in self.known]
        d["notes"] = list(self.notes)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        data: Any = json.loads(text)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Outcome:
        findings = tuple(Finding(**f) for f in d.get("findings", ()))
        known = tuple(Finding(**f) for f in d.get("known", ()))
        fields: dict[str, Any] = {**d, "findings": findings, "known": known,
                                  "notes": tuple(d.get("notes", ()))}
        return cls(**fields)


_OUTCOME_FIELDS = tuple(f.name for f in fields(Outcome))
_FINDING_FIELDS = tuple(f.name for f in fields(Finding))


def _finding_dict(finding: Finding) -> dict[str, Any]:
    return {name: getattr(finding, name) for name in _FINDING_FIELDS}


_decoded: weakref.WeakKeyDictionary[pytest.TestReport, Outcome] = weakref.WeakKeyDictionary()


def remember_outcome(report: pytest.TestReport, outcome: Outcome) -> None:
    """``outcome`` is what ``report.guardrail`` decodes to (the report was made here)."""
    _decoded[report] = outcome


def outcome_of(report: pytest.TestReport) -> Outcome | None:
    """The guardrail outcome a report carries (decoded once per report), else None."""
    if report in _decoded:
        return _decoded[report]
    data = getattr(report, "guardrail", None)
    if not isinstance(data, str):
        return None
    outcome = _decoded[report] = Outcome.from_json(data)
    return outcome


def split_text(text: str, limit: int | None) -> tuple[str, list[str], list[str]]:
    """An outcome's text as (summary, body, fix lines), the body cut to ``limit`` lines plus one
    saying how many more."""
    lines = text.splitlines()
    head, body = (lines[0] if lines else ""), lines[1:]
    tail = [ln for ln in body if ln.startswith("how to fix:")]
    body = [ln for ln in body if not ln.startswith("how to fix:")]
    if limit is not None and len(body) > limit:
        body = [*body[:limit], f"... and {len(body) - limit} more"]
    return head, body, tail


def ide_message(nodeid: str, name: str, text: str) -> str:
    """The short, self-contained message an IDE shows for a warn-mode item: the summary naming
    the selectable node id, the first findings, the fix. No traceback, bounded in size."""
    head, body, tail = split_text(text, SHOWN)
    if head.startswith(f"{name}: "):
        head = head[len(name) + 2:]
    lines = [f"{nodeid}: {head}", *(f"    {ln}" for ln in body), *tail]
    return "\n".join(ln if len(ln) <= LINE_WIDTH else ln[:LINE_WIDTH - 3] + "..." for ln in lines)


def _word(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed"
    return report.outcome


#: (node id, outcome, pytest's word for it: passed / failed / xfailed / skipped)
Row = tuple[str, Outcome, str]


def table(rows: Sequence[Row]) -> list[tuple[str, str, str, str, str]]:
    """The summary table by node id: guardrail, target, word, finding count (or -), note."""
    out: list[tuple[str, str, str, str, str]] = []
    for _, o, word in sorted(rows, key=lambda r: r[0]):
        count = str(len([f for f in o.findings if not f.error])) if o.status in (
            "findings", "error") else "-"
        note = f"  ({o.reason})" if o.status in ("cannot-run", "not-applicable", "skipped") else ""
        if o.notes and o.status == "passed":  # what a passing check did not look at
            note = f"  (note: {'; '.join(o.notes)})"
        out.append((o.guardrail, o.target, word, count, note))
    return out


class Reporter:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.rows: list[Row] = []
        #: failed test calls of any kind (what pytest-github-actions-annotate-failures annotates)
        self.failed_calls = 0

    def add(self, report: pytest.TestReport) -> None:
        word: str = report.outcome  # pytest-rerunfailures adds "rerun"
        if report.when == "call" and word in ("failed", "rerun"):
            self.failed_calls += 1
        outcome = outcome_of(report)
        if outcome is not None:
            self.rows.append((report.nodeid, outcome, _word(report)))

    def summary(self, tr: pytest.TerminalReporter, *, verbose: bool) -> None:
        if not self.rows:
            return
        self._warnings(tr, verbose)
        tr.write_sep("=", "guardrails")
        width_g = max(len("guardrail"), *(len(o.guardrail) for _, o, _ in self.rows))
        width_t = max(len("target"), *(len(o.target) for _, o, _ in self.rows))
        # the known column: findings the baseline accepts (shown when a baseline is in use)
        with_known = any(o.known or o.stale for _, o, _ in self.rows)
        tr.write_line(f"{'guardrail':<{width_g}}  {'target':<{width_t}}  {'outcome':<8}  findings"
                      + ("  known" if with_known else ""))
        ordered = sorted(self.rows, key=lambda r: r[0])
        for (guardrail, target, word, count, note), (_, o, _) in zip(table(self.rows), ordered):
            known = str(len(o.known)) if o.known or o.stale else "-"
            if o.stale:
                note += f"  ({o.stale} stale)"
            markup = {"passed": {"green": True}, "failed": {"red": True, "bold": True},
                      "xfailed": {"yellow": True}, "skipped": {"yellow": True}}.get(word, {})
            tr.write(f"{guardrail:<{width_g}}  {target:<{width_t}}  ")
            tr.write(f"{word:<8}", **markup)
            tr.write_line(f"  {count:<8}  {known}{note}" if with_known else f"  {count}{note}")

    def _warnings(self, tr: pytest.TerminalReporter, verbose: bool) -> None:
        shown = [(n, o) for n, o, w in self.rows if w == "xfailed" and o.text]
        if not shown:
            return
        tr.write_sep("=", "guardrail warnings (warn mode: these do not fail the run)", yellow=True)
        for nodeid, o in shown:
            summary, body, tail = split_text(o.text, None if verbose else SHOWN)
            if not verbose and body and len(o.text.splitlines()) - 1 - len(tail) > SHOWN:
                body[-1] += " (-v shows all)"
            name = nodeid.rsplit("::", 1)[-1]
            summary = summary[len(name) + 2:] if summary.startswith(f"{name}: ") else summary
            tr.write_line(f"{nodeid}: {summary}", yellow=True)
            for line in [*body, *tail]:
                tr.write_line(f"    {line}")
