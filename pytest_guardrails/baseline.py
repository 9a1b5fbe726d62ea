"""The baseline file: known findings, as counts per fingerprint, per guardrail, target and path.

``guardrails-baseline.json`` (or ``[tool.guardrails] baseline``) is written by
``pytest --guardrails-only --guardrails-baseline-write`` and reviewed in pull requests, so its
layout is fixed and sorted, one group of findings per line::

    {
      "version": 1,
      "command": "pytest --guardrails-only --guardrails-baseline-write",
      "groups": [
        {"guardrail": "ruff", "target": ".", "path": "app/a.py", "code": "F401", "counts": {"<fp>": 1}},
        ...
      ]
    }

A pull request controls the file like any other input: it is read through the shared read path
(``sources``: size bound, no FIFOs), never through a symlink out of the repository, and anything
that is not this layout is a ``BaselineError`` located at its line.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
import json
import os
from pathlib import Path
import re
from typing import Any
from typing import cast

from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.api import Run

FILENAME = "guardrails-baseline.json"
VERSION = 1
#: the command that writes (and shrinks) the baseline, quoted in messages
WRITE_COMMAND = "pytest --guardrails-only --guardrails-baseline-write"
#: no count in a baseline may exceed this
MAX_COUNT = 1_000_000

#: (guardrail, target, path, code); code is "" for findings without one
Group = tuple[str, str, str, str]
Entries = dict[Group, dict[str, int]]

_FP = re.compile(r"[0-9a-f]{16}")
_GROUP_KEYS = ("guardrail", "target", "path", "code", "counts")


class BaselineError(Exception):
    """A baseline that cannot be used: ``message`` at 1-based ``line`` (None: the whole file)."""

    def __init__(self, rel: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.rel = rel
        self.message = message
        self.line = line

    def __str__(self) -> str:
        where = f"{self.rel}:{self.line}" if self.line else self.rel
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Baseline:
    """A parsed baseline file (``exists`` False: there is none yet, nothing is known)."""

    rel: str
    entries: Entries
    exists: bool = True
    #: the file's text (to locate groups)
    text: str = ""

    def known(self, guardrail: str, target: str) -> dict[str, int]:
        """fingerprint -> count for one item (fingerprints already include the path)."""
        out: dict[str, int] = {}
        for (g, t, _, _), counts in self.entries.items():
            if g == guardrail and t == target:
                for fp, n in counts.items():
                    out[fp] = out.get(fp, 0) + n
        return out

    def by_item(self) -> dict[tuple[str, str], dict[str, int]]:
        """``known`` for every (guardrail, target) at once."""
        out: dict[tuple[str, str], dict[str, int]] = {}
        for (g, t, _, _), counts in self.entries.items():
            item = out.setdefault((g, t), {})
            for fp, n in counts.items():
                item[fp] = item.get(fp, 0) + n
        return out


# --- the file format ---------------------------------------------------------------------------


def dumps(entries: Entries) -> str:
    """The file's text: sorted, one group per line, ASCII only; the same entries give the same
    bytes."""
    lines = [
        json.dumps({"guardrail": g, "target": t, "path": p, "code": c,
                    "counts": {fp: counts[fp] for fp in sorted(counts)}}, ensure_ascii=True)
        for (g, t, p, c), counts in sorted(entries.items()) if counts
    ]
    body = ",\n".join(f"    {line}" for line in lines)
    groups = f"[\n{body}\n  ]" if lines else "[]"
    return (f'{{\n  "version": {VERSION},\n  "command": {json.dumps(WRITE_COMMAND)},\n'
            f'  "groups": {groups}\n}}\n')


def entries_of(findings: Iterable[tuple[str, str, Finding]]) -> Entries:
    """The entries for ``(guardrail, target, finding)``: findings with a path and a fingerprint
    that are not errors (an unreadable input is not debt: it is a check that did not look)."""
    out: Entries = {}
    for g, t, f in findings:
        if f.error or not f.path or not f.fingerprint:
            continue
        counts = out.setdefault((g, t, f.path, f.code or ""), {})
        counts[f.fingerprint] = counts.get(f.fingerprint, 0) + 1
    return out


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _group_offsets(text: str) -> list[int]:
    """Character offsets of the elements of the top-level ``groups`` array (best effort: for
    locating errors only)."""
    m = re.search(r'"groups"\s*:\s*\[', text)
    if m is None:
        return []
    decoder = json.JSONDecoder()
    offsets: list[int] = []
    i = m.end()
    ws = re.compile(r"[\s,]*")
    while True:
        i = ws.match(text, i).end()  # pyright: ignore[reportOptionalMemberAccess]
        if i >= len(text) or text[i] == "]":
            return offsets
        offsets.append(i)
        try:
            _, i = decoder.raw_decode(text, i)
        except (ValueError, RecursionError):
            return offsets


def parse(text: str, rel: str) -> Entries:
    """The entries of a baseline file's text; ``BaselineError`` (located) if it is not one."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(rel, f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise BaselineError(rel, f"invalid JSON: {exc}") from None
    except RecursionError:
        raise BaselineError(rel, "invalid JSON: nested too deeply") from None
    rewrite = f"; rewrite it with `{WRITE_COMMAND}`"
    if not isinstance(data, dict):
        raise BaselineError(rel, "expected a JSON object with \"version\" and \"groups\"" + rewrite, 1)
    top: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
    unknown = sorted(set(top) - {"version", "command", "groups"})
    if unknown:
        raise BaselineError(rel, f"unknown key {unknown[0]!r}" + rewrite, 1)
    version = top.get("version")
    if type(version) is not int or version != VERSION:
        raise BaselineError(rel, f"unsupported \"version\": {version!r} (this pytest-guardrails "
                            f"reads version {VERSION})" + rewrite, 1)
    groups = top.get("groups")
    if not isinstance(groups, list):
        raise BaselineError(rel, "\"groups\" must be an array" + rewrite, 1)
    offsets: list[int] | None = None
    out: Entries = {}
    for i, raw in enumerate(groups):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        problem = _group_problem(raw)
        key: Group | None = None
        group = cast("dict[str, Any]", raw)
        if problem is None:
            key = (group["guardrail"], group["target"], group["path"], group["code"])
            if key in out:
                problem = "duplicate group (guardrail, target, path and code appear twice)"
        if problem is not None or key is None:
            if offsets is None:
                offsets = _group_offsets(text)
            line = _line_of(text, offsets[i]) if i < len(offsets) else None
            raise BaselineError(rel, f"groups[{i}]: {problem}", line)
        out[key] = dict(group["counts"])
    return out


