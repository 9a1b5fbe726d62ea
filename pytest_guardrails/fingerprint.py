"""A finding's fingerprint: what it is about, not where it happens to be.

``sha256(guardrail, target, path, kind, the finding's source line with whitespace normalised)``,
shortened to 16 hex digits. ``kind`` is the finding's code (``F401``, ``reportAttributeAccessIssue``)
or, for guardrails whose findings carry none, the message with its digits blanked (so a message
naming another file's line does not change the fingerprint when that line moves).

- Lines added or removed above a finding, or unrelated code reordered, leave it unchanged: the
  line number and column are not part of it.
- Editing the finding's own line (beyond whitespace) changes it: the finding is then new.
- Several findings with one fingerprint (the same rule twice on one line) are counted; see
  ``occurrences``.
- A finding without a path, or whose line cannot be read (no line, file gone, not text), falls
  back to a fingerprint of its path and whole message.

The line is read through the project's shared source cache (``Project.sources``), never by
opening files here. ``docs/baseline.md`` compares this choice with basedpyright's and
golangci-lint's.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
import dataclasses
import hashlib
import re
from typing import TYPE_CHECKING

from pytest_guardrails.api import Finding
from pytest_guardrails.project import normalize_relpath

if TYPE_CHECKING:
    from pytest_guardrails.project import Project

#: bumped when the recipe changes: a baseline written with another recipe matches nothing
VERSION = "1"
#: hex digits kept (64 bits: collisions within one file's findings are out of reach)
LENGTH = 16

_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


def _normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _digest(parts: Sequence[str]) -> str:
    data = "\0".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:LENGTH]


def source_line(project: Project, path: str | None, line: int | None,
                files: dict[str, object] | None = None) -> str | None:
    """The text of repo-relative ``path`` at 1-based ``line``, or None when it cannot be read.
    ``files`` keeps what was looked up per path, for a caller asking about many lines."""
    if not path or not line or line < 1:
        return None
    from pytest_guardrails.sources import Source
    from pytest_guardrails.sources import Unreadable

    if files is not None and path in files:
        got = files[path]
    else:
        got = (project.sources.get(project.root, path, path) if normalize_relpath(path) == path
               else None)
        if files is not None:
            files[path] = got
    if not isinstance(got, Source):
        return None
    try:
        if line > got.line_count():
            return None
        return got.line_text(line)
    except Unreadable:
        return None


def fingerprint(project: Project, guardrail: str, target: str, finding: Finding) -> str:
    """The fingerprint of one finding of ``guardrail`` on ``target`` (a target label)."""
    return _from_line(guardrail, target, finding, source_line(project, finding.path, finding.line))


def stamp(project: Project, guardrail: str, target: str, findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` with ``Finding.fingerprint`` filled in (those already stamped are kept)."""
    lines: dict[tuple[str | None, int | None], str | None] = {}
    files: dict[str, object] = {}
    out: list[Finding] = []
    for f in findings:
        if f.fingerprint is None:
            key = (f.path, f.line)
            if key not in lines:
                lines[key] = source_line(project, f.path, f.line, files)
            f = dataclasses.replace(f, fingerprint=_from_line(guardrail, target, f, lines[key]))
        out.append(f)
    return out


def at_offset(guardrail: str, target: str, finding: Finding, text: str, offset: int) -> str:
    """The fingerprint ``stamp`` gives ``finding``, found at character ``offset`` of its file's
    ``text``, from the text around ``offset`` instead of a table of the file's lines. Only for
    text without ``\r`` and a plain relative path (``can_stamp_at``); ``stamp`` does the rest."""
    begin = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return _from_line(guardrail, target, finding, text[begin:end if end >= 0 else len(text)])


def can_stamp_at(path: str, text: str) -> bool:
    """Whether ``at_offset`` gives the fingerprint of findings in this file."""
    return bool(path) and "\r" not in text and normalize_relpath(path) == path


def _from_line(guardrail: str, target: str, finding: Finding, text: str | None) -> str:
    if text is None:
        return _digest((VERSION, "message", guardrail, target, finding.path or "",
                        finding.code or "", _normalise(finding.message)))
    kind = finding.code or _DIGITS.sub("#", _normalise(finding.message))
    return _digest((VERSION, "line", guardrail, target, finding.path or "", kind, _normalise(text)))


def occurrences(findings: Iterable[Finding]) -> list[tuple[Finding, str, int]]:
    """``(finding, fingerprint, index)``: ``index`` counts earlier findings with the same
    fingerprint (0, 1, ...), so ``f"{fingerprint}:{index}"`` is unique within one item (SARIF
    ``partialFingerprints``). Findings must be stamped."""
    seen: dict[str, int] = {}
    out: list[tuple[Finding, str, int]] = []
    for f in findings:
        fp = f.fingerprint or ""
        n = seen.get(fp, 0)
        seen[fp] = n + 1
        out.append((f, fp, n))
    return out
