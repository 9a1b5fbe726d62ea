"""Hostile input: a pull request controls every file the guardrails read, the config included.

Each scenario builds a real backend repository with a real submodule (``conftest.backend``),
commits something an attacker could commit, runs the guardrails and asserts the outcome, the
located message, and that the other guardrails still ran.
"""

from __future__ import annotations

from collections.abc import Callable
import hashlib
import os
from pathlib import Path
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest

from conftest import Backend
from pytest_guardrails import _process
from pytest_guardrails import api
from pytest_guardrails import escape
from pytest_guardrails import session

# imported here, before any inner run: pytester restores sys.modules after each in-process run,
# and a conftest guardrail must raise the GuardrailError class the engine catches
ENGINE = (_process, api, session)

CANARY = "canary-5f2c9e-never-print-me"

FORBID_TODO = """
[tool.guardrails.forbid.no-todo]
pattern = 'TODO'
files = ["**/*"]
message = "no TODO"
"""

NOT_SLOW = ["-k", "not pyright"]
DEP = ("dependency-pins", "libs/schemas")
VER = ("version-ssot", "libs/schemas")
SCHEMAS_PYPROJECT = '[project]\nname = "schemas"\nversion = "0.7.3"\ndependencies = ["requests>=2"]\n'


@pytest.fixture
def backend(backend: Backend) -> Backend:
    """conftest's backend, its submodule declaring a dependency (so dependency-pins reads the
    backend's requirements files against it)."""
    backend.write({"pyproject.toml": SCHEMAS_PYPROJECT}, in_schemas=True)
    backend.git("add", "-A")
    backend.git("commit", "-qm", "bump schemas")
    return backend


def configure(backend: Backend, extra: str) -> None:
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": pyproject + extra})


def raw_output(result: pytest.RunResult) -> str:
    return "\n".join([*result.outlines, *result.errlines])


def tree_state(*roots: Path) -> dict[str, tuple[str, str]]:
    """Every entry below ``roots`` (``.git`` and the submodule's git dir included): its kind and
    content hash (a symlink's target; FIFOs and devices are never opened)."""
    out: dict[str, tuple[str, str]] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [*dirnames, *filenames]:
                p = os.path.join(dirpath, name)
                st = os.lstat(p)
                if stat.S_ISLNK(st.st_mode):
                    out[p] = ("link", os.readlink(p))
                elif stat.S_ISREG(st.st_mode):
                    out[p] = ("file", hashlib.sha256(Path(p).read_bytes()).hexdigest())
                else:
                    out[p] = (oct(stat.S_IFMT(st.st_mode)), "")
    return out


class Run:
    """One guardrails run over a hostile repository: its output (stdout, stderr and JUnit XML
    together), the summary table and the exit code. Asserts the run changed no byte of the
    repository, its submodule or their git dirs, and printed no INTERNALERROR or internal error."""

    def __init__(self, backend: Backend, tmp: Path, *args: str, strict: bool = False,
                 xdist: bool = False, canaries: tuple[str, ...] = (CANARY,),
                 only: bool = True) -> None:
        before = tree_state(backend.path)
        junit = tmp / "junit.xml"
        extra = ["-n", "2"] if xdist else []
        mode = "--guardrails-mode=strict" if strict else "--guardrails-mode=warn"
        self.result = backend.run("--guardrails-only" if only else "--guardrails", mode, "-rA",
                                  f"--junitxml={junit}", *extra, *args)
        after = tree_state(backend.path)
        assert after == before, "the run changed the repository"
        self.out = raw_output(self.result)
        self.xml = junit.read_text(encoding="utf-8") if junit.exists() else ""
        for text in (self.out, self.xml):
            assert "INTERNALERROR" not in text, text
            assert "internal error" not in text, text
            for canary in canaries:
                assert canary not in text, f"{canary!r} leaked"
        self.ret = self.result.ret

    def table(self) -> dict[tuple[str, str], str]:
        return table(self.result)

    def others_ran(self, *hostile: tuple[str, str]) -> dict[tuple[str, str], str]:
        return others_ran(self.result, *hostile)

    def verdict(self, key: tuple[str, str], strict: bool) -> None:
        """The hostile item went red: xfailed in warn mode, failed in strict mode."""
        rows = self.others_ran(key)
        assert rows[key] == ("failed" if strict else "xfailed"), rows
        assert self.ret == (1 if strict else 0), self.out


_ROW = re.compile(r"^(\S+)\s{2,}(.+?)\s{2,}(passed|failed|xfailed|skipped)\b")


def table(result: pytest.RunResult) -> dict[tuple[str, str], str]:
    """The guardrails summary table: (guardrail, target) -> pytest outcome word."""
    out: dict[tuple[str, str], str] = {}
    lines = result.outlines
    start = next(i for i, ln in enumerate(lines) if re.match(r"^=+ guardrails =+$", ln))
    for ln in lines[start + 2:]:
        m = _ROW.match(ln)
        if m is None:
            break
        out[(m.group(1), m.group(2))] = m.group(3)
    return out


def others_ran(result: pytest.RunResult, *hostile: tuple[str, str]) -> dict[tuple[str, str], str]:
    """Assert every guardrail item but ``hostile`` ran to a verdict (passed or a plain skip
    such as not-applicable), the scanners and ruff among them; return the table."""
    rows = table(result)
    for key in hostile:
        assert key in rows, (key, rows)
    rest = {k: v for k, v in rows.items() if k not in hostile}
    assert rest, rows
    assert all(v in ("passed", "skipped") for v in rest.values()), rest
    for scanner in (("ruff", "."), ("blanket-suppressions", "."), ("deprecated-api", ".")):
        if scanner not in hostile and scanner in rows:
            assert rest.get(scanner) == "passed", rest
    return rows


