"""The files a guardrail's ``files`` globs select in a target: none is not a pass."""

from __future__ import annotations

from collections.abc import Sequence
import json
from typing import TYPE_CHECKING

from pytest_guardrails import escape
from pytest_guardrails.api import CannotRun
from pytest_guardrails.api import Run
from pytest_guardrails.globs import GlobSet

if TYPE_CHECKING:
    from pytest_guardrails.project import Target

#: files named in a note before "... and N more"
NAMED = 20


def name_files(paths: Sequence[str]) -> str:
    """``a, b, c`` (at most ``NAMED``, then how many more), each made safe to print."""
    shown = ", ".join(escape.line(p) for p in paths[:NAMED])
    more = len(paths) - NAMED
    return f"{shown}, ... and {more} more" if more > 0 else shown


def all_of(target: Target, files: Sequence[str]) -> str:
    """``the one in libs/x (a.py)`` or ``all 3 in the repository (a.py, ...)``: the files of a
    target a tool left out, one named (target-relative ``files``, at least one)."""
    n = len(files)
    which = f"the one in {target.where}" if n == 1 else f"all {n} in {target.where}"
    return f"{which} ({target.rel(files[0])}{', ...' if n > 1 else ''})"


def globs_text(globs: Sequence[str]) -> str:
    """``["a/**", "b"]``: how the globs are written in pyproject.toml."""
    return json.dumps(list(globs), ensure_ascii=False)


def matching(run: Run, files: Sequence[str], default: Sequence[str], key: str = "files"
             ) -> list[str]:
    """The files among ``files`` (target-relative) that ``run.settings[key]`` matches.

    A check that would look at nothing cannot pass: configured globs matching no file are a
    misconfiguration (cannot run: skipped in warn mode, failed in strict), naming the globs; the
    default globs matching nothing mean there is nothing of that kind here, which the item says
    in a note.
    """
    globs: Sequence[str] = run.settings[key]
    found = GlobSet(globs).filter(files)
    if found:
        return found
    where = run.target.where
    written = f"{key} = {globs_text(globs)}"
    if tuple(globs) == tuple(default):
        run.notes.append(f"nothing to check: no file in {where} matches {written} (the default)")
        return []
    table = run.guardrail.name
    if table.startswith("forbid-"):
        table = f"forbid.{table[len('forbid-'):]}"
    raise CannotRun(
        f"{written} matches no file in {where}, so there is nothing to check",
        f"fix the globs in [tool.guardrails.{table}] (paths are relative to the target's root; a "
        "directory means everything below it), or leave this target out with targets = [...]")
