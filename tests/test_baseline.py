"""The baseline: write it, apply it, ratchet it, refuse its growth; on a real repository with
findings in every scanning guardrail, with the real ruff and pyright."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import Backend
from pytest_guardrails import baseline
from pytest_guardrails.api import Finding
from tests.test_ruff import ROOT_TOOLS
from tests.test_ruff import junit

LEGACY_TOOLS = ROOT_TOOLS + """
[tool.guardrails.ignore]
"pyright[libs/schemas]" = "the schemas repo type-checks itself"

[tool.guardrails.forbid.no-print]
pattern = 'print\\('
files = ["app/**/*.py"]
targets = ["."]
message = "use logging"
code-only = true
"""

# every scanning guardrail finds something in the root; legacy-examples in the submodule too
LEGACY_FILES: dict[str, str | bytes] = {
    "app/legacy.py": (
        "import os\n"
        "import jsonschema\n"
        "\n"
        "\n"
        "def resolve(schema):\n"
        "    r = jsonschema.RefResolver.from_schema(schema)\n"
        "    print(r)\n"
        "    n: int = 'x'  # type: ignore\n"
        "    m: int = 'y'\n"
        "    return n, m\n"
    ),
    "app/more.py": "import sys\nimport json\n",
    "examples/old.json": '{\n  "note": "auto-converted from legacy"\n}\n',
}
SCANNING = ["ruff", "pyright", "blanket-suppressions", "deprecated-api", "legacy-examples",
            "forbid-no-print"]


@pytest.fixture
def legacy(backend: Backend) -> Backend:
    pyproject = (backend.path / "pyproject.toml").read_text(encoding="utf-8")
    backend.write({"pyproject.toml": pyproject + LEGACY_TOOLS, **LEGACY_FILES})
    backend.write({"examples/Old.json": '{"d": "Auto-converted from legacy v1"}\n'}, in_schemas=True)
    backend.git("add", backend.submodule)
    backend.git("commit", "-qm", "bump schemas")
    return backend


def strict(b: Backend, *args: str) -> pytest.RunResult:
    return b.run("--guardrails-only", "--guardrails-mode=strict", "-rA", *args)


def write(b: Backend, *args: str) -> pytest.RunResult:
    return b.run("--guardrails-only", "--guardrails-baseline-write", *args)


def read(b: Backend) -> Any:
    return json.loads((b.path / baseline.FILENAME).read_text(encoding="utf-8"))


def items_of(data: Any) -> set[tuple[str, str]]:
    return {(g["guardrail"], g["target"]) for g in data["groups"]}


# --- 1. write, then strict passes; nothing else is written -------------------------------------


def test_write_then_strict_passes_and_only_the_baseline_is_written(legacy: Backend) -> None:
    before = legacy.state()
    result = write(legacy, "-n", "2")
    result.assert_outcomes(passed=12, skipped=2)
    result.stdout.fnmatch_lines(["guardrails: wrote the baseline guardrails-baseline.json "
                                 "(9 findings in 8 groups)"])
    assert items_of(read(legacy)) == {*((g, ".") for g in SCANNING), ("legacy-examples", "libs/schemas")}
    first = (legacy.path / baseline.FILENAME).read_bytes()
    after = legacy.state()
    assert after[2:] == before[2:]  # index hashes of the repo and the submodule
    assert after[1] == before[1]  # the submodule's status
    assert after[0].splitlines() == [*before[0].splitlines(), f"? {baseline.FILENAME}"]
    # rewriting without xdist: byte-identical, and left untouched
    result = write(legacy, "-n", "0")
    result.stdout.fnmatch_lines(["guardrails: the baseline is unchanged: guardrails-baseline.json *"])
    assert (legacy.path / baseline.FILENAME).read_bytes() == first
    assert first.decode("ascii").splitlines()[:4] == [
        "{", '  "version": 1,', f'  "command": "{baseline.WRITE_COMMAND}",', '  "groups": [']
    result = strict(legacy, "--junitxml=out.xml")
    result.assert_outcomes(passed=12, skipped=2)
    result.stdout.fnmatch_lines(["ruff: 3 known (baseline)",
                                 "ruff                  .             passed    -         3"])
    props = junit(legacy.path / "out.xml")["ruff"].properties
    assert (props["findings"], props["baselined"]) == ("0", "3")


# --- 2. code moves: still known; three new findings: exactly three items fail --------------------


def test_moved_findings_stay_known_and_new_ones_fail(legacy: Backend) -> None:
    write(legacy, "-n", "0").assert_outcomes(passed=12, skipped=2)
    legacy.git("add", baseline.FILENAME)
    legacy.git("commit", "-qm", "baseline")
    legacy_py = legacy.path / "app/legacy.py"
    text = legacy_py.read_text(encoding="utf-8")
    head, rest = text.split("\n\n\n", 1)
    filler = "".join(f"CONSTANT_{i} = {i}\n" for i in range(30))
    legacy_py.write_text(f"{head}\n\n{filler}\n\n{rest}", encoding="utf-8")
    strict(legacy).assert_outcomes(passed=12, skipped=2)

    legacy_py.write_text(f"import re\n{head}\n\n{filler}\n\n{rest}"
                         "\n\nk: int = 'z'\nv = 1  # type: ignore\n", encoding="utf-8")
    result = strict(legacy, "--junitxml=out.xml")
    result.assert_outcomes(failed=3, passed=9, skipped=2)
    cases = junit(legacy.path / "out.xml")
    failed = {name: c.properties for name, c in cases.items() if c.outcome == "failure"}
    assert {n: (p["findings"], p["baselined"]) for n, p in failed.items()} == {
        "ruff": ("1", "3"), "pyright": ("1", "1"), "blanket-suppressions": ("1", "1")}
    result.stdout.fnmatch_lines([
        "ruff: 1 * (and 3 known (baseline))",
        "app/legacy.py:1:8: F401 `re` imported but unused*",
    ])
    assert "app/more.py" not in cases["ruff"].text  # known findings are not listed


# --- 3. a known finding fixed: stale, with the command that shrinks the baseline ---------------


def test_fixed_finding_makes_the_baseline_stale_until_rewritten(legacy: Backend) -> None:
    write(legacy, "-n", "0")
    legacy.write({"app/more.py": "import json\n"}, commit=False)  # `import sys` fixed
    # pyright deselected (for speed): its entries are neither stale nor dropped on rewrite
    fast = ("-k", "not pyright")
    result = strict(legacy, *fast)
    result.assert_outcomes(failed=1, passed=10, skipped=1)
    result.stdout.fnmatch_lines([
        "ruff: the baseline is stale: 1 known * is gone",
        "2 known (baseline)",
        f"how to fix: shrink the baseline: `{baseline.WRITE_COMMAND}`",
    ])
    warn = legacy.run("--guardrails-only", *fast)
    warn.assert_outcomes(xfailed=1, passed=10, skipped=1)
    assert warn.ret == 0
    write(legacy, "-n", "0", *fast).stdout.fnmatch_lines([
        "*wrote the baseline*(8 findings in 8 groups; entries of 1 item that did not run kept)"])
    strict(legacy, *fast).assert_outcomes(passed=11, skipped=1)
    assert ("pyright", ".") in items_of(read(legacy))


# --- the file format, and a baseline a pull request broke ---------------------------------------

FP_A, FP_B = "0123456789abcdef", "fedcba9876543210"


def test_dumps_is_sorted_one_group_per_line_and_parses_back() -> None:
    entries: baseline.Entries = {
        ("ruff", ".", "b.py", "F401"): {FP_B: 1, FP_A: 2},
        ("blanket-suppressions", "libs/x", "libs/x/\u00e9.py", ""): {FP_A: 1},
    }
    text = baseline.dumps(entries)
    assert text == baseline.dumps(dict(reversed(list(entries.items()))))
    lines = text.splitlines()
    assert lines[4].startswith('    {"guardrail": "blanket-suppressions", "target": "libs/x", '
                               '"path": "libs/x/\\u00e9.py", "code": ""')
    assert lines[5] == ('    {"guardrail": "ruff", "target": ".", "path": "b.py", "code": "F401", '
                        f'"counts": {{"{FP_A}": 2, "{FP_B}": 1}}}}')
    assert text.isascii()
    assert baseline.parse(text, "b.json") == entries
    assert baseline.parse(baseline.dumps({}), "b.json") == {}


@pytest.mark.parametrize(("text", "message"), [
    ('{"version": 1, "groups": [\n', "b.json:2: invalid JSON: *"),
    ('[]', "b.json:1: expected a JSON object *"),
    ('{"version": 2, "groups": []}', "b.json:1: unsupported \"version\": 2 *"),
    ('{"version": true, "groups": []}', "b.json:1: unsupported \"version\": True *"),
    ('{"version": 1, "groups": [], "extra": 1}', "b.json:1: unknown key 'extra'*"),
    ('{"version": 1, "groups": {}}', "b.json:1: \"groups\" must be an array*"),
    ('{"version": 1,\n "groups": [\n  {"guardrail": "ruff", "target": ".", "path": "a.py", "code": "",'
     ' "counts": {"0123456789abcdef": 1}},\n  {"guardrail": "ruff"}\n]}',
     "b.json:4: groups[1]: expected exactly the keys *"),
    ('{"version": 1, "groups": [{"guardrail": "ruff", "target": ".", "path": "a.py", "code": "",'
     ' "counts": {"xyz": 1}}]}', "b.json:1: groups[0]: 'xyz' is not a fingerprint*"),
    ('{"version": 1, "groups": [{"guardrail": "ruff", "target": ".", "path": "a.py", "code": "",'
     ' "counts": {"0123456789abcdef": 0}}]}', "b.json:1: groups[0]: count of * got 0"),
    ('{"version": 1, "groups": [{"guardrail": "", "target": ".", "path": "a.py", "code": "",'
     ' "counts": {"0123456789abcdef": 1}}]}', "b.json:1: groups[0]: 'guardrail' must be *"),
    ("[" * 100000, "b.json: invalid JSON: *"),
    ('{"version": 1' + "1" * 5000 + "}", "b.json: invalid JSON*"),
])
def test_malformed_baseline_is_a_located_error(text: str, message: str) -> None:
    with pytest.raises(baseline.BaselineError) as info:
        baseline.parse(text, "b.json")
    head, _, tail = message.partition("*")  # a prefix, a wildcard, a suffix
    assert str(info.value).startswith(head) and str(info.value).endswith(tail), str(info.value)


def test_duplicate_group_is_an_error() -> None:
    group = ('{"guardrail": "ruff", "target": ".", "path": "a.py", "code": "", '
             '"counts": {"0123456789abcdef": 1}}')
    with pytest.raises(baseline.BaselineError, match="groups\\[1\\]: duplicate group"):
        baseline.parse(f'{{"version": 1, "groups": [\n{group},\n{group}]}}', "b.json")


def test_broken_baseline_file_is_a_usage_error(backend: Backend) -> None:
    backend.write({baseline.FILENAME: '{"version": 1,\n "groups": [\n  {"guardrail": 1}\n]}\n'},
                  commit=False)
    result = backend.run("--guardrails-only")
    assert result.ret == 4
    result.stderr.fnmatch_lines([
        "ERROR: guardrails: guardrails-baseline.json:3: groups[[]0]: expected exactly the keys *"])


def test_baseline_symlink_out_of_the_repo_is_not_read(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("out") / "b.json"
    outside.write_text(baseline.dumps({}), encoding="utf-8")
    (backend.path / baseline.FILENAME).symlink_to(outside)
    result = backend.run("--guardrails-only")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: guardrails: guardrails-baseline.json: resolves outside the repository*"])
    result = backend.run("--guardrails-only", "--guardrails-baseline-write")
    assert result.ret == 4
    assert outside.read_text(encoding="utf-8") == baseline.dumps({})


def test_baseline_key_is_a_path_in_the_repo(backend: Backend) -> None:
    pyproject = (backend.path / "pyproject.toml").read_text(encoding="utf-8")
    backend.write({"pyproject.toml": pyproject.replace(
        "[tool.guardrails.version-ssot]", '[tool.guardrails]\nbaseline = "../b.json"\n\n[tool.guardrails.version-ssot]')})
    result = backend.run("--guardrails-only")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: pyproject.toml:6: tool.guardrails.baseline: '../b.json' escapes the repository"])
    backend.write({"pyproject.toml": pyproject.replace(
        "[tool.guardrails.version-ssot]", '[tool.guardrails]\nbaseline = "ci/debt.json"\n\n[tool.guardrails.version-ssot]'),
        "ci/.keep": "", "README.md": "---\nversion: 0.7.2\n---\n"})
    result = backend.run("--guardrails-only", "--guardrails-baseline-write", "-k", "version")
    result.stdout.fnmatch_lines(["guardrails: wrote the baseline ci/debt.json (1 finding in 1 group)"])
    assert not (backend.path / baseline.FILENAME).exists()
    backend.run("--guardrails-only", "--guardrails-mode=strict", "-k", "version").assert_outcomes(passed=1)


# --- the filter --------------------------------------------------------------------------------


def test_split_counts_per_fingerprint_and_never_accepts_errors() -> None:
    from pytest_guardrails import debt

    a1 = Finding("m", "a.py", 1, fingerprint=FP_A)
    a2 = Finding("m", "a.py", 9, fingerprint=FP_A)
    err = Finding("unreadable", "b.py", error=True, fingerprint=FP_B)
    nopath = Finding("no path", fingerprint=FP_B)
    s = debt.split([a1, a2, err, nopath], {FP_A: 1, FP_B: 5})
    assert (s.new, s.known, s.stale) == ((a2, err, nopath), (a1,), 5)
    assert debt.split([a1], None) == debt.Split((a1,), (), 0)
    assert debt.split([a1, err], {}, accept_all=True) == debt.Split((err,), (a1,), 0)


# --- 4. --guardrails-baseline-against: a pull request cannot grow the baseline -----------------


def test_baseline_growth_fails_against_the_merge_base_and_shrinkage_passes(legacy: Backend) -> None:
    fast = ("-k", "not pyright")
    write(legacy, *fast)
    legacy.git("add", baseline.FILENAME)
    legacy.git("commit", "-qm", "baseline")
    against = ("--guardrails-baseline-against=main", "pyproject.toml::baseline-growth")

    legacy.git("checkout", "-qb", "grow")
    legacy.write({"app/more.py": "import sys\nimport json\nimport re\n"})
    write(legacy, *fast)
    legacy.git("commit", "-qam", "accept a new finding")
    result = strict(legacy, *against)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "baseline-growth: guardrails-baseline.json gained 1 entry against main",
        "guardrails-baseline.json:*: ruff: app/more.py F401 *: 1 more than at the merge-base *",
        "how to fix: fix the new findings instead of adding them to the baseline, *",
    ])
    # the branch point decides, not main's tip: main moving on changes nothing
    legacy.git("checkout", "-q", "main")
    legacy.git("checkout", "-qb", "shrink")
    legacy.write({"app/more.py": "import json\n"})
    write(legacy, *fast)
    legacy.git("commit", "-qam", "fix a finding")
    strict(legacy, *against).assert_outcomes(passed=1)
    result = strict(legacy, "--guardrails-baseline-against=no-such-ref", "pyproject.toml::baseline-growth")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*cannot run: no merge-base of 'no-such-ref' and HEAD: *"])
