"""The engine, loaded only when guardrails are enabled: one plugin object per pytest process that
collects the anchor ``pyproject.toml``, runs guardrail items and reports on them."""

from __future__ import annotations

from collections.abc import Generator
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
import dataclasses
import functools
import gc
import inspect
import os
from pathlib import Path
import traceback
from typing import Any
from typing import Callable

import pytest

from pytest_guardrails import escape
from pytest_guardrails.api import CannotRun
from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.api import GuardrailError
from pytest_guardrails.api import NotApplicable
from pytest_guardrails.api import Run
import pytest_guardrails.baseline as baseline_mod
from pytest_guardrails.cache import CachePlugin
from pytest_guardrails.cache import Lookup
from pytest_guardrails.cache import ResultCache
from pytest_guardrails.cache import cached_check
from pytest_guardrails.cache import is_enabled
from pytest_guardrails.config import PREFIX
from pytest_guardrails.config import Settings
from pytest_guardrails.config import format_error
from pytest_guardrails.config import read_pyproject
from pytest_guardrails.config import split_waiver_key
from pytest_guardrails.config import table_line
from pytest_guardrails.config import validate
import pytest_guardrails.debt as debt
from pytest_guardrails.guardrails import assemble
from pytest_guardrails.options import ConfigError
from pytest_guardrails.outputs import github_wanted
import pytest_guardrails.outputs.baseline as baseline_out
from pytest_guardrails.plugin import addresses_anchor
from pytest_guardrails.plugin import anchor_of
from pytest_guardrails.project import Project
from pytest_guardrails.project import Target
from pytest_guardrails.report import Outcome
from pytest_guardrails.report import Reporter
from pytest_guardrails.report import ide_message
from pytest_guardrails.report import remember_outcome
import pytest_guardrails.waivers as waivers_mod

TRUE = ("1", "true", "yes", "on", "strict")
FALSE = ("0", "false", "no", "off", "warn")

outcome_key = pytest.StashKey[Outcome]()


def env_name(guardrail_id: str) -> str:
    return "STRICT_" + guardrail_id.replace("-", "_").upper()


def _env_flag(name: str) -> str | None:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    if value in TRUE:
        return "strict"
    if value in FALSE:
        return "warn"
    raise ConfigError("", f"environment variable {name}={os.environ[name]!r}: expected 1 or 0")


def resolve_mode(config: pytest.Config, settings: Settings, guardrail_id: str,
                 table_mode: str | None) -> str:
    """--guardrails-mode > STRICT_<ID> (STRICT_CODEGEN) > STRICT_GUARDRAILS > table > global."""
    cli: str | None = config.getoption("guardrails_mode")
    if cli:
        return cli
    names = [env_name(guardrail_id)]
    if guardrail_id == "codegen-drift":
        names.append("STRICT_CODEGEN")
    names.append("STRICT_GUARDRAILS")
    for name in names:
        flag = _env_flag(name)
        if flag:
            return flag
    return table_mode or settings.mode or "warn"


def targets_for(guardrail: Guardrail, project: Project, settings: Mapping[str, Any]) -> Sequence[Target]:
    if guardrail.scope == "target":
        return project.targets
    if guardrail.scope == "submodule":
        return project.targets[1:]
    return guardrail.scope(project, settings)


def all_items(project: Project, guardrails: Sequence[Guardrail]) -> set[tuple[str, str]]:
    """(guardrail, target label) of every item the project has, whatever -k/-m select."""
    return {(g.name, t.label) for g in guardrails
            for t in targets_for(g, project, project.settings.table(g.name))}


def check_waivers(settings: Settings, items: set[tuple[str, str]]) -> None:
    """A waiver must name an item the project has (selected by this run or not)."""
    for key in settings.waivers:
        gid, target = split_waiver_key(key)
        if not any(g == gid and (not target or t == target) for g, t in items):
            there = sorted(t for g, t in items if g == gid)
            raise ConfigError(
                f'{PREFIX}.ignore."{key}"',
                f'{PREFIX}.ignore."{key}": waives no item: {gid} has '
                + (f"items for {', '.join(there)}" if there else "no items in this repository"))


