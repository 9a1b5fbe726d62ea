"""dependency-pins on real git repos: a backend with a real schemas submodule at libs/schemas."""

from __future__ import annotations

import pytest

from conftest import Backend
from conftest import make_git_repo
from pytest_guardrails.guardrails.dependency_pins import Inputs
from pytest_guardrails.guardrails.dependency_pins import logical_lines
from pytest_guardrails.guardrails.dependency_pins import read_pyproject
from pytest_guardrails.guardrails.dependency_pins import toml_lines

ITEM = "pyproject.toml::dependency-pins[libs/schemas]"
FIX = ("how to fix: change this repository's constraint or lock to agree with libs/schemas "
       "(or change libs/schemas in its own repository, commit there and bump the submodule "
       "here), then relock: poetry lock / uv lock / pip-compile")

# --- the motivating layout: Poetry here, PEP 621 + PEP 735 and Poetry in the submodule ----------

ROOT_POETRY = """\
[tool.poetry.dependencies]
python = "^3.11"
jsonschema = ">=4.22,<4.23"
pydantic = {version = "^2.7", extras = ["email"]}
httpx = "~0.26"
numpy = "^1.26"
synesthetic-schemas = {path = "libs/schemas/python", develop = true}

[tool.poetry.group.dev.dependencies]
pytest = "^8.0"
"""

ROOT_REQUIREMENTS = """\
# tools the CI image installs
ruff>=0.5 ; python_version >= "3.9"
PyYAML>=6.0  # YAML frontmatter
-e ./tools/devkit
https://example.invalid/wheels/internal_tool-1.0-py3-none-any.whl
"""

SCHEMAS_PEP621 = """\
[project]
name = "synesthetic-schemas-tools"
dependencies = [
    "jsonschema>=4.23",
    "PyYAML>=5,<6",
]

[project.optional-dependencies]
http = ["httpx>=0.27"]

[dependency-groups]
lint = ["ruff>=0.4"]
dev = [{include-group = "lint"}, "pytest>=7,<8"]
"""

SCHEMAS_POETRY = """\
[tool.poetry.dependencies]
python = ">=3.9"
pydantic = "^2.5"
numpy = [
    {version = "^1.24", python = "<3.9"},
    {version = "^2.0", python = ">=3.9"},
]
"""


def packaging_error(requirement: str) -> str:
    """The first line of packaging's own message (its wording changes between releases)."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement

    with pytest.raises(InvalidRequirement) as info:
        Requirement(requirement)
    return str(info.value).splitlines()[0]


def marker_error(marker: str) -> str:
    """The first line of packaging's message for a malformed marker."""
    from packaging.markers import InvalidMarker
    from packaging.markers import Marker

    with pytest.raises(InvalidMarker) as info:
        Marker(marker)
    return str(info.value).splitlines()[0]


