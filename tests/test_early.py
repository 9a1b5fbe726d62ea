"""pyright starts on the controller as pytest is configured (before xdist's workers boot); the item
that needs it takes its output. Same results as -n 0, once per target, nothing left behind."""

from __future__ import annotations

import os
from pathlib import Path
import resource
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest

from conftest import Backend
from pytest_guardrails import _process
from pytest_guardrails import early
from tests import test_ruff
from tests.test_ruff import Env
from tests.test_ruff import junit
from tests.test_ruff import pyright_exe
from tests.test_ruff import ruff_exe
from tests.test_ruff import with_violations

venv = test_ruff.venv


@pytest.fixture
def typed(backend: Backend) -> Backend:
    return with_violations(backend, {"python/src/synesthetic_schemas/bad.py": "n: int = 'x'\n"})


def popen(env: Env, backend: Backend, *args: str) -> subprocess.Popen[str]:
    """pytest --guardrails-only in ``backend`` by the venv's python, without blocking."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    argv = [str(env.python), "-m", "pytest", "-p", "guardrails", "-p", "no:cacheprovider",
            "--guardrails-only", *args]
    if "-n" in args:
        argv[3:3] = ["-p", "xdist"]
    return subprocess.Popen(argv, cwd=backend.path, env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def logging_wrappers(env: Env, log: Path) -> None:
    """ruff and pyright that log (tool, parent pid, cwd) before running the real ones."""
    for name, real in (("ruff", ruff_exe()), ("pyright", pyright_exe())):
        env.script(name, f'printf "%s\\t%s\\t%s\\t%s\\n" {name} "$PPID" "$PWD" "$*" >> {log}\n'
                         f'exec {real} "$@"')


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("workers", ["2", "0"])
def test_pyright_starts_on_the_controller_once_per_target(typed: Backend, venv: Env,
                                                          tmp_path: Path, workers: str) -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads /proc")
    log = tmp_path / "calls.log"
    logging_wrappers(venv, log)
    before = typed.state()
    xml = tmp_path / "junit.xml"
    proc = popen(venv, typed, "-n", workers, "-v", "--guardrails-mode=strict",
                 f"--junitxml={xml}")
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 1, out
    calls = [line.split("\t") for line in log.read_text().splitlines()]
    # not checks: version probes, and ruff listing what it lints after a run with no finding
    checks = [c for c in calls if "--version" not in c[3] and "--show-files" not in c[3]]
    runs = sorted((tool, cwd) for tool, _, cwd, _ in checks)
    root, schemas = str(typed.path), str(typed.schemas)
    assert runs == [("pyright", root), ("pyright", schemas), ("ruff", root), ("ruff", schemas)]
    listed = [cwd for tool, _, cwd, args in calls if "--show-files" in args]
    assert listed == [schemas]  # the root's ruff found the unused import
    # pyright's parent is the pytest process itself (the controller), ruff's a worker under -n 2
    parents = {(tool, cwd): int(ppid) for tool, ppid, cwd, _ in checks}
    assert parents[("pyright", root)] == parents[("pyright", schemas)] == proc.pid
    if workers == "2":
        assert parents[("ruff", root)] != proc.pid
    cases = junit(xml)
    assert cases["pyright"].outcome == cases["pyright[libs/schemas]"].outcome == "failure"
    assert "app/bad.py:3:10: reportAssignmentType" in cases["pyright"].text
    assert "libs/schemas/python/src/synesthetic_schemas/bad.py:1:10: reportAssignmentType" in (
        cases["pyright[libs/schemas]"].text)
    assert typed.state() == before


def test_same_results_with_and_without_xdist(typed: Backend, tmp_path: Path) -> None:
    results = {}
    for workers in ("0", "2"):
        xml = tmp_path / f"junit-{workers}.xml"
        result = typed.run("--guardrails-only", "-n", workers, "--guardrails-mode=strict",
                           f"--junitxml={xml}")
        assert result.ret == 1
        results[workers] = {n: (c.outcome, c.message, c.text) for n, c in junit(xml).items()}
    assert results["0"] == results["2"]
    assert results["0"]["pyright"][0] == "failure"


@pytest.mark.parametrize("how", ["interrupt", "session end"])
def test_no_process_is_left_behind(typed: Backend, venv: Env, tmp_path: Path, how: str) -> None:
    """Ctrl-C while pyright runs, or a session that ends (-x) before the item that needed it."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads /proc")
    pids = tmp_path / "pids"
    venv.script("pyright", f'echo $$ >> {pids}\nsleep 60 &\necho $! >> {pids}\nwait')
    if how == "interrupt":
        proc = popen(venv, typed, "-n", "2")
        deadline = time.monotonic() + 120
        while not (pids.exists() and len(pids.read_text().split()) >= 4):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        assert "KeyboardInterrupt" in out
    else:  # strict: ruff fails first (-n 0 runs items in order), so -x stops before pyright
        proc = popen(venv, typed, "-x", "--guardrails-mode=strict")
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 1 and "stopping after 1 failures" in out, out
        assert "pyright" not in out.split("short test summary")[-1]
    time.sleep(0.5)
    started = [int(p) for p in pids.read_text().split()]
    assert started, out
    assert not [p for p in started if alive(p)], out


