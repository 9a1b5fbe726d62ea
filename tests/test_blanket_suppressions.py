"""blanket-suppressions (GR005): every suppression comment names what it silences.

The corpus below covers each row of the suppression table in PRIOR-ART ("what ruff covers"):
what ruff's PGH003/PGH004 flag, what they miss, and the near-misses that must never be flagged
(text in strings and docstrings, named codes, look-alike comments).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import inspect
import io
from pathlib import Path
import pydoc
import tokenize
import typing

import pytest

from conftest import Backend
from pytest_guardrails.sources import Source

ITEM = "pyproject.toml::blanket-suppressions"
SUB_ITEM = "pyproject.toml::blanket-suppressions[libs/schemas]"

NOQA = "silences every rule on the line; name the code: `# noqa: F401`"
TYPE = "silences every type error on the line; name the code: `# type: ignore[attr-defined]`"
PYRIGHT = ("silences every pyright rule on the line; "
           "name the rule: `# pyright: ignore[reportAttributeAccessIssue]`")

#: (file name, source, expected findings as "line:col: message"); an empty list = not flagged
CORPUS: list[tuple[str, str, list[str]]] = [
    # --- flagged by ruff and by us
    ("bare_noqa.py", "import os  # noqa\n", [f"1:12: `# noqa` {NOQA}"]),
    ("no_space.py", "import os  #noqa\n", [f"1:12: `#noqa` {NOQA}"]),
    ("upper.py", "import os  # NOQA\n", [f"1:12: `# NOQA` {NOQA}"]),
    ("ruff_file.py", "# ruff: noqa\nimport os\n",
     ["1:1: `# ruff: noqa` silences every rule in the file; name the codes: `# ruff: noqa: F401`"]),
    ("flake8_file.py", "# flake8: noqa\nimport os\n",
     ["1:1: `# flake8: noqa` makes flake8 skip the whole file; name the code per line: "
      "`# noqa: F401`, or use per-file-ignores"]),
    ("type_ignore.py", "x: int = f()  # type: ignore\n", [f"1:15: `# type: ignore` {TYPE}"]),
    ("type_nospace.py", "x: int = f()  # type:ignore\n", [f"1:15: `# type:ignore` {TYPE}"]),
    ("pyright_ignore.py", "x: int = f()  # pyright: ignore\n",
     [f"1:15: `# pyright: ignore` {PYRIGHT}"]),
    ("after_text.py", "import os  # keep it # noqa\n", [f"1:22: `# noqa` {NOQA}"]),
    ("no_colon.py", "import os  # noqa F401\n",
     ["1:12: `# noqa F401` without a colon silences every rule on the line; "
      "name the code: `# noqa: F401`"]),
    # --- missed by ruff, flagged by us
    ("empty_noqa.py", "import os  # noqa:\n",
     [f"1:12: `# noqa:` with no code {NOQA}"]),
    ("flake8_codes.py", "# flake8: noqa: F401\nimport os\n",
     ["1:1: `# flake8: noqa: F401` makes flake8 skip the whole file (flake8 ignores the codes "
      "there); name the code per line: `# noqa: F401`, or use per-file-ignores"]),
    ("empty_brackets.py", "x: int = f()  # type: ignore[]\n", [f"1:15: `# type: ignore[]` {TYPE}"]),
    ("pyright_empty.py", "x: int = f()  # pyright: ignore[]\n",
     [f"1:15: `# pyright: ignore[]` {PYRIGHT}"]),
    # a blanket noqa on the line hides PGH003 in ruff: two directives, two findings
    ("two_on_a_line.py", "x: int = f()  # type: ignore  # noqa\n",
     [f"1:15: `# type: ignore` {TYPE}", f"1:31: `# noqa` {NOQA}"]),
    ("two_reversed.py", "x: int = f()  # noqa # type: ignore\n",
     [f"1:15: `# noqa` {NOQA}", f"1:22: `# type: ignore` {TYPE}"]),
    ("after_unicode.py", "s = 'héllo'  # noqa\n", [f"1:14: `# noqa` {NOQA}"]),
    ("crlf.py", "x = 1\r\nimport os  # noqa\r\n", [f"2:12: `# noqa` {NOQA}"]),
    ("old_mac.py", "x = 1\rimport os  # noqa\r", [f"2:12: `# noqa` {NOQA}"]),
    # --- near-misses: never flagged
    ("named.py", "import os  # noqa: F401\n", []),
    ("named_no_space.py", "import os  # noqa:F401\n", []),
    ("named_many.py", "import os, sys  # noqa: F401,E401\n", []),
    ("named_spaced.py", "import os  # noqa : F401\n", []),
    ("type_named.py", "x: int = f()  # type: ignore[attr-defined]\n", []),
    ("pyright_named.py", "x: int = f()  # pyright: ignore[reportAttributeAccessIssue]\n", []),
    ("ruff_file_named.py", "# ruff: noqa: F401\nimport os\n", []),
    ("in_string.py", 's = "# noqa"\nt = "x  # type: ignore"\n', []),
    ("in_bytes_raw.py", "b = b'# noqa'\nr = r'#noqa'\nf = f'{1}  # pyright: ignore'\n", []),
    ("in_docstring.py", 'def f():\n    """Say `# noqa` or\n    # type: ignore here."""\n', []),
    ("in_triple_single.py", "x = '''\n# noqa\n'''  # noqa: E501\n", []),
    ("string_continued.py", "x = 'a \\\n# noqa'\n", []),
    ("hash_in_string_then_comment.py", "x = '#'  # fine\n", []),
    ("type_comment.py", "x = []  # type: list[int]\n", []),
    ("type_ignored.py", "x = 1  # type: ignored by design\n", []),
    ("capital_type.py", "x = 1  # Type: ignore\n", []),
    ("prose.py", "# we do not use noqa here, nor type: ignore\n", []),
    ("noqa_word.py", "x = 1  # noqa-like comments are banned\n", []),
    ("pyright_config.py", "# pyright: basic\n", []),
    ("prose_backquoted.py", "x = 1\n# The `# type: ignore` and `# noqa` comments are needed\n", []),
    ("noqa_d.py", "x = 1\n# noqa'd as it is exported\n", []),
    # a type: ignore before any code makes mypy skip the file
    ("file_type_ignore.py", "#!/usr/bin/env python\n# type: ignore\nimport os\n",
     ["2:1: `# type: ignore` before any code makes mypy skip the whole file; name the code on "
      "each line instead: `# type: ignore[attr-defined]`"]),
    ("after_docstring.py", '"""Doc."""\n# type: ignore\n', [f"2:1: `# type: ignore` {TYPE}"]),
]


