"""codegen-drift on real repositories: one test per submodule state, each with its exact message.

Every run goes through ``drift()``, which asserts that nothing under the backend (work tree, both
index files, every byte of both ``.git`` dirs) nor the origin repo changed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
import shutil
import subprocess
import sys

import pytest

from conftest import Backend
from conftest import make_git_repo
from conftest import run_git
from conftest import write_files
from pytest_guardrails import manifest
from pytest_guardrails.guardrails import codegen_drift
from tests import test_ruff
from tests.test_ruff import Env

venv = test_ruff.venv

ITEM = "codegen-drift[libs/schemas]"
TONE = "python/src/synesthetic_schemas/tone.py"
CONFIG = '\n[tool.guardrails.codegen-drift]\ngenerated = ["python/src"]\n'
FIX_REGENERATE = (
    "generated code is verified here, never regenerated: regenerate in the schemas repo (the "
    "origin of libs/schemas), run `guardrails-manifest write -m codegen.manifest.json` there if "
    "it keeps a manifest, commit there, then bump the submodule here: git -C libs/schemas fetch "
    "&& git -C libs/schemas checkout <new-sha> && git add libs/schemas")
FIX_DROP = (
    "to drop the local edits instead: git -C libs/schemas restore --staged --worktree -- "
    "python/src (untracked files: git -C libs/schemas clean -n -- python/src lists them)")


def snapshot(*roots: Path) -> dict[str, tuple[str, int]]:
    """Content hash and mtime of every file below ``roots``, ``.git`` dirs included."""
    out: dict[str, tuple[str, int]] = {}
    for root in roots:
        for dirpath, _, filenames in os.walk(root):
            for f in filenames:
                p = Path(dirpath, f)
                if p.is_symlink() or not p.is_file():
                    continue
                out[str(p)] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


def configure(backend: Backend, extra: str = CONFIG) -> None:
    pyproject = backend.path / "pyproject.toml"
    backend.write({"pyproject.toml": pyproject.read_text(encoding="utf-8") + extra})


def drift(backend: Backend, *args: str, strict: bool = True) -> pytest.RunResult:
    """Run only codegen-drift; assert the run changed no byte anywhere."""
    before = snapshot(backend.path, backend.origin)
    mode = "--guardrails-mode=strict" if strict else "--guardrails-mode=warn"
    result = backend.run("--guardrails-only", mode, "-rxs", "-k", "codegen-drift", *args)
    assert snapshot(backend.path, backend.origin) == before
    return result


def failure(result: pytest.RunResult) -> list[str]:
    """The failure text of the codegen-drift item (strict mode)."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if f" GR007 pyproject.toml::{ITEM} " in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("="))
    return [line for line in lines[start + 1:end] if not line.startswith("[gw")]


def sha(backend: Backend, rev: str = "HEAD", cwd: Path | None = None) -> str:
    return backend.git("rev-parse", rev, cwd=cwd or backend.schemas).strip()


def commit_in_schemas(backend: Backend, files: dict[str, str | bytes]) -> str:
    backend.write(files, in_schemas=True)
    return sha(backend)


def test_clean_submodule_passes(backend: Backend) -> None:
    configure(backend)
    drift(backend).assert_outcomes(passed=1)


def test_detached_head_is_fine(backend: Backend) -> None:
    configure(backend)
    backend.git("checkout", "-q", "--detach", cwd=backend.schemas)
    drift(backend).assert_outcomes(passed=1)


def test_not_initialised(backend: Backend) -> None:
    configure(backend)
    pinned = sha(backend)
    backend.git("submodule", "deinit", "-q", "-f", "libs/schemas")
    result = drift(backend)
    result.assert_outcomes(failed=1)
    assert failure(result) == [
        f"{ITEM}: not initialised",
        f"libs/schemas: submodule not initialised: libs/schemas/.git is missing, so the pinned "
        f"commit {pinned[:7]} is not checked out",
        "how to fix: git submodule update --init libs/schemas",
    ]


def test_not_initialised_warn_mode_is_xfail(backend: Backend) -> None:
    configure(backend)
    backend.git("submodule", "deinit", "-q", "-f", "libs/schemas")
    result = drift(backend, strict=False)
    result.assert_outcomes(xfailed=1)
    assert f"XFAIL pyproject.toml::{ITEM} - {ITEM}: not initialised" in result.stdout.lines
    assert result.ret == 0  # warn mode never changes the exit code


