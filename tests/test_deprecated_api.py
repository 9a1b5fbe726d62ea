"""deprecated-api (GR006): banned APIs found by meaning (imports, aliases, attribute chains).

The corpus covers each row of the banned-API paragraph in PRIOR-ART ("what ruff covers"): what
ruff's TID251 catches, what it misses (validators.RefResolver, re-exports, another module's
attribute, star imports), and near-misses that only mention the name.
"""

from __future__ import annotations

import pytest

from conftest import Backend

ITEM = "pyproject.toml::deprecated-api"
SUB_ITEM = "pyproject.toml::deprecated-api[libs/schemas]"
USE = "use referencing.Registry (jsonschema >= 4.18)"
RR = "jsonschema.RefResolver"
VRR = "jsonschema.validators.RefResolver"


def dep(shown: str, name: str = RR, message: str = USE) -> str:
    what = f"`{shown}` is deprecated" if shown == name else f"`{shown}` is {name}, deprecated"
    return f"{what}: {message}"


#: (file name, source, expected findings as "line:col: message"); an empty list = not flagged
CORPUS: list[tuple[str, str, list[str]]] = [
    # --- caught by ruff TID251 and by us
    ("from_import.py", "from jsonschema import RefResolver\n", [f"1:24: {dep(RR)}"]),
    ("from_import_as.py", "from jsonschema import RefResolver as R\nR.from_schema({})\n",
     [f"1:24: {dep(RR)}"]),
    ("module_alias.py", "import jsonschema as js\nr = js.RefResolver('', {})\n",
     [f"2:5: {dep('js.RefResolver')}"]),
    ("attribute.py", "import jsonschema\nr = jsonschema.RefResolver.from_schema({})\n",
     [f"2:5: {dep(RR)}"]),
    ("string_annotation.py",
     "import jsonschema\n\ndef f(r: 'jsonschema.RefResolver') -> None: ...\n",
     [f"3:10: {dep(RR)}"]),
    ("annassign_string.py", "import jsonschema\nr: \"jsonschema.RefResolver | None\" = None\n",
     [f"2:4: {dep(RR)}"]),
    ("annotation.py", "import jsonschema\n\ndef f() -> jsonschema.RefResolver: ...\n",
     [f"3:12: {dep(RR)}"]),
    # --- missed by ruff, caught by us
    ("validators_attr.py", "import jsonschema\nv = jsonschema.validators.RefResolver\n",
     [f"2:5: {dep(VRR, VRR)}"]),
    ("validators_from.py", "from jsonschema.validators import RefResolver\n",
     [f"1:35: {dep(VRR, VRR)}"]),
    ("validators_module.py", "from jsonschema import validators\nv = validators.RefResolver\n",
     [f"2:5: {dep('validators.RefResolver', VRR)}"]),
    ("dotted_import.py", "import jsonschema.validators\nv = jsonschema.validators.RefResolver\n",
     [f"2:5: {dep(VRR, VRR)}"]),
    ("other_module_attr.py", "from app import qc\nr = qc.jsonschema.RefResolver\n",
     [f"2:5: {dep('qc.jsonschema.RefResolver')}"]),
    ("star_import.py", "from jsonschema import *\nr = RefResolver('', {})\n",
     [f"2:5: {dep('RefResolver')}"]),
    ("vendored_relative.py", "from .vendor.jsonschema import RefResolver\n",
     [f"1:32: {dep('.vendor.jsonschema.RefResolver')}"]),
    ("in_function.py",
     "def load():\n    import jsonschema as j\n    return j.RefResolver\n",
     [f"3:12: {dep('j.RefResolver')}"]),
    ("class_method_sees_module.py",
     "import jsonschema as js\n\nclass C:\n    def m(self):\n        return js.RefResolver\n",
     [f"5:16: {dep('js.RefResolver')}"]),
    ("two_uses.py", "import jsonschema\na = jsonschema.RefResolver\nb = jsonschema.RefResolver\n",
     [f"2:5: {dep(RR)}", f"3:5: {dep(RR)}"]),
    ("unicode_before.py", "import jsonschema\nx = ('é', jsonschema.RefResolver)\n",
     [f"2:11: {dep(RR)}"]),
    # --- near-misses: never flagged
    ("comment.py", "import jsonschema  # not jsonschema.RefResolver any more\n", []),
    ("docstring.py", '"""We replaced jsonschema.RefResolver with referencing."""\n', []),
    ("string.py", "MESSAGE = 'jsonschema.RefResolver is deprecated'\n", []),
    ("getattr.py", "import jsonschema\nx = getattr(jsonschema, 'RefResolver', None)\n", []),
    ("other_owner.py", "import mylib\nr = mylib.RefResolver\n", []),
    ("local_class.py", "class RefResolver:\n    pass\n\nRefResolver()\n", []),
    ("aliased_other.py", "import mylib as jsonschema\nr = jsonschema.RefResolver\n", []),
    ("shadowed_local.py",
     "import jsonschema as js\n\ndef f():\n    js = object()\n    return js.RefResolver\n", []),
    ("registry.py", "from referencing import Registry\nimport jsonschema\n"
     "v = jsonschema.Draft202012Validator({}, registry=Registry())\n", []),
    ("similar_name.py", "import jsonschema\nx = jsonschema.RefResolverError\n", []),
    ("star_shadowed.py", "from jsonschema import *\n\nclass RefResolver:\n    pass\n\nRefResolver()\n",
     []),
]