def expected(corpus: list[tuple[str, str, list[str]]], prefix: str = "corpus/") -> list[str]:
    """The findings in report order: by path (as git sorts them), line and column."""
    rows = [(f"{prefix}{name}", finding) for name, _, findings in corpus for finding in findings]
    rows.sort(key=lambda r: (r[0].encode(), *map(int, r[1].split(":")[:2])))
    return [f"{path}:{finding}" for path, finding in rows]


def finding_lines(output: list[str], prefix: str = "corpus/") -> list[str]:
    return [line.strip() for line in output if line.strip().startswith(prefix)]


@pytest.fixture
def corpus(backend: Backend) -> Backend:
    backend.write({f"corpus/{name}": source for name, source, _ in CORPUS})
    return backend


def test_corpus_exact_findings(corpus: Backend) -> None:
    result = corpus.run("--guardrails-only", "--guardrails-mode=strict", ITEM)
    result.assert_outcomes(failed=1)
    n = sum(len(f) for _, _, f in CORPUS)
    result.stdout.fnmatch_lines([f"*blanket-suppressions: {n} blanket suppressions"])
    assert finding_lines(result.stdout.lines) == expected(CORPUS)
    result.stdout.fnmatch_lines([
        "how to fix: name the rule in each suppression (`# noqa: F401`, "
        "`# type: ignore[[]attr-defined[]]`, `# pyright: ignore[[]reportAttributeAccessIssue[]]`);"
        " see docs/guardrails/blanket-suppressions.md",
    ])


def test_warn_mode_xfails_with_summary(corpus: Backend) -> None:
    result = corpus.run("--guardrails-only", "-v", ITEM)
    result.assert_outcomes(xfailed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        f"{ITEM}: {sum(len(f) for _, _, f in CORPUS)} blanket suppressions",
        f"    corpus/after_text.py:1:22: `# noqa` {NOQA}",
    ])


