"""ruff reports no lint violations, in the repository and in each submodule."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence
import json
import os
from pathlib import Path

from pytest_guardrails import _process
from pytest_guardrails import toolstate
from pytest_guardrails._process import as_int
from pytest_guardrails._process import as_list
from pytest_guardrails._process import dig
from pytest_guardrails.api import CannotRun
from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.api import GuardrailError
from pytest_guardrails.api import Run
from pytest_guardrails.fs import inside
from pytest_guardrails.options import Option
from pytest_guardrails.options import arg_values
from pytest_guardrails.options import refuse_args
from pytest_guardrails.options import timeout_option
from pytest_guardrails.project import Project
from pytest_guardrails.project import Target
from pytest_guardrails.selection import all_of

NAME = "ruff"

_WRITES = "ruff would write files (the guardrails only read the repository)"
_OUTPUT = "the item reads ruff's JSON report of every file it lints"
#: ``args`` that would make ruff write, never end, or report something else than it lints
REFUSED_ARGS = {
    "--fix": _WRITES, "--fix-only": _WRITES, "--unsafe-fixes": _WRITES, "--add-noqa": _WRITES,
    "--add-ignore": _WRITES, "--output-file": _WRITES, "-o": _WRITES, "--cache-dir": _WRITES,
    "--watch": "ruff would never end", "-w": "ruff would never end",
    "--stdin-filename": "ruff would lint its (empty) input instead of the files",
    "--output-format": _OUTPUT, "--diff": _OUTPUT, "--statistics": _OUTPUT,
    "--show-files": _OUTPUT, "--show-settings": _OUTPUT, "--silent": _OUTPUT, "-s": _OUTPUT,
    "--help": _OUTPUT, "-h": _OUTPUT, "--version": _OUTPUT, "-V": _OUTPUT,
}

OPTIONS = {
    "args": Option("str-list", (), "extra arguments for `ruff check` (e.g. `[\"--preview\"]`); "
                   "the target's own ruff configuration is always used; options that write "
                   "(`--fix`, `--add-noqa`, `--output-file`, ...) or change the report are refused",
                   validate=refuse_args(REFUSED_ARGS)),
    "timeout": timeout_option(120.0, "seconds before ruff is stopped and the item reports "
                              "an error (at most a week)"),
}


def glob_escape(path: str) -> str:
    """``path`` as a literal ruff glob; ``,`` (ruff splits the option on it) becomes ``?``."""
    out = "".join(f"[{c}]" if c in "[]*?{}" else c for c in path)
    return out.replace(",", "?")


def excludes(project: Project, target: Target) -> list[str]:
    """Absolute globs ruff must not read for ``target``: the submodules inside it (each is a
    target of its own) and ``[tool.guardrails] exclude``.

    Absolute, because ruff matches a bare name like ``schemas`` against every directory of that
    name in the tree.
    """
    base = glob_escape(target.root.as_posix())
    nested = [t for t in project.targets if not t.is_root and t != target
              and (target.is_root or t.path.startswith(target.path + "/"))]
    out = [glob_escape(t.root.as_posix()) for t in nested]
    prefix = "" if target.is_root else target.path + "/"
    for glob in project.settings.exclude:
        if prefix and glob.startswith(prefix):
            glob = glob[len(prefix):]
        elif prefix and not glob.startswith("**/"):
            continue  # a root glob that cannot reach into this submodule
        out.append(f"{base}/{glob.rstrip('/')}")
    # a symlink out of the target: ruff would read (and quote) a file outside the repository
    linted = [f for f in project.files(target) if f.endswith(RUFF_SUFFIXES)]
    out += [f"{base}/{glob_escape(f)}" for f in project.escaping(target, linted)]
    return out


#: the files ruff lints or reads its settings from
RUFF_SUFFIXES = (".py", ".pyi", ".ipynb")
CONFIG_NAMES = ("pyproject.toml", "ruff.toml", ".ruff.toml")


def _configs(project: Project, target: Target) -> list[str]:
    """Repo-relative ruff settings files that resolve outside their target, among the target's
    own and those of the directories above it (ruff reads a parent directory's settings)."""
    out: list[str] = []
    for t in project.targets:
        if t != target and not (t.is_root or target.path.startswith(t.path + "/")):
            continue
        above = "" if t.is_root else t.path + "/"
        mine = [f for f in project.files(t) if f.rpartition("/")[2] in CONFIG_NAMES
                and (t == target or (above + f).rpartition("/")[0] in _parents(target.path))]
        out += [t.rel(f) for f in project.escaping(t, mine)]
    return out


def _config_files(args: Sequence[str], cwd: Path) -> list[Path]:
    """The settings files ``--config`` in ``args`` names (a value that is no file is inline
    TOML, as ruff reads it), as absolute paths from where ruff runs."""
    out: list[Path] = []
    for value in arg_values(args, "--config"):
        path = Path(os.path.abspath(cwd / value))
        try:
            if path.exists():
                out.append(path)
        except (OSError, ValueError):  # a NUL byte, a name too long: inline TOML to ruff
            pass
    return out


def _parents(path: str) -> set[str]:
    """``"a/b/c"`` -> ``{"", "a", "a/b"}``."""
    parts = path.split("/")
    return {"/".join(parts[:i]) for i in range(len(parts))}


def command(exe: str, project: Project, target: Target, args: Sequence[str]) -> list[str]:
    """``--no-fix`` last: the target's ruff settings may say ``fix = true``, and ``ruff check``
    would then rewrite its files (and report the fixed findings as gone)."""
    argv = [exe, "check", "--output-format", "json", "--no-cache"]
    for glob in excludes(project, target):
        argv += ["--extend-exclude", glob]
    return [*argv, *args, "--no-fix", "."]


def findings(root: Path, diagnostics: list[object]) -> Iterator[Finding]:
    for d in diagnostics:
        filename = dig(d, "filename")
        if not isinstance(filename, str):
            raise ValueError(f"a diagnostic without a filename: {d!r}")
        code = dig(d, "code")
        yield Finding(
            message=str(dig(d, "message") or "").strip(),
            path=_process.relative(root, filename),
            line=as_int(dig(d, "location", "row")),
            col=as_int(dig(d, "location", "column")),
            code=code if isinstance(code, str) and code else None,
        )


def check(run: Run) -> list[Finding]:
    target = run.target
    run.project.require_checked_out(target)
    for config in _configs(run.project, target):
        raise GuardrailError(f"{config} is a symlink to outside the repository; ruff was not "
                             "run (it would read that file)")
    for given in _config_files(run.settings["args"], target.root):
        if not inside(given, run.root):
            raise GuardrailError(
                f"[tool.guardrails.ruff] args give --config {str(given)!r}, a file outside the "
                "repository; ruff was not run (it would read that file, and quote it in errors)")
    linted = [f for f in run.project.files(target) if f.endswith(RUFF_SUFFIXES)]
    skipped = run.project.escaping(target, linted)
    if skipped:
        run.notes.append("not linted (a symlink out of the repository, or not a regular file): "
                         + ", ".join(target.rel(f) for f in skipped[:5])
                         + (", ..." if len(skipped) > 5 else ""))
    exe = _process.find_tool("ruff", "ruff")
    deadline = _process.Deadline(run.settings["timeout"])  # the whole item, version probe too
    run.tool = _process.tool_version(exe, timeout=deadline.left(30)) or "ruff"
    argv = command(exe, run.project, target, run.settings["args"])
    result = _process.run_tool(NAME, argv, cwd=target.root, timeout=deadline)
    if result.returncode not in (0, 1):
        raise _process.crashed(NAME, result, f"exit code {result.returncode}")
    try:
        diagnostics = as_list(json.loads(result.stdout))
    except ValueError:
        raise _process.crashed(NAME, result, "its output is not JSON") from None
    if diagnostics is None:
        raise _process.crashed(NAME, result, "its output is not a JSON list")
    try:
        found = list(findings(run.root, diagnostics))
    except ValueError as exc:
        raise _process.crashed(NAME, result, f"unexpected JSON: {exc}") from None
    if not found:
        _linted_something(run, exe, argv, [f for f in linted if f.endswith((".py", ".pyi"))
                                           and f not in set(skipped)], deadline)
    if not target.is_root:
        run.fix = _process.fix_in_submodule(target.path)
    return sorted(found, key=_order)


def _linted_something(run: Run, exe: str, argv: Sequence[str], expected: Sequence[str],
                      deadline: _process.Deadline) -> None:
    """A clean ruff run looked at a Python file, or says why not: a note when the target has
    none, cannot run when ruff's settings or ``args`` exclude every one it has (ruff's JSON
    names only files with findings, and it lints ``pyproject.toml`` too, so it never says it
    found no file). Asked only of a run with no findings, the one a green could be for nothing."""
    target = run.target
    if not expected:
        run.notes.append(f"nothing to check: no Python file in {target.where}")
        return
    result = _process.run_tool(NAME, [*argv[:-1], "--show-files", argv[-1]], cwd=target.root,
                               timeout=deadline)
    if result.returncode != 0:
        raise _process.crashed(NAME, result, f"exit code {result.returncode} (--show-files)")
    if any(line.rstrip().endswith(RUFF_SUFFIXES) for line in result.stdout.splitlines()):
        return
    raise CannotRun(
        f"ruff linted no Python file: its settings (their defaults included) or "
        f"[tool.guardrails.ruff] args exclude {all_of(target, expected)}",
        "fix `include`, `exclude` or `extend-exclude` in the target's ruff settings, or the "
        "exclusions in args; or leave this target out with targets = [...]")


def _order(f: Finding) -> tuple[str, int, int, str]:
    return (f.path or "", f.line or 0, f.col or 0, f.code or "")


def header() -> str | None:
    exe = _process.which("ruff")
    if exe is None:
        return "ruff: not found"
    return f"{_process.tool_version(exe) or 'ruff (version unknown)'} ({exe})"


GUARDRAIL = Guardrail(
    name=NAME,
    code="GR003",
    summary=__doc__ or "",
    check=check,
    options=OPTIONS,
    noun="ruff violation",
    fix="fix the code (`ruff check --fix` fixes some), or configure or suppress the rule with "
        "its code in the target's own ruff settings",
    header=header,
    # its own files; the settings files it may read outside the target are in its fingerprint
    cache_inputs="target",
    fingerprint=lambda run: toolstate.ruff(run),
)