def failure(result: pytest.RunResult) -> list[str]:
    """The strict-mode failure text: from the summary line to the ``how to fix:`` line."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("dependency-pins[libs/schemas]: "))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("how to fix: "))
    return lines[start:end + 1]


def strict(backend: Backend, item: str = ITEM) -> pytest.RunResult:
    return backend.run("--guardrails-only", "--guardrails-mode=strict", item)


def motivating(backend: Backend) -> None:
    backend.write({"pyproject.toml": ROOT_POETRY, "requirements-dev.txt": ROOT_REQUIREMENTS})
    backend.write({"pyproject.toml": SCHEMAS_PEP621, "python/pyproject.toml": SCHEMAS_POETRY},
                  in_schemas=True)


def test_conflicts_across_poetry_pep621_pep735_and_requirements(backend: Backend) -> None:
    motivating(backend)
    before = backend.state()
    result = strict(backend)
    result.assert_outcomes(failed=1)
    assert failure(result) == [
        "dependency-pins[libs/schemas]: 5 pin conflicts (httpx, jsonschema, numpy, pytest, pyyaml)",
        "pyproject.toml:3: jsonschema >=4.22,<4.23 does not intersect >=4.23"
        " at libs/schemas/pyproject.toml:4",
        "pyproject.toml:5: httpx ~0.26 does not intersect >=0.27 at libs/schemas/pyproject.toml:9",
        'pyproject.toml:6: numpy ^1.26 does not intersect ^2.0 (python = ">=3.9")'
        " at libs/schemas/python/pyproject.toml:6",
        "pyproject.toml:10: pytest ^8.0 does not intersect >=7,<8"
        " at libs/schemas/pyproject.toml:13",
        "requirements-dev.txt:3: pyyaml >=6.0 does not intersect >=5,<6"
        " at libs/schemas/pyproject.toml:5",
        "compared: pyproject.toml, libs/schemas/pyproject.toml, libs/schemas/python/pyproject.toml",
        "locks: requirements-dev.txt",
        FIX,
    ]
    assert backend.state() == before  # nothing written: worktree, index, submodule


def test_warn_mode_xfails_with_the_packages_in_the_reason(backend: Backend) -> None:
    motivating(backend)
    result = backend.run("--guardrails-only", "-rx", ITEM)
    result.assert_outcomes(xfailed=1)
    assert ("XFAIL pyproject.toml::dependency-pins[libs/schemas] - dependency-pins[libs/schemas]:"
            " 5 pin conflicts (httpx, jsonschema, numpy, pytest, pyyaml)") in result.stdout.lines
    assert result.ret == 0


def test_compatible_constraints_pass(backend: Backend) -> None:
    # numpy ^1.24 applies to Python < 3.9 only, which the backend does not support
    backend.write({"pyproject.toml": """\
[project]
name = "backend"
requires-python = ">=3.11"
dependencies = ["jsonschema>=4.23,<5", "pydantic[email]>=2.7", "numpy>=2.1"]
"""})
    backend.write({"pyproject.toml": SCHEMAS_PEP621, "python/pyproject.toml": SCHEMAS_POETRY},
                  in_schemas=True)
    result = strict(backend)
    result.assert_outcomes(passed=1)


def test_markers_that_cannot_both_hold_do_not_conflict(backend: Backend) -> None:
    backend.write({"pyproject.toml": """\
[project]
name = "backend"
dependencies = [
    "numpy>=1.24,<2; python_version < '3.9'",
    "tomli>=1.1; python_version < '3.11'",
]
"""})
    backend.write({"python/pyproject.toml": SCHEMAS_POETRY, "pyproject.toml": """\
[project]
name = "schemas"
dependencies = ["tomli>=2; python_version >= '3.11'"]
"""}, in_schemas=True)
    result = strict(backend)
    result.assert_outcomes(passed=1)


# --- locks -------------------------------------------------------------------------------------

SCHEMAS_FOR_LOCKS = """\
[project]
name = "schemas"
dependencies = ["jsonschema>=4.23", "PyYAML>=5,<6"]
"""

POETRY_LOCK = """\
# This file is automatically @generated by Poetry 2.1.3 and should not be changed by hand.

[[package]]
name = "jsonschema"
version = "4.22.0"
description = "An implementation of JSON Schema validation for Python"
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = [
    {file = "jsonschema-4.22.0-py3-none-any.whl", hash = "sha256:ff4cfd6b1367a40e7bc6411caec72eff"},
]

[package.dependencies]
attrs = ">=22.2.0"

[package.extras]
format = ["fqdn", "idna"]

[[package]]
name = "numpy"
version = "1.23.5"
description = "NumPy is the fundamental package for array computing with Python."
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = []

[[package]]
name = "pydantic"
version = "2.7.1"
description = "Data validation using Python type hints"
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = []

[[package]]
name = "pyyaml"
version = "6.0.1"
description = "YAML parser and emitter for Python"
optional = false
python-versions = ">=3.6"
groups = ["main"]
files = []

[metadata]
lock-version = "2.1"
python-versions = "^3.11"
content-hash = "0f1e6c9b0d1f1a1d5e8f9c2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e"
"""

UV_LOCK = """\
version = 1
revision = 2
requires-python = ">=3.11"

