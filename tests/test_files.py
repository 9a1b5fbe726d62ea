"""Which files the scanning guardrails read: ``Project.files`` with git, and without it."""

from __future__ import annotations

import os
from pathlib import Path
import shutil

import pytest

from conftest import Backend
from conftest import run_git
from conftest import write_files
from pytest_guardrails import config as config_mod
from pytest_guardrails.guardrails import builtin
from pytest_guardrails.project import Project
from pytest_guardrails.project import parse_gitignore


def project_at(root: Path, exclude: tuple[str, ...] = ()) -> Project:
    raw = {"exclude": list(exclude)} if exclude else {}
    settings = config_mod.validate(root / "pyproject.toml", raw, builtin())
    return Project(root, settings, settings.submodules)


# --- with git --------------------------------------------------------------------------------


def test_tracked_and_untracked_not_ignored(backend: Backend) -> None:
    backend.write({".gitignore": "*.log\nbuild/\n", "app/tracked.py": "",
                   "app/gone.py": "", "docs/a b ü.md": ""})
    (backend.path / "app/gone.py").unlink()  # deleted in the work tree, still in the index
    backend.write({"app/new.py": "", "debug.log": "", "build/out.py": "",
                   "app/sub/deep.py": ""}, commit=False)
    project = project_at(backend.path)
    root, schemas = project.targets
    files = project.files(root)
    assert {"app/tracked.py", "app/gone.py", "app/new.py", "app/sub/deep.py", "docs/a b ü.md",
            ".gitignore", ".gitmodules", "pyproject.toml"} <= set(files)
    assert not {"debug.log", "build/out.py", "libs/schemas"} & set(files)
    assert not [f for f in files if f.startswith("libs/")]
    assert files == sorted(files)
    assert project.files(schemas) == sorted([
        "examples/Tone.json", "jsonschema/tone.schema.json", "python/src/synesthetic_schemas/tone.py",
        "version.json"])


def test_untracked_nested_repository_is_not_a_file(backend: Backend) -> None:
    nested = backend.path / "scratch"
    write_files(nested, {"x.py": "import os  # noqa\n"})
    run_git(nested, "init", "-q")
    project = project_at(backend.path)
    assert not [f for f in project.files(project.targets[0]) if f.startswith("scratch")]


def test_exclude_applies_to_repo_relative_paths(backend: Backend) -> None:
    backend.write({"app/gen/x.py": "", "app/y.py": ""})
    project = project_at(backend.path, exclude=("app/gen/**", "libs/schemas/examples/**"))
    root, schemas = project.targets
    assert "app/gen/x.py" not in project.files(root)
    assert "app/y.py" in project.files(root)
    assert "examples/Tone.json" not in project.files(schemas)
    assert "version.json" in project.files(schemas)


def test_nested_submodule_is_not_listed_by_its_parent(backend: Backend) -> None:
    """A submodule inside the root target is someone else's target; its gitlink is no file."""
    backend.write({"vendor/lib/x.py": ""})
    project = project_at(backend.path)
    files = project.files(project.targets[0])
    assert "libs/schemas" not in files
    assert "vendor/lib/x.py" in files


def test_listing_is_cached_per_project(backend: Backend) -> None:
    project = project_at(backend.path)
    root = project.targets[0]
    first = project.files(root)
    backend.write({"app/later.py": ""}, commit=False)
    assert project.files(root) is first
    assert "app/later.py" in project_at(backend.path).files(root)


def test_git_failure_is_an_error_on_the_item(backend: Backend) -> None:
    (backend.path / ".git" / "index").write_bytes(b"not an index")
    result = backend.run("--guardrails-only", "-rx", "pyproject.toml::blanket-suppressions")
    result.assert_outcomes(xfailed=1)
    result.stdout.fnmatch_lines(["XFAIL pyproject.toml::blanket-suppressions - "
                                 "blanket-suppressions: error: git ls-files failed in .: *index*"])


# --- without git: the walk honours .gitignore like git does ----------------------------------

TREE: dict[str, str | bytes] = {
    ".gitignore": "\n".join([
        "# comment",
        "*.log",
        "!keep.log",
        "/only_root.txt",
        "build/",
        "doc/*.tmp",
        "**/cache",
        "logs/**",
        "!logs/important/",
        "a/**/z.txt",
        "trailing.txt   ",
        "space\\ end\\ ",
        "\\#hash.txt",
        "\\!bang.txt",
        "[Dd]ata?.csv",
        "nested_dir_pattern/sub/",
        "",
    ]),
    "keep.log": "", "drop.log": "", "sub/drop.log": "", "sub/keep.log": "",
    "only_root.txt": "", "sub/only_root.txt": "",
    "build/x.py": "", "src/build/y.py": "", "build_file": "",
    "doc/a.tmp": "", "doc/deep/b.tmp": "", "doc/c.md": "",
    "x/cache/f": "", "cache/g": "", "cachex/h": "",
    "logs/a.txt": "", "logs/important/b.txt": "",
    "a/z.txt": "", "a/b/c/z.txt": "", "a/b/y.txt": "",
    "trailing.txt": "", "space end ": "", "#hash.txt": "", "!bang.txt": "",
    "data1.csv": "", "Data2.csv": "", "data10.csv": "",
    "nested_dir_pattern/sub/f": "", "other/nested_dir_pattern/sub/f": "",
    "sub/.gitignore": "*.py\n!wanted.py\n/local/\n",
    "sub/a.py": "", "sub/wanted.py": "", "sub/local/f": "", "sub/x/local/f": "",
    "sub/deeper/b.py": "", "sub/deeper/wanted.py": "",
    "sub/deeper/.gitignore": "!b.py\n",
    "src/main.py": "", "README.md": "",
    "pyproject.toml": "[project]\nname = 'x'\n",
}


