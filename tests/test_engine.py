"""The engine end to end: collection, node ids, modes, JUnit, xdist, read-only, extension points."""

from __future__ import annotations

import gc
from pathlib import Path
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from conftest import Backend
from conftest import run_git
from conftest import write_files

VIOLATIONS: dict[str, str | bytes] = {
    "README.md": "---\nversion: 0.7.2\n---\n# Backend\n",
    "docs/guide.md": "---\ntitle: Guide\nversion: 0.7.1\n---\n",
}
LEGACY = '{\n  "meta_info": {\n    "description": "Auto-converted from legacy bundle"\n  }\n}\n'


#: the items of the two guardrails these tests exercise; other guardrails have their own tests
ENGINE_IDS = (
    "pyproject.toml::version-ssot[libs/schemas]",
    "pyproject.toml::legacy-examples",
    "pyproject.toml::legacy-examples[libs/schemas]",
)


def run(backend: Backend, *args: str) -> pytest.RunResult:
    """pytest --guardrails-only on the engine's guardrails only (explicit node ids)."""
    return backend.run("--guardrails-only", *args, *ENGINE_IDS)


@pytest.fixture
def dirty(backend: Backend) -> Backend:
    """The backend with two stale doc versions and a legacy note in the schemas' examples."""
    backend.write(VIOLATIONS)
    backend.write({"examples/Old.json": LEGACY}, in_schemas=True)
    return backend


def junit(backend: Backend, name: str) -> dict[str, dict[str, object]]:
    """testcase name -> {"properties": {...}, "outcome": skipped/failure/passed}."""
    tree = ET.parse(backend.path / name)
    out: dict[str, dict[str, object]] = {}
    for case in tree.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        if case.find("failure") is not None:
            outcome = "failure"
        elif case.find("skipped") is not None:
            outcome = f"skipped:{case.find('skipped').get('type')}"  # type: ignore[union-attr]
        else:
            outcome = "passed"
        out[case.get("name", "")] = {"properties": props, "outcome": outcome,
                                      "classname": case.get("classname")}
    return out


def test_collect_only_lists_node_ids(backend: Backend) -> None:
    result = run(backend, "--collect-only", "-q")
    result.stdout.fnmatch_lines([
        "pyproject.toml::version-ssot[[]libs/schemas[]]",
        "pyproject.toml::legacy-examples",
        "pyproject.toml::legacy-examples[[]libs/schemas[]]",
    ])
    assert "pyproject.toml::version-ssot\n" not in result.stdout.str()
    assert result.ret == 0


@pytest.mark.parametrize("nodeid", [
    "pyproject.toml::version-ssot[libs/schemas]",
    "pyproject.toml::legacy-examples",
    "pyproject.toml::legacy-examples[libs/schemas]",
])
def test_one_node_id_runs_exactly_one(backend: Backend, nodeid: str) -> None:
    result = backend.run(nodeid, "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"{nodeid.replace('[', '[[]')} PASSED*"])


def test_selection_by_k_and_m(backend: Backend) -> None:
    backend.write({"tests/test_app.py": "def test_app():\n    pass\n"})
    by_k = backend.run("--guardrails", "-k", "legacy", "-v")
    by_k.assert_outcomes(passed=2)
    assert [ln.split()[0] for ln in by_k.stdout.lines if " PASSED " in ln] == list(ENGINE_IDS[1:])
    by_m = backend.run("--guardrails", "-m", "guardrail", "--collect-only", "-q")
    collected = [ln for ln in by_m.stdout.lines if "::" in ln]
    assert collected and all(ln.startswith("pyproject.toml::") for ln in collected)
    assert set(ENGINE_IDS) <= set(collected)
    everything = backend.run("--guardrails", "--collect-only", "-q")
    assert {ln for ln in everything.stdout.lines if "::" in ln} == {"tests/test_app.py::test_app", *collected}


def test_warn_mode_xfails_and_exits_zero(dirty: Backend) -> None:
    result = run(dirty, "-rx", "--junitxml=warn.xml")
    result.assert_outcomes(passed=1, xfailed=2)
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "XFAIL pyproject.toml::version-ssot[[]libs/schemas[]] - "
        "version-ssot[[]libs/schemas[]]: 2 stale versions",
        "XFAIL pyproject.toml::legacy-examples[[]libs/schemas[]] - "
        "legacy-examples[[]libs/schemas[]]: 1 legacy note",
    ])
    # the findings are shown even though nothing fails
    result.stdout.fnmatch_lines([
        "*guardrail warnings*",
        "pyproject.toml::version-ssot[[]libs/schemas[]]: 2 stale versions",
        "    README.md:2: version '0.7.2' != '0.7.3' (libs/schemas/version.json schemaVersion)",
        "    docs/guide.md:3: version '0.7.1' != '0.7.3' (libs/schemas/version.json schemaVersion)",
        "    how to fix: set `version: 0.7.3` in each file's frontmatter*",
    ])
    cases = junit(dirty, "warn.xml")
    ssot = cases["version-ssot[libs/schemas]"]
    assert ssot["outcome"] == "skipped:pytest.xfail"
    assert ssot["classname"] == "pyproject.toml"
    assert ssot["properties"] == {"guardrail": "version-ssot", "target": "libs/schemas",
                                  "mode": "warn", "findings": "2"}
    assert cases["legacy-examples"]["properties"] == {
        "guardrail": "legacy-examples", "target": ".", "mode": "warn", "findings": "0",
        "notes": "nothing to check: no file in the repository matches files = "
                 '["**/examples/**/*.json"] (the default)'}


