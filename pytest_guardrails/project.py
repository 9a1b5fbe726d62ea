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
from typing import Callable

from pytest_guardrails.api import CannotRun
from pytest_guardrails.api import GuardrailError
from pytest_guardrails.escape import shell
from pytest_guardrails.fs import Reader
from pytest_guardrails.fs import Unreadable
from pytest_guardrails.fs import read_file
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

    @property
    def where(self) -> str:
        """How a message names the target: ``the repository`` or the submodule path."""
        return "the repository" if self.is_root else self.path

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


class GitmodulesError(Exception):
    """``.gitmodules`` cannot be read or parsed: ``message`` at ``line``."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class GitModule:
    name: str
    path: str
    line: int
    ignore: str | None = None


def parse_gitmodules(text: str) -> list[GitModule]:
    """The ``[submodule "name"]`` entries of a ``.gitmodules`` file (git-config syntax).

    ``GitmodulesError`` (with the line) for a line that is neither a section header nor a
    ``key = value``, a submodule without a ``path``, or two submodules with one path: a
    submodule is never dropped silently."""
    modules: list[GitModule] = []
    current: dict[str, str] = {}
    name: str | None = None
    section: str | None = None
    start = 0

    def flush() -> None:
        if name is None:
            return
        if "path" not in current:
            raise GitmodulesError(f'submodule "{name}" has no path', start)
        for other in modules:
            if other.path == current["path"]:
                raise GitmodulesError(f'submodules "{other.name}" and "{name}" have the same path '
                                      f'{current["path"]!r}', start)
        modules.append(GitModule(name, current["path"], start, current.get("ignore")))

    lines = text.split("\n")
    lineno = 0
    while lineno < len(lines):
        first = lineno + 1
        raw = lines[lineno].rstrip("\r")
        lineno += 1
        while raw.endswith("\\") and lineno < len(lines):  # a value continued on the next line
            raw = raw[:-1] + lines[lineno].rstrip("\r")
            lineno += 1
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = _SECTION.match(line)
        if m:
            flush()
            current = {}
            section = m.group(1).lower()
            name = m.group(2) if section == "submodule" else None
            if section == "submodule" and not name:
                raise GitmodulesError('a [submodule] section needs a name: [submodule "name"]',
                                      first)
            start = first
            continue
        kv = _KEYVAL.match(line)
        if kv is None or section is None:
            what = "a key outside any section" if kv else "not a section header or key = value"
            raise GitmodulesError(f"cannot parse: {what}: {line[:60]!r}", first)
        if name is not None:
            current[kv.group(1).lower()] = _unquote(kv.group(2) or "true")
    flush()
    return modules


def read_gitmodules(root: Path) -> list[GitModule]:
    """The entries of ``root/.gitmodules`` (none if there is no such file); ``GitmodulesError``
    if it cannot be read (a symlink out, a FIFO, too big) or parsed."""
    try:
        raw = read_file(".gitmodules", root)
    except (FileNotFoundError, IsADirectoryError):
        return []
    except Unreadable as exc:
        raise GitmodulesError(exc.message) from None
    except OSError as exc:
        raise GitmodulesError(f"cannot read: {exc.strerror or exc}") from None
    return parse_gitmodules(raw.decode("utf-8", "replace"))


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


_STAGE = re.compile(r"^(?:(?P<tag>[A-Za-z?]) )?(?P<mode>[0-7]{6}) (?P<oid>[0-9a-f]{40,64}) [0-3]\t")

#: ``(tracked files, git is still running)``: called while git lists the untracked files
WhileWaiting = Callable[[list[str], Callable[[], bool]], None]


@dataclass(frozen=True)
class Listing:
    """What git said about one work tree, before any filtering: the index (path -> ``(tag,
    mode, object id)``, the tag as ``git ls-files -v`` prints it: ``H`` for a plain entry) and
    the untracked, not ignored files."""

    index: dict[str, tuple[str, str, str]]
    untracked: tuple[str, ...]


def _git_files(root: Path, while_waiting: WhileWaiting | None = None,
               listings: dict[Path, Listing] | None = None) -> tuple[list[str], set[str]]:
    """(files, gitlinks) of the work tree at ``root``: tracked + untracked-not-ignored; with
    ``listings``, also what git said, as ``listings[root]``.

    The untracked files come from ``git ls-files --others``, which walks the whole work tree; it
    runs in the background while the index is listed, and ``while_waiting`` gets the tracked
    files to do useful work (read them) on this core until it is done.
    """
    others = subprocess.Popen(
        ("git", "--no-optional-locks", "ls-files", "-z", "--others", "--exclude-standard"),
        cwd=root, env=git_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    files: set[str] = set()
    gitlinks: set[str] = set()
    index: dict[str, tuple[str, str, str]] = {}
    try:
        for entry in _split_z(git(root, "ls-files", "-z", "--stage", "-v")):
            m = _STAGE.match(entry)
            if m is None:
                continue
            path = entry[m.end():]
            (gitlinks if m["mode"] == "160000" else files).add(path)
            index[path] = (m["tag"] or "H", m["mode"], m["oid"])
        if while_waiting is not None:
            while_waiting(sorted(files - gitlinks), lambda: others.poll() is None)
        out, err = others.communicate(timeout=GIT_TIMEOUT)
    except BaseException:
        others.kill()
        others.communicate()
        raise
    if others.returncode != 0:
        raise subprocess.CalledProcessError(others.returncode, others.args, out, err)
    untracked = [e for e in _split_z(out) if not e.endswith("/")]  # "dir/": a nested repository
    files.update(untracked)
    if listings is not None:
        listings[root] = Listing(index, tuple(untracked))
    return sorted(files - gitlinks), gitlinks


# --- .gitignore without git ------------------------------------------------------------------


def _gitignore_glob(pattern: str) -> str:
    """One gitignore glob as a regex body: ``*``/``?``/``[...]`` stay within a path segment,
    ``**`` spans directories, a backslash makes the next character literal."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            if pattern.startswith("**", i) and (i == 0 or pattern[i - 1] == "/"):
                j = i + 2
                if j == n:
                    out.append(".*")
                    i = j
                    continue
                if pattern[j] == "/":
                    out.append("(?:.*/)?")
                    i = j + 1
                    continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("!", "^", "]") else i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class IgnoreRule:
    """One line of a ``.gitignore`` in directory ``base`` (``""`` or ``"a/b/"``)."""

    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