@pytest.mark.parametrize(("kinds", "names"), [
    (["noqa"], {"bare_noqa.py", "empty_noqa.py", "no_colon.py"}),
    (["file-noqa"], {"ruff_file.py", "flake8_codes.py"}),
    (["type-ignore"], {"type_ignore.py", "empty_brackets.py"}),
    (["pyright-ignore"], {"pyright_ignore.py", "pyright_empty.py"}),
    ([], set()),
])
def test_kinds_select_what_is_reported(backend: Backend, kinds: list[str], names: set[str]) -> None:
    rows = [r for r in CORPUS if r[0] in {"bare_noqa.py", "empty_noqa.py", "no_colon.py",
                                          "ruff_file.py", "flake8_codes.py", "type_ignore.py",
                                          "empty_brackets.py", "pyright_ignore.py",
                                          "pyright_empty.py"}]
    backend.write({f"corpus/{name}": source for name, source, _ in rows})
    backend.write({"pyproject.toml": (backend.path / "pyproject.toml").read_text()
                   + f"\n[tool.guardrails.blanket-suppressions]\nkinds = {kinds!r}\n"
                   .replace("'", '"')})
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", ITEM)
    if not names:
        result.assert_outcomes(passed=1)
        return
    result.assert_outcomes(failed=1)
    assert finding_lines(result.stdout.lines) == expected([r for r in rows if r[0] in names])


def test_unknown_kind_is_a_usage_error(backend: Backend) -> None:
    backend.write({"pyproject.toml": (backend.path / "pyproject.toml").read_text()
                   + '\n[tool.guardrails.blanket-suppressions]\nkinds = ["noqa", "nosec"]\n'})
    result = backend.run("--guardrails-only", ITEM)
    assert result.ret == 4
    result.stderr.fnmatch_lines([
        "*pyproject.toml:*: tool.guardrails.blanket-suppressions.kinds[[]1[]]: unknown kind "
        "'nosec'; kinds are 'noqa', 'file-noqa', 'type-ignore', 'pyright-ignore'"])


def test_files_git_would_show(backend: Backend) -> None:
    """Tracked and untracked-not-ignored files are scanned; ignored, excluded and other targets'
    files are not; each target reports its own files, paths relative to the repo root."""
    backend.write({".gitignore": "build/\n", "app/tracked.py": "import os  # noqa\n"})
    backend.write({"app/untracked.py": "import os  # noqa\n",
                   "build/ignored.py": "import os  # noqa\n",
                   "vendor/excluded.py": "import os  # noqa\n",
                   "app/not_python.txt": "# noqa\n"}, commit=False)
    backend.write({"python/src/gen.py": "x = 1  # type: ignore\n"}, in_schemas=True)
    backend.write({"pyproject.toml": (backend.path / "pyproject.toml").read_text().replace(
        "[tool.guardrails.version-ssot]", '[tool.guardrails]\nexclude = ["vendor/**"]\n\n'
        "[tool.guardrails.version-ssot]")}, commit=False)
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", ITEM, SUB_ITEM)
    result.assert_outcomes(failed=2)
    lines = [ln.strip() for ln in result.stdout.lines]
    assert f"app/tracked.py:1:12: `# noqa` {NOQA}" in lines
    assert f"app/untracked.py:1:12: `# noqa` {NOQA}" in lines
    assert f"libs/schemas/python/src/gen.py:1:8: `# type: ignore` {TYPE}" in lines
    out = result.stdout.str()
    for absent in ("build/ignored.py", "vendor/excluded.py", "not_python.txt"):
        assert absent not in out


BAD_INPUTS: dict[str, str | bytes] = {
    "bad/latin1_no_cookie.py": b"s = '\xe9'  # noqa\n",
    "bad/nul.py": b"x = 1\x00  # noqa\n",
    "bad/python2.py": "print 'hello'  # noqa\nexec 'x = 1'\n",
    "bad/latin1_cookie.py": b"# -*- coding: latin-1 -*-\ns = '\xe9'  # noqa\n",
    "bad/unknown_cookie.py": b"# coding: klingon\nx = 1  # noqa\n",
    "bad/unterminated.py": "x = '''never closed  # noqa\n",
    "ok/after.py": "import os  # noqa\n",
}