def _process_ends_with(config: pytest.Config) -> bool:
    """The process exits when this session ends: the ``pytest`` command (``console_main``, also
    behind ``python -m pytest``) or an xdist worker. Not ``pytest.main`` called by a program that
    goes on, such as pytester's in-process runs."""
    if hasattr(config, "workerinput"):
        return True
    frame = inspect.currentframe()
    while frame is not None:
        # the ``pytest.main`` running this config (one run may start another: pytester)
        if frame.f_code is pytest.main.__code__ and frame.f_locals.get("config") is config:
            caller = frame.f_back
            return caller is not None and caller.f_code is pytest.console_main.__code__
        frame = frame.f_back
    return False


class GuardrailsSession:
    """Registered as ``guardrails-session`` when guardrails are enabled."""

    NAME = "guardrails-session"

    def __init__(self, config: pytest.Config, project: Project, guardrails: Sequence[Guardrail]):
        self.config = config
        self.project = project
        self.guardrails = guardrails
        self.anchor = anchor_of(config)
        self.reporter = Reporter(project)
        self.is_worker = hasattr(config, "workerinput")
        self.cache: ResultCache | None = None
        self.baseline = baseline_mod.Baseline(project.settings.baseline, {}, exists=False)
        #: (guardrail, target label) of every item the project has, selected or not
        self.items: set[tuple[str, str]] = set()
        self.write_baseline: bool = bool(config.getoption("guardrails_baseline_write"))
        self.wrote: str | None = None
        self._known = functools.lru_cache(maxsize=None)(self._known_for)

    def _known_for(self, guardrail: str, target: str) -> dict[str, int]:
        return self.baseline.by_item().get((guardrail, target), {}) if self.baseline.exists else {}

    def known(self, guardrail: str, target: str) -> dict[str, int] | None:
        """The item's baseline counts; None when there is no baseline file."""
        return self._known(guardrail, target) if self.baseline.exists else None

    @classmethod
    def create(cls, config: pytest.Config) -> GuardrailsSession:
        root = config.rootpath
        anchor = anchor_of(config)
        if not anchor.is_file():
            raise pytest.UsageError(
                f"guardrails: no pyproject.toml in {root}: add one holding [tool.guardrails] "
                "(that line alone gives every guardrail its defaults)")
        try:
            # an ini anchor (setup.cfg, tox.ini, pytest.ini) has no [tool.guardrails]: defaults
            raw = read_pyproject(anchor) if anchor.name == "pyproject.toml" else {}
            results: list[Sequence[Guardrail]] = config.hook.pytest_guardrails_register(config=config)
            plugins = [("pytest_guardrails_register", list(r)) for r in results]
            guardrails = assemble(raw, plugins)
            against: str | None = config.getoption("guardrails_baseline_against")
            if against is not None:
                guardrails = [*guardrails, baseline_mod.growth_guardrail(against)]
            settings = validate(anchor, raw, guardrails)
            project = Project(root, settings, settings.submodules)
            for g in guardrails:
                resolve_mode(config, settings, g.name, settings.table(g.name).get("mode"))
            items = all_items(project, guardrails)
            check_waivers(settings, items)
        except ConfigError as err:
            raise pytest.UsageError(format_error(anchor, root, err)) from None
        sarif_file: str | None = config.getoption("guardrails_sarif")
        if sarif_file and not hasattr(config, "workerinput"):
            from pytest_guardrails.outputs import sarif

            sarif.check_path(config.invocation_params.dir / sarif_file)
        try:
            baseline = baseline_mod.load(root, settings.baseline)
        except baseline_mod.BaselineError as err:
            raise pytest.UsageError(f"guardrails: {err}") from None
        session = cls(config, project, guardrails)
        if config.getoption("guardrails_only") and not _process_ends_with(config):
            # registered before pytest's own clean-ups, so it runs after them
            config.add_cleanup(gc.unfreeze)
        session.baseline = baseline
        session.items = items
        session._set_args()
        if is_enabled(config):
            session.cache = ResultCache(config, project)
            config.pluginmanager.register(CachePlugin(session.cache), CachePlugin.NAME)
        from pytest_guardrails._xdist import XdistOrder

        config.pluginmanager.register(XdistOrder(_is_slow), XdistOrder.NAME)
        if config.getoption("xmlpath", None) and not session.is_worker:
            from pytest_guardrails.outputs.junit import JUnitOutput

            config.pluginmanager.register(JUnitOutput(config), JUnitOutput.NAME)
        if any(g.slow for g in guardrails):
            from pytest_guardrails.early import EarlyStart

            early = EarlyStart(session)
            config.pluginmanager.register(early, EarlyStart.NAME)
            early.start()  # once registered: its pytest_unconfigure stops what this starts
        return session

    def _set_args(self) -> None:
        config = self.config
        invocation_dir = config.invocation_params.dir
        anchor = self.anchor
        args = [str(a) for a in config.args]
        if config.getoption("guardrails_only"):
            own = [a for a in args if addresses_anchor(a, invocation_dir, anchor)]
            given = config.args_source == pytest.Config.ArgsSource.ARGS
            other = [a for a in args if a not in own]
            if given and other:
                raise pytest.UsageError(
                    f"--guardrails-only runs only guardrails; {other[0]!r} is not one "
                    "(use --guardrails to run tests and guardrails together)")
            config.args[:] = own or [str(anchor)]
            return
        for a in args:
            path = Path(os.path.abspath(invocation_dir / a.split("::", 1)[0]))
            if path == anchor or path in anchor.parents:
                return
        config.args.append(str(anchor))

    # --- collection --------------------------------------------------------------------------

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        if file_path == self.anchor:
            return GuardrailsFile.from_parent(  # pyright: ignore[reportUnknownMemberType]
                parent, path=file_path, session_plugin=self)
        return None

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """``pyproject.toml::ruff`` selects the root ruff item only, not every ``ruff[...]``.

        pytest matches a name argument against parametrized-looking names too; a guardrail's
        root item and its submodule items are distinct targets, so an exact id wins when one
        exists (an id with no root item, e.g. ``codegen-drift``, still selects all of its items).
        """
        names: set[str] = set()
        invocation_dir = config.invocation_params.dir
        for arg in map(str, config.args):
            if not addresses_anchor(arg, invocation_dir, self.anchor):
                continue
            parts = arg.split("::")
            if len(parts) == 1:
                return  # the whole anchor is selected
            names.add(parts[1])
        present = {i.name for i in items if isinstance(i, GuardrailItem)}
        exact = names & present
        if not exact:
            return
        deselected = [i for i in items if isinstance(i, GuardrailItem) and i.name not in names
                      and i.name.split("[", 1)[0] in exact]
        if deselected:
            drop = set(map(id, deselected))
            items[:] = [i for i in items if id(i) not in drop]
            config.hook.pytest_deselected(items=deselected)

    def mode_of(self, guardrail: Guardrail, settings: Mapping[str, Any]) -> str:
        return resolve_mode(self.config, self.project.settings, guardrail.name, settings.get("mode"))

    def planned(self) -> Iterator[tuple[str, Guardrail, Target, Mapping[str, Any], str]]:
        """(item name, guardrail, target, settings, mode) of every item, in collection order."""
        project = self.project
        for g in self.guardrails:
            base = project.settings.table(g.name)
            for target in targets_for(g, project, base):
                settings = project.settings.for_target(g.name, target.path)
                if settings is None:  # left out by the table's targets = [...]
                    continue
                mode = self.mode_of(g, settings)
                name = g.name if target.is_root else f"{g.name}[{escape.line(target.path)}]"
                yield name, g, target, settings, mode

    def waiver_of(self, guardrail: Guardrail, target: Target) -> tuple[str, str] | None:
        """(waiver key, reason) when ``[tool.guardrails.ignore]`` waives this item."""
        waivers = self.project.settings.waivers
        for key in (f"{guardrail.name}[{target.label}]", guardrail.name):
            if key in waivers and not waivers[key].expired(waivers_mod.today()):
                return key, waivers[key].reason
        return None

    # --- reporting ---------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if not isinstance(item, GuardrailItem):
            return report
        if not self.project.settings.junit_properties:
            report.user_properties = []
        outcome = item.stash.get(outcome_key, None)
        decided = report.when == "call" or (report.skipped and report.when == "setup")
        if decided:
            if outcome is None:  # waived or skipped by a marker before running
                outcome = item.outcome("skipped", reason=_skip_reason(report))
            # extra report attributes survive xdist's report serialisation; as one JSON
            # string, not nested dicts execnet walks value by value (30 ms per 1,000 findings)
            report.__dict__["guardrail"] = outcome.to_json()
            remember_outcome(report, outcome)  # this process's outputs need not decode it
            if hasattr(report, "wasxfail") and outcome.text:
                # what an IDE shows for an xfail (PyCharm: str(longrepr)) is otherwise pytest's
                # traceback through its own hooks: give it the findings instead
                report.longrepr = (str(item.path), item.line,
                                   ide_message(item.nodeid, item.name, outcome.text))
        if report.skipped and isinstance(report.longrepr, tuple) and not hasattr(report, "wasxfail"):
            # point SKIPPED at the item's table, not at this plugin's source
            report.longrepr = (str(item.path), item.line, report.longrepr[2])
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.is_worker:
            self.reporter.add(report)

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        if self.is_worker:
            return []  # tool versions are asked once, by the controller
        lines = [f"guardrails: {len(self.guardrails)} guardrails, targets: "
                 + ", ".join(t.label for t in self.project.targets)]
        for g in self.guardrails:
            if g.header is not None:
                line = _header(g.header, self.project)
                if line:
                    lines.append(f"guardrails: {line}")
        return lines

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.config.getoption("guardrails_only"):
            # The session runs no test code, and what is alive now (modules, plugins, config)
            # lives to the end: out of the collector's sight, pytest's five collections at exit
            # (looking for tests' unraisable exceptions) take a few milliseconds, not a tenth of
            # a second per process, and so does the interpreter's own at exit. When pytest runs
            # in a process that goes on (``pytest.main``, pytester), ``gc.unfreeze`` runs as the
            # last clean-up, so garbage frozen with the rest is collected then.
            gc.freeze()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.is_worker:
            return  # outputs read the controller's rows
        if self.write_baseline:
            self._write_baseline(session)
        if github_wanted():
            from pytest_guardrails.outputs import github

            if self.config.getoption("no_summary", False) or not (
                    self.config.pluginmanager.has_plugin("terminalreporter")):
                github.annotate(self.config, self.reporter, fresh_line=True)  # no terminal summary
            github.summarise(self.reporter)
        sarif_file: str | None = self.config.getoption("guardrails_sarif")
        if sarif_file:
            from pytest_guardrails.outputs import sarif

            try:
                sarif.emit(self.config.invocation_params.dir / sarif_file, self.reporter,
                           self.guardrails, exitstatus=session.exitstatus)
            except OSError as exc:
                tr = self.config.pluginmanager.get_plugin("terminalreporter")
                if tr is not None:
                    tr.write_line(f"guardrails: cannot write --guardrails-sarif={sarif_file}: {exc}",
                                  red=True)
                session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.is_worker:
            if github_wanted():
                from pytest_guardrails.outputs import github

                github.annotate(self.config, self.reporter)
            self.reporter.summary(terminalreporter, verbose=self.config.get_verbosity() > 0)
            if self.wrote:
                terminalreporter.write_line(self.wrote)

    def _write_baseline(self, session: pytest.Session) -> None:
        """--guardrails-baseline-write, on the controller, before the terminal summary."""
        if session.exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR,
                                  pytest.ExitCode.USAGE_ERROR) or not self.reporter.rows:
            return
        try:
            self.wrote = baseline_out.write(self.project, self.baseline, self.reporter.rows, self.items)
        except (OSError, baseline_mod.BaselineError) as exc:
            self.wrote = f"guardrails: could not write the baseline {self.baseline.rel}: {exc}"
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _header(header: Callable[..., str | None], project: Project) -> str | None:
    """A guardrail's header line; headers that take an argument get the project."""
    try:
        takes_project = bool(inspect.signature(header).parameters)
    except (TypeError, ValueError):
        takes_project = False
    return header(project) if takes_project else header()


