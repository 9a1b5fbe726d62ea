"""forbid-<name> (GR100): the backend's own grep checks as configuration."""

from __future__ import annotations

from pathlib import Path
import re
import subprocess

import pytest

from conftest import Backend
from pytest_guardrails.guardrails.forbid import Matcher
from pytest_guardrails.guardrails.forbid import required_literal
from tests import test_ruff

BACKEND_CHECKS = """
[tool.guardrails.forbid.no-to-dict-in-routers]
pattern = '\\.to_dict\\('
files = ["app/routers/**/*.py"]
message = "use Pydantic model_dump(by_alias=True)"
code-only = true

[tool.guardrails.forbid.no-pydantic-v1]
pattern = 'pydantic\\.v1'
files = ["**/*.py"]
message = "migrate to Pydantic 2 models"

[tool.guardrails.forbid.no-libdef]
pattern = '\\blibDef\\b'
"""

ROUTER = '''\
from app.models import Tone


def get_tone(tone: Tone) -> dict:
    # never call .to_dict( here: aliases would be lost
    return tone.to_dict()


def describe() -> str:
    """Documented as tone.to_dict() in the old API."""
    return f"uses .to_dict( {1}" + ".to_dict(" + tone_json().to_dict(by_alias=True)
'''

FILES: dict[str, str | bytes] = {
    "app/routers/tones.py": ROUTER,
    "app/routers/README.md": "Routers never call .to_dict( directly.\n",
    "app/services/export.py": "def export(tone):\n    return tone.to_dict()\n",
    "app/services/compat.py": "from pydantic.v1 import BaseModel\nimport pydantic\n",
    "app/legacy.json": '{"libDef": 1, "libDefinition": 2}\n',
}

TO_DICT = "`.to_dict(` matches `\\.to_dict\\(`: use Pydantic model_dump(by_alias=True)"


def configure(backend: Backend, text: str = BACKEND_CHECKS) -> None:
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": pyproject + text})


@pytest.fixture
def checks(backend: Backend) -> Backend:
    configure(backend)
    backend.write(FILES)
    return backend


def lines_under(output: list[str], *prefixes: str) -> list[str]:
    """Output lines starting with one of ``prefixes`` (not the summary table's rows)."""
    row = re.compile(r"^\S+\s{2,}\S+\s{2,}(?:passed|failed|xfailed|skipped)\b")
    return [ln.strip() for ln in output if ln.strip().startswith(prefixes) and not row.match(ln)]


def test_one_item_per_table_and_target_in_config_order(checks: Backend) -> None:
    result = checks.run("--guardrails-only", "--collect-only", "-q", "-k", "forbid")
    result.stdout.fnmatch_lines([
        "pyproject.toml::forbid-no-to-dict-in-routers",
        "pyproject.toml::forbid-no-to-dict-in-routers[[]libs/schemas[]]",
        "pyproject.toml::forbid-no-pydantic-v1",
        "pyproject.toml::forbid-no-pydantic-v1[[]libs/schemas[]]",
        "pyproject.toml::forbid-no-libdef",
        "pyproject.toml::forbid-no-libdef[[]libs/schemas[]]",
    ])


def test_backend_checks_exact_output(checks: Backend) -> None:
    result = checks.run("--guardrails-only", "--guardrails-mode=strict", "-k", "forbid and not libs")
    result.assert_outcomes(failed=3)
    assert lines_under(result.stdout.lines, "forbid-", "app/", "how to fix") == [
        "forbid-no-to-dict-in-routers: 2 forbidden matches",
        f"app/routers/tones.py:6:16: {TO_DICT}",
        f"app/routers/tones.py:11:61: {TO_DICT}",
        "how to fix: use Pydantic model_dump(by_alias=True)",
        "forbid-no-pydantic-v1: 1 forbidden match",
        "app/services/compat.py:1:6: `pydantic.v1` matches `pydantic\\.v1`: migrate to Pydantic 2 models",
        "how to fix: migrate to Pydantic 2 models",
        "forbid-no-libdef: 1 forbidden match",
        "app/legacy.json:1:3: `libDef` matches `\\blibDef\\b`",
    ]