@pytest.mark.parametrize("how", ["env", "option", "config"])
def test_strict_mode_fails(dirty: Backend, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    args = ["--junitxml=strict.xml"]
    if how == "env":
        monkeypatch.setenv("STRICT_GUARDRAILS", "1")
    elif how == "option":
        args.append("--guardrails-mode=strict")
    else:
        pyproject = dirty.path / "pyproject.toml"
        text = pyproject.read_text()
        pyproject.write_text(text.replace("[tool.guardrails.version-ssot]",
                                          '[tool.guardrails]\nmode = "strict"\n\n[tool.guardrails.version-ssot]'))
    result = run(dirty, *args)
    result.assert_outcomes(passed=1, failed=2)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*_ GR0* pyproject.toml::version-ssot[[]libs/schemas[]] _*",
        "version-ssot[[]libs/schemas[]]: 2 stale versions",
        "README.md:2: version '0.7.2' != '0.7.3' (libs/schemas/version.json schemaVersion)",
        "docs/guide.md:3: version '0.7.1' != '0.7.3' (libs/schemas/version.json schemaVersion)",
        "how to fix: set `version: 0.7.3` in each file's frontmatter "
        "(the source of truth is libs/schemas/version.json schemaVersion)",
    ])
    result.stdout.fnmatch_lines([
        "legacy-examples[[]libs/schemas[]]: 1 legacy note",
        "libs/schemas/examples/Old.json:3: /meta_info/description: Auto-converted from legacy bundle",
    ])
    cases = junit(dirty, "strict.xml")
    assert cases["version-ssot[libs/schemas]"]["outcome"] == "failure"
    assert cases["version-ssot[libs/schemas]"]["properties"] == {
        "guardrail": "version-ssot", "target": "libs/schemas", "mode": "strict", "findings": "2"}


def test_mode_precedence(dirty: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    pyproject = dirty.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.guardrails.legacy-examples]\nmode = "strict"\n')
    # table mode: legacy-examples strict, version-ssot warn
    run(dirty).assert_outcomes(passed=1, failed=1, xfailed=1)
    # STRICT_<ID> beats the table; STRICT_GUARDRAILS=1 would make all strict
    monkeypatch.setenv("STRICT_LEGACY_EXAMPLES", "0")
    monkeypatch.setenv("STRICT_VERSION_SSOT", "1")
    run(dirty).assert_outcomes(passed=1, failed=1, xfailed=1)
    result = run(dirty, "-rfx")
    result.stdout.fnmatch_lines(["FAILED pyproject.toml::version-ssot*", "XFAIL pyproject.toml::legacy*"])
    # the option beats everything
    monkeypatch.setenv("STRICT_GUARDRAILS", "1")
    run(dirty, "--guardrails-mode=warn").assert_outcomes(passed=1, xfailed=2)


