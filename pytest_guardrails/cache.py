"""The result cache: a guardrail's result, kept in pytest's cache, reused while nothing it
depends on has changed.

A result is stored under the item's name with the key it was computed for; a later run reuses it
only when it computes the same key. The key (``key_of``) covers everything a result depends on:

- the guardrail, the target and the item's settings (without ``mode``), the global ``exclude``
  and submodule list, this plugin's version and the running Python;
- the guardrail's own fingerprint (``Guardrail.fingerprint``): tool versions, the environment a
  tool reads, the installed distributions pyright resolves imports against (``toolstate``);
- the content of every file it may read (``Guardrail.cache_inputs``): its target's Python files
  (``"python"``), all of its target's files (``"target"``) or every target's (``"repo"``), each as
  a git blob id: the index's for clean tracked files, hashed from the work tree for modified,
  untracked and git-ignored Python files; plus ``HEAD``, the gitlinks and the names of the other
  ignored entries. The anchor ``pyproject.toml`` counts without its ``[tool.guardrails]`` table,
  which is in the key through the settings instead, so waivers and modes (applied after the
  cache, as the baseline is) never invalidate a result.

Only results that follow from the inputs are kept: findings (including unreadable-input errors)
and "not applicable". A tool that crashed or timed out, a guardrail that cannot run, and an
internal error always run again. Workers look results up; only the controller writes them, from
the reports the workers send back (``report.guardrail_cache``).
"""

from __future__ import annotations

from collections.abc import Generator
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
import hashlib
import json
import os
from pathlib import Path
import stat
import subprocess
import sys
from typing import TYPE_CHECKING
from typing import Any

import pytest

from pytest_guardrails.api import Finding
from pytest_guardrails.api import GuardrailError
from pytest_guardrails.api import Run
import pytest_guardrails.fingerprint as fingerprint
from pytest_guardrails.project import git_env
from pytest_guardrails.project import has_git_metadata

if TYPE_CHECKING:
    from pytest_guardrails.api import Guardrail
    from pytest_guardrails.project import Project
    from pytest_guardrails.project import Target

#: bump when the stored layout or the meaning of a key changes
SCHEMA = 3
#: where entries live in pytest's cache (``.pytest_cache/v/guardrails/results/...``)
DIRECTORY = "guardrails/results"
PYTHON_SUFFIXES = (".py", ".pyi")
GIT_TIMEOUT = 60.0


def is_enabled(config: pytest.Config) -> bool:
    """``-p no:cacheprovider`` removes ``config.cache``; ``--guardrails-no-cache`` ignores it."""
    return getattr(config, "cache", None) is not None and not config.getoption(
        "guardrails_no_cache", False)


# --- what a result is ------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """A check's result as kept in the cache: ``status`` is ``"findings"`` (possibly none) or
    ``"not-applicable"`` (with ``reason``)."""

    status: str
    findings: tuple[Finding, ...] = ()
    reason: str = ""
    tool: str | None = None
    summary: str | None = None
    fix: str | None = None
    notes: tuple[str, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, run: Run, status: str, findings: Iterable[Finding] = (), reason: str = ""
           ) -> Result:
        props: list[tuple[str, str]] = getattr(run, "properties", [])
        return cls(status, tuple(findings), reason, run.tool, run.summary, run.fix,
                   tuple(run.notes), tuple((str(k), str(v)) for k, v in props))

    def restore(self, run: Run) -> list[Finding]:
        """Put what the check set on ``run`` back on it; the findings."""
        run.tool, run.summary, run.fix = self.tool, self.summary, self.fix
        run.notes[:] = list(self.notes)
        props = getattr(run, "properties", None)
        if isinstance(props, list):
            props[:] = list(self.properties)  # pyright: ignore[reportUnknownMemberType]
        return list(self.findings)

    def to_json(self) -> str:
        """JSON text; ``ensure_ascii`` keeps lone surrogates (odd file names) representable."""
        d: dict[str, Any] = {
            "status": self.status, "reason": self.reason, "tool": self.tool,
            "summary": self.summary, "fix": self.fix, "notes": list(self.notes),
            "properties": [list(p) for p in self.properties],
            "findings": [[f.message, f.path, f.line, f.col, f.code, f.error, f.fingerprint]
                         for f in self.findings],
        }
        return json.dumps(d, ensure_ascii=True, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Result:
        d = json.loads(text)
        findings = tuple(Finding(m, p, ln, c, code, bool(e), fp)
                         for m, p, ln, c, code, e, fp in d["findings"])
        return cls(str(d["status"]), findings, str(d["reason"]), d["tool"], d["summary"],
                   d["fix"], tuple(map(str, d["notes"])),
                   tuple((str(k), str(v)) for k, v in d["properties"]))


# --- the content of a target -----------------------------------------------------------------


def blob_id(path: str) -> str:
    """The git blob id (SHA-1) of the file at ``path`` as it is on disk, without following a
    symlink (its id is that of the link text) or opening a FIFO or device."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "deleted"
    except OSError as exc:
        return f"unreadable:{exc.errno}"
    if stat.S_ISLNK(st.st_mode):
        data = os.fsencode(os.readlink(path))
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    if not stat.S_ISREG(st.st_mode):
        return f"special:{stat.S_IFMT(st.st_mode)}"
    h = hashlib.sha1(b"blob %d\0" % st.st_size)
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        return f"unreadable:{exc.errno}"
    return h.hexdigest()


