"""ruff (GR003) with the real ruff on a backend whose schemas submodule has its own ruff config.

Also holds what tests/test_pyright.py shares: JUnit parsing, raw tool runs, and a throwaway
virtualenv that imports this interpreter's packages and whose ``bin`` directory a test fills with
wrapper scripts: the guardrails resolve tools there before PATH, exactly as in a user's
environment.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import os
from pathlib import Path
import re
import shutil
import site
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import Backend
from pytest_guardrails import _process
from pytest_guardrails.guardrails import ruff as ruff_guardrail
from pytest_guardrails.project import Project
from pytest_guardrails.project import Target

FINDING = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<code>\S+) (?P<msg>.*)$")

SCHEMAS_RUFF = 'line-length = 40\n\n[lint]\nselect = ["E501", "F"]\n'
ROOT_TOOLS = """
[tool.ruff]
line-length = 100

[tool.ruff.lint]
select = ["E", "F"]

[tool.pyright]
typeCheckingMode = "basic"
reportUnusedImport = "warning"
"""
ROOT_BAD = 'import os\n\nx: int = "a"\n'
SCHEMAS_BAD = "import sys\n\nname: str = 1  # this comment makes the line long\n"


def ruff_exe() -> str:
    exe = _process.which("ruff")
    assert exe is not None, "ruff is a dependency of pytest-guardrails"
    return exe


def pyright_exe() -> str:
    exe = _process.which("pyright")
    assert exe is not None, "pyright is a dependency of pytest-guardrails"
    return exe


def with_violations(backend: Backend, schemas_files: dict[str, str | bytes]) -> Backend:
    """Root: an unused import and a type error. Schemas: its own ruff and pyright config."""
    pyproject = (backend.path / "pyproject.toml").read_text(encoding="utf-8")
    backend.write({"pyproject.toml": pyproject + ROOT_TOOLS, "app/bad.py": ROOT_BAD})
    backend.write(schemas_files, in_schemas=True)
    backend.git("add", backend.submodule)
    backend.git("commit", "-qm", "bump schemas")
    return backend


@pytest.fixture
def linted(backend: Backend) -> Backend:
    return with_violations(backend, {
        "ruff.toml": SCHEMAS_RUFF,
        "python/src/synesthetic_schemas/bad.py": SCHEMAS_BAD,
        "scripts/tool.py": "import json\n",
    })


# --- JUnit and raw tools ---------------------------------------------------------------------


@dataclass
class Case:
    outcome: str  # passed | failure | skipped:<type>
    message: str  # the failure/skip message attribute
    text: str  # the failure body
    properties: dict[str, str]


def junit(path: Path) -> dict[str, Case]:
    out: dict[str, Case] = {}
    for case in ET.parse(path).iter("testcase"):
        props = {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        failure = case.find("failure")
        skipped = case.find("skipped")
        if failure is not None:
            c = Case("failure", failure.get("message", ""), failure.text or "", props)
        elif skipped is not None:
            c = Case(f"skipped:{skipped.get('type')}", skipped.get("message", ""), "", props)
        else:
            c = Case("passed", "", "", props)
        out[case.get("name", "")] = c
    return out


def finding_keys(text: str) -> list[tuple[str, int, int, str]]:
    """(path, line, col, code) of every finding line in a failure text."""
    keys: list[tuple[str, int, int, str]] = []
    for line in text.splitlines():
        m = FINDING.match(line)
        if m:
            keys.append((m["path"], int(m["line"]), int(m["col"]), m["code"]))
    return keys


def raw_ruff(cwd: Path, root: Path) -> list[tuple[str, int, int, str]]:
    """What plain ``ruff check .`` reports in ``cwd``, paths relative to ``root``."""
    proc = subprocess.run((ruff_exe(), "check", "--no-cache", "--output-format", "json", "."),
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return sorted(
        (Path(d["filename"]).relative_to(root).as_posix(), d["location"]["row"],
         d["location"]["column"], d["code"])
        for d in json.loads(proc.stdout)
    )


# --- a virtualenv whose bin/ the test controls -----------------------------------------------


@dataclass
class Env:
    """A venv sharing this interpreter's packages (pytest, the plugin, xdist, the pyright
    launcher) but with its own, initially empty of tools, ``bin`` directory."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def share_site_packages(self) -> None:
        """Make this venv import what the running interpreter imports from its site directories.

        ``--system-site-packages`` is not enough: it shares the *base* interpreter's packages, so
        when pytest itself runs in a virtualenv, the nested one would miss pytest and the plugin.
        A ``.pth`` file instead adds each outer site directory with ``site.addsitedir``, which
        also processes the ``.pth`` files there (an editable install of the plugin is one).
        """
        outer = [*site.getsitepackages()]
        if site.ENABLE_USER_SITE:
            outer.append(site.getusersitepackages())
        outer = [d for d in outer if os.path.isdir(d)]
        inner = subprocess.run(
            (str(self.python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"),
            capture_output=True, text=True, check=True, timeout=60).stdout.strip()
        lines = "".join(f"import site; site.addsitedir({d!a})\n" for d in outer)
        (Path(inner) / "_outer_site_packages.pth").write_text(lines, encoding="utf-8")

    def script(self, name: str, body: str) -> Path:
        path = self.bin / name
        path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        path.chmod(0o755)
        return path

    def pytest(self, backend: Backend, *args: str, path: str | None = None, cache: bool = False
               ) -> subprocess.CompletedProcess[str]:
        """pytest in ``backend`` run by this venv's python, with ``path`` as PATH (and pytest's
        cache only with ``cache``)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        if path is not None:
            env["PATH"] = path
        argv = [str(self.python), "-m", "pytest", "-p", "guardrails",
                "-p", "cacheprovider" if cache else "no:cacheprovider", *args]
        if any(a.startswith("-n") for a in args):
            argv[3:3] = ["-p", "xdist"]
        return subprocess.run(argv, cwd=backend.path, env=env, capture_output=True, text=True,
                              timeout=600, check=False)


@pytest.fixture
def venv(tmp_path_factory: pytest.TempPathFactory) -> Env:
    if os.name != "posix":
        pytest.skip("the wrapper scripts are POSIX shell")
    root = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run((sys.executable, "-m", "venv", "--without-pip", str(root)), check=True,
                   timeout=120)
    env = Env(root)
    env.share_site_packages()
    return env


@pytest.fixture
def git_only_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PATH holding git and nothing else: no ruff, pyright or node."""
    d = tmp_path_factory.mktemp("git-only")
    git = shutil.which("git")
    assert git is not None
    (d / "git").symlink_to(git)
    return str(d)


# --- tests -----------------------------------------------------------------------------------


def test_findings_equal_raw_ruff_per_target(linted: Backend, tmp_path: Path) -> None:
    before = linted.state()
    xml = tmp_path / "junit.xml"
    result = linted.run("--guardrails-only", "-k", "ruff", "--guardrails-mode=strict",
                        f"--junitxml={xml}")
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*= FAILURES =*",
        "*_ GR0* pyproject.toml::ruff _*",
        "ruff: 1 ruff violation",
        "app/bad.py:1:8: F401 `os` imported but unused",
        "how to fix: fix the code (`ruff check --fix` fixes some), or configure or suppress "
        "the rule with its code in the target's own ruff settings",
        "*_ GR0* pyproject.toml::ruff[[]libs/schemas[]] _*",
        "ruff[[]libs/schemas[]]: 3 ruff violations",
        "libs/schemas/python/src/synesthetic_schemas/bad.py:1:8: F401 `sys` imported but unused",
        "libs/schemas/python/src/synesthetic_schemas/bad.py:3:41: E501 Line too long (49 > 40)",
        "libs/schemas/scripts/tool.py:1:8: F401 `json` imported but unused",
        "how to fix: fix it in the submodule's own repository (libs/schemas), commit there, "
        "then bump the submodule here",
    ])
    cases = junit(xml)
    root, schemas = cases["ruff"], cases["ruff[libs/schemas]"]
    sub = linted.submodule + "/"
    raw_root = [k for k in raw_ruff(linted.path, linted.path) if not k[0].startswith(sub)]
    assert finding_keys(root.text) == raw_root == [("app/bad.py", 1, 8, "F401")]
    assert finding_keys(schemas.text) == raw_ruff(linted.schemas, linted.path)
    assert sub not in root.text
    version = _process.tool_version(ruff_exe())
    assert version is not None and version.startswith("ruff ")
    assert root.properties["tool_version"] == schemas.properties["tool_version"] == version
    assert root.properties["findings"] == "1" and schemas.properties["findings"] == "3"
    assert linted.state() == before
    assert not (linted.path / ".ruff_cache").exists()
    assert not (linted.schemas / ".ruff_cache").exists()