def test_checkout_ahead_of_gitlink(backend: Backend) -> None:
    configure(backend)
    pinned = sha(backend)
    ahead = commit_in_schemas(backend, {"jsonschema/new.schema.json": "{}\n"})
    result = drift(backend)
    assert failure(result) == [
        f"{ITEM}: checked out {ahead[:7]} != gitlink {pinned[:7]}",
        f"libs/schemas: checked out {ahead[:7]}, but the gitlink (index and HEAD) pins "
        f"{pinned[:7]}; the checkout is 1 commit ahead of it",
        f"how to fix: check out the pinned commit: git -C libs/schemas checkout {pinned} (or git "
        "submodule update libs/schemas); or bump the gitlink to what is checked out: "
        "git add libs/schemas",
    ]


def test_checkout_behind_gitlink(backend: Backend) -> None:
    configure(backend)
    old = sha(backend)
    new = commit_in_schemas(backend, {"jsonschema/new.schema.json": "{}\n"})
    backend.git("add", "libs/schemas")
    backend.git("commit", "-qm", "bump")
    backend.git("checkout", "-q", old, cwd=backend.schemas)
    result = drift(backend)
    assert failure(result)[:2] == [
        f"{ITEM}: checked out {old[:7]} != gitlink {new[:7]}",
        f"libs/schemas: checked out {old[:7]}, but the gitlink (index and HEAD) pins "
        f"{new[:7]}; the checkout is 1 commit behind it",
    ]


def test_bump_staged_not_committed(backend: Backend) -> None:
    configure(backend)
    old = sha(backend)
    new = commit_in_schemas(backend, {"jsonschema/new.schema.json": "{}\n"})
    backend.git("add", "libs/schemas")
    result = drift(backend)
    assert failure(result) == [
        f"{ITEM}: bump staged, not committed",
        f"libs/schemas: submodule bump staged but not committed: the index pins {new[:7]}, "
        f"HEAD pins {old[:7]}",
        f"how to fix: commit the bump: git commit -m 'Bump libs/schemas to {new[:7]}' -- "
        "libs/schemas (or unstage it: git reset -q -- libs/schemas)",
    ]


def test_bump_staged_and_checkout_at_head(backend: Backend) -> None:
    configure(backend)
    old = sha(backend)
    new = commit_in_schemas(backend, {"jsonschema/new.schema.json": "{}\n"})
    backend.git("add", "libs/schemas")
    backend.git("checkout", "-q", old, cwd=backend.schemas)
    lines = failure(drift(backend))
    assert lines[:3] == [
        f"{ITEM}: bump staged, not committed; checked out {old[:7]} != gitlink {new[:7]}",
        f"libs/schemas: submodule bump staged but not committed: the index pins {new[:7]}, "
        f"HEAD pins {old[:7]}",
        f"libs/schemas: checked out {old[:7]}, but the gitlink in the index pins {new[:7]}; "
        "the checkout is 1 commit behind it",
    ]


def test_pinned_commit_missing(backend: Backend) -> None:
    configure(backend)
    checked_out = sha(backend)
    run_git(backend.origin, "commit", "-q", "--allow-empty", "-m", "not fetched")
    missing = sha(backend, cwd=backend.origin)
    backend.git("update-index", "--cacheinfo", f"160000,{missing},libs/schemas")
    backend.git("commit", "-qm", "pin a commit the submodule does not have")
    result = drift(backend)
    assert failure(result) == [
        f"{ITEM}: checked out {checked_out[:7]} != gitlink {missing[:7]}; "
        f"pinned commit {missing[:7]} missing",
        f"libs/schemas: checked out {checked_out[:7]}, but the gitlink (index and HEAD) pins "
        f"{missing[:7]}",
        f"libs/schemas: pinned commit {missing[:7]} is not in libs/schemas's object store (not "
        "fetched, or never pushed)",
        f"how to fix: (1) check out the pinned commit: git -C libs/schemas checkout {missing} (or "
        "git submodule update libs/schemas); or bump the gitlink to what is checked out: "
        "git add libs/schemas; "
        "(2) fetch it: git submodule update --init libs/schemas; if it was never pushed, push it "
        "from the schemas repo or bump to a pushed commit: git -C libs/schemas checkout <sha> && "
        "git add libs/schemas",
    ]