# --- output hygiene ------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "shown"), [
    ("::error::x", "\\x3a:error::x"),
    ("  ::warning file=a::b", "  \\x3a:warning file=a::b"),
    ("a::b", "a::b"),
    ("red\x1b[31m\r", "red\\x1b[31m\\r"),
    ("f\udcff.py", "f\\xff.py"),
    ("\u202eabc", "\\u202eabc"),
    ("a\nb", "a\\nb"),
])
def test_escape_line(raw: str, shown: str) -> None:
    assert escape.line(raw) == shown
    assert escape.line(shown) == shown
    shown.encode("utf-8")


def test_escape_text_keeps_lines_and_defuses_each() -> None:
    assert escape.text("a\r\n::error::b\n\tc\x1b") == "a\n\\x3a:error::b\n\tc\\x1b"


def test_escape_shell() -> None:
    assert escape.shell("libs/$(touch pwned)") == "'libs/$(touch pwned)'"


@pytest.mark.parametrize("strict", [False, True])
def test_control_characters_and_workflow_command_in_file_name(
        backend: Backend, monkeypatch: pytest.MonkeyPatch, strict: bool) -> None:
    configure(backend, FORBID_TODO)
    name = "app/\x1b]0;owned\x07\r::error file=x::pwned.txt"
    backend.write({name: "TODO\n"})
    if strict:
        monkeypatch.setenv("STRICT_GUARDRAILS", "1")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = backend.run("--guardrails-only", *NOT_SLOW, "-rA")
    out = raw_output(result)
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out
    assert not [ln for ln in out.splitlines() if ln.lstrip().startswith("::") and "pwned" in ln
                and not ln.startswith("::")]
    # the only lines starting with "::" are our own annotations, with the path escaped
    for ln in out.splitlines():
        if ln.startswith("::"):
            assert re.match(r"::(error|warning) ", ln), ln
    assert "app/\\x1b]0;owned\\x07\\r\\x3a:error file=x::pwned.txt:1:1: " in out or \
        "app/\\x1b]0;owned\\x07\\r::error file=x::pwned.txt:1:1: " in out
    rows = others_ran(result, ("forbid-no-todo", "."))
    assert rows[("forbid-no-todo", ".")] == ("failed" if strict else "xfailed")
    assert result.ret == (1 if strict else 0)


# --- containment: never read outside the repository -----------------------------------------------

NOT_READ_OUT = "not read: symlink to outside the repository"


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory outside the repository holding canary files (what CI secrets stand for)."""
    d = tmp_path_factory.mktemp("outside")
    (d / "canary.txt").write_text(f"{CANARY} ==\n# noqa TODO {CANARY}\nimport os  # noqa\n")
    (d / "canary.json").write_text(f'{{"schemaVersion": "{CANARY}", "note": "auto-converted from legacy {CANARY}"}}\n')
    (d / "canary.md").write_text(f"---\nversion: {CANARY}\n---\n")
    (d / "dir").mkdir()
    (d / "dir" / "canary.txt").write_text(f"{CANARY} ==\n")
    (d / "dir" / "canary.py").write_text(f"import os  # noqa\n{CANARY} = 1 +\n")
    return d


@pytest.fixture
def junit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("junit")


def environ_values() -> tuple[str, ...]:
    """Distinctive ``NAME=value`` entries of this process's /proc/self/environ."""
    try:
        raw = Path("/proc/self/environ").read_bytes()
    except OSError:
        return ()
    entries = [e.decode("utf-8", "replace") for e in raw.split(b"\0") if len(e) > 20]
    return tuple(e for e in entries if "=" in e and not e.startswith(("PWD=", "OLDPWD=")))


@pytest.mark.parametrize("strict", [False, True])
def test_requirements_symlink_to_proc_self_environ(backend: Backend, junit_dir: Path,
                                                   strict: bool) -> None:
    if not Path("/proc/self/environ").exists():
        pytest.skip("no /proc")
    commit_symlink(backend, "requirements-dev.txt", "/proc/self/environ")
    run = Run(backend, junit_dir, *NOT_SLOW, strict=strict, canaries=environ_values())
    run.verdict(DEP, strict)
    assert f"requirements-dev.txt: {NOT_READ_OUT}" in run.out


def commit_symlink(backend: Backend, link: str, target: str | Path, *, in_schemas: bool = False
                   ) -> None:
    root = backend.schemas if in_schemas else backend.path
    path = root / link
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)
    backend.git("add", "-A", cwd=root)
    backend.git("commit", "-qm", "symlink", cwd=root)


@pytest.mark.parametrize("strict", [False, True])
def test_requirements_symlink_to_a_file_outside(backend: Backend, outside: Path, junit_dir: Path,
                                                strict: bool) -> None:
    commit_symlink(backend, "requirements-dev.txt", outside / "canary.txt")
    run = Run(backend, junit_dir, *NOT_SLOW, strict=strict)
    run.verdict(DEP, strict)
    assert f"requirements-dev.txt: {NOT_READ_OUT}" in run.out


@pytest.mark.parametrize(("line", "message"), [
    ("-r ../outside.txt", "requirements.txt:2: ../outside.txt is outside the repository (not read)"),
    ("-c /etc/passwd", "requirements.txt:2: /etc/passwd is outside the repository (not read)"),
    ("--requirement=~/secrets.txt", "requirements.txt:2: ~/secrets.txt is outside the repository (not read)"),
    ("-r sub/../../x.txt", "requirements.txt:2: sub/../../x.txt is outside the repository (not read)"),
])
def test_requirements_include_outside(backend: Backend, junit_dir: Path, line: str,
                                      message: str) -> None:
    backend.write({"requirements.txt": f"requests==2.31.0\n{line}\n"})
    run = Run(backend, junit_dir, *NOT_SLOW, canaries=("root:x:0:0",))
    run.verdict(DEP, False)
    assert message in run.out