def parse_gitignore(text: str, base: str) -> list[IgnoreRule]:
    """The rules of one ``.gitignore`` found in ``base``, in file order."""
    rules: list[IgnoreRule] = []
    for raw in text.splitlines():
        line = raw
        # trailing spaces are dropped unless escaped with a backslash
        stripped = line.rstrip(" ")
        if stripped.endswith("\\") and len(stripped) < len(line):
            stripped += " "
        line = stripped
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:]
        dir_only = line.endswith("/") and not line.endswith("\\/")
        line = line.rstrip("/") if dir_only else line
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        body = _gitignore_glob(line)
        prefix = re.escape(base) + ("" if anchored else "(?:.*/)?")
        rules.append(IgnoreRule(re.compile(f"{prefix}{body}\\Z", re.S), negated, dir_only))
    return rules


def _ignored(rules: list[IgnoreRule], path: str, is_dir: bool) -> bool:
    """git's verdict: the last matching rule wins (deeper files' rules come later)."""
    for rule in reversed(rules):
        if rule.dir_only and not is_dir:
            continue
        if rule.regex.match(path):
            return not rule.negated
    return False


def _walk_files(root: Path, skip_dirs: Iterable[str]) -> list[str]:
    """Files under ``root`` as ``git ls-files --others --exclude-standard`` would list them in a
    fresh repository: every ``.gitignore`` on the way honoured (negation, anchoring, ``**``,
    directory-only rules; an ignored directory is not entered), nested repositories skipped."""
    skip = set(skip_dirs)
    out: list[str] = []
    reader = Reader(root)

    def walk(rel_dir: str, inherited: list[IgnoreRule]) -> None:
        path = root / rel_dir if rel_dir else root
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError:
            return
        rules = inherited
        for e in entries:
            if e.name == ".gitignore" and e.is_file():
                try:
                    text = reader.read(rel_dir + e.name).decode("utf-8", "replace")
                except (OSError, Unreadable):
                    text = ""  # not read (a symlink out, too big): git would not ignore by it
                rules = [*inherited, *parse_gitignore(text, rel_dir)]
                break
        for e in entries:
            rel = f"{rel_dir}{e.name}"
            if e.name == ".git":
                continue
            is_dir = e.is_dir(follow_symlinks=False)
            if is_dir:
                if rel in skip or _ignored(rules, rel, True):
                    continue
                if os.path.lexists(os.path.join(e.path, ".git")):
                    continue  # a nested repository: git lists none of its files
                walk(f"{rel}/", rules)
            elif (e.is_file() or e.is_symlink()) and not _ignored(rules, rel, False):
                out.append(rel)  # as git: regular files and symlinks, no FIFOs or sockets

    walk("", [])
    return sorted(out)


# --- the project -----------------------------------------------------------------------------


