"""The result cache: a warm run reuses results; every part of the key, changed, reruns the item
and gives what an uncached run gives; waivers and modes apply after the cache."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import os
from pathlib import Path
import subprocess
import sys
import zipfile

import pytest

from conftest import Backend
from tests import test_ruff
from tests.test_ruff import Env
from tests.test_ruff import junit
from tests.test_ruff import pyright_exe
from tests.test_ruff import ruff_exe

venv = test_ruff.venv


@dataclass(frozen=True)
class Item:
    outcome: str  # passed | failure | skipped:<type>
    message: str  # the failure or skip message, and a failure's text
    findings: str
    cached: str  # "true" | "false" | "" (not cached)


class Runs:
    """pytest --guardrails-only in the backend with pytest's cache on; JUnit outside the repo."""

    def __init__(self, backend: Backend, out: Path) -> None:
        self.backend = backend
        self.out = out
        self.count = 0

    def __call__(self, *args: str, strict: bool = True) -> dict[str, Item]:
        self.count += 1
        xml = self.out / f"junit-{self.count}.xml"
        extra = ["-p", "xdist"] if "-n" in args else []
        mode = ["--guardrails-mode=strict"] if strict else []
        result = self.backend.pytester.runpytest(
            "-p", "guardrails", *extra, "--guardrails-only", *mode, f"--junitxml={xml}", *args)
        assert result.ret in (0, 1), result.stdout.str()
        self.stdout = result.stdout.str()
        return items(xml)


def items(xml: Path) -> dict[str, Item]:
    return {name: Item(c.outcome, c.message + c.text, c.properties.get("findings", ""),
                       c.properties.get("cached", "")) for name, c in junit(xml).items()}


