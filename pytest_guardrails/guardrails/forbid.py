"""User-defined forbidden patterns: one ``forbid-<name>`` guardrail per configured table."""

from __future__ import annotations

from collections.abc import Iterator
import re
from typing import Any

from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.api import Run
from pytest_guardrails.globs import GlobSet
from pytest_guardrails.options import ConfigError
from pytest_guardrails.options import Option
from pytest_guardrails.options import as_table
from pytest_guardrails.options import convert_table

PREFIX = "tool.guardrails.forbid"

OPTIONS = {
    "pattern": Option("regex", None, "regular expression searched line by line (required)"),
    "files": Option("globs", ("**/*",), "globs (relative to each target's root) of files to search"),
    "message": Option("str", "", "what to do instead; shown with every finding"),
    "code-only": Option("bool", False,
                        "Python files: match code tokens only, never comments or strings"),
}


def check(run: Run) -> Iterator[Finding]:
    s = run.settings
    target = run.target
    run.project.require_checked_out(target)
    regex = re.compile(s["pattern"])
    message: str = s["message"]
    for rel in GlobSet(s["files"]).filter(run.project.files(target)):
        try:
            text = (target.root / rel).read_bytes().decode("utf-8")
        except FileNotFoundError:
            continue
        except UnicodeDecodeError:
            continue  # binary or non-UTF-8: not source this pattern applies to
        except OSError as exc:
            yield Finding(f"cannot read: {exc.strerror}", target.rel(rel), error=True)
            continue
        for lineno, line in enumerate(text.splitlines(), start=1):
            m = regex.search(line)
            if m:
                text_ = f"`{m.group()}` matches {s['pattern']!r}"
                yield Finding(f"{text_}: {message}" if message else text_, target.rel(rel), lineno,
                              m.start() + 1)


def expand(raw: Any) -> list[Guardrail]:
    tables = as_table(raw)
    if tables is None:
        raise ConfigError(PREFIX, f"{PREFIX}: expected tables [{PREFIX}.<name>]")
    out: list[Guardrail] = []
    for name, table in tables.items():
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
            raise ConfigError(f"{PREFIX}.{name}",
                              f"{PREFIX}.{name}: names are kebab-case (a-z, 0-9, -)")
        settings = convert_table(f"{PREFIX}.{name}", table, OPTIONS, required=("pattern",))
        out.append(Guardrail(
            name=f"forbid-{name}",
            code="GR100",
            summary=settings["message"] or f"no match for {settings['pattern']!r}",
            check=check,
            options={},
            noun="forbidden match",
            fix=settings["message"],
            settings=settings,
        ))
    return out