def _git_start(root: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(("git", "--no-optional-locks", *args), cwd=root, env=git_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def _git_finish(proc: subprocess.Popen[bytes], *, check: bool = True) -> list[str]:
    try:
        out, _ = proc.communicate(timeout=GIT_TIMEOUT)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    if check and proc.returncode != 0:
        raise GuardrailError(f"git {' '.join(map(str, proc.args[2:4]))} failed")  # pyright: ignore[reportIndexIssue, reportUnknownArgumentType, reportUnknownMemberType]
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


def _anchor_without_guardrails(path: Path) -> str:
    """The anchor's content minus ``[tool.guardrails]`` (the settings carry what matters of
    it); its blob id if it is not valid TOML, or not one the shared read path opens (a symlink
    out, a FIFO, too big: the settings refuse those first)."""
    from pytest_guardrails.config import load_toml
    from pytest_guardrails.fs import Unreadable
    from pytest_guardrails.fs import read_file
    from pytest_guardrails.options import as_table

    try:
        doc = load_toml(read_file(path.name, path.parent).decode("utf-8"))
    except (Unreadable, OSError, UnicodeDecodeError, ValueError, RecursionError):
        return blob_id(str(path))
    tool = as_table(doc.get("tool"))
    if tool is not None:
        tool.pop("guardrails", None)
    text = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=True)
    return "toml:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class TreeState:
    """One target's files as ``path -> id`` plus what is not a file's content (HEAD, ...)."""

    files: Mapping[str, str]
    extra: tuple[str, ...]

    def digest(self, python_only: bool) -> str:
        h = hashlib.sha256()
        for extra in self.extra:
            h.update(f"{extra}\n".encode("utf-8", "surrogateescape"))
        for path in sorted(self.files):
            if python_only and not path.endswith(PYTHON_SUFFIXES):
                continue
            h.update(f"{path}\0{self.files[path]}\n".encode("utf-8", "surrogateescape"))
        return h.hexdigest()


def tree_state(project: Project, target: Target) -> TreeState:
    """What ``target``'s work tree holds, as cheaply as git can tell it."""
    root = target.root
    if not project.is_checked_out(target):
        return TreeState({}, ("not checked out",))
    nested = {t.path[len(target.path) + 1:] if not target.is_root else t.path
              for t in project.targets if not t.is_root and t != target
              and (target.is_root or t.path.startswith(target.path + "/"))}
    files: dict[str, str] = {}
    if not has_git_metadata(root):
        from pytest_guardrails.project import _walk_files  # pyright: ignore[reportPrivateUsage]

        for rel in _walk_files(root, nested):
            files[rel] = blob_id(os.path.join(root, rel))
        extra: tuple[str, ...] = ("no git",)
    else:
        # started before the listing (which may be cached already) so they run side by side
        procs = [_git_start(root, "diff-files", "-z", "--name-only"),
                 _git_start(root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard",
                            "--directory"),
                 _git_start(root, "rev-parse", "-q", "--verify", "HEAD")]
        try:
            project.files(target)  # fills project.listings[root]
        except BaseException:
            for p in procs:
                p.kill()
                p.communicate()
            raise
        modified = set(_git_finish(procs[0]))
        ignored = _git_finish(procs[1])
        head = _git_finish(procs[2], check=False)
        listing = project.listings[root]
        for path, (tag, mode, oid) in listing.index.items():
            if mode == "160000":
                files[path] = f"gitlink:{oid}"
            elif tag == "H" and path not in modified:  # lower case: assume-unchanged
                files[path] = oid
            else:  # not what the index says, or git was told not to look
                files[path] = "modified:" + blob_id(os.path.join(root, path))
        for path in listing.untracked:
            files[path] = "untracked:" + blob_id(os.path.join(root, path))
        for entry in ignored:  # ignored directories come as "dir/": caches, virtualenvs
            if entry.endswith(PYTHON_SUFFIXES):  # e.g. a generated _version.py pyright imports
                files[entry] = "ignored:" + blob_id(os.path.join(root, entry))
        extra = (f"HEAD {''.join(head) or 'none'}",)
        for n in nested:  # a nested target's files are its own
            for path in [p for p in files if p == n or p.startswith(n + "/")]:
                if not files[path].startswith("gitlink:"):
                    del files[path]
    if target.is_root:
        anchor = project.settings.pyproject
        rel = os.path.relpath(anchor, root).replace(os.sep, "/")
        if rel in files:
            files[rel] = _anchor_without_guardrails(anchor)
    return TreeState(files, extra)


# --- keys and entries -----------------------------------------------------------------------


def _json_default(value: object) -> object:
    """What ``json.dumps`` cannot write itself: mappings as dicts, sets sorted, else repr."""
    if isinstance(value, Mapping):
        return dict(value)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    if isinstance(value, (set, frozenset)):
        return sorted(map(repr, value))  # pyright: ignore[reportUnknownArgumentType]
    return repr(value)


class ResultCache:
    """Keys, lookups and (on the controller) writes for one pytest process."""

    def __init__(self, config: pytest.Config, project: Project) -> None:
        self.config = config
        self.project = project
        self.store = config.cache if is_enabled(config) else None
        self._trees: dict[str, TreeState] = {}
        self._keys: dict[tuple[str, str], str] = {}
        self._version: str | None = None
        from pytest_guardrails import toolstate

        toolstate.reset()

    def tree(self, target: Target) -> TreeState:
        if target.path not in self._trees:
            self._trees[target.path] = tree_state(self.project, target)
        return self._trees[target.path]

    def key_of(self, run: Run) -> str | None:
        """The key of ``run``'s result; None when it is not cached (the guardrail does not say
        what it reads, or its inputs cannot be told)."""
        g: Guardrail = run.guardrail
        if self.store is None or not g.cache_inputs:
            return None
        # asked twice on one process for a slow guardrail: when pytest is configured, then by its item
        memo = (g.name, run.target.path)
        if memo not in self._keys:
            self._keys[memo] = self._key(run)
        return self._keys[memo]

    def _key(self, run: Run) -> str:
        g: Guardrail = run.guardrail
        targets = self.project.targets if g.cache_inputs == "repo" else (run.target,)
        if self._version is None:
            from pytest_guardrails import __version__

            self._version = __version__
        key: dict[str, Any] = {
            "schema": SCHEMA, "plugin": self._version,
            "python": [sys.version, sys.executable],
            "guardrail": g.name, "target": run.target.path,
            "settings": {k: v for k, v in run.settings.items() if k != "mode"},
            "exclude": list(self.project.settings.exclude),
            "targets": [t.path for t in self.project.targets],
            "trees": {t.path: self.tree(t).digest(g.cache_inputs == "python") for t in targets},
        }
        if g.fingerprint is not None:
            key["fingerprint"] = g.fingerprint(run)
        text = json.dumps(key, sort_keys=True, ensure_ascii=True, default=_json_default)
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, name: str) -> str:
        return f"{DIRECTORY}/{hashlib.sha256(name.encode('utf-8', 'surrogateescape')).hexdigest()[:32]}"

    def get(self, name: str, key: str) -> Result | None:
        if self.store is None:
            return None
        from pytest_guardrails.options import as_table

        entry = as_table(self.store.get(self._path(name), None))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        if entry is None or entry.get("key") != key:
            return None
        try:
            return Result.from_json(str(entry["result"]))
        except (ValueError, KeyError, TypeError):
            return None

    def put(self, name: str, key: str, result_json: str) -> None:
        if self.store is not None:
            self.store.set(self._path(name), {"item": name, "key": key, "result": result_json})