def test_merge_conflict_on_gitlink(backend: Backend) -> None:
    configure(backend)
    base = sha(backend)
    backend.git("checkout", "-q", "-b", "other")
    theirs = commit_in_schemas(backend, {"a.txt": "a\n"})
    backend.git("commit", "-qam", "bump on other")
    backend.git("checkout", "-q", "main")
    backend.git("submodule", "update", "-q")
    backend.git("checkout", "-q", base, cwd=backend.schemas)
    ours = commit_in_schemas(backend, {"b.txt": "b\n"})
    backend.git("commit", "-qam", "bump on main")
    with pytest.raises(subprocess.CalledProcessError):
        backend.git("merge", "-q", "other")  # conflicts on the gitlink
    result = drift(backend)
    assert failure(result) == [
        f"{ITEM}: merge conflict on the gitlink",
        f"libs/schemas: merge conflict on the gitlink: base {base[:7]}, ours {ours[:7]}, "
        f"theirs {theirs[:7]}",
        "how to fix: pick one side: git -C libs/schemas checkout <sha> && git add libs/schemas",
    ]


def test_modified_deleted_untracked_and_staged_files_each_listed(backend: Backend) -> None:
    configure(backend)
    commit_in_schemas(backend, {"python/src/synesthetic_schemas/old.py": "X = 1\n",
                                "python/src/synesthetic_schemas/staged.py": "Y = 1\n"})
    backend.git("commit", "-qam", "bump")
    (backend.schemas / TONE).write_text("class Tone:\n    edited = True\n", encoding="utf-8")
    (backend.schemas / "python/src/synesthetic_schemas/old.py").unlink()
    (backend.schemas / "python/src/synesthetic_schemas/stray.py").write_text("Z = 1\n")
    (backend.schemas / "python/src/synesthetic_schemas/staged.py").write_text("Y = 2\n")
    backend.git("add", "python/src/synesthetic_schemas/staged.py", cwd=backend.schemas)
    (backend.schemas / "jsonschema/tone.schema.json").write_text("{}\n")  # not generated
    result = drift(backend)
    p = "libs/schemas/python/src/synesthetic_schemas"
    assert failure(result) == [
        f"{ITEM}: 4 generated files changed in the work tree",
        f"{p}/old.py: generated file deleted (uncommitted change in libs/schemas)",
        f"{p}/staged.py: generated file modified in libs/schemas's index, not committed",
        f"{p}/stray.py: untracked file among generated code (not committed in libs/schemas)",
        f"{p}/tone.py: generated file modified (uncommitted change in libs/schemas)",
        f"how to fix: (1) {FIX_REGENERATE}; (2) {FIX_DROP}",
    ]


def test_ignore_all_in_gitmodules_still_lists_changes(backend: Backend) -> None:
    configure(backend)
    backend.git("config", "-f", ".gitmodules", "submodule.libs/schemas.ignore", "all")
    backend.git("commit", "-qam", "ignore = all")
    assert backend.git("status", "--porcelain=v2") == ""
    (backend.schemas / TONE).write_text("edited\n", encoding="utf-8")
    (backend.schemas / "python/src/extra.py").write_text("\n", encoding="utf-8")
    assert backend.git("status", "--porcelain=v2") == ""  # git itself says nothing
    result = drift(backend)
    assert failure(result)[:3] == [
        f"{ITEM}: 2 generated files changed in the work tree",
        "libs/schemas/python/src/extra.py: untracked file among generated code (not committed in "
        "libs/schemas)",
        f"libs/schemas/{TONE}: generated file modified (uncommitted change in libs/schemas)",
    ]


def test_whole_submodule_when_generated_is_unset(backend: Backend) -> None:
    (backend.schemas / "README.md").write_text("local note\n", encoding="utf-8")
    result = drift(backend)
    assert failure(result) == [
        f"{ITEM}: 1 generated file changed in the work tree",
        "libs/schemas/README.md: untracked file among generated code (not committed in "
        "libs/schemas)",
        f"how to fix: (1) {FIX_REGENERATE}; (2) {FIX_DROP.replace('python/src', '.')}",
    ]


def test_gitmodules_path_without_gitlink(backend: Backend) -> None:
    configure(backend)
    backend.git("config", "-f", ".gitmodules", "submodule.libs/schemas.path", "libs/moved")
    backend.git("commit", "-qam", "edit .gitmodules by hand")
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", "-k", "codegen-drift")
    text = result.stdout.str()
    assert "codegen-drift[libs/moved]: .gitmodules entry without a gitlink" in text
    assert ("\n.gitmodules:1: libs/moved is listed in .gitmodules, but the superproject has no "
            "gitlink there; gitlinks without a .gitmodules entry: libs/schemas (moved without "
            "`git mv`?)\n") in text
    assert ("\nhow to fix: register the submodule: git submodule add <url> libs/moved (or fix the "
            "path in .gitmodules)\n") in text