def test_warn_mode_xfails_and_header_names_ruff(linted: Backend) -> None:
    result = linted.run("--guardrails-only", "-k", "ruff", "-v", "-rx")
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        f"guardrails: {_process.tool_version(ruff_exe())} ({ruff_exe()})",
        "pyproject.toml::ruff XFAIL (ruff: 1 ruff violation)*",
        "XFAIL pyproject.toml::ruff - ruff: 1 ruff violation",
        "XFAIL pyproject.toml::ruff[[]libs/schemas[]] - ruff[[]libs/schemas[]]: 3 ruff violations",
    ])
    result.assert_outcomes(xfailed=2)


def test_clean_repo_passes(backend: Backend) -> None:
    result = backend.run("--guardrails-only", "-k", "ruff", "--guardrails-mode=strict")
    result.assert_outcomes(passed=2)


def test_args_and_exclude_are_honoured(linted: Backend) -> None:
    linted.write({"pyproject.toml": (linted.path / "pyproject.toml").read_text() + (
        '\n[tool.guardrails]\nexclude = ["libs/schemas/scripts/**"]\n'
        '\n[tool.guardrails.ruff]\nargs = ["--ignore", "E501"]\n')})
    result = linted.run("--guardrails-only", "-k", "ruff", "--guardrails-mode=strict")
    result.stdout.fnmatch_lines([
        "ruff[[]libs/schemas[]]: 1 ruff violation",
        "libs/schemas/python/src/synesthetic_schemas/bad.py:1:8: F401 `sys` imported but unused",
        "how to fix: *",
    ])
    assert "tool.py" not in result.stdout.str()
    assert "E501" not in result.stdout.str()