def test_without_code_only_comments_and_strings_match(checks: Backend) -> None:
    pyproject = (checks.path / "pyproject.toml").read_text()
    checks.write({"pyproject.toml": pyproject.replace("code-only = true", "code-only = false")})
    result = checks.run("--guardrails-only", "--guardrails-mode=strict",
                        "pyproject.toml::forbid-no-to-dict-in-routers")
    assert lines_under(result.stdout.lines, "app/") == [
        f"app/routers/tones.py:5:18: {TO_DICT}",
        f"app/routers/tones.py:6:16: {TO_DICT}",
        f"app/routers/tones.py:10:26: {TO_DICT}",
        f"app/routers/tones.py:11:19: {TO_DICT}",
    ]


def test_code_only_ignores_a_match_that_reaches_into_a_string(backend: Backend) -> None:
    configure(backend, """
[tool.guardrails.forbid.no-open-write]
pattern = 'open\\([^)]*"w"'
files = ["**/*.py"]
code-only = true
""")
    backend.write({"app/io.py": 'f = open(path, "w")\ng = \'open(path, "w")\'\n'})
    result = backend.run("--guardrails-only", "--guardrails-mode=strict",
                         "pyproject.toml::forbid-no-open-write")
    # the match ends inside the string literal "w": not code only, so not reported
    result.assert_outcomes(passed=1)


def test_each_target_searches_its_own_files(checks: Backend) -> None:
    checks.write({"python/src/old.py": "import pydantic.v1\n"}, in_schemas=True)
    result = checks.run("--guardrails-only", "--guardrails-mode=strict",
                        "pyproject.toml::forbid-no-pydantic-v1[libs/schemas]")
    result.assert_outcomes(failed=1)
    assert lines_under(result.stdout.lines, "libs/") == [
        "libs/schemas/python/src/old.py:1:8: `pydantic.v1` matches `pydantic\\.v1`: "
        "migrate to Pydantic 2 models"]


def test_binary_and_non_utf8_files_are_searched_as_bytes_and_named(checks: Backend) -> None:
    checks.write({"assets/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00libDef",
                  "assets/latin1.txt": b"caf\xe9 libDef\n"})
    result = checks.run("--guardrails-only", "--guardrails-mode=strict",
                        "pyproject.toml::forbid-no-libdef")
    assert failure_lines(result) == [
        "forbid-no-libdef: 3 forbidden matches",
        "app/legacy.json:1:3: `libDef` matches `\\blibDef\\b`",
        "assets/latin1.txt:1:6: `libDef` matches `\\blibDef\\b`",
        "assets/logo.png: binary file matches `\\blibDef\\b`",
        "not UTF-8, searched as bytes (as git grep does): assets/latin1.txt",
        "binary, searched as bytes (a match is reported without a line): assets/logo.png",
    ]


def failure_lines(result: pytest.RunResult) -> list[str]:
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if line.startswith("_") and " pyproject.toml::" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(("=", "_")))
    return lines[start + 1:end]


@pytest.mark.parametrize(("table", "error"), [
    ("[tool.guardrails.forbid.x]\npattern = '('\n",
     "tool.guardrails.forbid.x.pattern: invalid regular expression '(': missing ) at position 1"),
    ("[tool.guardrails.forbid.x]\nfiles = ['*.py']\n",
     "tool.guardrails.forbid.x: missing required key 'pattern'"),
    ("[tool.guardrails.forbid.x]\npattern = 'a'\ncode_only = true\n",
     "unknown key 'tool.guardrails.forbid.x.code_only'; did you mean 'code-only'?"),
    ("[tool.guardrails.forbid.No_Caps]\npattern = 'a'\n",
     "tool.guardrails.forbid.No_Caps: names are kebab-case (a-z, 0-9, -)"),
])
def test_bad_table_is_a_usage_error(backend: Backend, table: str, error: str) -> None:
    configure(backend, "\n" + table)
    result = backend.run("--guardrails-only")
    assert result.ret == 4
    escaped = "".join({"[": "[[]", "]": "[]]"}.get(c, c) for c in error)
    result.stderr.fnmatch_lines([f"*pyproject.toml*: {escaped}"])


# --- the line matcher: the whole-text prefilter never changes what a line-by-line search finds