def test_bad_strict_env_is_a_usage_error(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRICT_GUARDRAILS", "maybe")
    result = run(backend)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*STRICT_GUARDRAILS='maybe': expected 1 or 0*"])


def test_xdist_same_outcomes_and_findings(dirty: Backend) -> None:
    serial = run(dirty, "-n", "0", "--junitxml=serial.xml")
    parallel = run(dirty, "-n", "2", "--junitxml=parallel.xml")
    serial.assert_outcomes(passed=1, xfailed=2)
    parallel.assert_outcomes(passed=1, xfailed=2)

    def table(result: pytest.RunResult) -> list[str]:
        lines = result.stdout.lines
        start = next(i for i, ln in enumerate(lines) if re.match(r"=+ guardrails =+", ln))
        return lines[start:start + 5]

    def warnings(result: pytest.RunResult) -> list[str]:
        return sorted(ln for ln in result.stdout.lines if ln.startswith("    "))

    assert table(serial) == table(parallel)
    assert warnings(serial) == warnings(parallel)
    assert len(warnings(serial)) == 5
    assert junit(dirty, "serial.xml") == junit(dirty, "parallel.xml")


def test_run_is_read_only(dirty: Backend) -> None:
    (dirty.path / "untracked.md").write_text("---\nversion: 1\n---\n")
    before = dirty.state()
    run(dirty, "-n", "2")
    dirty.run("--guardrails", "--guardrails-mode=strict")
    assert dirty.state() == before


def test_summary_table(dirty: Backend) -> None:
    result = run(dirty)
    result.stdout.fnmatch_lines([
        "*= guardrails =*",
        "guardrail        target        outcome   findings",
        "legacy-examples  .             passed    -  (note: nothing to check: no file in the "
        'repository matches files = [[]"**/examples/**/*.json"[]] (the default))',
        "legacy-examples  libs/schemas  xfailed   1",
        "version-ssot     libs/schemas  xfailed   2",
    ])


def test_github_annotations(dirty: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    warn = run(dirty)
    warn.stdout.fnmatch_lines([
        "::warning file=libs/schemas/examples/Old.json,line=3,title=legacy-examples[[]libs/schemas[]]::"
        "/meta_info/description: Auto-converted from legacy bundle",
        "::warning file=README.md,line=2,title=version-ssot[[]libs/schemas[]]::"
        "version '0.7.2' != '0.7.3' (libs/schemas/version.json schemaVersion)",
    ])
    strict = run(dirty, "--guardrails-mode=strict")
    strict.stdout.fnmatch_lines(["::error file=docs/guide.md,line=3,title=version-ssot*"])


def test_without_guardrails_nothing_happens(backend: Backend) -> None:
    backend.write({"tests/test_app.py": "def test_app():\n    pass\n"})
    result = backend.run("-v")
    result.assert_outcomes(passed=1)
    assert "pyproject.toml::" not in result.stdout.str()
    assert not any(ln.startswith("guardrails") for ln in result.stdout.lines)
    plain = backend.pytester.runpytest("-p", "guardrails", "--collect-only", "-q")
    assert "pyproject.toml" not in plain.stdout.str()


def test_guardrails_only_imports_no_conftest(backend: Backend) -> None:
    backend.write({
        "conftest.py": "raise RuntimeError('the app conftest must not be imported')\n",
        "tests/conftest.py": "raise RuntimeError('the test conftest must not be imported')\n",
    })
    result = run(backend)
    result.assert_outcomes(passed=3)


class FreezeProbe:
    """Records how many objects the garbage collector ignores while items run."""

    def __init__(self) -> None:
        self.during: list[int] = []

    def pytest_runtest_call(self) -> None:
        self.during.append(gc.get_freeze_count())


@pytest.mark.parametrize("how", ["--guardrails-only", "--guardrails"])
def test_only_a_guardrails_only_session_freezes_its_startup_objects(backend: Backend,
                                                                     how: str) -> None:
    """``--guardrails-only`` runs no test code: what exists at session start is kept out of the
    collector's passes (pytest's collections at exit cost a tenth of a second per process
    otherwise), and is handed back at the very end. A run with tests is left alone."""
    backend.write({"tests/test_app.py": "def test_app():\n    pass\n"})
    probe = FreezeProbe()
    before = gc.get_freeze_count()
    args = [*ENGINE_IDS] if how == "--guardrails-only" else ["tests", *ENGINE_IDS]
    result = backend.pytester.runpytest("-p", "guardrails", how, *args, plugins=[probe])
    result.assert_outcomes(passed=4 if how == "--guardrails" else 3)
    assert probe.during
    if how == "--guardrails-only":
        assert all(n > before for n in probe.during)
    else:
        assert all(n == before for n in probe.during)
    assert gc.get_freeze_count() == before  # unfrozen: nothing outlives the session


FREEZE_AT_EXIT = """\
import atexit
import gc
from pathlib import Path
import os


def _record() -> None:
    with open(os.environ["FREEZE_RECORD"], "w", encoding="ascii") as fh:
        fh.write(str(gc.get_freeze_count()))


atexit.register(_record)
"""


def test_the_pytest_command_exits_without_unfreezing(backend: Backend, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``pytest`` command's process ends with the session: handing the frozen objects back
    would only make the interpreter's collection at exit traverse them all (a tenth of a second
    of every run), so they stay frozen there, and in xdist's workers."""
    probe_dir = tmp_path / "probe"
    probe_dir.mkdir()
    (probe_dir / "freeze_at_exit.py").write_text(FREEZE_AT_EXIT, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(probe_dir))
    for workers in ([], ["-p", "xdist", "-n", "1"]):
        record = tmp_path / f"freeze-{len(workers)}"
        monkeypatch.setenv("FREEZE_RECORD", str(record))
        result = backend.pytester.runpytest_subprocess(
            "-p", "freeze_at_exit", "-p", "guardrails", *workers, "-p", "no:cacheprovider",
            "--guardrails-only", *ENGINE_IDS)
        result.assert_outcomes(passed=3)
        assert int(record.read_text(encoding="ascii")) > 0


def test_guardrails_only_refuses_other_paths(backend: Backend) -> None:
    result = run(backend, "app")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--guardrails-only runs only guardrails; 'app' is not one*"])


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(("toml", "message"), [
    ('[tool.guardrails]\nmdoe = "strict"\n',
     "pyproject.toml:2: unknown key 'tool.guardrails.mdoe'; did you mean 'mode'?"),
    ('[tool.guardrails]\nmode = "strcit"\n',
     "pyproject.toml:2: tool.guardrails.mode: expected one of 'warn', 'strict', got 'strcit'; "
     "did you mean 'strict'?"),
    ('[tool.guardrails.legacy-exmaples]\nfiles = []\n',
     "pyproject.toml:1: unknown key 'tool.guardrails.legacy-exmaples'; did you mean 'legacy-examples'?"),
    ('[tool.guardrails.legacy-examples]\nfiles = "x.json"\n',
     "pyproject.toml:2: tool.guardrails.legacy-examples.files: expected an array of strings, got a string"),
    ('[tool.guardrails.legacy-examples]\nfiles = ["../other/*.json"]\n',
     "pyproject.toml:2: tool.guardrails.legacy-examples.files[[]0[]]: '../other/*.json' escapes the repository"),
    ('[tool.guardrails.version-ssot]\nsource = "/etc/version.json"\n',
     "pyproject.toml:2: tool.guardrails.version-ssot.source: '/etc/version.json' is absolute; "
     "paths are relative to the repo root"),
    ('[tool.guardrails.legacy-examples]\npatterns = ["(unclosed"]\n',
     "pyproject.toml:2: tool.guardrails.legacy-examples.patterns[[]0[]]: invalid regular expression*"),
    ('[tool.guardrails.ignore]\n"legacy-examples" = ""\n',
     'pyproject.toml:2: tool.guardrails.ignore."legacy-examples": a waiver needs a reason*'),
    ('[tool.guardrails.ignore]\n"legacy-exampels[libs/schemas]" = "x"\n',
     "pyproject.toml:2: *unknown guardrail 'legacy-exampels'; did you mean 'legacy-examples'?"),
    ('[tool.guardrails.ignore]\n"legacy-examples[libs/schema]" = "x"\n',
     "pyproject.toml:2: *unknown target 'libs/schema' (targets: ., libs/schemas); did you mean 'libs/schemas'?"),
    ('[tool.guardrails]\nsubmodules = "all"\n',
     'pyproject.toml:2: tool.guardrails.submodules: expected "auto" or an array of paths, got \'all\''),
    # TOML's inf and nan are floats: no bound at all, or none that compares
    ('[tool.guardrails.pyright]\ntimeout = inf\n',
     "pyproject.toml:2: tool.guardrails.pyright.timeout: expected a positive number, got inf"),
    ('[tool.guardrails.ruff]\ntimeout = nan\n',
     "pyproject.toml:2: tool.guardrails.ruff.timeout: expected a positive number, got nan"),
    ('[tool.guardrails.ruff]\ntimeout = 1e999\n',
     "pyproject.toml:2: tool.guardrails.ruff.timeout: expected a positive number, got inf"),
    ('[tool.guardrails.ruff]\ntimeout = -0.0\n',
     "pyproject.toml:2: tool.guardrails.ruff.timeout: expected a positive number, got -0.0"),
    ('[tool.guardrails.pyright]\ntimeout = ' + "9" * 400 + '\n',
     "pyproject.toml:2: tool.guardrails.pyright.timeout: expected a positive number, got a huge integer"),
    ('[tool.guardrails.pyright]\ntimeout = 604801\n',
     "pyproject.toml:2: tool.guardrails.pyright.timeout: at most 604800 seconds (a week), got 604801"),
    ('[tool.guardrails.ruff]\ntimeout = "60"\n',
     "pyproject.toml:2: tool.guardrails.ruff.timeout: expected a positive number, got a string"),
    # pytest reads pyproject.toml first and reports broken TOML itself, located
    ("[tool.guardrails\n", "*pyproject.toml: Expected ']' at the end of a table declaration (at line 4, column 17)"),
])
def test_bad_config_is_a_usage_error(backend: Backend, toml: str, message: str) -> None:
    write_files(backend.path, {"pyproject.toml": '[project]\nname = "x"\n\n' + toml})
    # line numbers in the messages above count from the guardrails table; shift by the 3 lines
    expected = re.sub(r"pyproject.toml:(\d+)", lambda m: f"pyproject.toml:{int(m.group(1)) + 3}", message)
    result = run(backend)
    assert result.ret == 4, result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines([f"ERROR: {expected}"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_toml_text_is_parsed_once_and_each_caller_gets_its_own_copy() -> None:
    from pytest_guardrails import config

    text = '[tool.guardrails]\nmode = "warn"\n[tool.pyright]\ninclude = ["src"]\n'
    config._parsed_toml.cache_clear()  # pyright: ignore[reportPrivateUsage]
    first = config.load_toml(text)
    first["tool"].pop("guardrails")  # the cache key drops its table from what it gets
    first["tool"]["pyright"]["include"].append("tests")
    second = config.load_toml(text)
    assert second == {"tool": {"guardrails": {"mode": "warn"}, "pyright": {"include": ["src"]}}}
    info = config._parsed_toml.cache_info()  # pyright: ignore[reportPrivateUsage]
    assert (info.misses, info.hits) == (1, 1)
    for _ in range(2):  # an error is raised each time, never remembered as a result
        with pytest.raises(config.tomllib.TOMLDecodeError):
            config.load_toml("[tool.guardrails\n")
    big = "x = 1\n" + "#" * config.REMEMBERED_TOML
    assert config.load_toml(big) == config.load_toml(big) == {"x": 1}
    assert config._parsed_toml.cache_info().currsize == 1  # pyright: ignore[reportPrivateUsage]


def test_waiver_skips_with_its_reason(dirty: Backend) -> None:
    pyproject = dirty.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + (
        '\n[tool.guardrails.ignore]\n'
        '"legacy-examples[libs/schemas]" = "examples are rewritten in schemas 0.8"\n'))
    result = run(dirty, "-rs", "--guardrails-mode=strict", "--junitxml=w.xml")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "SKIPPED [[]1[]] pyproject.toml: waived (legacy-examples[[]libs/schemas[]]): "
        "examples are rewritten in schemas 0.8",
    ])
    case = junit(dirty, "w.xml")["legacy-examples[libs/schemas]"]
    assert case["outcome"] == "skipped:pytest.skip"
    assert case["properties"] == {"guardrail": "legacy-examples", "target": "libs/schemas", "mode": "strict"}


def test_waiver_by_id_covers_every_target(backend: Backend) -> None:
    pyproject = backend.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.guardrails.ignore]\n"legacy-examples" = "n/a"\n')
    run(backend).assert_outcomes(passed=1, skipped=2)


