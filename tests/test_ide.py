"""Where IDEs look: PyCharm's teamcity messages, VS Code's run payload, item locations, re-runs."""

from __future__ import annotations

import json
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET

import pytest

from conftest import Backend
from pytest_guardrails.report import SHOWN

#: 40 findings of one forbid guardrail, in a table that starts on a known line
FORBID = """
[tool.guardrails.forbid.no-print]
pattern = 'print\\('
files = ["app/**/*.py"]
message = "log instead"
"""
NOISY = "".join(f"print({i})\n" for i in range(40))
ID = "pyproject.toml::forbid-no-print"
HERE = Path(__file__).parent


@pytest.fixture
def noisy(backend: Backend) -> Backend:
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": pyproject + FORBID, "app/noisy.py": NOISY})
    return backend


def table_line(backend: Backend, header: str) -> int:
    lines = (backend.path / "pyproject.toml").read_text().splitlines()
    return lines.index(header) + 1


def teamcity(lines: list[str]) -> list[tuple[str, dict[str, str]]]:
    """The ``##teamcity[name key='value' ...]`` messages in a run's output, values unescaped."""
    out: list[tuple[str, dict[str, str]]] = []
    unescape = {"n": "\n", "r": "\r", "'": "'", "|": "|", "[": "[", "]": "]"}
    for line in lines:
        for m in re.finditer(r"##teamcity\[(\w+)((?: \w+='(?:[^'|]|\|.)*')*)\]", line):
            attrs = {k: re.sub(r"\|(.)", lambda e: unescape.get(e.group(1), e.group(0)), v)
                     for k, v in re.findall(r"(\w+)='((?:[^'|]|\|.)*)'", m.group(2))}
            out.append((m.group(1), attrs))
    return out


def test_item_location_is_its_table(noisy: Backend) -> None:
    items, _ = noisy.pytester.inline_genitems("-p", "guardrails", "--guardrails-only")
    by_id = {i.nodeid: i for i in items}
    ssot = table_line(noisy, "[tool.guardrails.version-ssot]")
    forbid = table_line(noisy, "[tool.guardrails.forbid.no-print]")
    # pytest's location line is 0-based: IDEs open line + 1
    assert by_id["pyproject.toml::version-ssot[libs/schemas]"].location == (
        "pyproject.toml", ssot - 1, "GR001 pyproject.toml::version-ssot[libs/schemas]")
    assert by_id[ID].location == ("pyproject.toml", forbid - 1, f"GR100 {ID}")
    assert by_id["pyproject.toml::ruff[libs/schemas]"].location == (
        "pyproject.toml", 0, "GR003 pyproject.toml::ruff[libs/schemas]")


def test_skip_points_at_the_table(noisy: Backend) -> None:
    pyproject = (noisy.path / "pyproject.toml").read_text()
    noisy.write({"pyproject.toml": pyproject + '[tool.guardrails.ignore]\n"forbid-no-print" = "later"\n'})
    noisy.run("--guardrails-only", "--junitxml=out.xml", ID).assert_outcomes(skipped=1)
    line = table_line(noisy, "[tool.guardrails.forbid.no-print]")
    skipped = ET.parse(noisy.path / "out.xml").find(".//skipped")
    assert skipped is not None
    assert skipped.text == f"{noisy.path / 'pyproject.toml'}:{line}: waived (forbid-no-print): later"


def test_strict_failure_heads_with_the_node_id(noisy: Backend) -> None:
    result = noisy.run("--guardrails-only", "--guardrails-mode=strict", ID)
    result.stdout.fnmatch_lines([f"*_ GR100 {ID} _*", "forbid-no-print: 40 forbidden matches"])
    assert "guardrails::" not in result.stdout.str()