def expected(corpus: list[tuple[str, str, list[str]]], prefix: str = "corpus/") -> list[str]:
    rows = [(f"{prefix}{name}", finding) for name, _, findings in corpus for finding in findings]
    rows.sort(key=lambda r: (r[0].encode(), *map(int, r[1].split(":")[:2])))
    return [f"{path}:{finding}" for path, finding in rows]


def finding_lines(output: list[str], prefixes: tuple[str, ...] = ("corpus/",)) -> list[str]:
    return [line.strip() for line in output if line.strip().startswith(prefixes)]


def add_config(backend: Backend, text: str, *, commit: bool = True) -> None:
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"pyproject.toml": pyproject + "\n" + text}, commit=commit)


@pytest.fixture
def corpus(backend: Backend) -> Backend:
    backend.write({f"corpus/{name}": source for name, source, _ in CORPUS})
    return backend


def test_corpus_exact_findings(corpus: Backend) -> None:
    result = corpus.run("--guardrails-only", "--guardrails-mode=strict", ITEM)
    result.assert_outcomes(failed=1)
    n = sum(len(f) for _, _, f in CORPUS)
    result.stdout.fnmatch_lines([f"deprecated-api: {n} deprecated API uses"])
    assert finding_lines(result.stdout.lines) == expected(CORPUS)
    result.stdout.fnmatch_lines([
        "how to fix: replace each use as its message says; see docs/guardrails/deprecated-api.md"])


def test_banned_table_adds_to_the_builtin_list(backend: Backend) -> None:
    add_config(backend, '[tool.guardrails.deprecated-api.banned]\n'
                        '"pydantic.v1" = "use pydantic 2 models"\n')
    backend.write({
        "app/models.py": "import pydantic.v1\nfrom pydantic.v1 import BaseModel\n"
                         "from pydantic import v1\nfrom pydantic import BaseModel as M2\n",
        "app/schema.py": "from jsonschema import RefResolver\n",
    })
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", ITEM)
    result.assert_outcomes(failed=1)
    pv1 = "use pydantic 2 models"
    assert finding_lines(result.stdout.lines, ("app/",)) == [
        f"app/models.py:1:8: {dep('pydantic.v1', 'pydantic.v1', pv1)}",
        f"app/models.py:2:1: {dep('pydantic.v1', 'pydantic.v1', pv1)}",
        f"app/models.py:3:22: {dep('pydantic.v1', 'pydantic.v1', pv1)}",
        f"app/schema.py:1:24: {dep(RR)}",
    ]