@pytest.fixture
def runs(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return Runs(backend, tmp_path_factory.mktemp("junit"))


def uncached(items: dict[str, Item]) -> dict[str, tuple[str, str, str]]:
    return {name: (i.outcome, i.message, i.findings) for name, i in items.items()}


def test_warm_run_takes_every_result_from_the_cache(backend: Backend, runs: Runs) -> None:
    backend.write({"app/bad.py": "import os  # noqa\n"})
    backend.write({"examples/Old.json": '{"meta_info": {"description": "legacy bundle"}}\n'},
                  in_schemas=True)
    before = backend.state()
    cold = runs("-k", "not pyright")
    assert {i.cached for i in cold.values()} == {"false"}
    assert "guardrails: 0 of" in runs.stdout
    warm = runs("-k", "not pyright")
    assert {i.cached for i in warm.values()} == {"true"}
    assert uncached(warm) == uncached(cold)
    assert warm["blanket-suppressions"].outcome == "failure"
    assert f"guardrails: {len(warm)} of {len(warm)} results from the cache" in runs.stdout
    assert "result from the cache: nothing it depends on changed" in runs.stdout
    # the same findings, in the same words
    assert "app/bad.py:1:12: `# noqa` silences every rule on the line" in runs.stdout
    off = runs("-k", "not pyright", "--guardrails-no-cache")
    assert uncached(off) == uncached(cold)
    assert {i.cached for i in off.values()} == {""}
    assert "results from the cache" not in runs.stdout
    assert backend.state() == before  # pytest's cache directory ignores itself


# --- each part of the key --------------------------------------------------------------------

NOQA = "import os  # noqa\n"
RUFF_IGNORE = '\n[tool.ruff.lint]\nignore = ["F401"]\n'


def _pyproject(backend: Backend) -> str:
    return (backend.path / "pyproject.toml").read_text(encoding="utf-8")


def committed(b: Backend, mp: pytest.MonkeyPatch) -> None:
    b.write({"app/main.py": NOQA})


def modified(b: Backend, mp: pytest.MonkeyPatch) -> None:
    b.write({"app/main.py": NOQA}, commit=False)


def staged(b: Backend, mp: pytest.MonkeyPatch) -> None:
    b.write({"app/main.py": NOQA}, commit=False)
    b.git("add", "app/main.py")


def untracked(b: Backend, mp: pytest.MonkeyPatch) -> None:
    b.write({"app/new.py": NOQA}, commit=False)


def in_submodule(b: Backend, mp: pytest.MonkeyPatch) -> None:
    b.write({"python/src/synesthetic_schemas/tone.py": NOQA}, commit=False, in_schemas=True)


def setting(b: Backend, mp: pytest.MonkeyPatch) -> None:
    b.write({"pyproject.toml": _pyproject(b).replace('"NEVER"', '"TODO"')}, commit=False)


def exclude(b: Backend, mp: pytest.MonkeyPatch) -> None:
    b.write({"pyproject.toml": _pyproject(b).replace('exclude = ["app/todo.py"]', "")},
            commit=False)


def tool_config(b: Backend, mp: pytest.MonkeyPatch) -> None:
    b.write({"pyproject.toml": _pyproject(b).replace(RUFF_IGNORE, "")}, commit=False)


def submodule_tool_config(b: Backend, mp: pytest.MonkeyPatch) -> None:
    b.write({"ruff.toml": "[lint]\nselect = [\"F\"]\n"}, commit=False, in_schemas=True)


def ignored_file(b: Backend, mp: pytest.MonkeyPatch) -> None:
    b.write({"app/gen.py": "import os\n"}, commit=False)


def root_python_file(b: Backend, mp: pytest.MonkeyPatch) -> None:
    b.write({"app/unused_import.py": "import os\n"}, commit=False)


def extended_config(b: Backend, mp: pytest.MonkeyPatch) -> None:
    b.write({"ruff-base.toml": '[lint]\nselect = ["F"]\n'}, commit=False)


def _with_extended_config(b: Backend) -> None:
    """The submodule's ruff settings extend a file of the backend, outside the submodule."""
    b.write({"ruff-base.toml": '[lint]\nignore = ["F401"]\n'})
    b.write({"ruff.toml": 'extend = "../../ruff-base.toml"\n', "scripts/tool.py": "import json\n"},
            in_schemas=True)
    b.git("add", b.submodule)
    b.git("commit", "-qm", "bump")


def ruff_env(b: Backend, mp: pytest.MonkeyPatch) -> None:
    mp.setenv("RUFF_GUARDRAILS_TEST", "1")


@dataclass(frozen=True)
class Case:
    change: Callable[[Backend, pytest.MonkeyPatch], None]
    item: str
    #: the item's findings after the change (it is green before)
    findings: str
    setup: Callable[[Backend], None] | None = None


def _with_forbid(pattern: str, todo: str) -> Callable[[Backend], None]:
    def setup(b: Backend) -> None:
        b.write({"pyproject.toml": _pyproject(b) + (
            '\n[tool.guardrails]\nexclude = ["app/todo.py"]\n'
            f'\n[tool.guardrails.forbid.todo]\npattern = "{pattern}"\nfiles = ["app/*.py"]\n'),
            todo: "# TODO\n"})
    return setup


def _with_ruff_ignore(b: Backend) -> None:
    b.write({"pyproject.toml": _pyproject(b) + RUFF_IGNORE, "app/unused.py": "import os\n"})
    b.write({"scripts/tool.py": "import json\n"}, in_schemas=True)
    b.git("add", b.submodule)
    b.git("commit", "-qm", "bump")


def _with_ignored(b: Backend) -> None:
    b.write({".gitignore": "app/gen.py\n", "app/gen.py": "X = 1\n", "pyproject.toml": _pyproject(b)
             + "\n[tool.ruff]\nrespect-gitignore = false\n"})


CASES = {
    "committed file": Case(committed, "blanket-suppressions", "1"),
    "modified file": Case(modified, "blanket-suppressions", "1"),
    "staged file": Case(staged, "blanket-suppressions", "1"),
    "untracked file": Case(untracked, "blanket-suppressions", "1"),
    "file in a submodule": Case(in_submodule, "blanket-suppressions[libs/schemas]", "1"),
    "guardrail setting": Case(setting, "forbid-todo", "1", _with_forbid("NEVER", "app/later.py")),
    "global exclude": Case(exclude, "forbid-todo", "1", _with_forbid("TODO", "app/todo.py")),
    "tool config in pyproject.toml": Case(tool_config, "ruff", "1", _with_ruff_ignore),
    "tool config above a submodule": Case(tool_config, "ruff[libs/schemas]", "1",
                                          _with_ruff_ignore),
    "tool config file in a submodule": Case(submodule_tool_config, "ruff[libs/schemas]", "1",
                                            _with_ruff_ignore),
    "git-ignored Python file": Case(ignored_file, "ruff", "1", _with_ignored),
    "tool environment variable": Case(ruff_env, "ruff", "0"),
    "root Python file": Case(root_python_file, "ruff", "1"),
    "extended config outside the target": Case(extended_config, "ruff[libs/schemas]", "1",
                                               _with_extended_config),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_each_key_part_reruns_the_item(backend: Backend, runs: Runs, case: Case,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUFF_GUARDRAILS_TEST", raising=False)
    if case.setup is not None:
        case.setup(backend)
    selected = ("-k", case.item.split("[")[0])
    cold = runs(*selected)
    assert cold[case.item].findings == "0" and cold[case.item].cached == "false"
    assert runs(*selected)[case.item].cached == "true"
    case.change(backend, monkeypatch)
    after = runs(*selected)
    assert after[case.item].cached == "false"
    assert after[case.item].findings == case.findings
    fresh = runs(*selected, "--guardrails-no-cache")
    assert uncached(after) == uncached(fresh)
    if case.item == "blanket-suppressions[libs/schemas]":  # the root's Python files did not change
        assert after["blanket-suppressions"].cached == "true"
    if case.change is root_python_file:  # nothing the submodule's ruff reads changed
        assert after["ruff[libs/schemas]"].cached == "true"


def test_waivers_and_modes_apply_after_the_cache(backend: Backend, runs: Runs) -> None:
    backend.write({"app/bad.py": NOQA})
    item = "blanket-suppressions"
    text = _pyproject(backend) + '\n[tool.guardrails]\nmode = "strict"\n'
    backend.write({"pyproject.toml": text})
    strict = runs("-k", item, strict=False)
    assert strict[item].outcome == "failure" and strict[item].cached == "false"
    backend.write({"pyproject.toml": text.replace('"strict"', '"warn"')}, commit=False)
    warn = runs("-k", item, strict=False)
    assert warn[item].cached == "true" and warn[item].outcome == "skipped:pytest.xfail"
    backend.write({"pyproject.toml": text + '\n[tool.guardrails.ignore]\n'
                   '"blanket-suppressions" = "later"\n'}, commit=False)
    waived = runs("-k", item, strict=False)
    assert waived[item].outcome == "skipped:pytest.skip"
    backend.write({"pyproject.toml": text}, commit=False)
    back = runs("-k", item, strict=False)
    assert back[item].cached == "true" and back[item].outcome == "failure"
    assert uncached(back) == uncached(strict)


def test_crashes_are_not_cached(backend: Backend, runs: Runs) -> None:
    backend.write({"ruff.toml": "line-length = 'long'\n"}, in_schemas=True)
    item = "ruff[libs/schemas]"
    first = runs("-k", "ruff")
    assert first[item].outcome == "failure" and "crashed" in first[item].message
    assert first[item].cached == "false"
    second = runs("-k", "ruff")
    assert second[item].cached == "false"  # ran again
    assert second["ruff"].cached == "true"
    assert "crashed" in second[item].message


def test_no_cacheprovider_means_no_cache(backend: Backend) -> None:
    backend.run("--guardrails-only", "-k", "blanket")
    result = backend.run("--guardrails-only", "-k", "blanket")
    assert "results from the cache" not in result.stdout.str()
    assert not (backend.path / ".pytest_cache").exists()


def test_warm_runs_under_xdist(backend: Backend, runs: Runs) -> None:
    backend.write({"app/bad.py": NOQA})
    serial = runs("-k", "not pyright", "-n", "0", "--guardrails-no-cache")
    cold = runs("-k", "not pyright", "-n", "2")
    assert {i.cached for i in cold.values()} == {"false"}
    warm = runs("-k", "not pyright", "-n", "2")
    assert {i.cached for i in warm.values()} == {"true"}
    assert uncached(serial) == uncached(cold) == uncached(warm)
    assert f"{len(warm)} of {len(warm)} results from the cache" in runs.stdout


# --- the tool and the interpreter, in a venv of its own ----------------------------------------


def _wheel(tmp: Path, version: str, value: str) -> Path:
    """A wheel of the typed package ``typedpkg`` whose ``VALUE`` is ``value``."""
    path = tmp / f"typedpkg-{version}-py3-none-any.whl"
    info = f"typedpkg-{version}.dist-info"
    files = {
        "typedpkg/__init__.py": f"VALUE = {value}\n",
        "typedpkg/py.typed": "",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: typedpkg\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in {**files, f"{info}/RECORD": record}.items():
            zf.writestr(name, text)
    return path


def _pip_install(env: Env, wheel: Path) -> None:
    subprocess.run((str(env.python), "-m", "pip", "install", "-q", "--no-index", "--no-deps",
                    "--force-reinstall", "--disable-pip-version-check", str(wheel)),
                   check=True, capture_output=True, timeout=300)


def _cases(proc: subprocess.CompletedProcess[str], xml: Path) -> dict[str, Item]:
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return items(xml)


def test_installed_packages_tool_and_interpreter_are_in_the_key(
        backend: Backend, venv: Env, tmp_path: Path) -> None:
    backend.write({"app/use.py": "import typedpkg\n\nn: int = typedpkg.VALUE\n"})
    path = f"{venv.bin}{os.pathsep}{os.environ['PATH']}"
    # this pyright launcher, not one a version manager's shim would put its own Python before
    venv.script("pyright", f'exec {pyright_exe()} "$@"')
    _pip_install(venv, _wheel(tmp_path, "1.0", "1"))

    def run(*args: str) -> dict[str, Item]:
        xml = tmp_path / f"junit-{len(list(tmp_path.glob('*.xml')))}.xml"
        proc = venv.pytest(backend, "--guardrails-only", "--guardrails-mode=strict",
                           f"--junitxml={xml}", "-k", "pyright and not schemas or ruff and not "
                           "schemas", *args, path=path, cache=True)
        return _cases(proc, xml)

    cold = run()
    assert cold["pyright"].findings == "0", cold["pyright"]
    assert cold["pyright"].cached == "false"
    assert run()["pyright"].cached == "true"
    # a new version of an installed package: pyright must look again
    _pip_install(venv, _wheel(tmp_path, "2.0", '"two"'))
    after = run()
    assert after["pyright"].cached == "false"
    assert after["pyright"].findings == "1", after["pyright"]
    assert after["ruff"].cached == "true"  # ruff does not read installed packages
    assert uncached(run("--guardrails-no-cache")) == uncached(after)
    # another ruff (same name, another file): ruff runs again and reports what this one says
    venv.script("ruff", f'exec {ruff_exe()} "$@" --select F401,E501 --line-length 10')
    swapped = run()
    assert swapped["ruff"].cached == "false"
    assert swapped["ruff"].findings != "0"
    assert swapped["pyright"].cached == "true"
    # another interpreter: everything runs again
    xml = tmp_path / "outer.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PATH=path)
    proc = subprocess.run(
        (sys.executable, "-m", "pytest", "-p", "guardrails", "--guardrails-only",
         "--guardrails-mode=strict", f"--junitxml={xml}", "-k", "ruff and not schemas"),
        cwd=backend.path, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert _cases(proc, xml)["ruff"].cached == "false"


def test_a_ruff_extend_out_of_the_repository_is_never_opened(tmp_path: Path) -> None:
    """A pull request's ``extend`` may name any path outside the repository (``/proc/kmsg``
    blocks a read, a huge file would be hashed whole), also through a directory symlink: such a
    file counts by its status, and a change to it still changes the key."""
    from conftest import write_files
    from pytest_guardrails import config as config_mod
    from pytest_guardrails import toolstate
    from pytest_guardrails.api import Run
    from pytest_guardrails.guardrails import builtin
    from pytest_guardrails.project import Project

    outside = tmp_path / "outside"
    outside.mkdir()
    huge = outside / "huge.toml"
    with open(huge, "wb") as fh:
        fh.truncate(64 << 30)  # sparse: hashing it would read 64 GiB of zeros
    repo = tmp_path / "repo"
    write_files(repo, {"pyproject.toml": f'[tool.ruff]\nextend = "{huge}"\n',
                       "sub/ruff.toml": 'extend = "../out/huge.toml"\n'})
    (repo / "out").symlink_to(outside, target_is_directory=True)
    guardrails = builtin()
    settings = config_mod.validate(repo / "pyproject.toml", {}, guardrails)
    project = Project(repo, settings, settings.submodules)
    ruff_g = next(g for g in guardrails if g.name == "ruff")

    def key() -> dict[str, object]:
        run = Run(guardrail=ruff_g, target=project.targets[0], project=project, settings={})
        return toolstate.ruff_configs(run)

    first = key()
    assert first[str(huge)][0] == "outside"
    with open(huge, "r+b") as fh:
        fh.truncate(1 << 30)
    assert key() != first
    write_files(repo, {"pyproject.toml": '[tool.ruff]\nextend = "sub/ruff.toml"\n'})
    through_link = key()
    assert through_link["sub/ruff.toml"][0] == "table"
    assert through_link[os.path.join("out", "huge.toml")][0] == "outside"