[[package]]
name = "backend"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "jsonschema" },
]

[package.metadata]
requires-dist = [{ name = "jsonschema", specifier = ">=4.22" }]

[[package]]
name = "jsonschema"
version = "4.22.0"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://example.invalid/jsonschema-4.22.0.tar.gz", hash = "sha256:5b22d434" }
wheels = [
    { url = "https://example.invalid/jsonschema-4.22.0-py3-none-any.whl", hash = "sha256:ff4cfd6b" },
]

[[package]]
name = "pyyaml"
version = "6.0.2"
source = { registry = "https://pypi.org/simple" }
"""

PIP_COMPILE = """\
#
# This file is autogenerated by pip-compile with Python 3.11
# by the following command:
#
#    pip-compile --generate-hashes requirements.in
#
jsonschema==4.22.0 \\
    --hash=sha256:5b22d434a45935119af990552c862e5d6d564e8f6601206b305a61fdf661a2b7 \\
    --hash=sha256:ff4cfd6b1367a40e7bc6411caec72effadd3db0bbe5017de188f2d6108335802
    # via -r requirements.in
pyyaml==6.0.1 ; python_version >= "3.8" \\
    --hash=sha256:0a5b6ee2c7cab4fa4fb3a81a0e2a1e0e0f4c2f7a0c5b3b2a6f4c6e7d8a9b0c1d
    # via -r requirements.in
numpy==1.23.5
synesthetic-schemas @ file:///srv/backend/libs/schemas/python
-e ./tools/devkit
"""


@pytest.mark.parametrize(("files", "expected"), [
    pytest.param(
        {"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\njsonschema = "^4.22"\n',
         "poetry.lock": POETRY_LOCK},
        ["dependency-pins[libs/schemas]: 3 pin conflicts (jsonschema, numpy, pyyaml)",
         "poetry.lock:5: jsonschema 4.22.0 is outside >=4.23 at libs/schemas/pyproject.toml:3",
         # the backend needs Python ^3.11: numpy's "<3.9" constraint does not apply to it
         'poetry.lock:22: numpy 1.23.5 is outside ^2.0 (python = ">=3.9")'
         " at libs/schemas/python/pyproject.toml:6",
         "poetry.lock:40: pyyaml 6.0.1 is outside >=5,<6 at libs/schemas/pyproject.toml:3",
         "compared: pyproject.toml, libs/schemas/pyproject.toml, "
         "libs/schemas/python/pyproject.toml",
         "locks: poetry.lock"],
        id="poetry.lock"),
    pytest.param(
        {"pyproject.toml": '[project]\nname = "backend"\ndependencies = ["jsonschema>=4.22"]\n',
         "uv.lock": UV_LOCK},
        ["dependency-pins[libs/schemas]: 2 pin conflicts (jsonschema, pyyaml)",
         "uv.lock:18: jsonschema 4.22.0 is outside >=4.23 at libs/schemas/pyproject.toml:3",
         "uv.lock:27: pyyaml 6.0.2 is outside >=5,<6 at libs/schemas/pyproject.toml:3",
         "compared: pyproject.toml, libs/schemas/pyproject.toml, "
         "libs/schemas/python/pyproject.toml",
         "locks: uv.lock"],
        id="uv.lock"),
    pytest.param(
        {"requirements.txt": PIP_COMPILE},
        ["dependency-pins[libs/schemas]: 3 pin conflicts (jsonschema, numpy, pyyaml)",
         "requirements.txt:7: jsonschema 4.22.0 is outside >=4.23 at libs/schemas/pyproject.toml:3",
         "requirements.txt:11: pyyaml 6.0.1 is outside >=5,<6 at libs/schemas/pyproject.toml:3",
         # no Python requirement here: both of numpy's constraints apply, and 1.23.5 meets neither
         "requirements.txt:14: numpy 1.23.5 is outside every constraint at "
         'libs/schemas/python/pyproject.toml:5: ^1.24 (python = "<3.9");'
         ' ^2.0 (python = ">=3.9")',
         "compared: pyproject.toml, libs/schemas/pyproject.toml, "
         "libs/schemas/python/pyproject.toml",
         "locks: requirements.txt"],
        id="requirements.txt"),
])
def test_lock_version_outside_a_submodule_constraint(
        backend: Backend, files: dict[str, str | bytes], expected: list[str]) -> None:
    backend.write(files)
    backend.write({"pyproject.toml": SCHEMAS_FOR_LOCKS, "python/pyproject.toml": SCHEMAS_POETRY},
                  in_schemas=True)
    result = strict(backend)
    result.assert_outcomes(failed=1)
    assert failure(result) == [*expected, FIX]


FORKED = """\
[project]
name = "schemas"
dependencies = [
    "numpy>=1.24,<2; python_version < '3.9'",
    "numpy>=2; python_version >= '3.9'",
]
"""

UV_FORK_LOCK = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "numpy"
version = "{version}"
source = {{ registry = "https://pypi.org/simple" }}
"""