def test_gitlink_without_gitmodules_entry(backend: Backend) -> None:
    configure(backend, CONFIG + '\n[tool.guardrails]\nsubmodules = ["libs/schemas"]\n')
    pinned = sha(backend)
    backend.git("rm", "-q", "--cached", ".gitmodules")
    (backend.path / ".gitmodules").unlink()
    backend.git("commit", "-qm", "drop .gitmodules")
    result = drift(backend)
    assert failure(result) == [
        f"{ITEM}: gitlink without a .gitmodules entry",
        f"libs/schemas: gitlink (pins {pinned[:7]}) has no entry in .gitmodules, so `git "
        "submodule update` cannot clone it",
        "how to fix: record it: git submodule add <url> libs/schemas (or git rm --cached "
        "libs/schemas)",
    ]


def test_vendored_plain_tree(backend: Backend) -> None:
    configure(backend)
    shutil.rmtree(backend.schemas / ".git", ignore_errors=True)
    (backend.schemas / ".git").unlink(missing_ok=True)
    backend.git("rm", "-q", "--cached", "libs/schemas")
    backend.git("add", "libs/schemas")
    backend.git("commit", "-qm", "vendor a copy")
    result = drift(backend)
    assert failure(result) == [
        f"{ITEM}: .gitmodules entry without a gitlink",
        ".gitmodules:1: libs/schemas is listed in .gitmodules, but the superproject tracks it as "
        "a plain directory (4 files), not as a submodule gitlink",
        "how to fix: register the submodule: git submodule add <url> libs/schemas (or fix the "
        "path in .gitmodules)",
    ]


def _shallow_submodule(backend: Backend) -> None:
    """Re-clone libs/schemas with depth 1 (file:// so that --depth is honoured)."""
    backend.git("submodule", "deinit", "-q", "-f", "libs/schemas")
    shutil.rmtree(backend.path / ".git" / "modules" / "libs" / "schemas")
    backend.git("config", "submodule.libs/schemas.url", backend.origin.as_uri())
    backend.git("submodule", "update", "-q", "--init", "--depth", "1", "libs/schemas")
    assert backend.git("rev-parse", "--is-shallow-repository", cwd=backend.schemas).strip() == "true"


def test_shallow_clone_reports_unknown_not_a_false_finding(backend: Backend) -> None:
    configure(backend)
    run_git(backend.origin, "commit", "-q", "--allow-empty", "-m", "second")
    _shallow_submodule(backend)
    drift(backend).assert_outcomes(passed=1)  # on the pinned commit: shallow is fine
    checked_out = sha(backend)
    run_git(backend.origin, "commit", "-q", "--allow-empty", "-m", "third")
    pinned = sha(backend, cwd=backend.origin)
    backend.git("update-index", "--cacheinfo", f"160000,{pinned},libs/schemas")
    backend.git("commit", "-qm", "pin an unfetched commit")
    lines = failure(drift(backend))
    assert lines[1:3] == [
        f"libs/schemas: checked out {checked_out[:7]}, but the gitlink (index and HEAD) pins "
        f"{pinned[:7]}",
        f"libs/schemas: pinned commit {pinned[:7]} is not in this shallow clone of libs/schemas; "
        "whether it exists upstream is unknown",
    ]
    backend.git("fetch", "-q", "--depth", "1", "origin", pinned, cwd=backend.schemas)
    lines = failure(drift(backend))
    assert lines[:2] == [
        f"{ITEM}: checked out {checked_out[:7]} != gitlink {pinned[:7]}",
        f"libs/schemas: checked out {checked_out[:7]}, but the gitlink (index and HEAD) pins "
        f"{pinned[:7]}; whether it is ahead or behind is unknown (shallow clone)",
    ]


def test_generated_path_that_does_not_exist(backend: Backend) -> None:
    configure(backend, '\n[tool.guardrails.codegen-drift]\ngenerated = ["python/src", "ts/src"]\n')
    result = drift(backend)
    assert failure(result) == [
        f"{ITEM}: generated path ts/src missing",
        "libs/schemas: generated path ts/src does not exist in libs/schemas",
        "how to fix: fix [tool.guardrails.codegen-drift] generated in pyproject.toml",
    ]