def test_banned_table_rewords_a_builtin(backend: Backend) -> None:
    add_config(backend, '[tool.guardrails.deprecated-api.banned]\n'
                        '"jsonschema.RefResolver" = "see ADR-12"\n')
    backend.write({"app/schema.py": "import jsonschema\nr = jsonschema.RefResolver\n"})
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", ITEM)
    result.stdout.fnmatch_lines([f"app/schema.py:2:5: {dep(RR, RR, 'see ADR-12')}"])


@pytest.mark.parametrize(("value", "error"), [
    ('"not a dotted name!" = "x"',
     'tool.guardrails.deprecated-api.banned."not a dotted name!": expected a dotted name like '
     '"package.module.Name"'),
    ('"a.b" = 3', 'tool.guardrails.deprecated-api.banned."a.b": expected a string, got an integer'),
])
def test_bad_banned_table_is_a_usage_error(backend: Backend, value: str, error: str) -> None:
    add_config(backend, f"[tool.guardrails.deprecated-api.banned]\n{value}\n")
    result = backend.run("--guardrails-only", ITEM)
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*pyproject.toml:*: {error}"])


def test_bad_input_is_located_and_the_rest_is_scanned(backend: Backend) -> None:
    exclude_hint = ("cannot check it for deprecated APIs (fix it, or add it to "
                    "[tool.guardrails] exclude)")
    backend.write({
        "bad/py2.py": "import jsonschema\nprint 'resolver', jsonschema.RefResolver\n",
        "bad/py2_unrelated.py": "print 'no banned name here'\n",
        "bad/latin1.py": b"import jsonschema\ns = '\xe9'\nr = jsonschema.RefResolver\n",
        "bad/nul.py": b"import jsonschema\x00\nr = jsonschema.RefResolver\n",
        "ok/uses.py": "import jsonschema\nr = jsonschema.RefResolver\n",
    })
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", ITEM)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["deprecated-api: error: 3 inputs could not be read, 1 deprecated API use"])
    assert finding_lines(result.stdout.lines, ("bad/", "ok/")) == [
        f"ok/uses.py:2:5: {dep(RR)}",
        f"bad/latin1.py:2:6: not valid UTF-8: byte 0xe9 cannot be decoded; {exclude_hint}",
        f"bad/nul.py:1:18: contains a NUL byte: binary, not source text; {exclude_hint}",
        f"bad/py2.py:2:1: cannot parse: Missing parentheses in call to 'print'. Did you mean "
        f"print(...)? (Python 2 syntax?); {exclude_hint}",
    ]


def test_each_target_scans_its_own_files(backend: Backend) -> None:
    backend.write({"app/a.py": "import jsonschema\nr = jsonschema.RefResolver\n"})
    backend.write({"python/src/b.py": "from jsonschema import RefResolver\n"}, in_schemas=True)
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", ITEM, SUB_ITEM)
    result.assert_outcomes(failed=2)
    assert finding_lines(result.stdout.lines, ("app/", "libs/")) == [
        f"app/a.py:2:5: {dep(RR)}",
        f"libs/schemas/python/src/b.py:1:24: {dep(RR)}",
    ]


def test_clean_repo_passes_and_stays_untouched(backend: Backend) -> None:
    backend.write({"app/ok.py": "from referencing import Registry\n"})
    before = backend.state()
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", ITEM, SUB_ITEM)
    result.assert_outcomes(passed=2)
    assert backend.state() == before


def test_same_findings_under_xdist(corpus: Backend) -> None:
    result = corpus.run("--guardrails-only", "--guardrails-mode=strict", "-n", "2", ITEM)
    result.assert_outcomes(failed=1)
    assert finding_lines(result.stdout.lines) == expected(CORPUS)