def test_lock_is_held_to_the_constraints_for_the_pythons_it_resolved(backend: Backend) -> None:
    # no requires-python in the root: the lock's own requires-python rules out numpy<2's branch
    backend.write({"uv.lock": UV_FORK_LOCK.format(version="2.1.0")})
    backend.write({"pyproject.toml": FORKED}, in_schemas=True)
    strict(backend).assert_outcomes(passed=1)
    backend.write({"uv.lock": UV_FORK_LOCK.format(version="1.26.4")})
    result = strict(backend)
    result.assert_outcomes(failed=1)
    assert failure(result) == [
        "dependency-pins[libs/schemas]: 1 pin conflict (numpy)",
        "uv.lock:6: numpy 1.26.4 is outside >=2 (python_version >= '3.9')"
        " at libs/schemas/pyproject.toml:5",
        "compared: pyproject.toml, libs/schemas/pyproject.toml",
        "locks: uv.lock",
        FIX,
    ]


# --- policy and ignore-packages ----------------------------------------------------------------

IDENTICAL_ROOT = """\
[project]
name = "backend"
dependencies = ["pydantic>=2.7,<3", "jsonschema>=4.23.1", "httpx"]

[tool.guardrails.dependency-pins]
policy = "{policy}"
"""

IDENTICAL_SCHEMAS = """\
[tool.poetry.dependencies]
python = "^3.11"
pydantic = "^2.7"
jsonschema = "^4.23"
httpx = ">=0.27"
"""


def test_identical_policy_reports_equal_sets_only_as_equal(backend: Backend) -> None:
    backend.write({"pyproject.toml": IDENTICAL_ROOT.format(policy="identical")})
    backend.write({"pyproject.toml": IDENTICAL_SCHEMAS}, in_schemas=True)
    result = strict(backend)
    result.assert_outcomes(failed=1)
    # ^2.7 is >=2.7,<3: the same set; an unconstrained httpx agrees with anything
    assert failure(result) == [
        "dependency-pins[libs/schemas]: 1 pin conflict (jsonschema)",
        "pyproject.toml:3: jsonschema >=4.23.1 differs from ^4.23 at libs/schemas/pyproject.toml:4",
        "compared: pyproject.toml, libs/schemas/pyproject.toml",
        FIX,
    ]


def test_compatible_policy_accepts_the_same_files(backend: Backend) -> None:
    backend.write({"pyproject.toml": IDENTICAL_ROOT.format(policy="compatible")})
    backend.write({"pyproject.toml": IDENTICAL_SCHEMAS}, in_schemas=True)
    result = strict(backend)
    result.assert_outcomes(passed=1)


def test_ignore_packages_matches_any_spelling(backend: Backend) -> None:
    motivating(backend)
    backend.write({"pyproject.toml": ROOT_POETRY + """
[tool.guardrails.dependency-pins]
ignore-packages = ["PyYaml", "HTTPX", "numpy", "pytest"]
"""})
    result = strict(backend)
    result.assert_outcomes(failed=1)
    assert failure(result) == [
        "dependency-pins[libs/schemas]: 1 pin conflict (jsonschema)",
        "pyproject.toml:3: jsonschema >=4.22,<4.23 does not intersect >=4.23"
        " at libs/schemas/pyproject.toml:4",
        "compared: pyproject.toml, libs/schemas/pyproject.toml, libs/schemas/python/pyproject.toml",
        "locks: requirements-dev.txt",
        FIX,
    ]