PATTERNS = [
    r"foo", r"^foo", r"foo$", r"\bfoo\b", r"\Bfoo", r"(?<=x)foo", r"(?<!\s)foo", r"foo(?=\s*$)",
    r"foo(?!\n)", r"\Afoo", r"foo\Z", r"foo\s+bar", r"(?s)foo.bar", r"(?i)FOO", r"(?m)^\s*foo",
    r"x*", r"$", r"^$", r"[^a]foo", r"\sfoo", r"foo\W", r"é+", r"\w+foo",
]
TEXTS = [
    "foo\nbar foo\n  foo bar\nxfoo\n", "foo\r\nbar foo\r\nfoo", "\n\nfoo\n", "", "a\nfoo\nbar\n",
    "x foo\n\nfoo  \nfoobar foo bar\n", "ééfoo\nfoo\tbar\n", "nothing here\n", "foo",
    "bar\nfoo\n", "\nfoo\n\n", "xfoo foo\n",
]


def naive(pattern: str, text: str) -> list[tuple[int, int]]:
    regex = re.compile(pattern)
    out: list[tuple[int, int]] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        m = regex.search(line.removesuffix("\r"))
        if m:
            out.append((lineno, m.start() + 1))
    return out


@pytest.mark.parametrize("pattern", PATTERNS)
def test_matcher_equals_a_line_by_line_search(pattern: str) -> None:
    matcher = Matcher.compile(pattern)
    for text in TEXTS:
        got: list[tuple[int, int]] = []
        for lineno, _, line in matcher.lines(text):
            m = matcher.line.search(line)
            assert m is not None, (pattern, text, lineno)
            got.append((lineno, m.start() + 1))
        assert got == naive(pattern, text), (pattern, text)


@pytest.mark.parametrize(("pattern", "literal"), [
    (r"\.to_dict\(", b".to_dict("), (r"pydantic\.v1", b"pydantic.v1"), (r"\blibDef\b", b"libDef"),
    ("foo|bar", None), ("ab*c", None), ("abc+d", b"abc"), ("(?i)foo", None), ("(?x)f o o", None),
    (r"[a-z]+_id\(", b"_id("), ("x(ab|cd)yz", b"yz"), ("foo{2}bar", b"bar"), ("foo{,3}ba", b"fo"),
    (r"\N{EM DASH}abc", b"abc"), (r"\x41bcd", b"bcd"), ("é+", None), ("a{x}bc", b"x}bc"),
])
def test_required_literal(pattern: str, literal: bytes | None) -> None:
    assert required_literal(pattern) == literal


@pytest.mark.parametrize("pattern", [*PATTERNS, r"\.to_dict\(", "ab+c", "a(b|c)d+e", "x{2}y"])
def test_required_literal_is_part_of_every_match(pattern: str) -> None:
    literal = required_literal(pattern)
    regex = re.compile(pattern)
    for text in [*TEXTS, ".to_dict( abbbcdddde xxy ab+c"]:
        for line in text.split("\n"):
            m = regex.search(line)
            if m and literal is not None:
                assert literal in m.group().encode(), (pattern, line)


# --- parity with git grep -nE ---------------------------------------------------------------------

GREP_TREE: dict[str, str | bytes] = {
    "app/shaderlib/light.glsl": "uniform float gain;\nvec3 c;\n",
    "app/shaderlib/deep/fog.glsl": "float fog = 1.0;  // float\n",
    "app/other.glsl": "float elsewhere;\n",
    "notes/latin1.txt": b"caf\xe9: float\nna\xefve\n",
    "assets/blob.bin": b"\x89PNG\x00\x01float\x00",
}
PARITY = """
[tool.guardrails.forbid.floats]
pattern = 'float'
files = ["app/shaderlib", "notes/latin1.txt", "assets/blob.bin"]

[tool.guardrails.forbid.nowhere]
pattern = 'float'
files = ["app/shaders/**/*.glsl"]
"""


