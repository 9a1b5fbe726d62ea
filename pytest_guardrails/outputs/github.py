"""GitHub Actions: workflow-command annotations and the job's step summary.

GitHub shows at most 10 error and 10 warning annotations per step and silently drops the rest,
and a step summary holds at most 1 MiB. So the annotations are the most severe first, then one
plain line says how many more there are; the step summary (``$GITHUB_STEP_SUMMARY``) gets the
table and every finding as Markdown, cut short with a note at the size limit.

Severity, most severe first:

1. the level: ``error`` for an item that failed (strict mode) before ``warning`` for one that
   did not fail the run (warn mode: xfailed, or skipped because it cannot run);
2. within a level, a broken check before a plain finding: the tool crashed or timed out, the
   guardrail could not run, or an input could not be read (``Finding.error``);
3. then node id order, then the item's finding order (the same for ``-n 0`` and ``-n 2``).

Annotation paths are relative to ``GITHUB_WORKSPACE`` (the repository may be a subdirectory of
it); a submodule's findings already carry repository-relative paths (``libs/x/a.py``).

pytest-github-actions-annotate-failures, when installed, annotates every failed test, guardrail
items included, with one ``::error`` at the item's location (its config line in
``pyproject.toml``) whose message holds the item's findings. It prints those as the items finish,
so they come first in the step's log. With it active, an item without a file location gets no
annotation of its own here (that one would repeat the plugin's), and the plugin's annotations
count against the 10 errors, so that together the two stay within GitHub's limit.

Repository text (file names, messages) never starts a workflow command: it is made inert
(``escape.line``) and escaped as GitHub documents (``escape.data`` / ``escape.prop``).
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
import html
import os
from pathlib import Path
import re

import pytest

from pytest_guardrails import escape
from pytest_guardrails.api import Finding
from pytest_guardrails.outputs import in_github_actions
from pytest_guardrails.outputs import step_summary_file
from pytest_guardrails.report import Reporter
from pytest_guardrails.report import Row
from pytest_guardrails.report import table

#: GitHub's limits per step
MAX_ANNOTATIONS = {"error": 10, "warning": 10}
SUMMARY_BYTES = 1024 * 1024

#: the registered name of pytest-github-actions-annotate-failures' reporter
ANNOTATE_FAILURES = "annotate_errors"


@dataclass(frozen=True)
class Annotation:
    level: str  # "error" | "warning"
    #: 0: a broken check (crash, cannot run, unreadable input); 1: a plain finding
    rank: int
    title: str
    finding: Finding


def candidates(rows: Sequence[Row]) -> list[Annotation]:
    """Everything worth an annotation, most severe first."""
    out: list[Annotation] = []
    for nodeid, o, word in sorted(rows, key=lambda r: r[0]):
        if word == "failed":
            level = "error"
        elif word == "xfailed" or (word == "skipped" and o.status == "cannot-run"):
            level = "warning"
        else:
            continue
        title = nodeid.split("::", 1)[-1]
        if o.findings:
            out.extend(Annotation(level, 0 if f.error else 1, title, f) for f in o.findings)
        else:  # the item as a whole: it crashed or could not run
            text = o.reason or (o.text.split("\n")[0] if o.text else o.status)
            out.append(Annotation(level, 0, title, Finding(text)))
    out.sort(key=lambda a: (a.level != "error", a.rank))  # stable: node id order within
    return out


def workspace_path(root: Path, rel: str, workspace: str | None) -> str:
    """``rel`` (relative to the repository root) relative to ``GITHUB_WORKSPACE`` when the root
    lies inside it; unchanged otherwise."""
    if not workspace:
        return rel
    base = os.path.realpath(workspace)
    full = os.path.join(os.path.realpath(root), rel)
    try:
        out = os.path.relpath(full, base)
    except ValueError:  # another drive (Windows)
        return rel
    if out == ".." or out.startswith(("../", "..\\")):
        return rel
    return out.replace(os.sep, "/")


def command(a: Annotation, root: Path, workspace: str | None) -> str:
    """A workflow command (``::error file=...,line=...,title=...::message``) for one annotation."""
    f = a.finding
    props: list[str] = []
    if f.path:
        props.append(f"file={escape.prop(escape.line(workspace_path(root, f.path, workspace)))}")
        if f.line:
            props.append(f"line={f.line}")
            if f.col:
                props.append(f"col={f.col}")
    props.append(f"title={escape.prop(escape.line(a.title))}")
    text = f"{f.code} {f.message}" if f.code else f.message
    return f"::{a.level} {','.join(props)}::{escape.data(escape.line(text))}"


def workflow_commands(rows: Sequence[Row], root: Path, env: Mapping[str, str], *,
                other_errors: int | None = None) -> list[str]:
    """The workflow commands to print, then (when some did not fit) one plain line saying how
    many more. ``other_errors``: error annotations pytest-github-actions-annotate-failures
    printed this run (None when it is not active)."""
    workspace = env.get("GITHUB_WORKSPACE")
    left = dict(MAX_ANNOTATIONS)
    if other_errors is not None:
        left["error"] = max(0, left["error"] - other_errors)
    lines: list[str] = []
    more = {"error": 0, "warning": 0}
    for a in candidates(rows):
        if other_errors is not None and a.level == "error" and not a.finding.path:
            continue  # the plugin's annotation of this failed item already says it
        if left[a.level]:
            left[a.level] -= 1
            lines.append(command(a, root, workspace))
        else:
            more[a.level] += 1
    if more["error"] or more["warning"]:
        where = " and in the job summary" if env.get("GITHUB_STEP_SUMMARY") else ""
        lines.append(
            f"guardrails: {more['error'] + more['warning']} more not annotated "
            f"({more['error']} error, {more['warning']} warning; GitHub shows at most "
            f"{MAX_ANNOTATIONS['error']} error and {MAX_ANNOTATIONS['warning']} warning "
            f"annotations per step): all findings are listed in this log{where}")
    return lines


# --- step summary ---------------------------------------------------------------------------

# CommonMark lets any ASCII punctuation be backslash-escaped; escaping all of it leaves no
# emphasis, link, autolink, HTML tag, table pipe, heading or list marker in repository text
_MD_PUNCT = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")


def md(s: str) -> str:
    """Repository text as inert Markdown, on one line."""
    return _MD_PUNCT.sub(r"\\\1", escape.line(s))


def _sections(rows: Sequence[Row]) -> Iterator[tuple[str, int]]:
    """Markdown blocks in order, each with the number of findings it lists."""
    head = ["## pytest-guardrails", "", "| guardrail | target | outcome | findings |",
            "| --- | --- | --- | --- |"]
    for g, t, word, count, note in table(rows):
        head.append(f"| {md(g)} | {md(t)} | {word} | {count}{md(note)} |")
    yield "\n".join(head) + "\n", 0
    for nodeid, o, word in sorted(rows, key=lambda r: r[0]):
        if not o.text or word not in ("failed", "xfailed", "skipped"):
            continue
        lines = o.text.split("\n")
        shown = {str(f) for f in o.findings}
        yield f"\n### {md(nodeid)} ({word})\n\n{md(lines[0])}\n", 0
        if o.findings:
            yield "\n", 0
            for f in o.findings:
                yield f"- {md(str(f))}\n", 1
        rest = [ln for ln in lines[1:] if ln not in shown]
        if rest:
            body = html.escape("\n".join(escape.line(ln) for ln in rest), quote=False)
            yield f"\n<pre>\n{body}\n</pre>\n", 0


def step_summary(rows: Sequence[Row], budget: int = SUMMARY_BYTES) -> str:
    """The Markdown for ``$GITHUB_STEP_SUMMARY``, at most ``budget`` bytes (UTF-8)."""
    total = sum(len(o.findings) for _, o, _ in rows)
    chunks: list[str] = []
    used, listed = 0, 0
    reserve = 400  # for the truncation note
    for block, n in _sections(rows):
        size = len(block.encode("utf-8"))
        if used + size > budget - reserve:
            chunks.append(
                f"\n**Truncated:** {total - listed} more findings are not listed here (a GitHub "
                f"step summary holds at most {SUMMARY_BYTES // 1024 // 1024} MiB); the job log "
                "lists them all.\n")
            break
        chunks.append(block)
        used += size
        listed += n
    return "".join(chunks)


def write_step_summary(rows: Sequence[Row], path: str) -> None:
    """Append to the step summary file, within what is left of GitHub's limit."""
    try:
        have = os.path.getsize(path)
    except OSError:
        have = 0
    budget = SUMMARY_BYTES - have
    if budget <= 0 or not rows:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(step_summary(rows, budget))


def annotate(config: pytest.Config, reporter: Reporter, *, fresh_line: bool = False) -> None:
    """Print the annotations when running in GitHub Actions. ``fresh_line``: the terminal may be
    in the middle of a progress line (a workflow command must start a line)."""
    if not in_github_actions():
        return
    env = os.environ
    active = config.pluginmanager.has_plugin(ANNOTATE_FAILURES)
    lines = workflow_commands(reporter.rows, reporter.project.root, env,
                              other_errors=reporter.failed_calls if active else None)
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is None:
        print("\n".join(lines))
        return
    if fresh_line and lines:
        tr.write("\n")
    for line in lines:
        tr.write_line(line)


def summarise(reporter: Reporter) -> None:
    """Append to the step summary when GitHub provides one."""
    path = step_summary_file()
    if path is not None:
        write_step_summary(reporter.rows, path)