def test_walk_without_git_lists_what_git_would(pytester: pytest.Pytester, tmp_path: Path) -> None:
    with_git = tmp_path / "with_git"
    write_files(with_git, TREE)
    run_git(with_git, "init", "-q")
    expected = sorted(f for f in run_git(with_git, "ls-files", "-z", "--others",
                                         "--exclude-standard").split("\0") if f)
    plain = tmp_path / "plain"
    shutil.copytree(with_git, plain, ignore=shutil.ignore_patterns(".git"))
    project = project_at(plain)
    assert project.files(project.targets[0]) == expected
    # the interesting verdicts, spelled out
    for listed in ("keep.log", "sub/only_root.txt", "build_file", "cachex/h", "a/b/y.txt",
                   "sub/wanted.py", "sub/deeper/b.py", "sub/x/local/f", "doc/deep/b.tmp",
                   "data10.csv", "other/nested_dir_pattern/sub/f"):
        assert listed in expected, listed
    for ignored in ("drop.log", "sub/drop.log", "only_root.txt", "build/x.py", "src/build/y.py",
                    "doc/a.tmp", "space end ", "#hash.txt", "!bang.txt",
                    "x/cache/f", "cache/g", "logs/a.txt", "a/z.txt", "a/b/c/z.txt",
                    "trailing.txt", "data1.csv", "Data2.csv", "sub/a.py", "sub/local/f",
                    "nested_dir_pattern/sub/f"):
        assert ignored not in expected, ignored


def test_walk_skips_submodules_and_nested_repositories(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "pyproject.toml": "", "app/x.py": "",
        ".gitmodules": '[submodule "s"]\n\tpath = libs/s\n\turl = ../s\n',
        "libs/s/y.py": "", "third_party/repo/.git": "gitdir: elsewhere\n",
        "third_party/repo/z.py": "",
    })
    project = project_at(tmp_path)
    root, sub = project.targets
    assert project.files(root) == [".gitmodules", "app/x.py", "pyproject.toml"]
    assert project.files(sub) == ["y.py"]


def test_scanners_work_on_a_copy_without_git(backend: Backend) -> None:
    backend.write({".gitignore": "generated/\n", "app/bad.py": "import os  # noqa\n",
                   "generated/also_bad.py": "import os  # noqa\n"}, commit=False)
    shutil.rmtree(backend.path / ".git")
    (backend.schemas / ".git").unlink()
    result = backend.run("--guardrails-only", "--guardrails-mode=strict",
                         "pyproject.toml::blanket-suppressions")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "app/bad.py:1:12: `# noqa` silences every rule on the line" in out
    assert "generated/also_bad.py" not in out


@pytest.mark.parametrize(("line", "path", "is_dir", "ignored"), [
    ("*.py", "a/b.py", False, True),
    ("/b.py", "a/b.py", False, False),
    ("a/", "a", False, False),
    ("a/", "a", True, True),
    ("a/*.py", "a/b/c.py", False, False),
    ("a/**/c.py", "a/c.py", False, True),
    ("\\*.py", "x.py", False, False),
    ("\\*.py", "*.py", False, True),
])
def test_gitignore_rule(line: str, path: str, is_dir: bool, ignored: bool) -> None:
    (rule,) = parse_gitignore(line, "")
    matched = rule.regex.match(path) is not None and (is_dir or not rule.dir_only)
    assert matched is ignored


def test_special_files_are_skipped_not_read(backend: Backend) -> None:
    """Symlinks to directories or nowhere, and FIFOs, never block or break a scan."""
    backend.write({"app/real.py": "import os  # noqa\n"})
    (backend.path / "app/dir_link.py").symlink_to(backend.path / "docs")
    (backend.path / "app/dangling.py").symlink_to(backend.path / "nowhere.py")
    os.mkfifo(backend.path / "app/pipe.py")
    result = backend.run("--guardrails-only", "--guardrails-mode=strict",
                         "pyproject.toml::blanket-suppressions")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["blanket-suppressions: 1 blanket suppression",
                                 "app/real.py:1:12: *"])
    assert "dir_link" not in result.stdout.str() and "pipe" not in result.stdout.str()


def test_a_bare_directory_glob_means_everything_below_it() -> None:
    from pytest_guardrails.globs import GlobSet

    files = ["app/shaderlib/a.glsl", "app/shaderlib/x/b.glsl", "app/shaderlibs/c.glsl",
             "app/other.glsl", "README.md"]
    assert GlobSet(["app/shaderlib"]).filter(files) == files[:2]
    assert GlobSet(["app/shaderlib/"]).filter(files) == files[:2]
    assert GlobSet(["README.md"]).filter(files) == ["README.md"]
    assert GlobSet(["app/*.glsl"]).filter(files) == ["app/other.glsl"]  # wildcards: unchanged
