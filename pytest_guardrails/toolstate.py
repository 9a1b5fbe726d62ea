"""What a tool's result depends on besides the repository's files: the tool itself, the
environment variables it reads, configuration it finds outside the repository, and (pyright) the
packages importable from the interpreters it may resolve imports against. Part of the result
cache's key (``pytest_guardrails.cache``); each is computed at most once per process."""

from __future__ import annotations

from collections.abc import Iterable
import functools
import json
import os
from pathlib import Path
import shutil
import stat
import subprocess
import sys
from typing import Any

from pytest_guardrails import _process
from pytest_guardrails.api import GuardrailError
from pytest_guardrails.api import Run

#: environment variables that change what pyright (and its Node launcher) does
PYRIGHT_ENV = ("PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX")
PYRIGHT_ENV_PREFIXES = ("PYRIGHT", "NODE")
#: files ruff looks for in every directory above a project, and in its user config directory
RUFF_CONFIGS = ("pyproject.toml", "ruff.toml", ".ruff.toml")


def _env(names: Iterable[str], prefixes: tuple[str, ...]) -> dict[str, str]:
    wanted = set(names)
    return {k: v for k, v in sorted(os.environ.items()) if k in wanted or k.startswith(prefixes)}


@functools.cache
def _file_id(path: str) -> str | None:
    from pytest_guardrails.cache import blob_id

    found = blob_id(path)
    return None if found == "deleted" else found


def executable(exe: str | None) -> list[object]:
    """Where a tool is and what file it is (a different install changes the size or mtime)."""
    if exe is None:
        return ["not found"]
    real = os.path.realpath(exe)
    try:
        st = os.stat(real)
    except OSError:
        return [exe, real, "missing"]
    return [exe, real, st.st_size, st.st_mtime_ns]


def reset() -> None:
    """Forget what was looked up (a new session: in-process test runs share the module)."""
    for memo in (_file_id, _sys_path, _directory):
        memo.cache_clear()


#: how many ``extend`` links of a ruff configuration are followed into the key
RUFF_EXTEND_DEPTH = 16


#: a settings file larger than this is keyed by its content, not parsed
RUFF_CONFIG_BYTES = 1 << 20


def _ruff_table(path: Path, root: str) -> tuple[str, object]:
    """``("missing", None)``, ``("unparsed", blob id)``, ``("outside", file status)`` or
    ``("table", what ruff reads)``: a ``pyproject.toml``'s ``[tool.ruff]`` table (none:
    ``None``), another file's whole table. Read through the shared read path: a file of the
    repository that is a symlink out, not a regular file or over ``RUFF_CONFIG_BYTES`` counts by
    its blob id only (``cache.blob_id``: a symlink by its link text, a FIFO never opened). A file
    outside the repository (an ``extend`` leading out) is never opened: its type, size,
    modification time and inode count instead (``/proc/kmsg`` would block a read, a huge file would be read
    whole)."""
    from pytest_guardrails.config import load_toml
    from pytest_guardrails.fs import NotRead
    from pytest_guardrails.fs import read_file
    from pytest_guardrails.options import as_table

    # its directory as the system resolves it (a directory symlink may lead out)
    where = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    if not os.path.join(where, "").startswith(os.path.join(os.path.realpath(root), "")):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return "missing", None
        except OSError as exc:
            return "outside", f"unreadable:{exc.errno}"
        return "outside", [stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, st.st_ino]
    try:
        doc = load_toml(read_file(path, root, RUFF_CONFIG_BYTES).decode("utf-8"))
    except FileNotFoundError:
        return "missing", None
    except (NotRead, OSError, UnicodeDecodeError, ValueError, RecursionError):
        found = _file_id(str(path))  # ruff fails on a bad file: its content decides how
        return ("unparsed", found) if found is not None else ("missing", None)
    if path.name != "pyproject.toml":
        return "table", doc
    return "table", (as_table(doc.get("tool")) or {}).get("ruff")


def _ruff_extends(table: object, path: Path) -> Path | None:
    """The file a settings table's ``extend`` names, resolved as ruff does."""
    from pytest_guardrails.options import as_table

    extend = (as_table(table) or {}).get("extend")
    if not isinstance(extend, str) or not extend:
        return None
    expanded = os.path.expandvars(os.path.expanduser(extend))  # ruff expands ~ and $VAR too
    return Path(os.path.normpath(os.path.join(path.parent, expanded)))


def ruff_configs(run: Run) -> dict[str, object]:
    """The repository's files that may give ruff its settings for this target: those in the
    target and the directories above it up to the repository root (ruff takes the closest one
    that configures it), and every file their ``extend`` chains name inside the repository (a
    file outside counts by its status, never opened; its own ``extend`` is not followed). Keyed by path,
    each by what ruff reads of it. With these in the key, a target's ruff result depends on its own
    files only (a file outside it that it links to is never linted: see ``Project.escaping``)."""
    root = os.path.abspath(run.root)
    found: dict[str, object] = {}
    todo: list[tuple[Path, int]] = []
    here = Path(os.path.abspath(run.target.root))
    for d in [here, *here.parents]:
        if not os.path.join(str(d), "").startswith(os.path.join(root, "")):
            break  # ruff's search above the repository: in ``ruff``'s "configs"
        for name in RUFF_CONFIGS:
            todo.append((d / name, 0))
    inside = os.path.join(root, "")
    while todo:
        path, depth = todo.pop(0)
        key = os.path.relpath(path, root) if str(path).startswith(inside) else str(path)
        if key in found:
            continue
        kind, table = _ruff_table(path, root)
        if kind == "missing":
            continue
        found[key] = [kind, table]
        extended = _ruff_extends(table, path) if kind == "table" else None
        if extended is not None and depth < RUFF_EXTEND_DEPTH:
            todo.append((extended, depth + 1))
    return found