def git_grep(backend: Backend, pattern: str, *paths: str) -> set[tuple[str, int | None]]:
    """(path, line) of each ``git grep -nE`` match; (path, None) for "Binary file ... matches"."""
    proc = subprocess.run(("git", "grep", "-nE", pattern, "--", *paths), cwd=backend.path,
                          capture_output=True, check=False, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    found: set[tuple[str, int | None]] = set()
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        m = re.fullmatch(r"Binary file (.+) matches", line)
        if m:
            found.add((m.group(1), None))
        else:
            path, lineno, _ = line.split(":", 2)
            found.add((path, int(lineno)))
    return found


def test_findings_equal_git_grep(backend: Backend, tmp_path: Path) -> None:
    backend.write(GREP_TREE)
    configure(backend, PARITY)
    xml = tmp_path / "junit.xml"
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", "-k", "forbid and not schemas",
                         f"--junitxml={xml}")
    out = result.stdout.str()
    ours = {(m.group(1), int(m.group(2)) if m.group(2) else None) for m in re.finditer(
        r"^(app/\S+?|notes/\S+?|assets/\S+?)(?::(\d+):\d+)?: (?:`|binary file)", out, re.M)}
    assert ours == git_grep(backend, "float", "app/shaderlib", "notes/latin1.txt",
                            "assets/blob.bin")
    assert ("app/other.glsl", 1) not in ours  # outside the bare directory
    result.stdout.fnmatch_lines([
        "forbid-floats: 4 forbidden matches",
        "not UTF-8, searched as bytes (as git grep does): notes/latin1.txt",
        "binary, searched as bytes (a match is reported without a line): assets/blob.bin",
        "forbid-nowhere: cannot run: files = [[]\"app/shaders/**/*.glsl\"[]] matches no file in "
        "the repository, so there is nothing to check; how to fix: fix the globs in "
        "[[]tool.guardrails.forbid.nowhere[]] *",
    ])
    cases = test_ruff.junit(xml)
    assert cases["forbid-floats"].properties["notes"].startswith("not UTF-8, searched as bytes")
    assert cases["forbid-nowhere"].outcome == "failure"


def test_notes_are_shown_on_a_passing_item(backend: Backend, tmp_path: Path) -> None:
    backend.write({"notes/latin1.txt": b"caf\xe9\n"})
    configure(backend, '\n[tool.guardrails.forbid.tabs]\npattern = "\\t"\nfiles = ["notes"]\n')
    xml = tmp_path / "junit.xml"
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", "-k", "forbid-tabs and not schemas",
                         f"--junitxml={xml}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "forbid-tabs  .       passed    -  (note: not UTF-8, searched as bytes (as git grep "
        "does): notes/latin1.txt)"])
    case = test_ruff.junit(xml)["forbid-tabs"]
    assert case.outcome == "passed"
    assert case.properties["notes"] == "not UTF-8, searched as bytes (as git grep does): notes/latin1.txt"


@pytest.mark.parametrize(("pattern", "error"), [
    ("[[:space:]]float", "`[:space:]` is a POSIX character class, which Python does not have; "
                         "inside brackets write `\\s` (e.g. `[\\s]`)"),
    ("\\<float\\>", "`\\<` is grep syntax; in Python write `\\b` (a word boundary; `\\b(?=\\w)` "
                    "for a word start only)"),
    ("float\\|double", "`\\|` is grep syntax; in Python write `|` for alternation (`\\|` is a "
                      "literal `|` in Python; write `[|]` to make that plain)"),
])
def test_grep_syntax_is_a_config_error(backend: Backend, pattern: str, error: str) -> None:
    configure(backend, f"\n[tool.guardrails.forbid.floats]\npattern = '{pattern}'\n")
    result = backend.run("--guardrails-only")
    assert result.ret == 4
    assert result.stderr.lines[0] == (
        f"ERROR: pyproject.toml:11: tool.guardrails.forbid.floats.pattern: {pattern!r}: {error}")


def test_posix_class_without_the_habit_matches_like_git_grep(backend: Backend) -> None:
    """The Python spelling the error suggests finds what git grep finds with the POSIX one."""
    backend.write({"app/a.txt": "x float\nxfloat\n\tfloat\n"})
    configure(backend, "\n[tool.guardrails.forbid.floats]\npattern = '[\\s]float'\nfiles = [\"app/a.txt\"]\n")
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", "-k", "forbid and not schemas")
    ours = {("app/a.txt", int(n)) for n in re.findall(r"^app/a.txt:(\d+):", result.stdout.str(), re.M)}
    assert ours == git_grep(backend, "[[:space:]]float", "app/a.txt") == {
        ("app/a.txt", 1), ("app/a.txt", 3)}