def test_requirements_include_of_a_symlink_out(backend: Backend, outside: Path,
                                              junit_dir: Path) -> None:
    commit_symlink(backend, "reqs/base.txt", outside / "canary.txt")
    backend.write({"requirements.txt": "requests==2.31.0\n-r reqs/base.txt\n"})
    run = Run(backend, junit_dir, *NOT_SLOW)
    run.verdict(DEP, False)
    assert f"reqs/base.txt: {NOT_READ_OUT}" in run.out


def test_requirements_include_through_a_symlinked_directory(backend: Backend, outside: Path,
                                                            junit_dir: Path) -> None:
    commit_symlink(backend, "reqs", outside / "dir")
    backend.write({"requirements.txt": "requests==2.31.0\n-c reqs/canary.txt\n"})
    run = Run(backend, junit_dir, *NOT_SLOW, strict=True)
    run.verdict(DEP, True)
    assert f"reqs/canary.txt: {NOT_READ_OUT}" in run.out


def test_recursive_requirement_includes(backend: Backend, junit_dir: Path) -> None:
    backend.write({"requirements.txt": "-r requirements-a.txt\nrequests==2.31.0\n",
                   "requirements-a.txt": "-r requirements.txt\n-r requirements-a.txt\n"})
    run = Run(backend, junit_dir, *NOT_SLOW, strict=True)
    rows = run.others_ran()
    assert rows[DEP] == "passed"


def test_deep_requirement_include_chain(backend: Backend, junit_dir: Path) -> None:
    files = {f"requirements-{i}.txt": f"-r requirements-{i + 1}.txt\n" for i in range(60)}
    files["requirements-60.txt"] = "requests==2.31.0\n"
    backend.write(files)
    run = Run(backend, junit_dir, *NOT_SLOW)
    run.verdict(DEP, False)
    assert "includes nested deeper than 32 files (not read)" in run.out


def test_version_source_symlink_out(backend: Backend, outside: Path, junit_dir: Path) -> None:
    (backend.schemas / "version.json").unlink()
    commit_symlink(backend, "version.json", outside / "canary.json", in_schemas=True)
    backend.git("add", "-A")
    backend.git("commit", "-qm", "bump")
    run = Run(backend, junit_dir, *NOT_SLOW, strict=True)
    rows = run.others_ran(VER)
    assert rows[VER] == "failed"
    assert f"error: version source libs/schemas/version.json {NOT_READ_OUT}" in run.out


def test_frontmatter_file_symlink_out(backend: Backend, outside: Path, junit_dir: Path) -> None:
    commit_symlink(backend, "docs/leak.md", outside / "canary.md")
    run = Run(backend, junit_dir, *NOT_SLOW)
    run.verdict(VER, False)
    assert f"docs/leak.md: {NOT_READ_OUT}" in run.out


def test_example_json_symlink_out(backend: Backend, outside: Path, junit_dir: Path) -> None:
    commit_symlink(backend, "examples/Leak.json", outside / "canary.json", in_schemas=True)
    backend.git("add", "-A")
    backend.git("commit", "-qm", "bump")
    run = Run(backend, junit_dir, *NOT_SLOW)
    run.verdict(("legacy-examples", "libs/schemas"), False)
    assert f"libs/schemas/examples/Leak.json: {NOT_READ_OUT}" in run.out


@pytest.mark.parametrize("strict", [False, True])
def test_scanned_file_symlink_out_is_named_not_read(backend: Backend, outside: Path,
                                                    junit_dir: Path, strict: bool) -> None:
    configure(backend, FORBID_TODO)
    commit_symlink(backend, "app/leak.py", outside / "canary.txt")
    run = Run(backend, junit_dir, *NOT_SLOW, "-k", "blanket or forbid or deprecated or ruff",
              strict=strict)
    rows = run.table()
    # the pattern TODO matches pyproject.toml (the config) only: the canary was never searched
    assert rows[("forbid-no-todo", ".")] == ("failed" if strict else "xfailed")
    assert rows[("blanket-suppressions", ".")] == "passed"
    assert rows[("ruff", ".")] == "passed"
    assert "app/leak.py" not in [ln.split(":")[0] for ln in run.out.splitlines()]
    if strict:
        assert "1 file not read: app/leak.py (symlink to outside the repository)" in run.out


def test_scanned_directory_symlink_out(backend: Backend, outside: Path, junit_dir: Path) -> None:
    commit_symlink(backend, "app/vendor", outside / "dir")
    run = Run(backend, junit_dir, *NOT_SLOW, strict=True)
    run.others_ran()


def test_ruff_config_symlink_out_is_not_run(backend: Backend, outside: Path, junit_dir: Path) -> None:
    commit_symlink(backend, "ruff.toml", outside / "canary.txt")
    run = Run(backend, junit_dir, *NOT_SLOW, strict=True)
    rows = run.others_ran(("ruff", "."), ("ruff", "libs/schemas"))
    assert rows[("ruff", ".")] == rows[("ruff", "libs/schemas")] == "failed"
    assert "ruff: error: ruff.toml is a symlink to outside the repository; ruff was not run" in run.out
    # ruff reads a parent directory's settings: the submodule's run is refused too
    assert "ruff[libs/schemas]: error: ruff.toml is a symlink to outside" in run.out