def test_bad_input_is_located_and_the_rest_is_scanned(backend: Backend) -> None:
    backend.write(BAD_INPUTS)
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", ITEM)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*blanket-suppressions: error: 3 inputs could not be read, "
                                 "3 blanket suppressions"])
    assert [ln.strip() for ln in result.stdout.lines if ln.strip().startswith(("bad/", "ok/"))] == [
        f"bad/latin1_cookie.py:2:10: `# noqa` {NOQA}",
        f"bad/python2.py:1:16: `# noqa` {NOQA}",
        f"ok/after.py:1:12: `# noqa` {NOQA}",
        "bad/latin1_no_cookie.py:1:6: not valid UTF-8: byte 0xe9 cannot be decoded",
        "bad/nul.py:1:6: contains a NUL byte: binary, not source text",
        "bad/unknown_cookie.py:1: unknown encoding 'klingon' in the coding declaration",
    ]
    assert "INTERNALERROR" not in result.stdout.str()


def test_huge_file_is_skipped_with_a_counted_note(backend: Backend) -> None:
    pyproject = (backend.path / "pyproject.toml").read_text()
    backend.write({"app/small.py": "import os  # noqa\n",
                   "pyproject.toml": pyproject.replace(
                       "[tool.guardrails.version-ssot]",
                       '[tool.guardrails]\nmax-file-size = "1 KiB"\n\n[tool.guardrails.version-ssot]')})
    huge = "x = 1  # noqa\n" * (1024 // 14 + 1)  # untracked: no need to hash it into git
    backend.write({"big/huge.py": huge}, commit=False)
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", ITEM)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "blanket-suppressions: 1 blanket suppression",
        f"app/small.py:1:12: `# noqa` {NOQA}",
        "1 file over max-file-size (1 KiB) not scanned: big/huge.py",
    ])


def test_clean_repo_passes(backend: Backend) -> None:
    backend.write({"app/ok.py": "import os  # noqa: F401\n"})
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", ITEM, SUB_ITEM)
    result.assert_outcomes(passed=2)


def test_same_findings_under_xdist(corpus: Backend) -> None:
    result = corpus.run("--guardrails-only", "--guardrails-mode=strict", "-n", "2", ITEM)
    result.assert_outcomes(failed=1)
    assert finding_lines(result.stdout.lines) == expected(CORPUS)


def test_read_only(corpus: Backend) -> None:
    before = corpus.state()
    corpus.run("--guardrails-only", ITEM, SUB_ITEM)
    assert corpus.state() == before


# --- the comment lexer gives exactly tokenize's COMMENT tokens --------------------------------

LEXER_SAMPLES = [
    *(Path(m.__file__) for m in (tokenize, inspect, difflib, argparse, pydoc, dataclasses, typing)),
    *sorted(Path(__file__).parent.parent.glob("pytest_guardrails/**/*.py")),
    *sorted(Path(__file__).parent.glob("test_*.py")),
]


@pytest.mark.parametrize("path", LEXER_SAMPLES, ids=lambda p: p.name)
def test_comments_equal_tokenize(path: Path) -> None:
    raw = path.read_bytes()
    expected = [(tok.start, tok.string)
                for tok in tokenize.tokenize(io.BytesIO(raw).readline) if tok.type == tokenize.COMMENT]
    source = Source(str(path), path.name, raw)
    got = []
    for offset, text in source.comments():
        line, col = source.location(offset)
        got.append(((line, col - 1), text))
    assert got == expected


@pytest.mark.parametrize("text", [
    "", "a", "a\n", "a\nb", "a\r\nb\rc\n", "\n\n", "x\u2028y\nz", "f\x0cg\n", "# c\n\n# d",
])
def test_line_table_breaks_where_the_tokenizer_does(text: str) -> None:
    """Lines break at \\n, \\r\\n and \\r only (not at str.splitlines' \\f, \\u2028, ...),
    whichever way the table is built."""
    source = Source("x.py", "x.py", text.encode("utf-8"))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert [source.line_text(n) for n in range(1, len(lines) + 1)] == lines
    offsets = [i for i, ch in enumerate(text) if ch not in "\r\n"]
    for offset in offsets:
        before = text[:offset].replace("\r\n", "\n").replace("\r", "\n")
        assert source.location(offset) == (before.count("\n") + 1,
                                           len(before) - before.rfind("\n"))