def test_bad_policy_is_a_usage_error(backend: Backend) -> None:
    backend.write({"pyproject.toml": IDENTICAL_ROOT.format(policy="same")})
    result = backend.run("--guardrails-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "tool.guardrails.dependency-pins.policy: expected one of 'compatible', 'identical', " \
           "got 'same'" in result.stderr.str()


# --- explicit lists ----------------------------------------------------------------------------


def test_explicit_projects_and_locks(backend: Backend) -> None:
    backend.write({
        "pyproject.toml": """\
[project]
name = "backend"
dependencies = ["jsonschema>=4.22"]

[tool.guardrails.dependency-pins]
projects = ["requirements/base.in", "libs/schemas/python"]
locks = ["constraints.txt"]
""",
        "requirements/base.in": "-r common.in\nhttpx~=0.26.0\n",
        "requirements/common.in": "pydantic<2\n",
        "constraints.txt": "pydantic==1.10.15\nhttpx==0.26.0\n",
    })
    backend.write({"pyproject.toml": SCHEMAS_FOR_LOCKS, "python/pyproject.toml": """\
[tool.poetry.dependencies]
python = "^3.11"
pydantic = "^2.5"
httpx = "^0.27"
"""}, in_schemas=True)
    result = strict(backend)
    result.assert_outcomes(failed=1)
    # the root pyproject and libs/schemas/pyproject.toml are not listed: jsonschema is not compared
    assert failure(result) == [
        "dependency-pins[libs/schemas]: 4 pin conflicts (httpx, pydantic)",
        "constraints.txt:1: pydantic 1.10.15 is outside ^2.5 at libs/schemas/python/pyproject.toml:3",
        "constraints.txt:2: httpx 0.26.0 is outside ^0.27 at libs/schemas/python/pyproject.toml:4",
        "requirements/base.in:2: httpx ~=0.26.0 does not intersect ^0.27"
        " at libs/schemas/python/pyproject.toml:4",
        "requirements/common.in:1: pydantic <2 does not intersect ^2.5"
        " at libs/schemas/python/pyproject.toml:3",
        "compared: requirements/base.in, libs/schemas/python/pyproject.toml",
        "locks: constraints.txt",
        FIX,
    ]


def test_each_submodule_item_reports_only_its_own_conflicts(
        backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = make_git_repo(tmp_path_factory.mktemp("other") / "other", {
        "pyproject.toml": '[project]\nname = "other"\ndependencies = ["jsonschema<4"]\n'})
    backend.git("submodule", "add", "-q", str(other), "libs/other")
    backend.write({"pyproject.toml": '[project]\nname = "backend"\n'
                                     'dependencies = ["jsonschema>=4.22,<4.23"]\n'})
    backend.write({"pyproject.toml": SCHEMAS_FOR_LOCKS}, in_schemas=True)
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", "-k", "dependency-pins")
    result.assert_outcomes(failed=2)
    text = result.stdout.str()
    assert ("pyproject.toml:3: jsonschema >=4.22,<4.23 does not intersect >=4.23"
            " at libs/schemas/pyproject.toml:3\ncompared: pyproject.toml, "
            "libs/schemas/pyproject.toml\nhow to fix") in text
    assert ("pyproject.toml:3: jsonschema >=4.22,<4.23 does not intersect <4"
            " at libs/other/pyproject.toml:3\ncompared: pyproject.toml, libs/other/pyproject.toml\n"
            "how to fix") in text


# --- broken inputs ----------------------------------------------------------------------------


def test_malformed_inputs_are_located_and_the_rest_is_still_checked(backend: Backend) -> None:
    backend.write({
        "pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\npydantic = "^1.10"\n',
        "requirements.txt": "jsonschema>=4.23\nPyYAML>=>6\n-r missing.txt\n",
        "requirements-ci.txt": b"ruff==0.5.0\n\xff\xfe\n",
    })
    backend.write({
        "pyproject.toml": '[project]\nname = "schemas"\ndependencies = [\n'
                          '    "jsonschema>=4.23"\n    "pyyaml",\n]\n',
        "python/pyproject.toml": '[tool.poetry.dependencies]\npydantic = "^2.5"\n'
                                 'numpy = "^^1"\n'
                                 'tomli = {version = "^2", markers = "python_version >>> \'3\'"}\n',
    }, in_schemas=True)
    before = backend.state()
    result = strict(backend)
    result.assert_outcomes(failed=1)
    assert failure(result) == [
        "dependency-pins[libs/schemas]: error: 6 inputs could not be read, 1 pin conflict",
        "libs/schemas/pyproject.toml:5:5: invalid TOML: Unclosed array",
        "libs/schemas/python/pyproject.toml:3: numpy: invalid version constraint '^^1':"
        " Could not parse version constraint: ^^1",
        "libs/schemas/python/pyproject.toml:4: tomli: invalid markers \"python_version >>> '3'\":"
        f" {marker_error('python_version >>> ' + repr('3'))}",
        "pyproject.toml:3: pydantic ^1.10 does not intersect ^2.5"
        " at libs/schemas/python/pyproject.toml:2",
        "requirements-ci.txt:2: not UTF-8 (byte 0xff at offset 12)",
        f"requirements.txt:2: invalid requirement 'PyYAML>=>6': {packaging_error('PyYAML>=>6')}",
        "requirements.txt:3: included file missing.txt does not exist",
        "compared: pyproject.toml, libs/schemas/pyproject.toml, libs/schemas/python/pyproject.toml",
        "locks: requirements-ci.txt, requirements.txt",
        FIX,
    ]
    assert backend.state() == before
    warn = backend.run("--guardrails-only", "-rx", ITEM)
    warn.assert_outcomes(xfailed=1)
    assert warn.ret == 0
    assert "INTERNALERROR" not in warn.stdout.str() + warn.stderr.str()


# --- when it does not apply or cannot run ------------------------------------------------------


def test_submodule_without_projects_is_not_applicable(backend: Backend) -> None:
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", "-rs", ITEM)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([
        "SKIPPED [[]1[]] pyproject.toml:1: dependency-pins[[]libs/schemas[]]: no project file in"
        " libs/schemas (pyproject.toml; or set [[]tool.guardrails.dependency-pins[]] projects)",
    ])


