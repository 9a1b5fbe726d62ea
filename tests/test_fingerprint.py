"""Fingerprints: survive code moving, not the finding's own line changing."""

from __future__ import annotations

from pathlib import Path

from conftest import write_files
from pytest_guardrails import config as config_mod
from pytest_guardrails import fingerprint
from pytest_guardrails.api import Finding
from pytest_guardrails.guardrails import builtin
from pytest_guardrails.project import Project


def project_at(root: Path) -> Project:
    settings = config_mod.validate(root / "pyproject.toml", {}, builtin())
    return Project(root, settings, settings.submodules)


def fp(root: Path, finding: Finding, guardrail: str = "ruff", target: str = ".") -> str:
    # a fresh project per call: the source cache holds one version of each file
    return fingerprint.fingerprint(project_at(root), guardrail, target, finding)


def test_survives_lines_added_above_and_reindenting(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": "", "a.py": "import os\nx = 1\n"})
    before = fp(tmp_path, Finding("`os` imported but unused", "a.py", 1, 8, "F401"))
    write_files(tmp_path, {"a.py": "\n" * 30 + "def f():\n    pass\n\n  import   os \nx = 1\n"})
    after = fp(tmp_path, Finding("`os` imported but unused", "a.py", 34, 10, "F401"))
    assert before == after


def test_changes_with_its_own_line_code_path_guardrail_target(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": "", "a.py": "import os\n", "b.py": "import os\n",
                           "c.py": "import sys\n"})
    base = fp(tmp_path, Finding("m", "a.py", 1, 1, "F401"))
    assert fp(tmp_path, Finding("m", "c.py", 1, 1, "F401")) != base  # the line's text
    assert fp(tmp_path, Finding("m", "b.py", 1, 1, "F401")) != base  # the path
    assert fp(tmp_path, Finding("m", "a.py", 1, 1, "E401")) != base  # the code
    assert fp(tmp_path, Finding("m", "a.py", 1, 1, "F401"), guardrail="pyright") != base
    assert fp(tmp_path, Finding("m", "a.py", 1, 1, "F401"), target="libs/x") != base
    # the message and the column are not part of it when there is a code
    assert fp(tmp_path, Finding("other words", "a.py", 1, 5, "F401")) == base


def test_without_a_code_the_message_counts_but_not_its_numbers(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": "", "a.py": "x = 1\n"})
    a = fp(tmp_path, Finding("bare noqa, see line 3", "a.py", 1))
    assert fp(tmp_path, Finding("bare noqa, see line 40", "a.py", 1)) == a
    assert fp(tmp_path, Finding("bare type: ignore", "a.py", 1)) != a


def test_fallback_to_the_message(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": "", "bin.dat": b"\xff\xfe\0\n"})
    no_path = fp(tmp_path, Finding("tool said no"))
    assert no_path == fp(tmp_path, Finding("tool  said no "))
    assert no_path != fp(tmp_path, Finding("tool said yes"))
    # beyond the end, unreadable file, missing file, escaping path: the message decides
    for path, line in (("bin.dat", 1), ("gone.py", 1), ("../x.py", 1), ("bin.dat", None)):
        a = fp(tmp_path, Finding("msg", path, line, code="X1"))
        assert a == fp(tmp_path, Finding("msg", path, line, code="X1"))
        assert a != fp(tmp_path, Finding("other", path, line, code="X1"))
    write_files(tmp_path, {"short.py": "x = 1\n"})
    assert fp(tmp_path, Finding("msg", "short.py", 5)) != fp(tmp_path, Finding("msg2", "short.py", 5))


def test_stamp_and_occurrences_count_duplicates(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": "", "a.py": "x = y + y\nz = 1\n"})
    project = project_at(tmp_path)
    found = [Finding("undefined y", "a.py", 1, 5, "F821"), Finding("undefined y", "a.py", 1, 9, "F821"),
             Finding("something", "a.py", 2, 1, "E999")]
    stamped = fingerprint.stamp(project, "ruff", ".", found)
    assert all(f.fingerprint for f in stamped)
    assert stamped == found  # the fingerprint is not compared
    occ = fingerprint.occurrences(stamped)
    assert [i for _, _, i in occ] == [0, 1, 0]
    assert occ[0][1] == occ[1][1] != occ[2][1]
    assert len({f"{fp_}:{i}" for _, fp_, i in occ}) == 3



def test_scanner_stamps_equal_the_engines(tmp_path: Path) -> None:
    """blanket-suppressions fingerprints its findings where it finds them; the fingerprints are
    the ones the engine computes from the findings' lines (text with \\r is left to the engine)."""
    from pytest_guardrails.guardrails import blanket_suppressions as bs
    from pytest_guardrails.sources import Source

    kinds = frozenset(bs.OPTIONS["kinds"].default)
    texts = {
        "a.py": "import os  # noqa\n\nx = 1  # type: ignore\n\ty = 2 #   noqa   \n",
        "b.py": "'\'\'doc # noqa'\'\'\nz = 3  # noqa\n# type: ignore",
        "c.py": "a = 1  # noqa\r\nb = 2  # noqa\r\n",
    }
    write_files(tmp_path, {"pyproject.toml": "", **texts})
    for name, text in texts.items():
        project = project_at(tmp_path)
        source = Source(str(tmp_path / name), name, text.encode("utf-8"))
        at_scan = list(bs.scan_source(source, kinds, target="."))
        plain = list(bs.scan_source(source, kinds))
        assert at_scan == plain and len(plain) >= 2
        engine = fingerprint.stamp(project, bs.NAME, ".", plain)
        if "\r" in text:
            assert all(f.fingerprint is None for f in at_scan)
        else:
            assert [f.fingerprint for f in at_scan] == [f.fingerprint for f in engine]
        again = fingerprint.stamp(project, bs.NAME, ".", at_scan)
        assert [f.fingerprint for f in again] == [f.fingerprint for f in engine]
        assert all(f.fingerprint for f in engine)