def ruff(run: Run) -> object:
    exe = _process.which("ruff")
    configs: dict[str, str | None] = {}
    for d in Path(os.path.abspath(run.root)).parents:  # ruff's config search goes up past the repo
        for name in RUFF_CONFIGS:
            found = _file_id(str(d / name))
            if found:
                configs[str(d / name)] = found
    user = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    for name in RUFF_CONFIGS:
        path = os.path.join(user, "ruff", name)
        configs[path] = _file_id(path)
    return {
        "exe": executable(exe),
        "version": _process.tool_version(exe) if exe else None,
        "env": _env((), ("RUFF_",)),
        "configs": configs,
        "repository": ruff_configs(run),
    }


# --- pyright: the interpreters and their packages --------------------------------------------


@functools.cache
def _sys_path(python: str) -> tuple[str, ...]:
    """``sys.path`` of ``python`` (as pyright asks it), without the current directory. For the
    running interpreter its own (a superset: pytest may have added directories), without
    starting another."""
    if python == sys.executable:
        return tuple(p for p in sys.path if p)
    try:
        proc = subprocess.run(
            (python, "-c", "import json, sys; print(json.dumps(sys.path))"),
            capture_output=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
            cwd=os.path.dirname(python) or None)
        paths = json.loads(proc.stdout.decode("utf-8", "replace") or "[]")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return ("unusable",)
    if not isinstance(paths, list):
        return ("unusable",)
    return tuple(str(p) for p in paths if p)  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]


@functools.cache
def _directory(path: str) -> tuple[object, ...]:
    """A search-path entry: the names in it (a package installed, removed or upgraded changes
    them: ``name-1.2.dist-info``) and the content of its ``.pth`` files (editable installs)."""
    try:
        # bytecode caches appear on a first run and import nothing
        names = sorted(n for n in os.listdir(path) if n != "__pycache__")
    except NotADirectoryError:  # a zip file
        return ("file", _file_id(path))
    except OSError:
        return ("missing",)
    pth = {n: _file_id(os.path.join(path, n)) for n in names if n.endswith(".pth")}
    return (names, pth)


def interpreters(run: Run) -> list[str]:
    """Every interpreter pyright may ask for its search paths, whichever way it is chosen:
    the ``python`` setting, ``--pythonpath`` in ``args``, the target's ``venvPath``/``venv`` or
    ``pythonPath``, the one running pytest, and ``python3``/``python`` on ``PATH``."""
    found: list[str] = [sys.executable]
    settings = run.settings
    python = settings.get("python")
    if isinstance(python, str) and python != "auto":
        found.append(os.path.join(run.root, python))
    args = list(settings.get("args", ()))
    for i, arg in enumerate(args):
        if arg == "--pythonpath" and i + 1 < len(args):
            found.append(os.path.join(run.target.root, args[i + 1]))
        elif arg.startswith("--pythonpath="):
            found.append(os.path.join(run.target.root, arg.split("=", 1)[1]))
    from pytest_guardrails.guardrails import pyright as pyright_guardrail

    config = pyright_guardrail.config_file(run.target.root)
    try:
        data: dict[str, Any] = (
            pyright_guardrail._read(config, run.target.root.resolve()) or {}) if config else {}  # pyright: ignore[reportPrivateUsage]
    except GuardrailError:  # a config pyright will not be run with (a symlink out)
        data = {}
    if isinstance(data.get("pythonPath"), str):
        found.append(os.path.join(run.target.root, data["pythonPath"]))
    if isinstance(data.get("venv"), str):
        base = data.get("venvPath") if isinstance(data.get("venvPath"), str) else "."
        venv = os.path.join(run.target.root, str(base), data["venv"])
        found += [os.path.join(venv, "bin", "python"), os.path.join(venv, "Scripts", "python.exe")]
    if "python" not in settings:  # a pyright without the ``python`` key: the one on PATH
        for name in ("python3", "python"):
            exe = shutil.which(name)
            if exe:
                found.append(exe)
    out: list[str] = []
    for exe in found:
        if os.path.isfile(exe) and exe not in out:
            out.append(exe)
    return out


def pyright(run: Run) -> object:
    exe = _process.which("pyright")
    from pytest_guardrails.guardrails import pyright as pyright_guardrail

    packages: dict[str, object] = {}
    inside = os.path.join(os.path.abspath(run.root), "")
    for python in interpreters(run):
        # directories inside the repository count through its files
        paths = [p for p in _sys_path(python)
                 if not os.path.join(os.path.abspath(p), "").startswith(inside)]
        packages[python] = [[p, _directory(p)] for p in paths]
    return {
        "exe": executable(exe),
        "launch": [executable(p) for p in pyright_guardrail.launch(exe)] if exe else None,
        "version": pyright_guardrail.bundled_version(exe) if exe else None,
        "env": _env(PYRIGHT_ENV, PYRIGHT_ENV_PREFIXES),
        "packages": packages,
    }