def test_submodule_not_checked_out_cannot_run(backend: Backend) -> None:
    backend.write({"pyproject.toml": SCHEMAS_FOR_LOCKS}, in_schemas=True)
    backend.git("add", "libs/schemas")
    backend.git("commit", "-qm", "bump schemas")
    backend.git("submodule", "deinit", "-q", "-f", "libs/schemas")
    result = backend.run("--guardrails-only", "-rs", ITEM)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([
        "SKIPPED [[]1[]] pyproject.toml:1: dependency-pins[[]libs/schemas[]]: cannot run: submodule"
        " libs/schemas is not checked out; how to fix: git submodule update --init libs/schemas",
    ])
    strict_result = strict(backend)
    strict_result.assert_outcomes(failed=1)


# --- parsing details ---------------------------------------------------------------------------


def test_toml_lines_follow_the_grammar() -> None:
    text = """\
# a comment with [brackets] and "quotes"
[project]
name = "x"  # ] not a table
dependencies = [
  "a>=1",  # "b>=2", not an element
  'b; python_version < "3.9"', "c",
  \"\"\"d
\"\"\",
]
"quoted.key" = { version = "^1", extras = ["x"] }

[tool.poetry.dependencies]
numpy = [
  {version = "^1.24", python = "<3.9"},
  {version = "^2", python = ">=3.9"},
]
[tool.poetry.dependencies.big]
version = "1"
[[package]]
name = "a"
[package.dependencies]
x = "*"
[[package]]
name = "b"
"""
    lines = toml_lines(text)
    assert [lines[("project", "dependencies", i)] for i in range(4)] == [5, 6, 6, 7]
    assert lines[("project", "quoted.key", "version")] == 10
    assert lines[("tool", "poetry", "dependencies", "numpy", 1, "version")] == 15
    assert lines[("tool", "poetry", "dependencies", "big")] == 17
    assert lines[("package", 0, "dependencies", "x")] == 22
    assert lines[("package", 1, "name")] == 24