@pytest.mark.parametrize("command", ["--help", "--markers"])
def test_a_command_that_runs_no_session_starts_no_tool(typed: Backend, venv: Env, tmp_path: Path,
                                                       command: str) -> None:
    log = tmp_path / "calls.log"
    logging_wrappers(venv, log)
    out, _ = popen(venv, typed, "-n", "2", command).communicate(timeout=120)
    assert "guardrail" in out
    assert not log.exists(), log.read_text()


def test_a_configure_error_after_the_start_leaves_no_process(typed: Backend, venv: Env,
                                                            tmp_path: Path) -> None:
    """pyright starts while pytest is configured; a plugin configured after the guardrails
    that stops pytest there (a usage error) still leaves nothing running."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads /proc")
    pids = tmp_path / "pids"
    venv.script("pyright", f'echo $$ >> {pids}\nsleep 60 &\necho $! >> {pids}\nwait')
    (tmp_path / "stopper.py").write_text(
        "import pathlib, time\nimport pytest\n\n"
        "@pytest.hookimpl(trylast=True)\ndef pytest_configure(config):\n"
        f"    pids, deadline = pathlib.Path({str(pids)!r}), time.monotonic() + 60\n"
        "    while time.monotonic() < deadline and len(pids.read_text().split()"
        " if pids.exists() else ()) < 2:\n"
        "        time.sleep(0.05)\n"
        "    raise pytest.UsageError('stopped while configuring')\n", encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environ.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONPATH=str(tmp_path))
    proc = subprocess.run(
        [str(venv.python), "-m", "pytest", "-p", "guardrails", "-p", "stopper", "-p",
         "no:cacheprovider", "--guardrails-only"], cwd=typed.path, env=environ,
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4 and "stopped while configuring" in proc.stderr, proc.stderr
    time.sleep(0.5)
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) >= 2, started
    assert not [p for p in started if alive(p)]


def test_ctrl_c_as_the_tool_starts_leaves_no_process(typed: Backend, venv: Env,
                                                     tmp_path: Path) -> None:
    """pyright starts while pytest is still being configured; a Ctrl-C at that moment (here
    sent by the tool itself, to the process that started it) still leaves nothing running."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads /proc")
    pids = tmp_path / "pids"
    venv.script("pyright", f'echo $$ >> {pids}\nsleep 60 &\necho $! >> {pids}\n'
                           'kill -INT $PPID\nwait')
    out, _ = popen(venv, typed, "-n", "2").communicate(timeout=120)
    time.sleep(0.5)
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) >= 2, out
    assert not [p for p in started if alive(p)], out