@pytest.mark.parametrize("how", ["settings", "args"])
def test_a_ruff_that_lints_no_file_cannot_pass(linted: Backend, how: str) -> None:
    """Excluding every Python file leaves ruff nothing to report, and it never says it found no
    file (it lints pyproject.toml too): strict fails and warn skips, saying why. The schemas'
    own ruff settings still lint their files."""
    pyproject = (linted.path / "pyproject.toml").read_text()
    if how == "settings":
        pyproject = pyproject.replace("[tool.ruff]\n", '[tool.ruff]\nextend-exclude = ["*.py"]\n')
    else:
        pyproject += '\n[tool.guardrails.ruff]\ntargets = ["."]\nargs = ["--extend-exclude", "*.py"]\n'
    linted.write({"pyproject.toml": pyproject})
    strict = linted.run("--guardrails-only", "-k", "ruff", "--guardrails-mode=strict")
    reason = ("ruff linted no Python file: its settings (their defaults included) or "
              "[[]tool.guardrails.ruff[]] args exclude all 3 in the repository (app/__init__.py, ...)")
    strict.stdout.fnmatch_lines([f"ruff: cannot run: {reason}; how to fix: fix `include`, *"])
    if how == "settings":
        strict.stdout.fnmatch_lines(["ruff[[]libs/schemas[]]: 3 ruff violations"])
        strict.assert_outcomes(failed=2)
    else:
        strict.assert_outcomes(failed=1)
    warn = linted.run("--guardrails-only", "-k", "ruff and not schemas", "-rs")
    warn.stdout.fnmatch_lines([f"SKIPPED [[]1[]] pyproject.toml:*: ruff: cannot run: {reason}*"])
    warn.assert_outcomes(skipped=1)


def test_a_partly_excluded_clean_tree_passes(backend: Backend) -> None:
    """ruff's settings leaving it one clean file to lint is a pass (and a single extra
    ``--show-files`` run says so)."""
    backend.write({"pyproject.toml": (backend.path / "pyproject.toml").read_text()
                   + '\n[tool.ruff]\nextend-exclude = ["app/__init__.py"]\n'})
    result = backend.run("--guardrails-only", "-k", "ruff and not schemas", "--guardrails-mode=strict")
    result.assert_outcomes(passed=1)
    assert "nothing to check" not in result.stdout.str()