def test_leaked_git_env_from_a_hook_is_ignored(backend: Backend, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    configure(backend)
    elsewhere = make_git_repo(backend.origin.parent / "elsewhere", {"f": "x\n"})
    monkeypatch.setenv("GIT_DIR", str(elsewhere / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(elsewhere / ".git" / "index"))
    drift(backend).assert_outcomes(passed=1)


# --- the manifest inside the submodule ------------------------------------------------------------


def with_manifest(backend: Backend) -> str:
    """Write a manifest in the schemas repo, commit it there, bump the submodule here."""
    rc = manifest.main(["write", "-m", str(backend.schemas / "codegen.manifest.json"),
                        "-g", "python", "--input", "jsonschema/*.schema.json",
                        "--output", "python/src/synesthetic_schemas"])
    assert rc == 0
    new = commit_in_schemas(backend, {})
    backend.git("commit", "-qam", "bump schemas")
    return new


def test_manifest_clean_passes(backend: Backend) -> None:
    configure(backend)
    with_manifest(backend)
    drift(backend).assert_outcomes(passed=1)


def test_manifest_drift_committed_in_the_submodule(backend: Backend) -> None:
    """Someone hand-edited generated code and committed it in the schemas repo."""
    configure(backend)
    with_manifest(backend)
    commit_in_schemas(backend, {TONE: "class Tone:\n    hand_edited = True\n",
                                "python/src/synesthetic_schemas/extra.py": "\n"})
    backend.git("commit", "-qam", "bump schemas")
    result = drift(backend)
    assert failure(result) == [
        f"{ITEM}: 2 generated files differ from the manifest",
        "libs/schemas/python/src/synesthetic_schemas/extra.py: file matches the outputs of "
        "generator 'python' but is not in the manifest",
        f"libs/schemas/{TONE}: generated file differs from the manifest (generator 'python')",
        "how to fix: generated code is verified here, never regenerated: regenerate in the "
        "schemas repo (the origin of libs/schemas), run `guardrails-manifest write -m "
        "codegen.manifest.json` there if it keeps a manifest, commit there, then bump the "
        "submodule here: git -C libs/schemas fetch && git -C libs/schemas checkout <new-sha> && "
        "git add libs/schemas",
    ]


def test_manifest_input_changed(backend: Backend) -> None:
    configure(backend)
    with_manifest(backend)
    commit_in_schemas(backend, {"jsonschema/tone.schema.json": '{"type": "string"}\n'})
    backend.git("commit", "-qam", "bump schemas")
    lines = failure(drift(backend))
    assert lines[:2] == [
        f"{ITEM}: 1 file differs from the manifest",
        "libs/schemas/jsonschema/tone.schema.json: generator input changed since the manifest "
        "was written (generator 'python')",
    ]


def test_configured_manifest_missing(backend: Backend) -> None:
    configure(backend, CONFIG + 'manifest = "codegen.manifest.json"\n')
    assert failure(drift(backend)) == [
        f"{ITEM}: manifest missing",
        "libs/schemas: manifest codegen.manifest.json not found in libs/schemas",
        "how to fix: write it in the schemas repo (guardrails-manifest write -m "
        "codegen.manifest.json), or unset [tool.guardrails.codegen-drift] manifest",
    ]


def test_broken_manifest_is_an_error(backend: Backend) -> None:
    configure(backend)
    commit_in_schemas(backend, {"codegen.manifest.json": '{"manifest_version": 1,\n "x": }\n'})
    backend.git("commit", "-qam", "bump schemas")
    result = drift(backend, strict=False)
    result.assert_outcomes(xfailed=1)
    lines = result.stdout.lines
    assert f"XFAIL pyproject.toml::{ITEM} - {ITEM}: error: 1 input could not be read" in lines
    assert ("    libs/schemas/codegen.manifest.json:2: cannot use the manifest: invalid JSON: "
            "Expecting value") in lines


# --- a copy without git metadata ------------------------------------------------------------------


def strip_git(backend: Backend) -> None:
    """Turn the checkout into a plain copy, as a container build context would have it."""
    shutil.rmtree(backend.path / ".git")
    (backend.schemas / ".git").unlink()


def test_copy_without_git_cannot_run(backend: Backend) -> None:
    configure(backend)
    strip_git(backend)
    result = drift(backend, strict=False)
    result.assert_outcomes(skipped=1)
    assert (
        f"SKIPPED [1] pyproject.toml:10: {ITEM}: cannot run: no git metadata in {backend.path} (a "
        "copy without .git): the gitlink and work-tree checks of libs/schemas need git; and "
        "libs/schemas has no codegen.manifest.json to verify; how to fix: run where the repository "
        "is a git checkout with its submodules (git submodule update --init libs/schemas), or "
        "waive codegen-drift[libs/schemas] in [tool.guardrails.ignore] where only a copy exists"
    ) in result.stdout.lines
    drift(backend).assert_outcomes(failed=1)  # strict: cannot run fails


def test_copy_without_git_still_verifies_the_manifest(backend: Backend) -> None:
    configure(backend)
    with_manifest(backend)
    strip_git(backend)
    result = drift(backend, strict=False)
    result.assert_outcomes(skipped=1)
    assert any(line.startswith(f"SKIPPED [1] pyproject.toml:10: {ITEM}: cannot run: ")
               and ": the gitlink and work-tree checks of libs/schemas need git; "
               "codegen.manifest.json matched (2 files); how to fix: " in line
               for line in result.stdout.lines)
    (backend.schemas / TONE).write_text("edited\n", encoding="utf-8")
    result = drift(backend)
    assert failure(result) == [
        f"{ITEM}: 1 generated file differs from the manifest",
        f"libs/schemas/{TONE}: generated file differs from the manifest (generator 'python')",
        f"not checked: no git metadata in {backend.path} (a copy without .git), so the gitlink "
        "and work-tree checks did not run",
        "how to fix: generated code is verified here, never regenerated: regenerate in the "
        "schemas repo (the origin of libs/schemas), run `guardrails-manifest write -m "
        "codegen.manifest.json` there if it keeps a manifest, commit there, then bump the "
        "submodule here: git -C libs/schemas fetch && git -C libs/schemas checkout <new-sha> && "
        "git add libs/schemas",
    ]


def test_same_outcome_under_xdist(backend: Backend) -> None:
    configure(backend)
    (backend.schemas / TONE).write_text("edited\n", encoding="utf-8")
    result = drift(backend, "-n", "2")
    result.assert_outcomes(failed=1)
    assert failure(result)[:2] == [
        f"{ITEM}: 1 generated file changed in the work tree",
        f"libs/schemas/{TONE}: generated file modified (uncommitted change in libs/schemas)"]


def test_manifest_in_a_subdirectory_of_the_submodule(backend: Backend) -> None:
    configure(backend, CONFIG + 'manifest = "python/gen.json"\n')
    assert manifest.main(["write", "-m", str(backend.schemas / "python" / "gen.json"),
                          "-g", "python", "--output", "src"]) == 0
    commit_in_schemas(backend, {})
    backend.git("commit", "-qam", "bump schemas")
    drift(backend).assert_outcomes(passed=1)
    commit_in_schemas(backend, {TONE: "class Tone:\n    hand_edited = True\n"})
    backend.git("commit", "-qam", "bump schemas")
    assert failure(drift(backend))[:2] == [
        f"{ITEM}: 1 generated file differs from the manifest",
        f"libs/schemas/{TONE}: generated file differs from the manifest (generator 'python')",
    ]


def test_git_not_installed_cannot_run(backend: Backend, monkeypatch: pytest.MonkeyPatch,
                                      tmp_path: Path) -> None:
    configure(backend)
    monkeypatch.setenv("PATH", str(tmp_path))  # no git binary on PATH
    result = drift(backend, strict=False)
    result.assert_outcomes(skipped=1)
    assert (
        f"SKIPPED [1] pyproject.toml:10: {ITEM}: cannot run: git is not installed: the gitlink and "
        "work-tree checks of libs/schemas need git; and libs/schemas has no codegen.manifest.json "
        "to verify; how to fix: install git (it must be on PATH), or waive "
        "codegen-drift[libs/schemas] in [tool.guardrails.ignore] where only a copy exists"
    ) in result.stdout.lines


# --- build artefacts and exclude ------------------------------------------------------------------

SCHEMAS_PACKAGE = """\
[project]
name = "synesthetic-schemas"
version = "0.7.3"

[tool.setuptools.packages.find]
where = ["src"]
"""


def test_editable_install_of_the_submodule_is_not_drift(backend: Backend, venv: Env) -> None:
    """The backend's `pip install -r requirements.txt` does `-e ./libs/schemas/python`: the
    install writes `python/src/*.egg-info/`, importing writes `__pycache__/`; neither is drift,
    while a real edit of a generated file still is, by name."""
    pytest.importorskip("setuptools", reason="the test extra installs setuptools")
    pytest.importorskip("wheel", reason="the test extra installs wheel (editable installs with "
                        "setuptools < 70.1 need it)")
    commit_in_schemas(backend, {"python/pyproject.toml": SCHEMAS_PACKAGE,
                                "python/setup.py": "from setuptools import setup\n\nsetup()\n",
                                "python/src/synesthetic_schemas/__init__.py": ""})
    configure(backend, '\n[tool.guardrails.codegen-drift]\ngenerated = ["python/src"]\n')
    assert manifest.main(["write", "-m", str(backend.schemas / "codegen.manifest.json"),
                          "-g", "python", "--input", "jsonschema/*.schema.json",
                          "--output", "python/src"]) == 0  # outputs cover the egg-info's place
    commit_in_schemas(backend, {})
    backend.git("commit", "-qam", "bump schemas")
    pip = subprocess.run(
        (sys.executable, "-m", "pip", "--python", str(venv.python), "install", "-q",
         "--no-build-isolation", "--no-use-pep517", "--no-deps", "--no-index", "-e", str(backend.schemas / "python")),
        capture_output=True, text=True, timeout=300, check=False)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run((str(venv.python), "-c", "import synesthetic_schemas.tone"), check=True,
                   timeout=60, env=env)
    untracked = backend.git("status", "--porcelain", "--untracked-files=all", cwd=backend.schemas)
    assert "python/src/synesthetic_schemas.egg-info/PKG-INFO" in untracked
    assert "python/src/synesthetic_schemas/__pycache__/" in untracked
    drift(backend).assert_outcomes(passed=1)
    (backend.schemas / TONE).write_text("class Tone:\n    hand_edited = True\n", encoding="utf-8")
    lines = failure(drift(backend))
    assert lines[:3] == [
        f"{ITEM}: 1 generated file changed in the work tree; 1 generated file differs from the "
        "manifest",
        f"libs/schemas/{TONE}: generated file modified (uncommitted change in libs/schemas)",
        f"libs/schemas/{TONE}: generated file differs from the manifest (generator 'python')",
    ]
    assert lines[3].startswith("not checked: ")
    assert lines[3].endswith(" (build artefacts)")


def test_exclude_keys_leave_paths_out_and_say_so(backend: Backend) -> None:
    configure(backend, '\n[tool.guardrails]\nexclude = ["libs/schemas/python/src/local/**"]\n'
              '\n[tool.guardrails.codegen-drift]\ngenerated = ["python/src"]\n'
              'exclude = ["python/src/**/*.bak"]\n')
    write_files(backend.schemas, {"python/src/local/scratch.py": "x = 1\n",
                                  "python/src/synesthetic_schemas/tone.py.bak": "old\n",
                                  "python/src/.mypy_cache/3.11/x.json": "{}\n",
                                  "python/src/node_modules/m/index.js": "\n"})
    drift(backend).assert_outcomes(passed=1)
    write_files(backend.schemas, {"python/src/synesthetic_schemas/new.py": "\n"})
    lines = failure(drift(backend))
    assert lines == [
        f"{ITEM}: 1 generated file changed in the work tree",
        "libs/schemas/python/src/synesthetic_schemas/new.py: untracked file among generated code "
        "(not committed in libs/schemas)",
        "not checked: 4 changed or unlisted paths in libs/schemas: 2 (build artefacts), "
        "1 ([tool.guardrails.codegen-drift] exclude), 1 ([tool.guardrails] exclude)",
        f"how to fix: (1) {FIX_REGENERATE}; (2) {FIX_DROP}",
    ]


@pytest.mark.parametrize(("path", "artefact"), [
    ("src/pkg.egg-info/PKG-INFO", True), ("src/pkg/__pycache__/a.cpython-311.pyc", True),
    ("a.pyc", True), (".mypy_cache/x", True), ("a/.pytest_cache/v", True),
    ("ts/node_modules/x/y.js", True), ("src/pkg/tone.py", False), ("egg-info.py", False),
    ("src/node_modules.py", False)])
def test_is_artefact(path: str, artefact: bool) -> None:
    assert codegen_drift.is_artefact(path) is artefact


# --- layout 2: generated code in the repository, its inputs in the submodule ----------------------

HERE = "codegen-drift"
GEN = "gen/models/tone.py"
LAYOUT2 = '\n[tool.guardrails.codegen-drift.target."."]\ngenerated = ["gen/models"]\n'
REGENERATE_HERE = (
    "generation happens in this repository: regenerate here with datamodel-code-generator "
    "0.25.8, then guardrails-manifest write -m codegen.manifest.json, and commit the generated "
    "code with the manifest (and the submodule bump, if that is what changed the inputs)")


def layout2(backend: Backend) -> None:
    """The backend generates gen/models from the schemas submodule's JSON Schemas and commits
    the code and a root manifest whose inputs lie inside the submodule."""
    write_files(backend.path, {GEN: "class Tone:\n    pass\n", "gen/models/__init__.py": ""})
    assert manifest.main(["write", "-m", str(backend.path / "codegen.manifest.json"),
                          "-g", "models", "--input", "libs/schemas/jsonschema/*.schema.json",
                          "--output", "gen/models", "--tool", "datamodel-code-generator",
                          "--tool-version", "0.25.8"]) == 0
    configure(backend, LAYOUT2)


def here(backend: Backend) -> tuple[pytest.RunResult, list[str]]:
    """Strict codegen-drift on the repository only, read-only checked; its failure lines."""
    before = snapshot(backend.path, backend.origin)
    result = backend.run("--guardrails-only", "--guardrails-mode=strict",
                         f"pyproject.toml::{HERE}")
    assert snapshot(backend.path, backend.origin) == before
    lines = result.stdout.lines
    start = next((i for i, line in enumerate(lines) if f" pyproject.toml::{HERE} " in line), None)
    if start is None:
        return result, []
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("="))
    return result, lines[start + 1:end]


def test_layout2_clean_passes_and_layout1_items_stay(backend: Backend) -> None:
    layout2(backend)
    result = backend.run("--guardrails-only", "--collect-only", "-q", "-k", "codegen")
    assert [line for line in result.stdout.lines if line.startswith("pyproject.toml::")] == [
        "pyproject.toml::codegen-drift", "pyproject.toml::codegen-drift[libs/schemas]"]
    result, _ = here(backend)
    result.assert_outcomes(passed=1)


def test_layout2_generated_file_edited_deleted_untracked(backend: Backend) -> None:
    layout2(backend)
    (backend.path / GEN).write_text("class Tone:\n    hand_edited = True\n", encoding="utf-8")
    (backend.path / "gen/models/__init__.py").unlink()
    (backend.path / "gen/models/extra.py").write_text("\n", encoding="utf-8")
    result, lines = here(backend)
    result.assert_outcomes(failed=1)
    assert lines == [
        f"{HERE}: 3 generated files changed in the work tree; 3 generated files differ from the "
        "manifest",
        "gen/models/__init__.py: generated file deleted (uncommitted change in the repository)",
        "gen/models/extra.py: untracked file among generated code (not committed in the "
        "repository)",
        f"{GEN}: generated file modified (uncommitted change in the repository)",
        "gen/models/__init__.py: generated file listed in the manifest is missing (generator "
        "'models')",
        "gen/models/extra.py: file matches the outputs of generator 'models' but is not in the "
        "manifest",
        f"{GEN}: generated file differs from the manifest (generator 'models')",
        f"how to fix: {REGENERATE_HERE}",
    ]


def test_layout2_submodule_bumped_without_regenerating(backend: Backend) -> None:
    layout2(backend)
    commit_in_schemas(backend, {"jsonschema/tone.schema.json": '{"type": "string"}\n'})
    backend.git("commit", "-qam", "bump schemas, forgetting to regenerate")
    result, lines = here(backend)
    result.assert_outcomes(failed=1)
    assert lines == [
        f"{HERE}: 1 file differs from the manifest",
        "libs/schemas/jsonschema/tone.schema.json: generator input changed since the manifest "
        "was written (generator 'models')",
        f"how to fix: {REGENERATE_HERE}",
    ]


def test_layout2_submodule_off_its_gitlink(backend: Backend) -> None:
    layout2(backend)
    pinned = sha(backend)
    ahead = commit_in_schemas(backend, {"jsonschema/tone.schema.json": '{"type": "string"}\n'})
    result, lines = here(backend)
    result.assert_outcomes(failed=1)
    assert lines[:3] == [
        f"{HERE}: libs/schemas checked out {ahead[:7]} != gitlink {pinned[:7]}; 1 file differs "
        "from the manifest",
        f"libs/schemas: checked out {ahead[:7]}, but the gitlink pins {pinned[:7]}: the generator "
        "inputs are verified against what is checked out",
        "libs/schemas/jsonschema/tone.schema.json: generator input changed since the manifest "
        "was written (generator 'models')",
    ]
    assert lines[-1].startswith("how to fix: (1) check out the pinned commit: git submodule "
                                "update libs/schemas;")
    assert lines[-1].endswith(f"(2) {REGENERATE_HERE}")


def test_the_default_manifest_name_is_the_manifest_modules() -> None:
    """The guardrail names the manifest file without importing the manifest code."""
    from pytest_guardrails import manifest
    from pytest_guardrails.guardrails import codegen_drift

    assert codegen_drift.MANIFEST_NAME == manifest.DEFAULT_NAME