# --- around the check ------------------------------------------------------------------------


@dataclass
class Lookup:
    """What the cache did for one item: its key, whether the result came from the cache, and
    (when computed now) the entry the controller is to store."""

    key: str | None = None
    hit: bool = False
    entry: str | None = None


def cached_check(cache: ResultCache | None, run: Run, name: str, lookup: Lookup) -> list[Finding]:
    """``list(run.guardrail.check(run))`` with its fingerprints (``fingerprint.stamp``), or the
    same from the cache. A cached "not applicable" raises ``NotApplicable`` again; what is not
    cached (crashes, timeouts, cannot run, internal errors) just propagates."""
    from pytest_guardrails.api import NotApplicable

    if cache is not None:
        try:
            lookup.key = cache.key_of(run)
        except (OSError, ValueError, GuardrailError, subprocess.SubprocessError):
            lookup.key = None  # inputs that cannot be told: no caching, never a stale result
    if lookup.key is not None and cache is not None:
        hit = cache.get(name, lookup.key)
        if hit is not None:
            lookup.hit = True
            findings = hit.restore(run)
            if hit.status == "not-applicable":
                raise NotApplicable(hit.reason)
            return findings
    try:
        # stamped before it is stored: a hit then reads no source line (the key covers them)
        findings = fingerprint.stamp(run.project, run.guardrail.name, run.target.label,
                                     run.guardrail.check(run))
    except NotApplicable as exc:
        if lookup.key is not None:
            lookup.entry = Result.of(run, "not-applicable", reason=str(exc)).to_json()
        raise
    if lookup.key is not None:
        lookup.entry = Result.of(run, "findings", findings).to_json()
    return findings


