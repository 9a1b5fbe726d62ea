"""The repository being checked: its root, its targets (root + submodules) and their files.

Everything here is read-only and cheap: ``.gitmodules`` is parsed in Python (so a copy without
``.git`` works), and file lists come from one ``git ls-files`` per target, cached per process.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
import functools
import os
from pathlib import Path
import posixpath
import re
import shutil
import subprocess
from typing import TYPE_CHECKING

from pytest_guardrails.api import CannotRun
from pytest_guardrails.globs import GlobSet

if TYPE_CHECKING:
    from pytest_guardrails.config import Settings
    from pytest_guardrails.sources import SourceCache


@dataclass(frozen=True)
class Target:
    """The root repository (``path == "."``) or one submodule (``path`` relative to the root)."""

    path: str
    root: Path

    @property
    def is_root(self) -> bool:
        return self.path == "."

    @property
    def label(self) -> str:
        """How the target appears in reports: ``.`` or the submodule path."""
        return self.path

    def rel(self, path: str) -> str:
        """A target-relative posix path, made relative to the repo root."""
        return path if self.is_root else f"{self.path}/{path}"


# --- .gitmodules -----------------------------------------------------------------------------

_SECTION = re.compile(r'^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]\s*(?:[#;].*)?$')
_KEYVAL = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$")


def _unquote(raw: str) -> str:
    out: list[str] = []
    quoted = False
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == '"':
            quoted = not quoted
        elif c == "\\" and i + 1 < len(raw):
            i += 1
            out.append({"n": "\n", "t": "\t", "b": "\b"}.get(raw[i], raw[i]))
        elif c in "#;" and not quoted:
            break
        else:
            out.append(c)
        i += 1
    return "".join(out).strip()


@dataclass(frozen=True)
class GitModule:
    name: str
    path: str
    line: int
    ignore: str | None = None


def parse_gitmodules(text: str) -> list[GitModule]:
    """The ``[submodule "name"]`` entries of a ``.gitmodules`` file (git-config syntax)."""
    modules: list[GitModule] = []
    current: dict[str, str] = {}
    name: str | None = None
    start = 0

    def flush() -> None:
        if name is not None and "path" in current:
            modules.append(GitModule(name, current["path"], start, current.get("ignore")))

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = _SECTION.match(line)
        if m:
            flush()
            current = {}
            name = m.group(2) if m.group(1).lower() == "submodule" else None
            start = lineno
            continue
        kv = _KEYVAL.match(line)
        if kv and name is not None:
            current[kv.group(1).lower()] = _unquote(kv.group(2) or "true")
    flush()
    return modules


def read_gitmodules(root: Path) -> list[GitModule]:
    try:
        text = (root / ".gitmodules").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return parse_gitmodules(text)


def normalize_relpath(path: str) -> str | None:
    """``path`` in posix form if it stays inside the repo, else None."""
    p = path.replace("\\", "/").strip()
    if not p or p.startswith("/"):
        return None
    norm = posixpath.normpath(p)
    if norm in (".", "..") or norm.startswith("../"):
        return None
    return norm


# --- git -------------------------------------------------------------------------------------

GIT_TIMEOUT = 60.0


def git_env() -> dict[str, str]:
    """The environment for read-only git calls: no inherited repo overrides, no optional locks."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("GIT_") and k not in ("GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND"))}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["LC_ALL"] = "C"
    return env


def has_git_metadata(path: Path) -> bool:
    """``path`` is the top of a git work tree (``.git`` dir or gitfile) and git is installed."""
    return (path / ".git").exists() and shutil.which("git") is not None


def git(cwd: Path, *args: str, timeout: float = GIT_TIMEOUT) -> bytes:
    """Run read-only ``git --no-optional-locks <args>`` in ``cwd``; raise on failure."""
    proc = subprocess.run(
        ("git", "--no-optional-locks", *args),
        cwd=cwd, env=git_env(), capture_output=True, timeout=timeout, check=False,
    )
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc.stdout


