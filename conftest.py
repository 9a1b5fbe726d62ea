from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import subprocess

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "guardrails",
    "GIT_AUTHOR_EMAIL": "guardrails@example.invalid",
    "GIT_COMMITTER_NAME": "guardrails",
    "GIT_COMMITTER_EMAIL": "guardrails@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests see no inherited guardrail or git state; git gets an identity (HOME is a temp dir)."""
    for name in list(os.environ):
        # CI / BUILD_NUMBER make pytest print untruncated messages in the short summary
        if name.startswith(("STRICT_", "GIT_")) or name in ("GITHUB_ACTIONS", "CI", "BUILD_NUMBER"):
            monkeypatch.delenv(name)
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    yield


def run_git(cwd: Path, *args: str) -> str:
    """git in ``cwd`` (not pytester.run(): that leaves stdout/stderr files in the tree)."""
    proc = subprocess.run(
        ("git", "-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main", *args),
        cwd=cwd, check=True, capture_output=True, text=True,
    )
    return proc.stdout


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def make_git_repo(root: Path, files: dict[str, str | bytes], message: str = "init") -> Path:
    """A git repo at ``root`` holding ``files``, committed on branch main."""
    root.mkdir(parents=True, exist_ok=True)
    run_git(root, "init", "-q")
    write_files(root, files)
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", message)
    return root


SCHEMAS_FILES: dict[str, str | bytes] = {
    "version.json": '{"schemaVersion": "0.7.3"}\n',
    "jsonschema/tone.schema.json": '{"type": "object"}\n',
    "python/src/synesthetic_schemas/tone.py": "class Tone:\n    pass\n",
    "examples/Tone.json": '{\n  "name": "tone",\n  "meta_info": {"description": "A tone"}\n}\n',
}

BACKEND_PYPROJECT = """\
[project]
name = "backend"
version = "0.1.0"

[tool.guardrails.version-ssot]
source = "libs/schemas/version.json"
key = "schemaVersion"
files = ["README.md", "docs/**/*.md"]
"""


class Backend:
    """A backend repo at ``pytester.path`` vendoring a schemas repo at ``libs/schemas``."""

    def __init__(self, pytester: pytest.Pytester, origin: Path) -> None:
        self.pytester = pytester
        self.path = pytester.path
        self.origin = origin
        self.submodule = "libs/schemas"

    @property
    def schemas(self) -> Path:
        return self.path / self.submodule

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return run_git(cwd or self.path, *args)

    def write(self, files: dict[str, str | bytes], *, commit: bool = True, in_schemas: bool = False) -> None:
        root = self.schemas if in_schemas else self.path
        write_files(root, files)
        if commit:
            self.git("add", "-A", cwd=root)
            self.git("commit", "-qm", "update", cwd=root)

    def run(self, *args: str) -> pytest.RunResult:
        """pytest in the backend with only this plugin (and xdist when -n is given)."""
        extra = ["-p", "xdist"] if any(a == "-n" or a.startswith("-n") for a in args) else []
        return self.pytester.runpytest("-p", "guardrails", *extra, "-p", "no:cacheprovider", *args)

    def state(self) -> tuple[str, ...]:
        """Everything a read-only run must leave alone: porcelain status and the index files."""
        import hashlib

        status = self.git("status", "--porcelain=v2", "--ignore-submodules=none", "--untracked-files=all")
        sub_status = self.git("status", "--porcelain=v2", "--untracked-files=all", cwd=self.schemas)
        gitdir = Path(self.git("rev-parse", "--absolute-git-dir", cwd=self.schemas).strip())
        hashes = tuple(
            hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (self.path / ".git" / "index", gitdir / "index")
        )
        return (status, sub_status, *hashes)


@pytest.fixture
def backend(pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory,
            monkeypatch: pytest.MonkeyPatch) -> Backend:
    """A committed backend repo with a real schemas submodule, a README and a docs page."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    origin = make_git_repo(tmp_path_factory.mktemp("origin") / "schemas", SCHEMAS_FILES)
    run_git(pytester.path, "init", "-q")
    run_git(pytester.path, "submodule", "add", "-q", str(origin), "libs/schemas")
    write_files(pytester.path, {
        "pyproject.toml": BACKEND_PYPROJECT,
        "README.md": "---\nversion: 0.7.3\n---\n# Backend\n",
        "docs/guide.md": "---\ntitle: Guide\nversion: v0.7.3\n---\n# Guide\n",
        "app/__init__.py": "",
        "app/main.py": "def main() -> int:\n    return 0\n",
    })
    run_git(pytester.path, "add", "-A")
    run_git(pytester.path, "commit", "-qm", "init")
    return Backend(pytester, origin)
