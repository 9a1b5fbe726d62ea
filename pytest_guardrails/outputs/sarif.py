"""SARIF 2.1.0 for code scanning (``--guardrails-sarif=FILE``), written by the controller only.

- one ``result`` per finding, ``level`` ``error`` for an item that failed (strict) and
  ``warning`` otherwise (warn mode); a finding without a file points at the anchor
  ``pyproject.toml`` (code scanning needs a location);
- one rule per guardrail (``version-ssot``) and per tool code (``ruff/F401``,
  ``pyright/reportAttributeAccessIssue``);
- ``partialFingerprints["guardrails/v1"]``: the finding's fingerprint (``fingerprint``, the one
  the baseline uses) and its occurrence within the item, so alerts follow code that moves;
- a finding the baseline accepts (``Outcome.known``) is a result with an ``external``, accepted
  suppression, so code scanning shows it as dismissed rather than as fixed;
- an item that could not run or crashed is a ``toolExecutionNotification`` (and the invocation
  is then not successful); a waived item, which is not run, is a ``note`` notification;
- paths are URIs relative to ``SRCROOT``: ``GITHUB_WORKSPACE`` when the repository lies inside
  it (the repository may be a subdirectory of the checkout), else the repository root.

The document is the same for ``-n 0`` and ``-n 2``: rows are taken in node id order and nothing
in it depends on timing.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from pytest_guardrails import __version__
from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.fingerprint import occurrences
from pytest_guardrails.outputs.github import workspace_path
from pytest_guardrails.report import Outcome
from pytest_guardrails.report import Reporter
from pytest_guardrails.report import Row

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT = "guardrails/v1"
ANCHOR = "pyproject.toml"
BASELINED = "known finding: in the baseline (pytest --guardrails-baseline-write)"


def rule_id(guardrail: str, finding: Finding) -> str:
    return f"{guardrail}/{finding.code}" if finding.code else guardrail


def _rule(rid: str, guardrail: str, g: Guardrail | None) -> dict[str, Any]:
    code = rid.partition("/")[2]
    summary = (g.summary if g is not None else "") or guardrail
    rule: dict[str, Any] = {
        "id": rid,
        "shortDescription": {"text": f"{code} (reported by {guardrail})" if code else summary},
        "properties": {"guardrail": guardrail, "tags": ["guardrails"]},
    }
    if g is not None:
        if g.code:
            rule["properties"]["code"] = g.code
        if g.fix:
            rule["help"] = {"text": f"how to fix: {g.fix}"}
        if code:
            rule["fullDescription"] = {"text": summary}
    return rule


def _uri(path: str) -> str:
    return quote(path, safe="/")


def _location(root: Path, base: str | None, f: Finding) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {
        "uri": _uri(workspace_path(root, f.path or ANCHOR, base)), "uriBaseId": "SRCROOT"}}
    if f.path and f.line and f.line > 0:
        region: dict[str, int] = {"startLine": f.line}
        if f.col and f.col > 0:
            region["startColumn"] = f.col
        physical["region"] = region
    elif not f.path:
        physical["region"] = {"startLine": 1}
    return {"physicalLocation": physical}


def _notification(level: str, nodeid: str, o: Outcome) -> dict[str, Any]:
    return {"level": level, "message": {"text": f"{nodeid}: {o.reason or o.status}"},
            "properties": {"guardrail": o.guardrail, "target": o.target, "status": o.status}}


def document(rows: Sequence[Row], root: Path, guardrails: Mapping[str, Guardrail], *,
             workspace: str | None = None, completed: bool = True) -> dict[str, Any]:
    """The SARIF log for ``rows``. ``completed``: the session ran to its end (not interrupted,
    no internal or usage error)."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for nodeid, o, word in sorted(rows, key=lambda r: r[0]):
        level = "error" if word == "failed" else "warning"
        if o.status == "skipped":
            notes.append(_notification("note", nodeid, o))
            continue
        if o.status == "cannot-run" or (o.status == "error" and not o.findings):
            notes.append(_notification(level, nodeid, o))
            continue
        new = len(o.findings)
        for i, (f, fp, n) in enumerate(occurrences((*o.findings, *o.known))):
            rid = rule_id(o.guardrail, f)
            if rid not in index:
                index[rid] = len(rules)
                rules.append(_rule(rid, o.guardrail, guardrails.get(o.guardrail)))
            result: dict[str, Any] = {
                "ruleId": rid,
                "ruleIndex": index[rid],
                "level": level,
                "message": {"text": f"{f.code} {f.message}" if f.code else f.message},
                "locations": [_location(root, workspace, f)],
                "properties": {"guardrail": o.guardrail, "target": o.target, "nodeid": nodeid,
                               "mode": o.mode},
            }
            if fp:
                result["partialFingerprints"] = {FINGERPRINT: f"{fp}:{n}"}
            if i >= new:  # accepted by the baseline: reported, marked as suppressed
                result["suppressions"] = [{"kind": "external", "status": "accepted",
                                           "justification": BASELINED}]
            results.append(result)
    inside = workspace and workspace_path(root, ".", workspace) != "."
    base = Path(os.path.realpath(workspace if workspace and inside else root))
    invocation: dict[str, Any] = {
        "executionSuccessful": completed and not any(n["level"] != "note" for n in notes),
        "properties": {"items": sorted(r[0] for r in rows)},
    }
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "pytest-guardrails", "version": __version__,
                                "rules": rules}},
            "originalUriBaseIds": {"SRCROOT": {"uri": base.as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "invocations": [invocation],
            "results": results,
        }],
    }


def write(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` to ``path`` (the file the user named on the command line, and only it)."""
    text = json.dumps(doc, indent=2, ensure_ascii=True) + "\n"
    path.write_text(text, encoding="utf-8")


def emit(path: Path, reporter: Reporter, guardrails: Sequence[Guardrail], *,
         exitstatus: int | pytest.ExitCode) -> None:
    completed = exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    doc = document(reporter.rows, reporter.project.root, {g.name: g for g in guardrails},
                   workspace=os.environ.get("GITHUB_WORKSPACE"), completed=completed)
    write(path, doc)


def check_path(path: Path) -> None:
    """Fail at start-up, not after the run, when ``path`` cannot be written."""
    if path.is_dir() or not path.parent.is_dir():
        what = "is a directory" if path.is_dir() else f"has no directory {path.parent}"
        raise pytest.UsageError(f"--guardrails-sarif={path}: {what}")
