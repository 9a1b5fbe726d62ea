"""Run an external tool: argv list (never a shell), always a timeout, output captured.

Tools resolve to the scripts directory of the Python running pytest first (where ``pip install``
put them next to pytest), then ``PATH``. On a timeout the tool's whole process group is killed
(SIGKILL: a tool that ignores SIGTERM stops too), so a wrapper that started a child (pyright's
Python launcher starts Node) cannot keep the pipes open and hang the run. A tool runs in its own
session, so a Ctrl-C or a SIGTERM meant for pytest does not reach it: while tools run, pytest's
SIGTERM and SIGINT kill their process groups before pytest itself stops.

A guardrail's ``timeout`` bounds its whole item: a ``Deadline`` started with the item is what
its version probe and its tool run share.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
import functools
import os
from pathlib import Path
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from types import FrameType
from typing import Callable
from typing import Union
from typing import cast

from pytest_guardrails.api import CannotRun
from pytest_guardrails.api import GuardrailError

#: lines of stdout/stderr kept (each) in a failure text; the tail is what explains a crash
SHOWN_LINES = 40


@dataclass(frozen=True)
class Result:
    """A finished process: its argv, exit code and decoded output."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        """pre-commit's failure layout: ``command:``, ``return code:``, ``stdout:``, ``stderr:``."""
        return describe(self.argv, self.returncode, self.stdout, self.stderr)


class ProcessTimeout(Exception):
    """The process ran longer than its timeout and was killed (with its children)."""

    def __init__(self, argv: Sequence[str], timeout: float, stdout: str, stderr: str) -> None:
        super().__init__(f"timed out after {timeout:g} s")
        self.argv = tuple(argv)
        self.timeout = timeout
        self.stdout = stdout
        self.stderr = stderr

    def describe(self) -> str:
        return describe(self.argv, f"none (killed after {self.timeout:g} s)", self.stdout,
                        self.stderr)


def _indent_or_none(text: str) -> str:
    lines = text.rstrip().splitlines()
    if not lines:
        return " (none)"
    if len(lines) > SHOWN_LINES:
        cut = len(lines) - SHOWN_LINES
        lines = [f"... ({cut} earlier lines not shown)", *lines[-SHOWN_LINES:]]
    return "".join(f"\n    {line}" for line in lines)


def describe(argv: Sequence[str], returncode: int | str, stdout: str, stderr: str) -> str:
    return "\n".join((
        f"command: {shlex.join(argv)}",
        f"return code: {returncode}",
        f"stdout:{_indent_or_none(stdout)}",
        f"stderr:{_indent_or_none(stderr)}",
    ))


def bin_dirs() -> list[str]:
    """Where the running Python's console scripts live: sysconfig's scripts dir, then the
    directory of ``sys.executable`` (they differ for some layouts, e.g. Windows, user installs)."""
    dirs: list[str] = []
    for d in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        if d and d not in dirs:
            dirs.append(d)
    return dirs


def which(name: str) -> str | None:
    """The executable ``name``: in the running Python's environment first, then on ``PATH``."""
    for d in bin_dirs():
        found = shutil.which(name, path=d)
        if found:
            return found
    return shutil.which(name)