def test_a_target_without_python_files_says_so(backend: Backend) -> None:
    backend.write({"pyproject.toml": (backend.path / "pyproject.toml").read_text()
                   + '\n[tool.guardrails]\nexclude = ["app/**"]\n'})
    result = backend.run("--guardrails-only", "-k", "ruff and not schemas", "--guardrails-mode=strict")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["ruff *passed*(note: nothing to check: no Python file in the repository)"])


def test_fix_in_the_targets_settings_changes_nothing(backend: Backend) -> None:
    """``fix = true`` in ruff's settings makes ``ruff check`` rewrite files, and the fixed
    findings vanish: the item reports the finding and leaves the file alone."""
    backend.write({"pyproject.toml": (backend.path / "pyproject.toml").read_text()
                   + "\n[tool.ruff]\nfix = true\n", "app/bad.py": "import os\n"})
    before = backend.state()
    result = backend.run("--guardrails-only", "-k", "ruff and not schemas", "--guardrails-mode=strict")
    result.stdout.fnmatch_lines(["ruff: 1 ruff violation", "app/bad.py:1:8: F401 *"])
    assert (backend.path / "app" / "bad.py").read_text() == "import os\n"
    assert backend.state() == before


@pytest.mark.parametrize(("guardrail", "args", "index", "why"), [
    ("ruff", ["--fix"], 0, "ruff would write files (the guardrails only read the repository)"),
    ("ruff", ["--select", "F", "--add-noqa=later"], 2, "ruff would write files *"),
    ("ruff", ["--output-file=/tmp/x.json"], 0, "ruff would write files *"),
    ("ruff", ["-ox.json"], 0, "ruff would write files *"),
    ("ruff", ["-qw"], 0, "ruff would never end"),
    ("ruff", ["--stdin-filename", "a.py"], 0, "ruff would lint its (empty) input instead of the files"),
    ("ruff", ["--output-format", "text"], 0, "the item reads ruff's JSON report of every file it lints"),
    ("pyright", ["--createstub", "requests"], 0,
     "pyright would write files (the guardrails only read the repository)"),
    ("pyright", ["--writebaseline"], 0, "pyright would write files *"),
    ("pyright", ["-w"], 0, "pyright would never end"),
    ("pyright", ["--project=elsewhere"], 0,
     "the item points pyright at the target's own settings itself (-p)"),
    ("pyright", ["--verifytypes", "app"], 0,
     "the item reads pyright's JSON report of the target it is given"),
    ("ruff", ["--select", "F\0"], 1, "holds a NUL character"),
    ("pyright", ["--pythonpath", "py\0"], 1, "holds a NUL character"),
])
def test_args_that_write_or_change_the_report_are_refused(
        backend: Backend, guardrail: str, args: list[str], index: int, why: str) -> None:
    """ruff's and pyright's: the refusal is a configuration error naming the key."""
    backend.write({"pyproject.toml": (backend.path / "pyproject.toml").read_text()
                   + f"\n[tool.guardrails.{guardrail}]\nargs = {json.dumps(args)}\n"})
    result = backend.run("--guardrails-only", "-k", guardrail)
    assert result.ret == 4
    problem = why if "\0" in args[index] else f"is not allowed: {why}"
    result.stderr.fnmatch_lines([f"ERROR: pyproject.toml:*: tool.guardrails.{guardrail}.args"
                                 f"[[]{index}[]]: {args[index]!r} {problem}"])


def test_root_never_reads_submodule_files(linted: Backend) -> None:
    """Only the schemas' own item reports its files, even where the root config differs."""
    result = linted.run("--guardrails-only", "-k", "ruff and not schemas", "--guardrails-mode=strict")
    result.stdout.fnmatch_lines(["ruff: 1 ruff violation", "app/bad.py:1:8: F401 *"])
    failures = result.stdout.str().split("= FAILURES =", 1)[1].split("= guardrails =", 1)[0]
    assert "libs/schemas" not in failures