def test_pycharm_warn_message_carries_findings_and_stays_small(noisy: Backend, pytest_python: str) -> None:
    """On the pytest here and on pytest 8.4 and 9.2: PyCharm runs pytest 8 with --no-summary."""
    lines = run_lines(noisy, pytest_python, "--guardrails-only", "-p", "teamcity.pytest_plugin",
                      "--teamcity", "--no-summary", ID)
    assert "1 xfailed" in lines[-1], lines[-1]
    messages = teamcity(lines)
    ignored = [a for name, a in messages if name == "testIgnored"]
    assert len(ignored) == 1
    message = ignored[0]["message"]
    lines = message.splitlines()
    assert lines[0] == f"{ID}: 40 forbidden matches"
    assert lines[1] == "    app/noisy.py:1:1: `print(` matches `print\\(`: log instead"
    assert f"    ... and {40 - SHOWN} more" in lines
    assert len(message) < 3000
    assert "pluggy" not in message and "Traceback" not in message and ".py:" in message
    # the whole list is the item's output, which PyCharm shows in the test's console
    out = "".join(a["out"] for name, a in messages if name == "testStdOut")
    assert all(f"app/noisy.py:{n}:1:" in out for n in range(1, 41))


def test_pycharm_strict_failure_carries_findings(noisy: Backend) -> None:
    result = noisy.run("--guardrails-only", "-p", "teamcity.pytest_plugin", "--teamcity",
                       "--no-summary", "--guardrails-mode=strict", ID)
    failed = [a for name, a in teamcity(result.stdout.lines) if name == "testFailed"]
    assert len(failed) == 1
    assert "app/noisy.py:40:1: `print(` matches" in failed[0]["details"]
    assert "pluggy" not in failed[0]["details"]


# --- VS Code --------------------------------------------------------------------------------