@pytest.mark.parametrize("ini", ["setup.cfg", "tox.ini", "pytest.ini"])
def test_without_pyproject_the_ini_file_is_the_anchor(pytester: pytest.Pytester,
                                                      monkeypatch: pytest.MonkeyPatch, ini: str) -> None:
    """A repository configured in setup.cfg/tox.ini/pytest.ini only: guardrails with defaults,
    under the config file pytest chose."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    section = "[pytest]" if ini != "setup.cfg" else "[tool:pytest]"
    pytester.makefile(ini[ini.index("."):], **{ini[:ini.index(".")]: f"{section}\n"})
    run_git(pytester.path, "init", "-q")
    pytester.makepyfile(mod="import os  # noqa\n")
    result = pytester.runpytest("-p", "guardrails", "--guardrails-only", "-rx",
                                "-k", "blanket or legacy")
    result.stdout.fnmatch_lines([f"configfile: {ini}",
                                 f"XFAIL {ini}::blanket-suppressions - blanket-suppressions: 1 *"])
    result.assert_outcomes(passed=1, xfailed=1)
    by_id = pytester.runpytest("-p", "guardrails", f"{ini}::blanket-suppressions")
    by_id.assert_outcomes(xfailed=1)


def test_no_config_file_at_all_is_a_one_line_usage_error(pytester: pytest.Pytester,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest("-p", "guardrails", "--guardrails-only")
    assert result.ret == 4
    assert result.stderr.lines[0] == (
        f"ERROR: guardrails: no pyproject.toml in {pytester.path}: add one holding "
        "[tool.guardrails] (that line alone gives every guardrail its defaults)")


def test_copy_without_git_metadata(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A container copy: no .git anywhere; targets still come from .gitmodules."""
    backend.write(VIOLATIONS)
    copy = tmp_path_factory.mktemp("copy") / "backend"
    shutil.copytree(backend.path, copy, ignore=shutil.ignore_patterns(".git"))
    assert not (copy / ".git").exists() and not (copy / "libs/schemas/.git").exists()
    backend.pytester.chdir()
    result = backend.pytester.runpytest("-p", "guardrails", "-p", "no:cacheprovider",
                                        f"--rootdir={copy}", *(f"{copy}/{i}" for i in ENGINE_IDS), "-rx")
    result.assert_outcomes(passed=2, xfailed=1)
    result.stdout.fnmatch_lines(["XFAIL*version-ssot[[]libs/schemas[]]*2 stale versions"])