def test_requirements_lines_join_continuations_and_drop_comments() -> None:
    text = "a==1 \\\n    --hash=sha256:x \\\n    --hash=sha256:y\n# note\nb>=2  # why\n\nc#d\n"
    assert list(logical_lines(text)) == [
        (1, "a==1      --hash=sha256:x      --hash=sha256:y"), (5, "b>=2"), (7, "c#d")]


def test_requirements_options_urls_and_editables_carry_no_version(backend: Backend) -> None:
    backend.write({"requirements.txt": """\
--index-url https://example.invalid/simple
-e git+https://example.invalid/jsonschema.git#egg=jsonschema
jsonschema @ https://example.invalid/jsonschema-4.0.0-py3-none-any.whl
./vendor/jsonschema-4.0.0.tar.gz
--requirement=extra.txt
""", "extra.txt": "jsonschema<4.23 --config-settings=x=y\n"})
    backend.write({"pyproject.toml": SCHEMAS_FOR_LOCKS}, in_schemas=True)
    result = strict(backend)
    result.assert_outcomes(failed=1)
    assert failure(result) == [
        "dependency-pins[libs/schemas]: 1 pin conflict (jsonschema)",
        "extra.txt:1: jsonschema <4.23 does not intersect >=4.23 at libs/schemas/pyproject.toml:3",
        "compared: pyproject.toml, libs/schemas/pyproject.toml",
        "locks: requirements.txt",
        FIX,
    ]


def test_every_pyproject_form_is_read_with_its_line() -> None:
    out = Inputs()
    read_pyproject(out, "libs/x/pyproject.toml", """\
[project]
name = "x"
dependencies = ["attrs>=23", "Typing_Extensions (>=4.6) ; python_version < '3.11'",
    "local @ file:///srv/local"]

[project.optional-dependencies]
yaml = ["PyYAML>=6"]

[dependency-groups]
lint = ["ruff==0.5.0"]
dev = [{include-group = "lint"}, "pytest~=8.2"]

[tool.poetry.dependencies]
python = "^3.11"
fastapi = "*"
httpx = {version = "~0.27", extras = ["http2"], optional = true}
schemas = {path = "../schemas", develop = true}
tool = {git = "https://example.invalid/tool.git", tag = "v1"}
numpy = [
    {version = "^1.24", python = "<3.9"},
    {version = "^2.0", markers = "sys_platform == 'linux'"},
]

[tool.poetry.dependencies.pydantic]
version = "^2.7"
extras = ["email"]

[tool.poetry.group.test.dependencies]
pytest-xdist = "3.6.1"
""")
    assert out.errors == []
    assert [(d.package, d.line, d.show()) for d in out.declarations] == [
        ("attrs", 3, ">=23"),
        ("typing-extensions", 3, ">=4.6 (python_version < '3.11')"),
        ("pyyaml", 7, ">=6"),
        ("ruff", 10, "==0.5.0"),
        ("pytest", 11, "~=8.2"),
        ("fastapi", 15, "*"),
        ("httpx", 16, "~0.27"),
        ("numpy", 20, '^1.24 (python = "<3.9")'),
        ("numpy", 21, "^2.0 (markers = \"sys_platform == 'linux'\")"),
        ("pydantic", 24, "^2.7"),
        ("pytest-xdist", 29, "3.6.1"),
    ]
    numpy = [d for d in out.declarations if d.package == "numpy"]
    assert numpy[0].site == numpy[1].site  # one Poetry list of constraints
    assert str(numpy[0].marker) == 'python_version < "3.9"'