def test_excludes_are_absolute_and_escaped(tmp_path: Path) -> None:
    """A top-level submodule ``schemas`` must not exclude ``app/schemas`` (ruff treats a bare
    name as "any directory of that name")."""
    from pytest_guardrails.config import Settings

    root = tmp_path / "we[ir]d,repo"
    settings = Settings(pyproject=root / "pyproject.toml", mode=None, submodules=("schemas",),
                        exclude=("gen/**", "**/fixtures/*.py", "schemas/vendored/**"), ignore={},
                        tables={})
    project = Project(root, settings, ("schemas", "schemas/nested"))
    base = ruff_guardrail.glob_escape(root.as_posix())
    assert base.endswith("/we[[]ir[]]d?repo")
    assert ruff_guardrail.excludes(project, project.targets[0]) == [
        f"{base}/schemas", f"{base}/schemas/nested", f"{base}/gen/**",
        f"{base}/**/fixtures/*.py", f"{base}/schemas/vendored/**",
    ]
    assert ruff_guardrail.excludes(project, Target("schemas", root / "schemas")) == [
        f"{base}/schemas/nested", f"{base}/schemas/**/fixtures/*.py",
        f"{base}/schemas/vendored/**",
    ]


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_crash_is_reported_with_exit_code_and_stderr(linted: Backend, mode: str) -> None:
    linted.write({"ruff.toml": "line-length = 'long'\n"}, in_schemas=True)
    result = linted.run("--guardrails-only", f"--guardrails-mode={mode}", "-v", "-rx",
                        "-k", "ruff or legacy")
    out = result.stdout.str()
    if mode == "warn":
        assert result.ret == 0
        result.stdout.fnmatch_lines([
            "pyproject.toml::ruff XFAIL (ruff: 1 ruff violation)*",
            "pyproject.toml::legacy-examples PASSED*",
            "pyproject.toml::legacy-examples[[]libs/schemas[]] PASSED*",
            "XFAIL pyproject.toml::ruff[[]libs/schemas[]] - ruff[[]libs/schemas[]]: error: ruff "
            "crashed (exit code 2)",
        ])
    else:
        assert result.ret == 1
        result.stdout.fnmatch_lines([
            "*_ GR0* pyproject.toml::ruff[[]libs/schemas[]] _*",
            "ruff[[]libs/schemas[]]: error: ruff crashed (exit code 2)",
            f"command: {ruff_exe()} check --output-format json --no-cache --no-fix .",
            "return code: 2",
            "stdout: (none)",
            "stderr:",
            "    ruff failed",
            "*ruff.toml*",
            "*line-length*",
        ])
        result.stdout.fnmatch_lines(["pyproject.toml::legacy-examples PASSED*"])
    assert "INTERNALERROR" not in out


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_missing_ruff_cannot_run(linted: Backend, venv: Env, git_only_path: str, mode: str) -> None:
    proc = venv.pytest(linted, "--guardrails-only", f"--guardrails-mode={mode}", "-v", "-rs",
                       "-k", "ruff or legacy", path=git_only_path)
    how = (f"cannot run: ruff not found (looked in {venv.bin} and on PATH); how to fix: install "
           f"it next to pytest: {venv.python} -m pip install ruff")
    out = proc.stdout
    if mode == "warn":
        assert proc.returncode == 0, out
        assert f"SKIPPED [1] pyproject.toml:1: ruff: {how}" in out
        assert f"SKIPPED [1] pyproject.toml:1: ruff[libs/schemas]: {how}" in out
    else:
        assert proc.returncode == 1, out
        assert f"ruff[libs/schemas]: {how}" in out
        assert "2 failed, 2 passed" in out
    assert "pyproject.toml::legacy-examples PASSED" in out
    assert "pyproject.toml::legacy-examples[libs/schemas] PASSED" in out


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_timeout_stops_ruff_and_its_children(linted: Backend, venv: Env, mode: str) -> None:
    # the shell waits for `sleep`: only killing the whole process group frees the pipes early
    venv.script("ruff", f'case "$1" in --version) exec {ruff_exe()} "$@";; esac\nsleep 60\nexit 0')
    linted.write({"pyproject.toml": (linted.path / "pyproject.toml").read_text()
                  + "\n[tool.guardrails.ruff]\ntimeout = 1\n"})
    start = time.monotonic()
    proc = venv.pytest(linted, "--guardrails-only", f"--guardrails-mode={mode}", "-v", "-rx",
                       "-k", "ruff and not schemas or legacy")
    assert time.monotonic() - start < 30
    out = proc.stdout
    reason = "ruff timed out after 1 s (raise [tool.guardrails.ruff] timeout)"
    if mode == "warn":
        assert proc.returncode == 0, out
        assert f"XFAIL pyproject.toml::ruff - ruff: error: {reason}\n" in out
    else:
        assert proc.returncode == 1, out
        assert f"ruff: error: {reason}\ncommand: {venv.bin / 'ruff'} check" in out
        assert "return code: none (killed after 1 s)" in out
    assert "pyproject.toml::legacy-examples PASSED" in out