def test_pyproject_symlink_out_is_a_usage_error(backend: Backend, outside: Path,
                                                junit_dir: Path) -> None:
    (backend.path / "pyproject.toml").unlink()
    os.symlink(outside / "canary.txt", backend.path / "pyproject.toml")
    result = backend.run("--guardrails-only")
    out = raw_output(result)
    assert CANARY not in out
    assert result.ret in (1, 4)  # pytest itself parses pyproject.toml first
    assert "INTERNALERROR" not in out


def test_gitmodules_symlink_out_is_a_usage_error(backend: Backend, outside: Path) -> None:
    (backend.path / ".gitmodules").unlink()
    os.symlink(outside / "canary.txt", backend.path / ".gitmodules")
    result = backend.run("--guardrails-only")
    out = raw_output(result)
    assert result.ret == 4
    assert f".gitmodules: {NOT_READ_OUT}" in out
    assert CANARY not in out


def test_copy_without_git_walks_no_symlink_out(backend: Backend, outside: Path,
                                               junit_dir: Path) -> None:
    import shutil

    commit_symlink(backend, "app/ext", outside / "dir")
    commit_symlink(backend, "app/leak.py", outside / "dir" / "canary.py")
    commit_symlink(backend, ".gitignore", outside / "canary.txt")
    shutil.rmtree(backend.path / ".git")
    (backend.schemas / ".git").unlink()
    backend.write({"app/bad.py": "import os  # noqa\n"}, commit=False)
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", "-k", "blanket or ruff")
    out = raw_output(result)
    assert CANARY not in out and "INTERNALERROR" not in out
    rows = table(result)
    assert rows[("ruff", ".")] == "passed"
    assert rows[("blanket-suppressions", ".")] == "failed"
    assert "app/bad.py:1:12: `# noqa`" in out  # the walk went on
    assert "1 file not read: app/leak.py (symlink to outside the repository)" in out


# --- parsers: any depth, any size, any bytes: a located finding, never a crash ----------------------

DEEP = 50_000
HUGE_INT = "9" * 5000


def commit_in_schemas(backend: Backend, files: dict[str, str | bytes]) -> None:
    backend.write(files, in_schemas=True)
    backend.git("add", "-A")
    backend.git("commit", "-qm", "bump schemas")


@pytest.mark.parametrize(("strict", "xdist"), [(False, False), (True, False), (True, True)])
def test_lone_surrogate_in_json_crosses_xdist(backend: Backend, junit_dir: Path, strict: bool,
                                              xdist: bool) -> None:
    commit_in_schemas(backend, {"examples/Bad.json": '{"note": "auto-converted from legacy \\ud800 x"}\n'})
    run = Run(backend, junit_dir, *NOT_SLOW, strict=strict, xdist=xdist)
    run.verdict(("legacy-examples", "libs/schemas"), strict)
    assert "libs/schemas/examples/Bad.json:1: /note: auto-converted from legacy \\ud800 x" in run.out


@pytest.mark.parametrize(("strict", "xdist"), [(False, False), (True, True)])
def test_non_utf8_file_name_crosses_xdist(backend: Backend, junit_dir: Path, strict: bool,
                                          xdist: bool) -> None:
    configure(backend, FORBID_TODO)
    (backend.path / "app").mkdir(exist_ok=True)
    (backend.path / os.fsdecode(b"app/caf\xe9.txt")).write_text("TODO\n")
    backend.git("add", "-A")
    backend.git("commit", "-qm", "latin-1 name")
    run = Run(backend, junit_dir, *NOT_SLOW, strict=strict, xdist=xdist)
    run.verdict(("forbid-no-todo", "."), strict)
    assert "app/caf\\xe9.txt:1:1: `TODO` matches `TODO`: no TODO" in run.out


@pytest.mark.parametrize(("name", "content", "key", "message"), [
    ("deep-json-example", {"examples/Deep.json": "[" * DEEP + "]" * DEEP},
     ("legacy-examples", "libs/schemas"), "libs/schemas/examples/Deep.json: JSON nested too deeply to read"),
    ("huge-int-example", {"examples/Big.json": f'{{"n": {HUGE_INT}}}'},
     ("legacy-examples", "libs/schemas"), "libs/schemas/examples/Big.json: invalid JSON: Exceeds the limit"),
    ("nul-example", {"examples/Nul.json": b'{"a": "\x00"}'},
     ("legacy-examples", "libs/schemas"), "libs/schemas/examples/Nul.json: binary file, not JSON"),
    ("deep-toml-pyproject", {"pyproject.toml": SCHEMAS_PYPROJECT + "deep = " + "[" * DEEP + "]" * DEEP + "\n"},
     DEP, "libs/schemas/pyproject.toml:1: invalid TOML: nested too deeply"),
    ("huge-int-pyproject", {"pyproject.toml": SCHEMAS_PYPROJECT + f"n = {HUGE_INT}\n"},
     DEP, "libs/schemas/pyproject.toml:1: invalid TOML: Exceeds the limit"),
    ("deep-python", {"deep.py": "import jsonschema\nRefResolver = 1\nx = " + "-" * DEEP + "1\n"},
     ("deprecated-api", "libs/schemas"), "libs/schemas/deep.py"),
    ("deep-python-parens", {"parens.py": "# RefResolver\nx = " + "(" * 300 + ")" * 300 + "\n"},
     ("deprecated-api", "libs/schemas"), "libs/schemas/parens.py:2:"),
    ("huge-int-python", {"big.py": f"# RefResolver\nx = {HUGE_INT}\n"},
     ("deprecated-api", "libs/schemas"), "libs/schemas/big.py"),
])
def test_hostile_parser_input_in_the_submodule(backend: Backend, junit_dir: Path, name: str,
                                               content: dict[str, str | bytes],
                                               key: tuple[str, str], message: str) -> None:
    commit_in_schemas(backend, content)
    run = Run(backend, junit_dir, "-k", "not pyright and not ruff")
    rows = run.others_ran(key)
    assert rows[key] == "xfailed", rows
    assert message in run.out