def test_uninitialised_submodule_cannot_run(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> None:
    clone = tmp_path_factory.mktemp("clone") / "backend"
    backend.git("clone", "-q", str(backend.path), str(clone))
    assert (clone / ".gitmodules").is_file() and not any((clone / "libs/schemas").iterdir())
    backend.pytester.chdir()
    args = ["-p", "guardrails", "-p", "no:cacheprovider", f"--rootdir={clone}",
            *(f"{clone}/{i}" for i in ENGINE_IDS), "-rs"]
    warn = backend.pytester.runpytest(*args)
    warn.assert_outcomes(passed=1, skipped=2)
    warn.stdout.fnmatch_lines([
        "SKIPPED [[]1[]] *pyproject.toml:5: version-ssot[[]libs/schemas[]]: cannot run: submodule "
        "libs/schemas is not checked out, so libs/schemas/version.json is missing; "
        "how to fix: git submodule update --init libs/schemas",
    ])
    strict = backend.pytester.runpytest(*args, "--guardrails-mode=strict")
    strict.assert_outcomes(passed=1, failed=2)


# --- extension points --------------------------------------------------------------------------

CONFTEST_GUARDRAIL = """
from pytest_guardrails.api import Finding, Guardrail
from pytest_guardrails.options import Option


def check(run):
    for rel in run.project.files(run.target):
        if rel.endswith(".py") and (run.target.root / rel).read_text().startswith("# TODO"):
            yield Finding("TODO left in code", run.target.rel(rel), 1, code="TD001")


NO_TODO = Guardrail(name="no-todo", check=check, options={"strict-todo": Option("bool", False, "x")},
                    noun="todo", fix="do it now")


def pytest_guardrails_register(config):
    return [NO_TODO]
"""


def test_conftest_hook_adds_a_guardrail(backend: Backend) -> None:
    backend.write({"conftest.py": CONFTEST_GUARDRAIL, "app/todo.py": "# TODO\n"}, in_schemas=False)
    pyproject = backend.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + (
        '\n[tool.guardrails.no-todo]\nstrict-todo = true\nmode = "strict"\n'
        '\n[tool.guardrails.ignore]\n"no-todo[libs/schemas]" = "not ours"\n'))
    result = backend.run("--guardrails", "-k", "no-todo", "-rs")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "no-todo: 1 todo",
        "app/todo.py:1: TD001 TODO left in code",
        "how to fix: do it now",
    ])
    bad = pyproject.read_text().replace("strict-todo = true", "strict-tod = true")
    pyproject.write_text(bad)
    result = backend.run("--guardrails")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*unknown key 'tool.guardrails.no-todo.strict-tod'; did you mean 'strict-todo'?"])