def test_each_tool_runs_once_per_target_under_xdist(linted: Backend, venv: Env,
                                                    tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    for name, real in (("ruff", ruff_exe()), ("pyright", pyright_exe())):
        venv.script(name, f'printf "%s\\t%s\\t%s\\n" {name} "$PWD" "$*" >> {log}\n'
                          f'exec {real} "$@"')
    before = linted.state()
    proc = venv.pytest(linted, "--guardrails-only", "-n", "2", "-v", "-k", "ruff or pyright")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[gw0]" in proc.stdout and "[gw1]" in proc.stdout
    calls = [line.split("\t") for line in log.read_text().splitlines()]
    runs = sorted((tool, cwd) for tool, cwd, args in calls if "--version" not in args)
    root, schemas = str(linted.path), str(linted.schemas)
    assert runs == [("pyright", root), ("pyright", schemas), ("ruff", root), ("ruff", schemas)]
    assert linted.state() == before


@pytest.mark.parametrize("form", ["two", "equals", "relative"])
def test_args_config_outside_the_repository_is_not_read(backend: Backend, tmp_path: Path,
                                                         form: str) -> None:
    """``--config`` naming a file outside the repository: ruff would read it and quote it in its
    error. It is not run; inline TOML and a settings file inside the repository still work."""
    outside = tmp_path / "outside.toml"
    outside.write_text('secret = "hunter2"\nline-length = "x"\n')
    value = os.path.relpath(outside, backend.path) if form == "relative" else str(outside)
    args = ["--config", value] if form != "equals" else [f"--config={value}"]
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": pyproject + f"\n[tool.guardrails.ruff]\nargs = {json.dumps(args)}\n"})
    result = backend.run("--guardrails-only", "-k", "ruff and not schemas", "--guardrails-mode=strict")
    result.stdout.fnmatch_lines([f"ruff: error: [[]tool.guardrails.ruff[]] args give --config "
                                 f"{str(outside)!r}, a file outside the repository; ruff was not run*"])
    assert "hunter2" not in result.stdout.str() + result.stderr.str()
    backend.write({"pyproject.toml": pyproject + '\n[tool.guardrails.ruff]\nargs = '
                   '["--config", "line-length = 50", "--config", "app/ruff-extra.toml"]\n',
                   "app/ruff-extra.toml": "[lint]\nselect = [\"F\"]\n"})
    result = backend.run("--guardrails-only", "-k", "ruff and not schemas", "--guardrails-mode=strict")
    result.assert_outcomes(passed=1)


def test_args_config_inside_a_repository_reached_through_a_symlink(backend: Backend,
                                                                    tmp_path: Path) -> None:
    """``--rootdir`` through a symlinked directory (as macOS's ``/var`` is): a settings file
    inside the repository is still inside it."""
    link = tmp_path / "link"
    link.symlink_to(backend.path, target_is_directory=True)
    backend.write({"pyproject.toml": (backend.path / "pyproject.toml").read_text()
                   + '\n[tool.guardrails.ruff]\nargs = ["--config", "app/ruff-extra.toml"]\n',
                   "app/ruff-extra.toml": "[lint]\nselect = [\"F\"]\n"})
    result = backend.run(f"--rootdir={link}", "--guardrails-only", "-k", "ruff and not schemas",
                         "--guardrails-mode=strict")
    result.assert_outcomes(passed=1)