class CachePlugin:
    """Registered as ``guardrails-cache``: carries new entries on the reports, writes them on the
    controller, and says in the summary how many results came from the cache."""

    NAME = "guardrails-cache"

    def __init__(self, cache: ResultCache) -> None:
        self.cache = cache
        self.is_worker = hasattr(cache.config, "workerinput")
        self.hits = 0
        self.total = 0

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        lookup = getattr(item, "cache_lookup", None)
        if report.when == "call" and isinstance(lookup, Lookup):
            report.__dict__["guardrail_cached"] = lookup.hit
            if lookup.entry is not None and lookup.key is not None:
                report.__dict__["guardrail_cache"] = {
                    "name": item.name, "key": lookup.key, "result": lookup.entry}
            if lookup.hit:
                report.sections.append((
                    "guardrails cache",
                    "result from the cache: nothing it depends on changed since it was computed "
                    "(--guardrails-no-cache runs it again)"))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker or report.when != "call":
            return
        cached = getattr(report, "guardrail_cached", None)
        if cached is None:
            return
        self.total += 1
        self.hits += bool(cached)
        entry = getattr(report, "guardrail_cache", None)
        if isinstance(entry, dict):
            e: dict[str, Any] = entry  # pyright: ignore[reportUnknownVariableType]
            self.cache.put(str(e["name"]), str(e["key"]), str(e["result"]))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.is_worker and self.total:
            terminalreporter.write_line(
                f"guardrails: {self.hits} of {self.total} results from the cache"
                + (" (--guardrails-no-cache runs them again)" if self.hits else ""))