def test_entry_point_group_adds_a_guardrail(backend: Backend, tmp_path_factory: pytest.TempPathFactory,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path_factory.mktemp("site")
    write_files(site, {
        "todo_guardrail.py": CONFTEST_GUARDRAIL,
        "todo_guardrail-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: todo-guardrail\nVersion: 1.0\n",
        "todo_guardrail-1.0.dist-info/entry_points.txt": "[pytest_guardrails]\nno-todo = todo_guardrail:NO_TODO\n",
    })
    monkeypatch.syspath_prepend(str(site))
    backend.write({"app/todo.py": "# TODO\n"})
    result = backend.run("--guardrails-only", "-k", "no-todo", "-rx")
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(["XFAIL pyproject.toml::no-todo - no-todo: 1 todo"])


def test_duplicate_guardrail_id_is_a_usage_error(backend: Backend) -> None:
    backend.write({"conftest.py": CONFTEST_GUARDRAIL.replace('name="no-todo"', 'name="legacy-examples"')})
    result = backend.run("--guardrails")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*two guardrails are named 'legacy-examples'*"])


def test_broken_guardrail_never_breaks_warn_mode(backend: Backend) -> None:
    backend.write({"conftest.py": (
        "from pytest_guardrails.api import Guardrail\n"
        "def check(run):\n    raise KeyError('boom')\n"
        "def pytest_guardrails_register(config):\n"
        "    return [Guardrail(name='broken', check=check, scope='submodule')]\n")})
    warn = backend.run("--guardrails", "-k", "broken", "-rx")
    warn.assert_outcomes(xfailed=1)
    warn.stdout.fnmatch_lines(["XFAIL*broken[[]libs/schemas[]]: error: internal error in broken: KeyError: 'boom'"])
    assert warn.ret == 0
    strict = backend.run("--guardrails", "-k", "broken", "--guardrails-mode=strict")
    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines(["*raise KeyError('boom')*"])


def test_reportinfo_and_header(backend: Backend) -> None:
    result = run(backend, "-v")
    result.stdout.fnmatch_lines(["guardrails: * guardrails, targets: ., libs/schemas"])


def test_an_outcome_travels_as_one_json_string() -> None:
    """Reports carry the outcome as one string (xdist's serialiser walks nested values one by
    one); every field, lone surrogates from undecodable paths included, comes back equal."""
    from pytest_guardrails.api import Finding
    from pytest_guardrails.report import Outcome

    findings = tuple(Finding(message=f"m{i} \u2028 \udcff", path=f"app/\udcfe{i}.py", line=i,
                             col=1, code="X1", fingerprint=f"{i:016x}") for i in range(3))
    outcome = Outcome(guardrail="ruff", target="libs/schemas", mode="warn", status="findings",
                      reason="ruff: 3 violations", findings=findings, tool="ruff 0.1",
                      text="a\nb", known=findings[:1], stale=2, notes=("n1", "n2"))
    text = outcome.to_json()
    assert isinstance(text, str)
    back = Outcome.from_json(text)
    assert back == outcome
    assert [f.fingerprint for f in back.findings] == [f.fingerprint for f in findings]


def test_the_outputs_are_written_after_other_plugins_finish_the_session() -> None:
    """The outputs (baseline, GitHub, SARIF) run last at session end, after other plugins' own
    session-end work, and the start-up freeze after theirs at session start."""
    from pytest_guardrails.session import GuardrailsSession

    for hook in (GuardrailsSession.pytest_sessionfinish, GuardrailsSession.pytest_sessionstart):
        assert getattr(hook, "pytest_impl", {}).get("trylast") is True, hook.__name__