def read_frames(data: bytes) -> list[dict[str, object]]:
    """JSON-RPC frames as VS Code reads them: ``content-length`` headers, a blank line, JSON."""
    frames: list[dict[str, object]] = []
    text = data.decode("utf-8")
    while text:
        head, _, rest = text.partition("\r\n\r\n")
        length = int(re.search(r"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
        frames.append(json.loads(rest[:length]))
        text = rest[length:]
    return frames


def vscode_run(backend: Backend, tmp_path: Path, *args: str) -> dict[str, dict[str, object]]:
    """Run pytest as VS Code's test runner does (a named pipe in TEST_RUN_PIPE, its payload
    plugin), in a subprocess; returns the test results it sent, by node id."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    pipe = tmp_path / "run.pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []

    def reader() -> None:
        with open(pipe, "rb") as f:
            received.append(f.read())

    thread = threading.Thread(target=reader)
    thread.start()
    env = {**os.environ, "TEST_RUN_PIPE": str(pipe), "PYTHONPATH": str(HERE),
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "guardrails", "-p", "vscode_run_payload",
         "-p", "no:cacheprovider", *args],
        cwd=backend.path, env=env, capture_output=True, text=True, timeout=300, check=False)
    if not received:  # the plugin never opened the pipe: unblock the reader
        with open(pipe, "wb"):
            pass
    thread.join(timeout=60)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    results: dict[str, dict[str, object]] = {}
    for frame in read_frames(b"".join(received)):
        params = frame["params"]
        assert isinstance(params, dict)
        for test_id, result in (params.get("result") or {}).items():
            results[test_id.split("::", 1)[1]] = result
    return results


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="VS Code uses a named pipe on POSIX")
def test_vscode_payload(noisy: Backend, tmp_path: Path) -> None:
    strict = vscode_run(noisy, tmp_path / "strict", "--guardrails-only", "--guardrails-mode=strict", ID)
    assert strict["forbid-no-print"]["outcome"] == "failure"
    message = strict["forbid-no-print"]["message"]
    assert isinstance(message, str) and "app/noisy.py:40:1: `print(` matches" in message
    warn = vscode_run(noisy, tmp_path / "warn", "--guardrails-only", "--no-summary", ID)
    # the adapter sends no message for a skip or an xfail: the findings must be in the
    # item's own report sections, which the payload plugin records beside it
    assert warn["forbid-no-print"]["outcome"] == "skipped"
    assert warn["forbid-no-print"]["message"] is None
    sections = warn["forbid-no-print"]["sections"]
    assert isinstance(sections, list) and sections
    assert all(f"app/noisy.py:{n}:1:" in sections[0][1] for n in range(1, 41))


# --- re-runs: --lf / --ff on the pytest here and on pytest 8.4 and 9.2 -------------------------

#: pytest versions the re-run tests also run on, each in a throwaway venv sharing our packages
PYTESTS = ("8.4.*", "9.2.*")
RERUN = ("pyproject.toml::version-ssot[libs/schemas]", "pyproject.toml::legacy-examples[libs/schemas]")


@pytest.fixture(scope="session", params=["installed", *PYTESTS])
def pytest_python(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A python whose ``import pytest`` is the version asked for (a throwaway venv sharing
    everything else, the plugin included, with this interpreter), or ``""``: the pytest here.

    xdist workers share one venv per version (their base temp dirs have a common parent).
    """
    import fcntl

    from tests.test_ruff import Env

    spec: str = request.param
    if spec == "installed":
        return ""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "pytest-venvs"
    shared.mkdir(exist_ok=True)
    root = shared / spec.replace("*", "x")
    env = Env(root)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "ready").exists():
            shutil.rmtree(root, ignore_errors=True)
            subprocess.run((sys.executable, "-m", "venv", "--without-pip", str(root)), check=True,
                           timeout=120)
            purelib = subprocess.run(
                (str(env.python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"),
                capture_output=True, text=True, check=True, timeout=60).stdout.strip()
            pip = subprocess.run(
                (sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                 "--target", purelib, f"pytest=={spec}"), capture_output=True, text=True, timeout=300)
            assert pip.returncode == 0, f"pip could not install pytest=={spec}:\n{pip.stdout}{pip.stderr}"
            env.share_site_packages()
            (root / "ready").touch()
    probe = subprocess.run((str(env.python), "-c", "import pytest; print(pytest.__version__)"),
                           capture_output=True, text=True, check=True, timeout=60)
    assert probe.stdout.startswith(spec.rstrip("*")), probe.stdout
    return str(env.python)


def run_lines(backend: Backend, python: str, *args: str) -> list[str]:
    """pytest's output lines for a run in the backend (with its cache), by ``python`` (a
    ``pytest_python``), or in process when that is ``""``."""
    argv = ("-p", "guardrails", *args)
    if not python:
        return backend.pytester.runpytest(*argv).stdout.lines
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    proc = subprocess.run((python, "-m", "pytest", *argv), cwd=backend.path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    return proc.stdout.splitlines()


def rerun(backend: Backend, python: str, *args: str) -> tuple[str, list[str]]:
    """A strict run: its closing line and the items it ran."""
    lines = run_lines(backend, python, "--guardrails-only", "--guardrails-mode=strict", "-v",
                      "-k", "version-ssot or legacy-examples", *args)
    ran = [m.group(1) for ln in lines if (m := re.match(r"(pyproject\S*) (PASSED|FAILED)", ln))]
    return lines[-1].strip("= "), ran


def test_last_failed_reruns_exactly_the_failed_items(backend: Backend, pytest_python: str) -> None:
    from tests.test_engine import LEGACY
    from tests.test_engine import VIOLATIONS

    backend.write(VIOLATIONS)
    backend.write({"examples/Old.json": LEGACY}, in_schemas=True)
    summary, ran = rerun(backend, pytest_python)
    assert summary.startswith("2 failed, 1 passed"), summary
    summary, ran = rerun(backend, pytest_python, "--lf")
    assert summary.startswith("2 failed, 11 deselected"), summary
    assert ran == list(RERUN)
    summary, ran = rerun(backend, pytest_python, "--ff")
    assert summary.startswith("2 failed, 1 passed"), summary
    assert ran[:2] == list(RERUN)
    # fixed: the failures clear from the cache
    backend.write({"README.md": "---\nversion: 0.7.3\n---\n", "docs/guide.md": "---\nversion: 0.7.3\n---\n"})
    backend.write({"examples/Old.json": "{}\n"}, in_schemas=True)
    summary, _ = rerun(backend, pytest_python, "--lf")
    assert summary.startswith("2 passed"), summary
    cache = json.loads((backend.path / ".pytest_cache/v/cache/lastfailed").read_text())
    assert not any(k.startswith("pyproject.toml::") for k in cache), cache