def _split_z(out: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


def _git_files(root: Path) -> tuple[list[str], set[str]]:
    """(files, gitlinks) of the work tree at ``root``: tracked + untracked-not-ignored."""
    files: list[str] = []
    gitlinks: set[str] = set()
    for entry in _split_z(git(root, "ls-files", "-z", "--stage")):
        meta, _, path = entry.partition("\t")
        if meta.startswith("160000"):
            gitlinks.add(path)
        else:
            files.append(path)
    files.extend(_split_z(git(root, "ls-files", "-z", "--others", "--exclude-standard")))
    return sorted(set(files)), gitlinks


def _read_gitignore(root: Path) -> GlobSet:
    patterns: list[str] = []
    try:
        text = (root / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("!"):
            continue
        anchored = "/" in line.rstrip("/")
        line = line.lstrip("/")
        if line.endswith("/"):
            line = line + "**"
        patterns.append(line if anchored else f"**/{line}")
        if not line.endswith("**"):
            patterns.append(f"{patterns[-1]}/**")
    return GlobSet(patterns)


def _walk_files(root: Path, skip_dirs: Iterable[str]) -> list[str]:
    """Files under ``root`` without git: honours the root ``.gitignore`` (simple patterns)."""
    ignored = _read_gitignore(root)
    skip = set(skip_dirs)
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(
            d for d in dirnames
            if d != ".git" and f"{rel_dir}{d}" not in skip
            and not ignored.match(f"{rel_dir}{d}/")
        )
        for f in filenames:
            rel = f"{rel_dir}{f}"
            if not ignored.match(rel):
                out.append(rel)
    return sorted(out)


# --- the project -----------------------------------------------------------------------------


@dataclass
class Project:
    """The repository under check, built once per pytest process from the validated settings."""

    root: Path
    settings: Settings
    submodules: tuple[str, ...]
    _files: dict[str, list[str]] = field(default_factory=lambda: {}, repr=False)

    @functools.cached_property
    def targets(self) -> tuple[Target, ...]:
        return (Target(".", self.root), *(Target(p, self.root / p) for p in self.submodules))

    def target(self, path: str) -> Target:
        for t in self.targets:
            if t.path == path:
                return t
        raise KeyError(path)

    def target_of(self, relpath: str) -> Target:
        """The innermost target holding the repo-relative ``relpath``."""
        best = self.targets[0]
        for t in self.targets[1:]:
            if relpath == t.path or relpath.startswith(t.path + "/"):
                if best.is_root or len(t.path) > len(best.path):
                    best = t
        return best

    @functools.cached_property
    def exclude(self) -> GlobSet:
        return GlobSet(self.settings.exclude)

    @functools.cached_property
    def sources(self) -> SourceCache:
        """File contents shared by the scanning guardrails of this session (read once)."""
        from pytest_guardrails.sources import SourceCache

        return SourceCache()

    def files(self, target: Target) -> list[str]:
        """Target-relative posix paths git would show (tracked + untracked, not ignored), minus
        nested submodules, other targets and ``[tool.guardrails] exclude``. Cached."""
        if target.path in self._files:
            return self._files[target.path]
        nested = [t.path for t in self.targets if not t.is_root and t != target
                  and (target.is_root or t.path.startswith(target.path + "/"))]
        prefix = "" if target.is_root else target.path + "/"
        skip = {p[len(prefix):] for p in nested}
        if has_git_metadata(target.root):
            files, gitlinks = _git_files(target.root)
            skip |= gitlinks
        elif target.root.is_dir():
            files = _walk_files(target.root, skip)
        else:
            files = []
        if skip:
            files = [f for f in files if not any(f == s or f.startswith(s + "/") for s in skip)]
        exclude = self.exclude
        if exclude:
            files = [f for f in files if not exclude.match(target.rel(f))]
        self._files[target.path] = files
        return files

    def require_checked_out(self, target: Target) -> None:
        """Raise ``CannotRun`` when ``target`` is a submodule that is not checked out."""
        if not self.is_checked_out(target):
            raise CannotRun(f"submodule {target.path} is not checked out",
                            f"git submodule update --init {target.path}")

    def is_checked_out(self, target: Target) -> bool:
        """A submodule directory holds something (initialised, or a vendored copy)."""
        if target.is_root:
            return True
        try:
            return any(True for _ in target.root.iterdir())
        except OSError:
            return False


def submodule_paths(root: Path, configured: str | Sequence[str]) -> tuple[str, ...]:
    if configured != "auto":
        return tuple(configured)
    paths: list[str] = []
    for mod in read_gitmodules(root):
        norm = normalize_relpath(mod.path)
        if norm is not None and norm not in paths:
            paths.append(norm)
    return tuple(paths)
