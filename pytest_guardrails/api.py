"""The public API for writing guardrails: values, outcomes and the ``Guardrail`` record.

A guardrail is a function ``check(run) -> Iterable[Finding]`` plus a little metadata. It never
imports pytest; the engine (``pytest_guardrails.nodes``) maps what it returns or raises onto pytest
outcomes according to the mode.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Literal
from typing import Union

if TYPE_CHECKING:
    from pytest_guardrails.options import Option
    from pytest_guardrails.project import Project
    from pytest_guardrails.project import Target


@dataclass(frozen=True)
class Finding:
    """One violation, rendered ``path:line:col: CODE message`` (path relative to the repo root).

    ``error=True`` marks an input that could not be read (bad JSON, non-UTF-8, ...): the item's
    outcome is then ``error:`` rather than a plain violation.
    """

    message: str
    path: str | None = None
    line: int | None = None
    col: int | None = None
    code: str | None = None
    error: bool = False
    #: set by the engine after the check (``pytest_guardrails.fingerprint``); not compared
    fingerprint: str | None = field(default=None, compare=False)

    def location(self) -> str:
        parts = [str(p) for p in (self.path, self.line, self.col) if p is not None]
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.code} {self.message}" if self.code else self.message
        loc = self.location()
        return f"{loc}: {text}" if loc else text


class NotApplicable(Exception):
    """The guardrail has nothing to check here (not configured, no input): always skipped."""


class CannotRun(Exception):
    """The guardrail could not run: tool missing, no git metadata, submodule not checked out.

    Skipped in warn mode, failed in strict mode. ``fix`` says what to do about it.
    """

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


class GuardrailError(Exception):
    """The guardrail ran but broke: the tool crashed or timed out, an input was unreadable.

    xfailed with a reason starting ``error:`` in warn mode, failed in strict mode.
    """


@dataclass
class Run:
    """What a check gets: where to look, its settings, and a place to say more than findings."""

    guardrail: Guardrail
    target: Target
    project: Project
    settings: Mapping[str, Any]
    #: "ruff 0.17.6": set by guardrails that ran a tool; becomes a JUnit property
    tool: str | None = None
    #: overrides the default one-line summary (``<id>: N findings``)
    summary: str | None = None
    #: overrides the guardrail's static ``fix`` text (e.g. with real paths filled in)
    fix: str | None = None
    #: extra lines shown after the findings (files skipped, ...)
    notes: list[str] = field(default_factory=lambda: [])
    #: extra ``(name, value)`` item properties (JUnit ``<properties>``), e.g. the interpreter used
    properties: list[tuple[str, str]] = field(default_factory=lambda: [])

    @property
    def root(self) -> Path:
        """The repository root (where the root pyproject.toml lives)."""
        return self.project.root

    def read(self, path: str) -> bytes:
        """The bytes of repo-relative ``path``, through the one read path every guardrail uses
        (``pytest_guardrails.fs``): never outside the target holding it (a symlink out is
        ``NotRead``), never a FIFO/socket/device, never over ``max-file-size`` (``TooBig``).
        A missing file raises ``FileNotFoundError``."""
        return self.project.read(path)


Check = Callable[[Run], Iterable[Finding]]
Scope = Union[Literal["target", "submodule"], Callable[["Project", Mapping[str, Any]], "Sequence[Target]"]]


@dataclass(frozen=True)
class Guardrail:
    """A guardrail: an id, a check, and what the engine needs to build and explain its items.

    - ``name``: the id in node ids, ``[tool.guardrails.<name>]``, ``STRICT_<NAME>``;
    - ``scope``: ``"target"`` (one item for the root and one per submodule), ``"submodule"`` (one
      per submodule), or a function ``(project, settings) -> targets``;
    - ``options``: the keys of ``[tool.guardrails.<name>]`` (``mode`` is always accepted);
    - ``fix``: the "how to fix" line shown after the findings;
    - ``noun``: what a finding is called in the summary (``"2 blanket suppressions"``);
    - ``header``: optional callable returning a line for pytest's report header (tool versions);
      called with the ``Project`` when it accepts an argument.
    - ``slow``: its items take far longer than the others (pyright); xdist workers start them first.
    - ``settings``: pre-validated settings, for guardrails generated from configuration.
    - ``cache_inputs``: what its check reads, so its result can be cached (docs/cache.md):
      ``"python"`` (its target's Python files), ``"target"`` (its target's files), ``"repo"``
      (any file of the repository and its submodules); ``""``: never cached.
    - ``fingerprint``: ``(run) -> JSON-able data`` that changes when anything else its result
      depends on changes (a tool's version, the environment it reads); part of the cache key.
    """

    name: str
    check: Check
    summary: str = ""
    code: str = ""
    scope: Scope = "target"
    options: Mapping[str, Option] = field(default_factory=lambda: {})
    fix: str = ""
    noun: str = "finding"
    header: Callable[..., str | None] | None = None
    #: runs long (a type checker): under xdist its items start first, one per worker
    slow: bool = False
    #: settings already validated (guardrails defined by configuration, e.g. ``forbid-<name>``);
    #: when None the engine validates ``[tool.guardrails.<name>]`` against ``options``
    settings: Mapping[str, Any] | None = None
    #: "python" | "target" | "repo": the files its result depends on; "" = not cached
    cache_inputs: Literal["", "python", "target", "repo"] = ""
    #: what else its result depends on (tool versions, environment), for the cache key
    fingerprint: Callable[[Run], object] | None = None
