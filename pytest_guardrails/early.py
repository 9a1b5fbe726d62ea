"""Start the slow guardrails' tools (pyright) when pytest is configured, not when an item runs.

Under pytest-xdist an item runs only once a worker has booted, imported the plugins and
collected: on a small tree that is a quarter of pyright's own time. So the controller starts each
slow tool as soon as the guardrails' settings are read (in ``pytest_configure``, before xdist
sets up its scheduler and starts its workers), in a process group of its own, with
its output going to files in a temporary directory; the item that needs that exact command later
(same argv, directory, environment and stdin) takes the finished output instead of starting the
tool again (it sleeps on the job's FIFO until the controller says the tool has ended). The item
still parses it, so results are those of a run without xdist, and each tool still runs once per
target.

How the controller knows the command: it calls the guardrail's own ``check`` with tool runs
*captured*: ``_process.run_tool`` raises ``Captured`` with the command instead of running it. A
check that gets that far without a problem is started early; anything else (nothing to check, tool
missing, cache hit, a selection that may not run the item) is left to the item, as without this.

Nothing is left behind: the controller kills every process group it started that is still
running when the session ends (also on Ctrl-C) and removes the directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
import hashlib
import json
import os
from pathlib import Path
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from typing import TYPE_CHECKING
from typing import Any

import pytest

from pytest_guardrails.api import Run

if TYPE_CHECKING:
    from pytest_guardrails._process import Result
    from pytest_guardrails.session import GuardrailsSession

#: seconds an item waits for an early run beyond the tool's own timeout (the controller kills
#: the tool at its timeout; this only guards against a controller that died)
GRACE = 30.0
#: the waiter blocks on the job's FIFO (``wake``), which the controller opens once ``rc`` is
#: written; it looks at ``rc`` again at least every RECHECK seconds (its deadline, a lost
#: wake-up) and every POLL seconds where there is no FIFO (Windows)
RECHECK = 1.0
POLL = 0.02
WAKE = "wake"
#: set by pytest and xdist in workers and during an item, read by no tool run with JSON output
#: (PYTEST_* too); not part of what makes two commands the same
SESSION_ENV = ("COLUMNS", "LINES")


@dataclass(frozen=True)
class Invocation:
    argv: tuple[str, ...]
    cwd: str
    env: Mapping[str, str] | None
    stdin: str | None
    timeout: float

    @property
    def key(self) -> str:
        env = None if self.env is None else sorted(
            (k, v) for k, v in self.env.items() if not k.startswith("PYTEST_") and k not in SESSION_ENV)
        text = json.dumps([self.argv, self.cwd, env, self.stdin], ensure_ascii=True)
        return hashlib.sha256(text.encode()).hexdigest()


class Captured(BaseException):
    """Raised by ``run_tool`` while capturing: the command a check would run (a BaseException,
    so a check's ``except Exception`` cannot swallow it)."""

    def __init__(self, invocation: Invocation) -> None:
        super().__init__(invocation.argv[0])
        self.invocation = invocation


_capturing = threading.local()
#: key -> the directory holding that run's ``out``, ``err`` and (when done) ``rc`` files
_ready: dict[str, str] = {}


def intercept(argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None, stdin: str | None,
              timeout: float) -> Result | None:
    """Called by ``_process.run_tool`` first: raise ``Captured`` while capturing; the output of
    an early run of exactly this command if there is one (each is taken once); else None."""
    inv = Invocation(tuple(argv), str(cwd), env, stdin, timeout)
    if getattr(_capturing, "on", False):
        raise Captured(inv)
    if not _ready:
        return None
    directory = _ready.pop(inv.key, None)
    if directory is None:
        return None
    return _collect(inv, Path(directory))


def _collect(inv: Invocation, directory: Path) -> Result:
    from pytest_guardrails._process import ProcessTimeout
    from pytest_guardrails._process import Result

    rc = directory / "rc"
    if not _wait(rc, directory / WAKE, time.monotonic() + inv.timeout + GRACE):
        raise ProcessTimeout(inv.argv, inv.timeout, "", "")
    status = rc.read_text(encoding="ascii").strip()
    out = (directory / "out").read_bytes().decode("utf-8", "replace")
    err = (directory / "err").read_bytes().decode("utf-8", "replace")
    if status == "timeout":
        raise ProcessTimeout(inv.argv, inv.timeout, out, err)
    if status.startswith("oserror:"):
        raise OSError(status[len("oserror:"):])
    return Result(inv.argv, int(status), out, err)


def _wait(rc: Path, wake: Path, deadline: float) -> bool:
    """Until ``rc`` exists (True) or the deadline (False), without waking 50 times a second:
    on a busy 2-core machine those wake-ups cost pyright, next door, seconds over a run.

    The FIFO is opened before ``rc`` is looked at and the controller opens it only after writing
    ``rc``, so the wake-up cannot be missed: either the controller finds the waiter there, or
    the waiter finds ``rc``."""
    fd: int | None = None
    poller = None
    if hasattr(os, "mkfifo") and hasattr(select, "poll"):  # poll: select fails past fd 1023
        try:
            fd = os.open(wake, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:  # no FIFO (it could not be made): poll
            fd = None
        else:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
    try:
        while not rc.exists():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if poller is None:
                time.sleep(min(POLL, left))
                continue
            ready = poller.poll(min(RECHECK, left) * 1000)
            if ready and not rc.exists():
                # a FIFO that reads as ended before any writer came (not Linux's): poll
                time.sleep(min(POLL, left))
        return True
    finally:
        if fd is not None:
            os.close(fd)


class _Job:
    """One tool run started early by a thread that then blocks until it ends and writes ``rc``
    (atomically); a timer kills it at its timeout. (``Popen.wait(timeout)`` would instead wake
    up 20 times a second for the whole run, and see the exit up to 50 ms late.)

    The thread, not the main one, starts the process: Ctrl-C raises ``KeyboardInterrupt`` in
    the main thread only, and one raised inside ``Popen`` after the fork would lose the process
    (``Popen`` returns nothing to kill). The lock makes ``kill`` and the start exclusive: a job
    killed before its process exists never starts it."""

    def __init__(self, inv: Invocation, directory: Path) -> None:
        self.inv = inv
        self.directory = directory
        self.proc: subprocess.Popen[bytes] | None = None
        self.thread = threading.Thread(target=self._watch, name="guardrails-early", daemon=True)
        # a guardrail from a plugin may pass any timeout: Timer refuses one past TIMEOUT_MAX
        self.timer = threading.Timer(min(inv.timeout, threading.TIMEOUT_MAX), self._expire)
        self.timer.daemon = True
        self.expired = False
        self.lock = threading.Lock()
        self.stopped = False

    def start(self) -> None:
        if hasattr(os, "mkfifo"):
            try:
                os.mkfifo(self.directory / WAKE, 0o600)
            except OSError:  # the waiter polls instead
                pass
        self.thread.start()

    def _launch(self) -> subprocess.Popen[bytes] | None:
        """The process, started unless the job was killed first (then, or if it cannot start,
        ``rc`` says so and None)."""
        with self.lock:
            if self.stopped:
                self._done("oserror:the session ended before it started")
                return None
            with open(self.directory / "out", "wb") as out, \
                    open(self.directory / "err", "wb") as err:
                try:
                    self.proc = subprocess.Popen(
                        list(self.inv.argv), cwd=self.inv.cwd,
                        env=dict(self.inv.env) if self.inv.env is not None else None,
                        stdin=subprocess.PIPE if self.inv.stdin is not None else subprocess.DEVNULL,
                        stdout=out, stderr=err, start_new_session=os.name == "posix")
                except OSError as exc:
                    self._done(f"oserror:{exc.strerror or exc}")
                    return None
            self.timer.start()  # before anything can block: writing stdin to a tool that never reads
            return self.proc

    def _expire(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:  # it ended as the timer fired
            return
        self.expired = True
        self.kill()

    def _watch(self) -> None:
        proc = self._launch()
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                try:
                    proc.stdin.write((self.inv.stdin or "").encode("utf-8"))
                    proc.stdin.close()
                except OSError:  # it exited (or was killed) before reading: see below
                    try:
                        proc.stdin.close()  # flushes what is left in vain, but closes the pipe
                    except OSError:
                        pass
            proc.wait()
        finally:
            self.timer.cancel()
        self._done("timeout" if self.expired else str(proc.returncode))

    def _done(self, status: str) -> None:
        tmp = self.directory / "rc.tmp"
        tmp.write_text(status, encoding="ascii")
        os.replace(tmp, self.directory / "rc")
        try:  # wake the waiter; none there yet (ENXIO) or no FIFO: it looks at rc first
            fd = os.open(self.directory / WAKE, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return
        os.close(fd)

    def kill(self) -> None:
        with self.lock:
            self.stopped = True
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except OSError:
            pass


def _selected(config: pytest.Config, anchor: Path) -> set[str] | bool:
    """The item names this session runs: True for all, a set of names, or False when the
    selection (``-k``, ``-m``, ``--lf``, ``--deselect``, collect-only, ...) may skip any."""
    from pytest_guardrails.plugin import addresses_anchor

    opt = config.option
    if (getattr(opt, "keyword", "") or getattr(opt, "markexpr", "") or getattr(opt, "deselect", None)
            or getattr(opt, "lf", False) or getattr(opt, "collectonly", False)
            or getattr(opt, "setuponly", False) or getattr(opt, "setupplan", False)):
        return False
    names: set[str] = set()
    invocation_dir = config.invocation_params.dir
    for arg in map(str, config.args):
        if not addresses_anchor(arg, invocation_dir, anchor):
            if os.path.abspath(invocation_dir / arg.split("::", 1)[0]) in map(str, anchor.parents):
                return True  # a directory holding the anchor
            continue
        parts = arg.split("::")
        if len(parts) == 1:
            return True
        names.add(parts[1])
    return names


class EarlyStart:
    """Registered as ``guardrails-early`` when a guardrail is ``slow``: starts those tools on
    the controller, tells xdist workers where the output goes, and cleans up."""

    NAME = "guardrails-early"

    def __init__(self, plugin: GuardrailsSession) -> None:
        self.plugin = plugin
        self.config = plugin.config
        self.jobs: list[_Job] = []
        self.directory: Path | None = None
        workerinput: dict[str, Any] = getattr(self.config, "workerinput", {})
        _ready.clear()
        _ready.update(workerinput.get("guardrails_early", {}))

    def start(self) -> None:
        """Start the slow tools. Called once the guardrails' settings are read (from the
        guardrails' ``pytest_configure``): the earliest moment the commands are known, and each
        tenth of a second before pyright starts is a tenth of a second on the run. Called after
        this plugin is registered, so its ``pytest_unconfigure`` stops what was started however
        pytest stops (a later plugin's usage error, Ctrl-C). Not for the commands that configure
        pytest and run no session (``--help``, ``--markers``)."""
        config = self.config
        if hasattr(config, "workerinput") or config.getoption("help", False) or config.getoption(
                "markers", False):
            return
        selected = _selected(self.config, self.plugin.anchor)
        if selected is False:
            return
        for name, g, target, settings, _mode in self.plugin.planned():
            if not g.slow or self.plugin.waiver_of(g, target) is not None:
                continue
            if selected is not True and name not in selected:
                continue
            run = Run(guardrail=g, target=target, project=self.plugin.project, settings=settings)
            if self._cached(run, name):
                continue
            inv = self._capture(run)
            if inv is None:
                continue
            try:
                self._start(inv)
            except (OSError, RuntimeError):  # no temporary directory, no thread: the item runs it
                continue

    def _cached(self, run: Run, name: str) -> bool:
        cache = self.plugin.cache
        if cache is None:
            return False
        try:
            key = cache.key_of(run)
        except Exception:  # the item computes it again and decides
            return False
        return key is not None and cache.get(name, key) is not None

    @staticmethod
    def _capture(run: Run) -> Invocation | None:
        _capturing.on = True
        try:
            list(run.guardrail.check(run))
        except Captured as captured:
            return captured.invocation
        except Exception:  # not applicable, cannot run, ...: the item says so itself
            return None
        finally:
            _capturing.on = False
        return None  # it ran no tool

    def _start(self, inv: Invocation) -> None:
        if inv.key in _ready:
            return
        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="pytest-guardrails-"))
        job_dir = self.directory / str(len(self.jobs))
        job_dir.mkdir()
        job = _Job(inv, job_dir)
        self.jobs.append(job)
        job.start()
        _ready[inv.key] = str(job_dir)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:  # xdist.workermanage.WorkerController
        node.workerinput["guardrails_early"] = dict(_ready)

    def pytest_sessionfinish(self) -> None:
        self.close()

    def pytest_unconfigure(self) -> None:
        self.close()

    def close(self) -> None:
        """Kill what still runs (a deselected or interrupted item's tool), remove the files."""
        for job in self.jobs:
            job.kill()
            if job.thread.is_alive():
                job.thread.join(timeout=10)
        self.jobs.clear()
        _ready.clear()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