@dataclass
class Project:
    """The repository under check, built once per pytest process from the validated settings."""

    root: Path
    settings: Settings
    submodules: tuple[str, ...]
    _files: dict[str, list[str]] = field(default_factory=lambda: {}, repr=False)
    #: what git listed per target root (for the result cache's content key)
    listings: dict[Path, Listing] = field(default_factory=lambda: {}, repr=False)

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

        return SourceCache(self.settings.max_file_size)

    def read(self, relpath: str) -> bytes:
        """The bytes of the repo-relative ``relpath``, contained in the innermost target holding
        it (``fs.Reader``: no symlink out, no FIFO/device, at most ``max-file-size``)."""
        from pytest_guardrails.fs import NotRead

        norm = normalize_relpath(relpath)
        if norm is None:
            raise NotRead("not read: outside the repository")
        target = self.target_of(norm)
        inner = norm if target.is_root else norm[len(target.path) + 1:]
        if not inner or norm == target.path:
            raise IsADirectoryError(relpath)
        return self.sources.reader(target.root).read(inner)

    def escaping(self, target: Target, files: Iterable[str]) -> list[str]:
        """Those of the target-relative ``files`` a tool run on the target must not be given:
        they resolve outside the target (a symlink out, a symlinked directory) or are not
        regular files (a symlink to a FIFO would block the tool)."""
        import stat

        from pytest_guardrails.fs import NotRead

        reader = self.sources.reader(target.root)
        out: list[str] = []
        for rel in files:
            try:
                if not stat.S_ISREG(os.stat(reader.resolve(rel)).st_mode):
                    out.append(rel)
            except NotRead:
                out.append(rel)
            except OSError:
                continue
        return out

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
            try:
                files, gitlinks = _git_files(target.root, self._prefetch(target), self.listings)
            except subprocess.CalledProcessError as exc:
                err = (exc.stderr or b"").decode("utf-8", "replace").strip()
                raise GuardrailError(f"git ls-files failed in {target.label}: {err}") from None
            except (subprocess.TimeoutExpired, OSError) as exc:
                raise GuardrailError(f"git ls-files failed in {target.label}: {exc}") from None
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

    def _prefetch(self, target: Target) -> WhileWaiting:
        """Read the tracked Python files into ``sources`` while git walks the work tree (the
        scanners need them next; git runs on the other core). Stops when git is done."""

        def prefetch(tracked: list[str], running: Callable[[], bool]) -> None:
            from pytest_guardrails.sources import PYTHON_SUFFIXES

            get = self.sources.get
            for rel in tracked:
                if rel.endswith(PYTHON_SUFFIXES):
                    if not running():
                        return
                    get(target.root, rel, target.rel(rel))

        return prefetch

    def require_checked_out(self, target: Target) -> None:
        """Raise ``CannotRun`` when ``target`` is a submodule that is not checked out."""
        if not self.is_checked_out(target):
            raise CannotRun(f"submodule {target.path} is not checked out",
                            f"git submodule update --init {shell(target.path)}")

    def is_checked_out(self, target: Target) -> bool:
        """A submodule directory holds something (initialised, or a vendored copy)."""
        if target.is_root:
            return True
        try:
            return any(True for _ in target.root.iterdir())
        except OSError:
            return False


def submodule_paths(root: Path, configured: str | Sequence[str]) -> tuple[str, ...]:
    """The submodule targets: every path in ``.gitmodules`` for ``"auto"``, else ``configured``
    (each of which must be a submodule). ``GitmodulesError`` for an unusable ``.gitmodules``
    entry; ``ConfigError`` for an unusable configured path."""
    from pytest_guardrails.options import ConfigError

    modules = read_gitmodules(root)
    real_root = os.path.realpath(root)
    listed: dict[str, GitModule] = {}
    for mod in modules:
        norm = normalize_relpath(mod.path)
        if norm is None:
            raise GitmodulesError(f'submodule "{mod.name}" path {mod.path!r} is outside the '
                                  "repository", mod.line)
        listed.setdefault(norm, mod)
    if configured == "auto":
        paths = list(listed)
    else:
        key = "tool.guardrails.submodules"
        paths: list[str] = []
        for i, path in enumerate(configured):
            where = f"{key}[{i}]"
            if path in (".", ""):
                raise ConfigError(where, f'{where}: "." is the repository itself, not a submodule')
            if path in paths:
                raise ConfigError(where, f"{where}: {path!r} is listed twice")
            if path not in listed and not _is_gitlink(root, path):
                raise ConfigError(where, f"{where}: {path!r} is not a submodule: .gitmodules does "
                                         "not list it and the index has no gitlink there")
            paths.append(path)
    for path in paths:
        real = os.path.realpath(root / path)
        if not (real == real_root or real.startswith(real_root + os.sep)):
            mod = listed.get(path)
            raise GitmodulesError(f"submodule path {path} is a symlink to outside the repository",
                                  mod.line if mod else None)
    return tuple(paths)


def _is_gitlink(root: Path, path: str) -> bool:
    """The index at ``root`` records a submodule (mode 160000) at ``path``."""
    if not has_git_metadata(root):
        return False
    try:
        out = git(root, "ls-files", "-z", "--stage", "--", path)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        return False
    return any(e.startswith("160000 ") and e.endswith(f"\t{path}") for e in _split_z(out))