def _group_problem(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return "expected an object"
    group: dict[str, Any] = raw  # pyright: ignore[reportUnknownVariableType]
    if sorted(group) != sorted(_GROUP_KEYS):
        return f"expected exactly the keys {', '.join(_GROUP_KEYS)}"
    for k in ("guardrail", "target", "path"):
        if not isinstance(group[k], str) or not group[k]:
            return f"{k!r} must be a non-empty string"
    if not isinstance(group["code"], str):
        return "'code' must be a string"
    counts = group["counts"]
    if not isinstance(counts, dict) or not counts:
        return "'counts' must be a non-empty object of fingerprint: count"
    for fp, n in counts.items():  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(fp, str) or not _FP.fullmatch(fp):
            return f"{fp!r} is not a fingerprint (16 hex digits)"
        if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= MAX_COUNT:
            return f"count of {fp} must be an integer from 1 to {MAX_COUNT}, got {n!r}"
    return None


# --- reading and writing in the repository -----------------------------------------------------


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def load(root: Path, rel: str) -> Baseline:
    """The baseline at repo-relative ``rel`` (``exists=False`` when there is none)."""
    path = root / rel
    if not os.path.lexists(path):
        return Baseline(rel, {}, exists=False)
    if not _inside(root, path):
        raise BaselineError(rel, "resolves outside the repository (a symlink?); not read")
    from pytest_guardrails.sources import Source
    from pytest_guardrails.sources import SourceCache

    got = SourceCache().get(root, rel, rel)
    if got is None:
        raise BaselineError(rel, "not a regular file; not read")
    if not isinstance(got, Source):
        raise BaselineError(rel, got.message, got.line)
    from pytest_guardrails.sources import Unreadable

    try:
        text = got.text
    except Unreadable as exc:
        raise BaselineError(rel, exc.message, exc.line) from None
    return Baseline(rel, parse(text, rel), text=text)


def write(root: Path, rel: str, text: str) -> bool:
    """Write the baseline (through a temporary file beside it, then renamed); False when the
    file already holds exactly ``text``, which is then left untouched."""
    path = root / rel
    if not _inside(root, path.parent) or (os.path.islink(path) and not _inside(root, path)):
        raise BaselineError(rel, "resolves outside the repository; not written")
    data = text.encode("ascii")
    try:
        with open(path, "rb") as f:
            if f.read(len(data) + 1) == data:
                return False
    except OSError:
        pass
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return True


def merged(old: Mapping[Group, Mapping[str, int]], new: Entries, ran: set[tuple[str, str]],
           exist: set[tuple[str, str]]) -> Entries:
    """The entries to write: ``new`` for the items that ran; the old entries of items that exist
    but did not run (deselected, waived, could not run); nothing for items that no longer exist."""
    out: Entries = {k: dict(v) for k, v in new.items() if (k[0], k[1]) in ran}
    for k, v in old.items():
        item = (k[0], k[1])
        if item not in ran and item in exist:
            out[k] = dict(v)
    return out


# --- --guardrails-baseline-against: the baseline may only shrink --------------------------------

GROWTH = "baseline-growth"
#: a ref or the baseline at the merge-base must be read within this
GIT_TIMEOUT = 30.0


def _short(sha: str) -> str:
    return sha[:12]


def _at_merge_base(root: Path, rel: str, ref: str) -> tuple[str, Entries]:
    """(merge-base sha, its baseline entries: empty when it had no baseline)."""
    import subprocess

    from pytest_guardrails.api import CannotRun
    from pytest_guardrails.api import GuardrailError
    from pytest_guardrails.project import git
    from pytest_guardrails.project import has_git_metadata
    from pytest_guardrails.sources import MAX_BYTES

    if not has_git_metadata(root):
        raise CannotRun("no git metadata: the baseline at the merge-base cannot be read",
                        "run in a git clone with the history of the ref (fetch-depth: 0)")
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\r\n"):
        raise CannotRun(f"--guardrails-baseline-against={ref!r} is not a git ref",
                        "pass a branch, tag or commit, e.g. origin/main")
    try:
        sha = git(root, "merge-base", "--end-of-options", ref, "HEAD",
                  timeout=GIT_TIMEOUT).decode("ascii", "replace").strip()
    except subprocess.CalledProcessError as exc:
        err = (exc.stderr or b"").decode("utf-8", "replace").strip() or f"exit code {exc.returncode}"
        raise CannotRun(f"no merge-base of {ref!r} and HEAD: {err.splitlines()[-1]}",
                        f"fetch it first (git fetch origin {ref}; a shallow clone needs the history: "
                        "fetch-depth: 0)") from None
    except (subprocess.TimeoutExpired, OSError) as exc:
        raise GuardrailError(f"git merge-base failed: {exc}") from None
    spec = f"{sha}:{rel}"
    try:
        size = int(git(root, "cat-file", "-s", spec, timeout=GIT_TIMEOUT))
    except subprocess.CalledProcessError:
        return sha, {}  # no baseline at the merge-base: every entry now is growth
    except (subprocess.TimeoutExpired, OSError, ValueError) as exc:
        raise GuardrailError(f"git cat-file failed: {exc}") from None
    where = f"{rel} at {_short(sha)}"
    if size > MAX_BYTES:
        raise GuardrailError(f"{where}: larger than {MAX_BYTES // (1024 * 1024)} MiB; not read")
    try:
        blob = git(root, "cat-file", "blob", spec, timeout=GIT_TIMEOUT)
        return sha, parse(blob.decode("utf-8"), where)
    except UnicodeDecodeError:
        raise GuardrailError(f"{where}: not UTF-8") from None
    except BaselineError as exc:
        raise GuardrailError(str(exc)) from None
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        raise GuardrailError(f"git cat-file failed: {exc}") from None


def growth(root: Path, rel: str, ref: str) -> list[Finding]:
    """One finding per fingerprint whose count in the working baseline exceeds its count in the
    baseline at the merge-base of ``ref`` and HEAD."""
    sha, base = _at_merge_base(root, rel, ref)
    current = load(root, rel)
    lines = {g: _line_of(current.text, off) for g, off in zip(current.entries, _group_offsets(current.text))}
    out: list[Finding] = []
    for group in sorted(current.entries):
        was = base.get(group, {})
        g, t, p, c = group
        for fp, n in sorted(current.entries[group].items()):
            more = n - was.get(fp, 0)
            if more > 0:
                item = g if t == "." else f"{g}[{t}]"
                what = f"{p} {c} {fp}" if c else f"{p} {fp}"
                out.append(Finding(f"{item}: {what}: {more} more than at the merge-base {_short(sha)}",
                                   rel, lines.get(group)))
    return out


def growth_guardrail(ref: str) -> Guardrail:
    """The ``baseline-growth`` item's guardrail (added by ``--guardrails-baseline-against``)."""

    def check(run: Run) -> list[Finding]:
        rel = run.project.settings.baseline
        found = growth(run.root, rel, ref)
        if found:
            run.summary = (f"{GROWTH}: {rel} gained {len(found)} entr{'y' if len(found) == 1 else 'ies'} "
                           f"against {ref}")
        return found

    return Guardrail(
        name=GROWTH, check=check, settings={}, noun="new baseline entry",
        summary="The baseline only shrinks: no entry absent from the merge-base's baseline.",
        scope=lambda project, settings: project.targets[:1],
        fix=(f"fix the new findings instead of adding them to the baseline, then shrink it with "
             f"`{WRITE_COMMAND}`"),
    )