def _is_slow(item: pytest.Item) -> bool:
    return isinstance(item, GuardrailItem) and item.guardrail.slow


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return "skipped"


class GuardrailsFile(pytest.File):
    """The anchor ``<rootdir>/pyproject.toml``; its children are the guardrail items."""

    def __init__(self, *, session_plugin: GuardrailsSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session_plugin = session_plugin

    def collect(self) -> Iterator[GuardrailItem]:
        for name, g, target, settings, mode in self.session_plugin.planned():
            # the id as a string, which every pytest takes as is: pytest >= 9.2 parses it
            # as "name[params]", the shape it reads back from the --lf cache; the id it
            # derives from a bracketed name by default never matches that (--lf reran all)
            yield GuardrailItem.from_parent(  # pyright: ignore[reportUnknownMemberType]
                self, name=name, nodeid=f"{self.nodeid}::{name}", guardrail=g, target=target,
                settings=settings, mode=mode, line=table_line(self.text, g.name, target.label))

    @functools.cached_property
    def text(self) -> str:
        """The anchor's text, to locate each guardrail's table in it."""
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


class GuardrailItem(pytest.Item):
    """One guardrail on one target."""

    def __init__(self, *, guardrail: Guardrail, target: Target, settings: Mapping[str, Any],
                 mode: str, line: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # pyright: ignore[reportUnknownMemberType]
        #: 1-based line of the item's ``[tool.guardrails.<id>]`` table in the anchor
        self.line = line
        self.guardrail = guardrail
        self.target = target
        self.settings = settings
        self.mode = mode
        self.cache_lookup = Lookup()
        self.add_marker("guardrail")
        bound = item_timeout(self.config, settings) if self.config.pluginmanager.hasplugin(
            "timeout") else None
        if bound is not None:
            self.add_marker(pytest.mark.timeout(bound))
        self.user_properties.extend(
            [("guardrail", guardrail.name), ("target", target.label), ("mode", mode)])
        #: the waiver that no longer waives this item ("waiver ... expired on <date>")
        self.expired: str | None = None
        waivers = self.project.settings.waivers
        for key in (f"{guardrail.name}[{target.label}]", guardrail.name):
            if key in waivers:
                waiver = waivers[key]
                if waiver.expired(waivers_mod.today()):
                    self.expired = (f"waiver {key!r} expired on {waiver.until}: {waiver.reason}")
                    continue
                self.add_marker(pytest.mark.skip(reason=f"waived ({key}): {waiver.reason}"))
                break

    @property
    def _plugin(self) -> GuardrailsSession:
        anchor = self.parent
        assert isinstance(anchor, GuardrailsFile)
        return anchor.session_plugin

    @property
    def project(self) -> Project:
        return self._plugin.project

    @property
    def strict(self) -> bool:
        return self.mode == "strict"

    def outcome(self, status: str, *, reason: str = "", run: Run | None = None,
                findings: Sequence[Finding] = (), text: str = "", known: Sequence[Finding] = (),
                stale: int = 0) -> Outcome:
        """The item's outcome, its repository text made inert (``escape``): it is what every
        output shows and what crosses to the xdist controller, so it must be valid UTF-8."""
        tool = run.tool if run else None
        return Outcome(
            guardrail=self.guardrail.name, target=escape.line(self.target.label), mode=self.mode,
            status=status, reason=escape.line(reason), findings=tuple(map(clean_finding, findings)),
            tool=escape.line(tool) if tool is not None else None, text=escape.text(text),
            known=tuple(map(clean_finding, known)), stale=stale,
            notes=tuple(escape.line(n) for n in run.notes) if run else ())

    def _finish(self, outcome: Outcome) -> Outcome:
        self.stash[outcome_key] = outcome
        if outcome.text and not (self.strict and outcome.status in ("findings", "error", "cannot-run",
                                                                    "stale")):
            # the item's own output: shown by IDEs (PyCharm's test console) and JUnit's
            # system-out, where an xfail or skip message alone would hide the findings; a
            # failure's message already carries them
            self.add_report_section("call", "stdout", outcome.text)
        self.user_properties.append(("findings", len(outcome.findings)))
        if self.cache_lookup.key is not None:
            self.user_properties.append(("cached", "true" if self.cache_lookup.hit else "false"))
        plugin = self._plugin
        if plugin.baseline.exists or plugin.write_baseline or outcome.known:
            self.user_properties.append(("baselined", len(outcome.known)))
        if outcome.stale:
            self.user_properties.append(("stale", outcome.stale))
        if outcome.tool:
            self.user_properties.append(("tool_version", outcome.tool))
        if self.expired:
            self.user_properties.append(("waiver_expired", self.expired))
            if self.expired not in outcome.text:
                self.add_report_section("call", "stdout", self.expired)
        if outcome.notes:  # what was not looked at is said on every outcome, passes included
            self.user_properties.append(("notes", " | ".join(outcome.notes)))
            if not all(n in outcome.text for n in outcome.notes):
                self.add_report_section("call", "stdout", "\n".join(outcome.notes))
        return outcome

    def runtest(self) -> None:
        g = self.guardrail
        run = Run(guardrail=g, target=self.target, project=self.project, settings=self.settings)
        self.cache_lookup = Lookup()
        try:
            findings = cached_check(self._plugin.cache, run, self.name, self.cache_lookup)
        except NotApplicable as exc:
            then = functools.partial(self._not_applicable, run, str(exc))
        except CannotRun as exc:
            then = functools.partial(self._cannot_run, run, exc)
        except GuardrailError as exc:  # first line: the reason; the rest: details (tool output)
            message, _, detail = str(exc).partition("\n")
            then = functools.partial(self._error, run, message, detail)
        except Exception as exc:  # a bug in a guardrail must not break warn mode's exit code
            tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            then = functools.partial(
                self._error, run, f"internal error in {g.name}: {type(exc).__name__}: {exc}", tb)
        else:  # fingerprinted by cached_check (fresh) or stored so (cached)
            then = functools.partial(self._report, run, findings)
        self.user_properties.extend(run.properties)
        # outside the except blocks: an outcome raised inside one would make pytest print the
        # guardrail's exception too ("During handling of the above exception ...")
        then()

    def _not_applicable(self, run: Run, reason: str) -> None:
        outcome = self._finish(self.outcome("not-applicable", reason=reason, run=run))
        pytest.skip(f"{self.name}: {outcome.reason}")

    def _cannot_run(self, run: Run, exc: CannotRun) -> None:
        reason = f"cannot run: {exc.reason}" + (f"; how to fix: {exc.fix}" if exc.fix else "")
        outcome = self._finish(self.outcome("cannot-run", reason=reason, run=run, text=reason))
        if self.strict:
            pytest.fail(f"{self.name}: {outcome.reason}", pytrace=False)
        pytest.skip(f"{self.name}: {outcome.reason}")

    def _error(self, run: Run, message: str, detail: str) -> None:
        reason = f"error: {message}"
        text = reason if detail in ("", message) else f"{reason}\n{detail}"
        outcome = self._finish(self.outcome("error", reason=reason, run=run, text=text))
        if self.strict:
            pytest.fail(f"{self.name}: {outcome.text}", pytrace=False)
        pytest.xfail(f"{self.name}: {outcome.reason}")

    def _report(self, run: Run, findings: Sequence[Finding]) -> None:
        g = self.guardrail
        plugin = self._plugin
        if g.name == baseline_mod.GROWTH:  # its findings are about the baseline itself
            split = debt.Split(tuple(findings), (), 0)
        else:
            split = debt.split(findings, plugin.known(g.name, self.target.label),
                               accept_all=plugin.write_baseline)
        findings = [clean_finding(f) for f in split.new]
        known, stale = split.known, split.stale
        known_note = f"{len(known)} known (baseline)" if known else ""
        shrink = f"shrink the baseline: `{baseline_mod.WRITE_COMMAND}`"
        if not findings and not stale:
            reason = "; ".join(x for x in (known_note, self.expired) if x)
            self._finish(self.outcome("passed", reason=reason, run=run, known=known,
                                      text=f"{self.name}: {reason}" if reason else ""))
            return
        stale_note = (f"the baseline is stale: {stale} known {g.noun if stale == 1 else _plural(g.noun)} "
                      f"{'is' if stale == 1 else 'are'} gone")
        if not findings:
            summary = f"{self.name}: {stale_note}"
            lines = [summary, *([known_note] if known_note else []), *run.notes,
                     *([self.expired] if self.expired else []), f"how to fix: {shrink}"]
            text = "\n".join(lines)
            outcome = self._finish(self.outcome("stale", reason=summary, run=run, text=text,
                                                known=known, stale=stale))
            if self.strict:
                pytest.fail(outcome.text, pytrace=False)
            pytest.xfail(outcome.reason)
        errors = [f for f in findings if f.error]
        n = len(findings) - len(errors)
        noun = g.noun if n == 1 else _plural(g.noun)
        summary = run.summary or f"{self.name}: {n} {noun}"
        if errors:
            summary = (f"{self.name}: error: {len(errors)} input"
                       f"{'s' if len(errors) != 1 else ''} could not be read"
                       + (f", {n} {noun}" if n else ""))
        if known:
            summary += f" (and {known_note})"
        lines = [summary, *(str(f) for f in findings), *run.notes]
        if stale:
            lines.append(f"{stale_note}: once the new ones are fixed, {shrink}")
        if self.expired:
            lines.append(self.expired)
        fix = run.fix if run.fix is not None else g.fix
        if fix:
            lines.append(f"how to fix: {fix}")
        text = "\n".join(lines)
        status = "error" if errors else "findings"
        outcome = self._finish(self.outcome(status, reason=summary, run=run, findings=findings,
                                            text=text, known=known, stale=stale))
        if self.strict:
            pytest.fail(outcome.text, pytrace=False)
        pytest.xfail(outcome.reason)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | Any:
        if excinfo.errisinstance(pytest.xfail.Exception):
            # an xfail is an outcome, not a crash: pytest would otherwise format (and parse the
            # source of) every frame down to this plugin, about half a second per item
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        # pytest's line is 0-based. The domain heads a failure: it names the id that selects
        # the item, after a word, since a domain that ends the id has its dots shown as "::"
        return self.path, self.line - 1, f"{self.guardrail.code or 'guardrail'} {self.nodeid}"


def clean_finding(f: Finding) -> Finding:
    """``f`` with its repository text made inert (one line each, valid UTF-8)."""
    fields = (f.message, f.path, f.code)
    if all(v is None or escape.is_clean(v) for v in fields):
        return f
    return dataclasses.replace(
        f, message=escape.line(f.message), path=None if f.path is None else escape.line(f.path),
        code=None if f.code is None else escape.line(f.code))


#: seconds pytest-timeout gives an item whose guardrail has no ``timeout`` key of its own
ITEM_TIMEOUT = 600.0


def _project_timeout(config: pytest.Config) -> float:
    """pytest-timeout's configured timeout (``--timeout``, ``PYTEST_TIMEOUT``, ini), 0 if none."""
    value: Any = config.getoption("timeout", None)
    if value is None:
        value = os.environ.get("PYTEST_TIMEOUT") or None
    if value is None:
        try:
            value = config.getini("timeout")
        except ValueError:
            return 0.0
    try:
        return max(float(value), 0.0) if value not in (None, "") else 0.0
    except (TypeError, ValueError):
        return 0.0


def item_timeout(config: pytest.Config, settings: Mapping[str, Any]) -> float | None:
    """The pytest-timeout bound of a guardrail item, when the project sets a timeout at all.

    A project's ``timeout`` is sized for its unit tests (often 1-10 s) and would fail a
    warn-mode item that runs pyright. The item's own bound is the tool's ``timeout`` (which
    the item reports as an error, xfailed in warn mode) with room to stop the tool and report
    it, so the tool's timeout always fires first; a larger project timeout is kept.
    """
    project = _project_timeout(config)
    if not project:
        return None
    tool = settings.get("timeout")
    if isinstance(tool, (int, float)) and not isinstance(tool, bool) and tool > 0:
        own = float(tool) * 1.1 + 30
    else:
        own = ITEM_TIMEOUT
    return max(own, project)


def _plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"