class Deadline:
    """``seconds`` from now: what the steps of one item (version probe, tool run) share."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self, at_most: float | None = None) -> float:
        """Seconds left (a little more than none when none are: the step then times out)."""
        left = max(self.end - time.monotonic(), 0.01)
        return left if at_most is None else min(left, at_most)


Timeout = Union[float, Deadline]

#: process groups of the tools running now (killed when pytest is told to stop)
_running: set[int] = set()
_Handler = Union[Callable[[int, Union[FrameType, None]], object], int, None]
_previous: dict[int, _Handler] = {}


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """SIGTERM/SIGINT while tools run: kill their groups, then do what pytest would have done."""
    for pgid in list(_running):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    previous = _previous.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_DFL:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _watch_signals() -> None:
    """Install ``_on_signal`` once (only the main thread may install handlers)."""
    if os.name != "posix" or threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        current = signal.getsignal(signum)
        if current is not _on_signal:
            _previous[signum] = current
            signal.signal(signum, _on_signal)


def run(argv: Sequence[str], *, cwd: Path, timeout: Timeout,
        env: Mapping[str, str] | None = None, stdin: str | None = None) -> Result:
    """Run ``argv`` in ``cwd``; raise ``ProcessTimeout`` after ``timeout`` seconds (or when the
    ``Deadline`` passes).

    ``OSError`` (not executable, vanished) propagates to the caller.
    """
    posix = os.name == "posix"
    seconds = timeout.left() if isinstance(timeout, Deadline) else timeout
    shown = timeout.seconds if isinstance(timeout, Deadline) else timeout
    if posix:
        _watch_signals()
    proc = subprocess.Popen(
        list(argv), cwd=cwd, env=dict(env) if env is not None else None,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=posix,
    )
    _running.add(proc.pid)
    try:
        out, err = proc.communicate(
            stdin.encode("utf-8") if stdin is not None else None, timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill(proc, posix)
        out, err = _drain(proc)
        raise ProcessTimeout(argv, shown, _decode(out), _decode(err)) from None
    except BaseException:  # KeyboardInterrupt: leave no orphan behind
        _kill(proc, posix)
        proc.wait()
        raise
    finally:
        _running.discard(proc.pid)
    return Result(tuple(argv), proc.returncode, _decode(out), _decode(err))


def _kill(proc: subprocess.Popen[bytes], posix: bool) -> None:
    try:
        if posix:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:  # already gone
        pass


def _drain(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    try:
        return proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # a grandchild outside the group still holds a pipe
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()
        return b"", b""


def _decode(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", "replace")


def relative(root: Path, filename: str) -> str:
    """``filename`` (absolute, as ruff and pyright print it) relative to the repo root."""
    prefix = os.path.join(str(root), "")
    if (os.sep == "/" and filename.startswith(prefix)
            and os.path.normpath(filename) == filename):  # the common case, without pathlib's
        return filename[len(prefix):]
    path = Path(filename)
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:  # the tool printed the real path of a root reached through a symlink
        return path.relative_to(_resolved(root)).as_posix()
    except ValueError:
        pass
    rel = os.path.relpath(filename, root)
    return Path(rel).as_posix()


@functools.lru_cache(maxsize=64)
def _resolved(root: Path) -> Path:
    """``root.resolve()``, once per root: asked for each of a tool's findings."""
    return root.resolve()



def dig(data: object, *keys: str) -> object:
    """``data[k1][k2]...`` through JSON objects; None where a key or an object is missing."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = cast("dict[str, object]", data).get(key)
    return data


def as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_list(value: object) -> list[object] | None:
    return cast("list[object]", value) if isinstance(value, list) else None


# --- tools for guardrails: missing -> CannotRun, crash or timeout -> GuardrailError ----------


def find_tool(name: str, install: str) -> str:
    """The path of tool ``name`` or ``CannotRun`` naming the pip requirement ``install``."""
    exe = which(name)
    if exe is None:
        raise CannotRun(
            f"{name} not found (looked in {os.pathsep.join(bin_dirs())} and on PATH)",
            f"install it next to pytest: {shlex.quote(sys.executable)} -m pip install "
            f"{shlex.quote(install)}",
        )
    return exe


def run_tool(name: str, argv: Sequence[str], *, cwd: Path, timeout: Timeout,
             env: Mapping[str, str] | None = None, stdin: str | None = None) -> Result:
    """``run`` for a guardrail's tool: a timeout or a failure to start is a ``GuardrailError``.
    A run of exactly this command started early, when pytest is configured (``early``), is taken instead."""
    from pytest_guardrails import early

    try:
        seconds = timeout.seconds if isinstance(timeout, Deadline) else timeout
        started = early.intercept(argv, cwd, env, stdin, seconds)
        if started is not None:
            return started
        return run(argv, cwd=cwd, timeout=timeout, env=env, stdin=stdin)
    except ProcessTimeout as exc:
        raise GuardrailError(
            f"{name} timed out after {exc.timeout:g} s (raise [tool.guardrails.{name}] timeout)\n"
            + exc.describe()) from None
    except OSError as exc:
        raise GuardrailError(f"{name} could not be started: {argv[0]}: {exc.strerror or exc}"
                             ) from None


def fix_in_submodule(path: str) -> str:
    """The fix for a finding in a submodule: the backend never edits vendored code."""
    return (f"fix it in the submodule's own repository ({path}), commit there, then bump the "
            "submodule here")


def crashed(name: str, result: Result, why: str) -> GuardrailError:
    """The error for a tool run whose output cannot be used."""
    return GuardrailError(f"{name} crashed ({why})\n" + result.describe())


_versions: dict[str, str | None] = {}


def tool_version(exe: str, timeout: float = 30, env: Mapping[str, str] | None = None
                 ) -> str | None:
    """First line of ``exe --version`` (``ruff 0.17.6``), cached per process; None if it fails."""
    if exe not in _versions:
        try:
            result = run((exe, "--version"), cwd=Path.cwd(), timeout=timeout, env=env)
        except (OSError, ProcessTimeout):
            _versions[exe] = None
        else:
            lines = result.stdout.strip().splitlines()
            ok = result.returncode == 0 and lines
            _versions[exe] = lines[0].strip() if ok else None
    return _versions[exe]