@pytest.mark.parametrize(("source", "text", "message"), [
    ("version.json", "[" * DEEP + "]" * DEEP, "cannot parse version source libs/schemas/version.json: nested too deeply"),
    ("version.json", f'{{"schemaVersion": {HUGE_INT}}}', "cannot parse version source libs/schemas/version.json: Exceeds the limit"),
    ("version.json", '{"schemaVersion": "\\ud800"}', "libs/schemas/version.json"),
])
def test_hostile_version_source(backend: Backend, junit_dir: Path, source: str, text: str,
                                message: str) -> None:
    commit_in_schemas(backend, {source: text})
    run = Run(backend, junit_dir, "-k", "not pyright and not ruff", strict=True)
    run.verdict(VER, True)
    assert message in run.out


@pytest.mark.parametrize("front", [
    "---\nversion: " + "[" * DEEP + "\n---\n",
    "---\nversion: " + "{a: " * 5000 + "\n---\n",
    "---\n" + "- " * 20000 + "x\n---\n",
])
def test_hostile_yaml_frontmatter(backend: Backend, junit_dir: Path, front: str) -> None:
    backend.write({"docs/deep.md": front})
    run = Run(backend, junit_dir, "-k", "not pyright and not ruff")
    run.verdict(VER, False)
    assert "docs/deep.md:" in run.out


def test_nul_bytes_in_a_requirements_file(backend: Backend, junit_dir: Path) -> None:
    backend.write({"requirements.txt": b"requests==2.31.0\nurllib3\x00==2\n"})
    run = Run(backend, junit_dir, "-k", "not pyright and not ruff")
    run.verdict(DEP, False)
    assert "\x00" not in run.out
    assert "requirements.txt:2: invalid requirement 'urllib3\\x00==2'" in run.out


# --- .gitmodules and the submodules key: config errors, exit 4, located --------------------------------


def usage_error(backend: Backend) -> str:
    result = backend.run("--guardrails-only")
    out = raw_output(result)
    assert result.ret == 4, out
    assert "INTERNALERROR" not in out and "Traceback" not in out
    return out


@pytest.mark.parametrize(("gitmodules", "message"), [
    ('[submodule "libs/schemas"]\n\tpath = libs/schemas\n\turl = ../schemas\nthis is not git config\n',
     ".gitmodules:4: cannot parse: not a section header or key = value: 'this is not git config'"),
    ('[submodule "libs/schemas"]\n\tpath = libs/schemas\n[submodule "other"]\n\turl = ../other\n',
     '.gitmodules:3: submodule "other" has no path'),
    ('[submodule "libs/schemas"]\n\tpath = libs/schemas\n[submodule "up"]\n\tpath = ../../etc\n',
     ".gitmodules:3: submodule \"up\" path '../../etc' is outside the repository"),
    ('[submodule "a"]\n\tpath = libs/schemas\n[submodule "b"]\n\tpath = libs/schemas\n',
     '.gitmodules:3: submodules "a" and "b" have the same path \'libs/schemas\''),
    ('path = libs/schemas\n', ".gitmodules:1: cannot parse: a key outside any section: 'path = libs/schemas'"),
    ('[submodule]\n\tpath = libs/schemas\n', '.gitmodules:1: a [submodule] section needs a name'),
])
def test_malformed_gitmodules_is_a_located_usage_error(backend: Backend, gitmodules: str,
                                                       message: str) -> None:
    backend.write({".gitmodules": gitmodules})
    assert f"ERROR: {message}" in usage_error(backend)


@pytest.mark.parametrize(("value", "message"), [
    ('["libs/schemas", "libs/schemas"]', "tool.guardrails.submodules[1]: 'libs/schemas' is listed twice"),
    ('["."]', 'tool.guardrails.submodules[0]: "." is the repository itself, always a target'),
    ('["libs/nothere"]', "tool.guardrails.submodules[0]: 'libs/nothere' is not a submodule"),
    ('"all"', "tool.guardrails.submodules: expected \"auto\" or an array of paths"),
])
def test_bad_submodules_key_is_a_located_usage_error(backend: Backend, value: str,
                                                     message: str) -> None:
    configure(backend, f"\n[tool.guardrails]\nsubmodules = {value}\n")
    line = (backend.path / "pyproject.toml").read_text().splitlines().index(f"submodules = {value}") + 1
    assert f"ERROR: pyproject.toml:{line}: {message}" in usage_error(backend)


@pytest.mark.parametrize("value", ['"ten megs"', "0", "-1", "true", '"5 PB"', '"' + "9" * 50 + '"'])
def test_bad_max_file_size_is_a_usage_error(backend: Backend, value: str) -> None:
    configure(backend, f"\n[tool.guardrails]\nmax-file-size = {value}\n")
    line = (backend.path / "pyproject.toml").read_text().splitlines().index(f"max-file-size = {value}") + 1
    out = usage_error(backend)
    assert f"ERROR: pyproject.toml:{line}: tool.guardrails.max-file-size: expected a positive size" in out


def test_file_over_max_file_size_is_named_not_read(backend: Backend, junit_dir: Path) -> None:
    configure(backend, '\n[tool.guardrails]\nmax-file-size = "1 KiB"\n')
    backend.write({"requirements.txt": f"requests==2.31.0  # {CANARY}\n" + "# padding\n" * 200})
    run = Run(backend, junit_dir, "-k", "not pyright and not ruff", strict=True)
    run.verdict(DEP, True)
    assert "requirements.txt: not read: 2.0 KiB, over max-file-size (1 KiB)" in run.out