def test_without_a_temporary_directory_the_item_runs_the_tool(
        typed: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", "/tmp")

    monkeypatch.setattr(early.tempfile, "mkdtemp", refuse)
    result = typed.run("--guardrails-only", "--guardrails-mode=strict")  # no -k: it turns the early start off
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(["*app/bad.py:3:10: reportAssignmentType*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_timeout_of_an_early_run(typed: Backend, venv: Env, tmp_path: Path) -> None:
    """The controller stops the tool at its timeout; the item reports it as a run of its own."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads /proc")
    pids = tmp_path / "pids"
    venv.script("pyright", f'echo $$ >> {pids}\nsleep 60 &\necho $! >> {pids}\nwait\nexit 0')
    typed.write({"pyproject.toml": (typed.path / "pyproject.toml").read_text()
                 + "\n[tool.guardrails.pyright]\ntimeout = 2\n"})
    start = time.monotonic()
    proc = venv.pytest(typed, "--guardrails-only", "--guardrails-mode=strict")
    assert time.monotonic() - start < 30  # GRACE (30 s) would be on top of the 2 s timeout
    assert not [p for p in map(int, pids.read_text().split()) if alive(p)]
    reason = "pyright timed out after 2 s (raise [tool.guardrails.pyright] timeout)"
    assert proc.returncode == 1, proc.stdout
    assert (f"pyright[libs/schemas]: error: {reason}\n"
            f"command: {venv.bin / 'pyright'} --outputjson -p {typed.schemas} --pythonpath "
            f"{venv.python} -\n"
            "return code: none (killed after 2 s)\nstdout: (none)\nstderr: (none)\n") in proc.stdout


def _job(tmp_path: Path, seconds: float) -> tuple[early._Job, early.Invocation]:  # pyright: ignore[reportPrivateUsage]
    """A real tool run, started as the controller starts pyright: prints, then exits 3."""
    code = f"import time; time.sleep({seconds}); print('done')"
    inv = early.Invocation((sys.executable, "-c", code), str(tmp_path), None, None, 60.0)
    directory = tmp_path / "job"
    directory.mkdir()
    job = early._Job(inv, directory)  # pyright: ignore[reportPrivateUsage]
    job.start()
    return job, inv


@pytest.mark.parametrize("finished_first", [False, True])
def test_the_waiter_is_woken_not_polling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         finished_first: bool) -> None:
    """The item waits on the job's FIFO; with the periodic look at ``rc`` put off for a minute,
    only the controller's wake-up (or ``rc`` already there) can end the wait."""
    monkeypatch.setattr(early, "RECHECK", 60.0)
    job, inv = _job(tmp_path, 0.0 if finished_first else 0.5)
    assert stat.S_ISFIFO(os.stat(job.directory / early.WAKE).st_mode)
    if finished_first:
        job.thread.join(timeout=20)
        assert (job.directory / "rc").exists()
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(early._collect(inv, job.directory)),  # pyright: ignore[reportPrivateUsage]
                              daemon=True)
    waiter.start()
    waiter.join(timeout=20)
    assert not waiter.is_alive(), "the wake-up was lost: the waiter still sleeps"
    [result] = got
    assert isinstance(result, _process.Result)
    assert (result.returncode, result.stdout) == (0, "done\n")
    job.thread.join(timeout=20)


def test_without_a_fifo_the_waiter_polls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(early, "RECHECK", 60.0)
    job, inv = _job(tmp_path, 0.3)
    (job.directory / early.WAKE).unlink()
    result = early._collect(inv, job.directory)  # pyright: ignore[reportPrivateUsage]
    assert (result.returncode, result.stdout) == (0, "done\n")
    job.thread.join(timeout=20)


def test_the_waiter_works_past_a_thousand_open_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that ran a test suite may hold many files: the FIFO's descriptor is then above
    select()'s limit of 1023, which poll() does not have."""
    monkeypatch.setattr(early, "RECHECK", 60.0)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if max(soft, hard) < 1200:
        pytest.skip(f"at most {max(soft, hard)} open files here")
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        job, inv = _job(tmp_path, 0.3)
        result = early._collect(inv, job.directory)  # pyright: ignore[reportPrivateUsage]
        assert (result.returncode, result.stdout) == (0, "done\n")
        job.thread.join(timeout=20)
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_controller_does_not_poll_the_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The thread watching an early run blocks until the tool exits: ``Popen.wait(timeout)``
    would sleep and look again every 50 ms, next to pyright, for the whole run."""
    naps: list[float] = []
    sleep = time.sleep

    def counting(seconds: float) -> None:
        if threading.current_thread().name == "guardrails-early":
            naps.append(seconds)
        sleep(seconds)

    monkeypatch.setattr(time, "sleep", counting)
    job, inv = _job(tmp_path, 1.0)
    result = early._collect(inv, job.directory)  # pyright: ignore[reportPrivateUsage]
    job.thread.join(timeout=20)
    assert (result.returncode, result.stdout) == (0, "done\n")
    assert naps == []


def test_the_timeout_holds_when_the_tool_never_reads_its_input(tmp_path: Path) -> None:
    """Writing pyright's file list to a tool that never reads it blocks once the pipe is full:
    the timeout still ends the run."""
    inv = early.Invocation((sys.executable, "-c", "import time; time.sleep(60)"), str(tmp_path),
                           None, "x" * (4 << 20), 1.0)
    directory = tmp_path / "job"
    directory.mkdir()
    job = early._Job(inv, directory)  # pyright: ignore[reportPrivateUsage]
    start = time.monotonic()
    job.start()
    job.thread.join(timeout=20)
    assert not job.thread.is_alive()
    assert (directory / "rc").read_text(encoding="ascii") == "timeout"
    assert time.monotonic() - start < 10
    with pytest.raises(_process.ProcessTimeout):
        early._collect(inv, directory)  # pyright: ignore[reportPrivateUsage]
