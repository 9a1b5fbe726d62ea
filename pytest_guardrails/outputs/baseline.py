"""``--guardrails-baseline-write``: the baseline file from the run's outcomes (controller only).

Items that ran (passed, or had findings) contribute their current findings, known and new; items
that did not run here (deselected, waived, could not run, broke) keep their previous entries, so
``-k ruff --guardrails-baseline-write`` rewrites ruff's entries only. Entries of items the
project no longer has (a guardrail or submodule removed) are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

from pytest_guardrails.api import Finding
import pytest_guardrails.baseline as baseline
from pytest_guardrails.project import Project
from pytest_guardrails.report import Outcome

#: outcomes whose findings are complete: the check looked at everything it should
RAN = ("passed", "findings")


def write(project: Project, old: baseline.Baseline, rows: Iterable[tuple[str, Outcome, str]],
          items: set[tuple[str, str]]) -> str:
    """Write the baseline; return the line to show at the end of the run."""
    ran: set[tuple[str, str]] = set()
    pairs: list[tuple[str, str, Finding]] = []
    for _, o, _ in rows:
        if o.guardrail == baseline.GROWTH or o.status not in RAN:
            continue
        ran.add((o.guardrail, o.target))
        pairs.extend((o.guardrail, o.target, f) for f in (*o.findings, *o.known))
    entries = baseline.merged(old.entries, baseline.entries_of(pairs), ran, items)
    changed = baseline.write(project.root, old.rel, baseline.dumps(entries))
    n = sum(sum(c.values()) for c in entries.values())
    kept = len({(g, t) for g, t, _, _ in entries} - ran)
    what = f"{n} finding{'s' if n != 1 else ''} in {len(entries)} group{'s' if len(entries) != 1 else ''}"
    tail = f"; entries of {kept} item{'s' if kept != 1 else ''} that did not run kept" if kept else ""
    verb = "wrote the baseline" if changed else "the baseline is unchanged:"
    return f"guardrails: {verb} {old.rel} ({what}{tail})"