# --- bounded work: user regexes cannot hang a run, globs cannot explode ----------------------------

REDOS = "(a+)+$"
EVIL_LINE = "a" * 5000 + "!"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("line", ["'\\", '"\\', "'''\\", "x = '", "'a\\\n"])
def test_open_strings_are_lexed_in_one_pass(line: str) -> None:
    """A source line of 200 kB made of quotes that never close (a repeated quote-backslash)
    once took the comment lexer minutes: every quote rescanned the rest of the line."""
    from pytest_guardrails.sources import Source

    text = "# head\n" + line * (200_000 // len(line)) + "  # noqa\n# tail\n"
    source = Source("evil.py", "evil.py", text.encode("utf-8"))
    start = time.monotonic()
    until = [c for _, c in source.comments(until=len(text))]
    spans = source.non_code_spans()
    everything = [c for _, c in source.comments()]
    assert until == everything and until[0] == "# head"
    # an open triple-quoted string runs to the end of the text, a one-line string to its line's
    assert until[-1] == ("# head" if line.startswith("'" * 3) else "# tail")
    assert spans[0] == (0, len("# head"))
    assert time.monotonic() - start < 5


def test_bounded_flags_are_the_regex_packages() -> None:
    """``bounded`` imports ``regex`` on first use only and names its flags itself."""
    import regex

    from pytest_guardrails import bounded

    assert (bounded.IGNORECASE, bounded.MULTILINE, bounded.VERBOSE) == (
        regex.IGNORECASE, regex.MULTILINE, regex.VERBOSE)
    assert bounded.check("(") is not None and bounded.check(b"(") is not None
    assert bounded.check("a|b") is None and bounded.check(b"a|b") is None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strict", [False, True])
def test_redos_forbid_pattern_is_stopped_and_located(backend: Backend, junit_dir: Path,
                                                     strict: bool) -> None:
    configure(backend, f"\n[tool.guardrails.forbid.evil]\npattern = '{REDOS}'\nfiles = [\"app/*.txt\"]\n"
                       'targets = ["."]\n')
    backend.write({"app/evil.txt": f"fine\n{EVIL_LINE}\n"})
    run = Run(backend, junit_dir, "-k", "not pyright and not ruff", strict=strict)
    run.verdict(("forbid-evil", "."), strict)
    assert f"app/evil.txt: pattern '{REDOS}' took longer than" in run.out
    assert "not searched further" in run.out


@pytest.mark.timeout(60)
def test_redos_legacy_examples_pattern_is_stopped_and_located(backend: Backend,
                                                              junit_dir: Path) -> None:
    configure(backend, f"\n[tool.guardrails.legacy-examples]\npatterns = ['{REDOS}']\n")
    commit_in_schemas(backend, {"examples/Evil.json": f'{{"a": "{EVIL_LINE}"}}\n'})
    run = Run(backend, junit_dir, "-k", "not pyright and not ruff", xdist=True)
    run.verdict(("legacy-examples", "libs/schemas"), False)
    assert f"libs/schemas/examples/Evil.json: pattern '{REDOS}' took longer than" in run.out


@pytest.mark.timeout(60)
def test_redos_manifest_ignore_lines_is_stopped_and_located(backend: Backend,
                                                            junit_dir: Path) -> None:
    import json

    from pytest_guardrails import manifest

    configure(backend, '\n[tool.guardrails.codegen-drift]\ngenerated = ["python/src"]\n')
    tone = "python/src/synesthetic_schemas/tone.py"
    backend.write({tone: f"# {EVIL_LINE}\nclass Tone:\n    pass\n"}, in_schemas=True)
    path = backend.schemas / "codegen.manifest.json"
    assert manifest.main(["write", "-m", str(path), "-g", "python", "--input",
                          "jsonschema/*.schema.json", "--output", "python/src/synesthetic_schemas"]) == 0
    data = json.loads(path.read_text())
    data["generators"]["python"]["ignore_lines"] = [REDOS]
    commit_in_schemas(backend, {"codegen.manifest.json": json.dumps(data, indent=2) + "\n"})
    # an uncommitted edit: the output is hashed (committed, unchanged files are compared by
    # their git blob ids)
    backend.write({tone: f"# {EVIL_LINE}\nclass Tone:\n    pass  # edited\n"}, in_schemas=True,
                  commit=False)
    run = Run(backend, junit_dir, "-k", "not pyright and not ruff", strict=True)
    run.verdict(("codegen-drift", "libs/schemas"), True)
    assert (f"cannot use the manifest: {tone}: ignore_lines pattern '(?:{REDOS})' took longer "
            "than") in run.out


@pytest.mark.parametrize(("table", "message"), [
    ('[tool.guardrails.forbid.x]\npattern = "(unclosed"\n',
     "tool.guardrails.forbid.x.pattern: invalid regular expression '(unclosed'"),
    ('[tool.guardrails.forbid.x]\nfiles = ["*.py"]\n',
     "tool.guardrails.forbid.x: missing required key 'pattern'"),
    ('[tool.guardrails.forbid.x]\npattern = "x"\nfiles = ["a[z-a].py"]\n',
     "tool.guardrails.forbid.x.files[0]: glob 'a[z-a].py': invalid: bad character range z-a"),
    ('[tool.guardrails.forbid.x]\npattern = "x"\nfiles = ["' + "*a" * 40 + '"]\n',
     "tool.guardrails.forbid.x.files[0]: glob '" + "*a" * 40 + "': 40 wildcards (at most 16"),
    ('[tool.guardrails.legacy-examples]\npatterns = ["ok", "[z-a]"]\n',
     "tool.guardrails.legacy-examples.patterns[1]: invalid regular expression '[z-a]'"),
    ('[tool.guardrails]\nexclude = ["' + "?" * 20 + '"]\n',
     "tool.guardrails.exclude[0]: glob '" + "?" * 20 + "': 20 wildcards"),
    ('[tool.guardrails.version-ssot]\nsource = "v.json"\nkey = "v"\nfiles = ["' + "x" * 2000 + '"]\n',
     "tool.guardrails.version-ssot.files[0]: glob '" + "x" * 2000 + "': longer than 1024 characters"),
])
def test_bad_regex_or_glob_is_a_located_usage_error(backend: Backend, table: str,
                                                    message: str) -> None:
    pyproject = (backend.path / "pyproject.toml").read_text()
    if table.startswith("[tool.guardrails.version-ssot]"):
        pyproject = pyproject.split("[tool.guardrails.version-ssot]")[0]
    backend.write({"pyproject.toml": pyproject + "\n" + table})
    text = (backend.path / "pyproject.toml").read_text().splitlines()
    key_line = max(i for i, ln in enumerate(text, start=1)
                   if ln.startswith(("pattern", "files", "patterns", "exclude")) or ln.startswith("[tool.guardrails.forbid"))
    out = usage_error(backend)
    assert re.search(rf"ERROR: pyproject.toml:\d+: {re.escape(message)}", out), out
    assert key_line > 0


# --- timeouts and signals: no tool outlives its item, or pytest -------------------------------------

HANG_TOOL = '''\
import signal
import subprocess
import sys
import time

for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, signal.SIG_IGN)
child = ("import signal, time\\n"
         "for s in (signal.SIGTERM, signal.SIGINT):\\n    signal.signal(s, signal.SIG_IGN)\\n"
         "time.sleep(600)\\n")
subprocess.Popen([sys.executable, "-c", child, sys.argv[1]])
print("started", flush=True)
time.sleep(600)
'''

HANG_CONFTEST = '''\
import sys

from pytest_guardrails import _process
from pytest_guardrails.api import Guardrail
from pytest_guardrails.options import Option


def check(run):
    _process.run_tool("hang", [sys.executable, str(run.root / "hang_tool.py"), {marker!r}],
                      cwd=run.root, timeout=run.settings["timeout"])
    return []


def pytest_guardrails_register(config):
    return [Guardrail(name="hang", check=check, scope=lambda project, settings: project.targets[:1],
                      options={{"timeout": Option("number", 600.0, "seconds")}})]
'''


def processes(marker: str) -> list[str]:
    out = subprocess.run(("ps", "-ewwo", "pid,stat,args"), capture_output=True, text=True,
                         check=True).stdout
    rows = [ln.split(None, 2) for ln in out.splitlines()[1:]]
    return [" ".join(r) for r in rows if len(r) == 3 and marker in r[2] and not r[1].startswith("Z")
            and not r[2].startswith("ps ")]


def wait_for(predicate: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def hang_repo(backend: Backend, marker: str, timeout: float) -> None:
    backend.write({"conftest.py": HANG_CONFTEST.format(marker=marker), "hang_tool.py": HANG_TOOL})
    configure(backend, f"\n[tool.guardrails.hang]\ntimeout = {timeout}\n")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strict", [False, True])
def test_tool_ignoring_sigterm_is_killed_at_its_timeout(backend: Backend, junit_dir: Path,
                                                        strict: bool) -> None:
    marker = f"hang-marker-{os.getpid()}-{strict}"
    hang_repo(backend, marker, 1.5)
    run = Run(backend, junit_dir, "-k", "hang or blanket or legacy", strict=strict, only=False)
    run.verdict(("hang", "."), strict)
    assert "hang timed out after 1.5 s (raise [tool.guardrails.hang] timeout)" in run.out
    assert "return code: none (killed after 1.5 s)" in run.out
    assert wait_for(lambda: not processes(marker), 10), processes(marker)


def _start_pytest(backend: Backend, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            (sys.executable, "-m", "pytest", "-p", "guardrails", "-p", "no:cacheprovider", *args),
            cwd=backend.path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.timeout(90)
@pytest.mark.parametrize(("how", "xdist"), [("SIGTERM", False), ("SIGINT-group", False),
                                            ("SIGTERM", True)])
def test_signal_to_pytest_leaves_no_tool_behind(backend: Backend, junit_dir: Path, how: str,
                                               xdist: bool) -> None:
    marker = f"hang-marker-{os.getpid()}-{how}-{xdist}"
    hang_repo(backend, marker, 600)
    before = tree_state(backend.path)
    extra = ("-p", "xdist", "-n", "2") if xdist else ()
    proc = _start_pytest(backend, junit_dir / "log.txt", "--guardrails", "-k", "hang", *extra)
    try:
        assert wait_for(lambda: len(processes(marker)) >= 2, 60), (junit_dir / "log.txt").read_text()
        if how == "SIGINT-group":
            os.killpg(proc.pid, signal.SIGINT)
        elif xdist:
            os.killpg(proc.pid, signal.SIGTERM)  # the controller and its workers
        else:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert wait_for(lambda: not processes(marker), 10), processes(marker)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for line in processes(marker):
            os.kill(int(line.split()[0]), signal.SIGKILL)
    assert tree_state(backend.path) == before


@pytest.mark.timeout(120)
def test_sigint_during_pyright_leaves_no_node_behind(backend: Backend, junit_dir: Path) -> None:
    if shutil.which("pyright", path=os.path.dirname(sys.executable)) is None and not shutil.which("pyright"):
        pytest.skip("pyright not installed")
    marker = str(backend.path)
    proc = _start_pytest(backend, junit_dir / "log.txt", "--guardrails-only", "-k", "pyright")
    try:
        assert wait_for(lambda: any("node" in ln or "pyright" in ln for ln in processes(marker)), 60), \
            (junit_dir / "log.txt").read_text()
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        assert wait_for(lambda: not processes(marker), 10), processes(marker)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    log = (junit_dir / "log.txt").read_text()
    assert "INTERNALERROR" not in log


# --- "how to fix" commands quote what the repository named ----------------------------------------------


def test_fix_commands_quote_a_hostile_submodule_path(backend: Backend, junit_dir: Path) -> None:
    import shlex

    evil = "libs/$(touch pwned) x"
    gitmodules = (backend.path / ".gitmodules").read_text()
    backend.write({".gitmodules": gitmodules + f'[submodule "evil"]\n\tpath = {evil}\n\turl = ../evil\n'})
    run = Run(backend, junit_dir, "-k", "not pyright and not ruff", "-rs", strict=True)
    quoted = shlex.quote(evil)
    assert quoted == "'libs/$(touch pwned) x'"
    assert f"git submodule update --init {quoted}" in run.out
    assert f"git submodule add <url> {quoted}" in run.out
    for line in run.out.splitlines():
        if ": cannot run: submodule" in line and not line.endswith(")"):
            command = line.split("how to fix: git submodule update --init", 1)[1]
            assert shlex.split(command) == [evil]  # one word: pasted, it runs nothing
    assert not (backend.path / "pwned").exists()
    rows = run.table()
    assert rows[("codegen-drift", evil)] == "failed"
    assert all(v == "passed" for (g, t), v in rows.items() if t != evil and g != "dependency-pins")


# --- FIFOs and devices, behind symlinks: never opened, never waited on -----------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strict", [False, True])
def test_requirements_symlink_to_a_fifo_inside(backend: Backend, junit_dir: Path, strict: bool) -> None:
    os.mkfifo(backend.path / "app" / "pipe")  # untracked: git lists no FIFO
    commit_symlink(backend, "requirements-dev.txt", "app/pipe")
    run = Run(backend, junit_dir, "-k", "not pyright and not ruff", strict=strict)
    run.verdict(DEP, strict)
    assert "requirements-dev.txt: not read: a FIFO, not a regular file" in run.out


@pytest.mark.timeout(60)
def test_requirements_symlink_to_dev_zero(backend: Backend, junit_dir: Path) -> None:
    commit_symlink(backend, "requirements-dev.txt", "/dev/zero")
    run = Run(backend, junit_dir, "-k", "not pyright and not ruff", strict=True)
    run.verdict(DEP, True)
    assert f"requirements-dev.txt: {NOT_READ_OUT}" in run.out


@pytest.mark.timeout(60)
def test_scanned_files_behind_symlinks_to_a_fifo_and_a_device(backend: Backend,
                                                               junit_dir: Path) -> None:
    configure(backend, FORBID_TODO)
    os.mkfifo(backend.path / "app" / "pipe")
    commit_symlink(backend, "app/fifo.py", "pipe")
    commit_symlink(backend, "app/zero.py", "/dev/zero")
    backend.write({"app/todo.py": "# TODO\n"})
    run = Run(backend, junit_dir, "-k", "not pyright", strict=True)
    rows = run.others_ran(("forbid-no-todo", "."))
    assert rows[("forbid-no-todo", ".")] == "failed"
    assert "app/todo.py:1:3: `TODO` matches `TODO`: no TODO" in run.out
    assert ("2 files not read: app/fifo.py (a FIFO, not a regular file), app/zero.py (symlink "
            "to outside the repository)") in run.out


# --- more injection: a workflow command in a finding message, a pyright extends out ---------------


@pytest.mark.parametrize("strict", [False, True])
def test_workflow_command_in_a_finding_message(backend: Backend, monkeypatch: pytest.MonkeyPatch,
                                               junit_dir: Path, strict: bool) -> None:
    configure(backend, '\n[tool.guardrails.forbid.inject]\npattern = "TODO"\nfiles = ["app/*.py"]\n'
                       'targets = ["."]\n'
                       'message = "fix it\\n::error file=README.md::pwned\\r\\u001b[2K"\n')
    backend.write({"app/todo.py": "# TODO\n"})
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    run = Run(backend, junit_dir, "-k", "not pyright and not ruff", strict=strict)
    run.verdict(("forbid-inject", "."), strict)
    assert ("app/todo.py:1:3: `TODO` matches `TODO`: fix it\\n::error file=README.md::pwned"
            "\\r\\x1b[2K") in run.out
    assert "\x1b" not in run.out and "\r" not in run.out
    for line in run.out.splitlines():
        if line.lstrip().startswith("::"):
            assert re.match(r"::(error|warning) file=app/todo.py,line=1,col=3,title=forbid-inject::", line), line


def test_pyright_extends_outside_is_not_run(backend: Backend, outside: Path, junit_dir: Path) -> None:
    (outside / "base.json").write_text(f'{{"include": ["{CANARY}"]}}\n')
    backend.write({"pyrightconfig.json": f'{{"extends": "{outside / "base.json"}"}}\n'})
    run = Run(backend, junit_dir, "-k", "pyright or blanket or legacy", strict=True)
    rows = run.others_ran(("pyright", "."))
    assert rows[("pyright", ".")] == "failed"
    assert "pyright config extends" in run.out and "outside the repository; pyright was not run" in run.out
