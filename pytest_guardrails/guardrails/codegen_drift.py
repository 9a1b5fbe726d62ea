"""Generated code in a submodule matches its pinned commit and manifest: verified, never regenerated."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
import os
from pathlib import Path
import re
from typing import TYPE_CHECKING
from typing import Any

from pytest_guardrails.api import CannotRun
from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.api import GuardrailError
from pytest_guardrails.api import Run
from pytest_guardrails.escape import shell as sh
from pytest_guardrails.globs import GlobSet
from pytest_guardrails.options import Option
from pytest_guardrails.project import GIT_TIMEOUT
from pytest_guardrails.project import GitmodulesError
from pytest_guardrails.project import Target
from pytest_guardrails.project import has_git_metadata
from pytest_guardrails.project import normalize_relpath
from pytest_guardrails.project import read_gitmodules
from pytest_guardrails.targeting import Targeting

if TYPE_CHECKING:
    from concurrent.futures import Future

    from git import Repo

    from pytest_guardrails import manifest as manifest_mod
    from pytest_guardrails.project import Project

NAME = "codegen-drift"
#: ``manifest.DEFAULT_NAME``, named here so that importing this module (every run does, to
#: build items) does not import the manifest code (a test keeps the two equal)
MANIFEST_NAME = "codegen.manifest.json"

OPTIONS = {
    "generated": Option("paths", (),
                        "paths inside each submodule holding generated code; empty: the whole "
                        "submodule"),
    "manifest": Option("path", None,
                       "manifest inside the submodule (written by `guardrails-manifest write`); "
                       f"unset: `{MANIFEST_NAME}` when present"),
    "exclude": Option("globs", (),
                      "globs inside each submodule that are not checked (besides the build "
                      "artefacts always ignored, and `[tool.guardrails] exclude`)"),
}

#: directories that a build, an editable install or a tool run writes among generated code
ARTEFACT_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
                           "node_modules"})
#: ``<name>.egg-info/``: what ``pip install -e`` of a setuptools project writes beside the code
ARTEFACT_DIR_SUFFIX = ".egg-info"
ARTEFACT_FILE_SUFFIXES = (".pyc", ".pyo")


def is_artefact(path: str) -> bool:
    """``path`` (posix) is a build artefact: a ``*.pyc``, or inside ``__pycache__/``,
    ``*.egg-info/``, ``.mypy_cache/``, ``.pytest_cache/``, ``.ruff_cache/`` or ``node_modules/``."""
    parts = path.split("/")
    if parts[-1].endswith(ARTEFACT_FILE_SUFFIXES):
        return True
    return any(d in ARTEFACT_DIRS or d.endswith(ARTEFACT_DIR_SUFFIX) for d in parts[:-1])


@dataclass(frozen=True)
class Skip:
    """What the check leaves out: build artefacts, ``exclude`` (target-relative) and the global
    ``exclude`` (repo-relative); counts what it left out, for the note."""

    target: Target
    exclude: GlobSet
    global_exclude: GlobSet
    skipped: dict[str, set[str]] = field(default_factory=lambda: {})

    def __call__(self, rel: str) -> bool:
        """``rel`` (target-relative) is not checked."""
        if is_artefact(rel):
            why = "build artefacts"
        elif self.exclude.match(rel):
            why = f"[tool.guardrails.{NAME}] exclude"
        elif self.global_exclude.match(self.target.rel(rel)):
            why = "[tool.guardrails] exclude"
        else:
            return False
        self.skipped.setdefault(why, set()).add(rel)
        return True

    def note(self) -> str | None:
        if not self.skipped:
            return None
        order = ("build artefacts", f"[tool.guardrails.{NAME}] exclude", "[tool.guardrails] exclude")
        parts = [f"{len(self.skipped[why])} ({why})" for why in order if why in self.skipped]
        total = sum(len(paths) for paths in self.skipped.values())
        return (f"not checked: {total} changed or unlisted path{'s' if total != 1 else ''} "
                f"in {self.target.path}: {', '.join(parts)}")

GITLINK = "160000"


def short(sha: str | None) -> str:
    return sha[:7] if sha else "(none)"


# --- git through GitPython -----------------------------------------------------------------------


class Git:
    """A repository found by GitPython; runs read-only git in it and returns raw bytes.

    Every call runs ``git --no-optional-locks`` with ``GIT_OPTIONAL_LOCKS=0``, so no command
    refreshes (rewrites) an index. ``GIT_DIR``/``GIT_WORK_TREE``/``GIT_INDEX_FILE`` leaked from
    a git hook are pointed back at this repository.
    """

    def __init__(self, path: Path) -> None:
        import git

        try:
            self.repo: Repo = git.Repo(path)  # no parent search: path itself must be a repo
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise NotARepo(str(exc)) from None
        env = {"GIT_OPTIONAL_LOCKS": "0"}
        gitdir = self.repo.git_dir
        leaked = {"GIT_DIR": gitdir, "GIT_WORK_TREE": self.repo.working_tree_dir or str(path),
                  "GIT_INDEX_FILE": os.path.join(gitdir, "index")}
        env.update({k: str(v) for k, v in leaked.items() if k in os.environ})
        self.env = env

    def __enter__(self) -> Git:
        return self

    def __exit__(self, *exc: object) -> None:
        self.repo.close()

    def run(self, *args: str, ok: Sequence[int] = (0,)) -> tuple[int, bytes]:
        import git

        cmd = ["git", "--no-optional-locks", *args]
        try:
            status, out, err = self.repo.git.execute(
                cmd, env=self.env, kill_after_timeout=GIT_TIMEOUT, with_extended_output=True,
                with_exceptions=False, stdout_as_string=False, strip_newline_in_stdout=False)
        except git.GitCommandError as exc:  # timeout
            raise GuardrailError(f"git failed in {self.repo.working_tree_dir}\n"
                                 f"command: {' '.join(cmd)}\nerror: {exc}") from None
        if status not in ok:
            err_text = err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)
            raise GuardrailError(
                f"git failed in {self.repo.working_tree_dir}\ncommand: {' '.join(cmd)}\n"
                f"return code: {status}\nstderr: {err_text.strip() or '(none)'}")
        return status, out


class NotARepo(Exception):
    pass


def split_z(out: bytes) -> list[str]:
    return out.decode("utf-8", "surrogateescape").split("\0")


# --- the superproject's view of the submodule ----------------------------------------------------


@dataclass
class Gitlink:
    """What the superproject records for the submodule path."""

    index: str | None = None  # stage-0 gitlink
    head: str | None = None  # gitlink in HEAD's tree
    stages: dict[int, str] = field(default_factory=lambda: {})  # 1/2/3 on a merge conflict
    plain_files: int = 0  # files tracked directly below the path (a vendored copy)
    head_is_tree: bool = False

    @property
    def conflict(self) -> bool:
        return bool(self.stages)

    @property
    def pinned(self) -> str | None:
        return self.index or self.head


def read_gitlink(sp: Git, path: str) -> Gitlink:
    link = Gitlink()
    _, out = sp.run("ls-files", "-s", "-z", "--", f":(literal){path}")
    for entry in split_z(out):
        if not entry:
            continue
        meta, _, p = entry.partition("\t")
        mode, sha, stage = meta.split(" ")
        if p == path and mode == GITLINK:
            if stage == "0":
                link.index = sha
            else:
                link.stages[int(stage)] = sha
        elif p.startswith(path + "/"):
            link.plain_files += 1
    status, out = sp.run("ls-tree", "-z", "HEAD", "--", f":(literal){path}", ok=(0, 128))
    if status == 0:  # 128: no commit yet
        for entry in split_z(out):
            meta, _, p = entry.partition("\t")
            if p == path:
                mode, _kind, sha = meta.split(" ")
                if mode == GITLINK:
                    link.head = sha
                else:
                    link.head_is_tree = True
    return link


def orphan_gitlinks(sp: Git, mapped: set[str]) -> list[str]:
    """Gitlinks in the index that no ``.gitmodules`` entry maps."""
    _, out = sp.run("ls-files", "-s", "-z")
    found: list[str] = []
    for entry in split_z(out):
        meta, _, p = entry.partition("\t")
        if meta.startswith(GITLINK + " ") and p not in mapped and p not in found:
            found.append(p)
    return found


# --- the submodule's own state -------------------------------------------------------------------

#: porcelain v2 status letters -> words
_WORDS = {"M": "modified", "D": "deleted", "A": "added", "R": "renamed", "C": "copied",
          "T": "changed type"}


def describe(xy: str, sub: str, orig: str | None, where: str) -> str:
    """The message for one porcelain v2 entry of the submodule's status."""
    x, y = xy[0], xy[1]
    if sub.startswith("S"):
        what = [w for flag, w in zip(sub[1:], ("new commits", "modified files", "untracked files"))
                if flag != "."]
        return f"nested submodule has {', '.join(what)} (uncommitted in {where})"
    if y != ".":
        text = f"generated file {_WORDS.get(y, y)} (uncommitted change in {where})"
        if x != ".":
            text += f"; also {_WORDS.get(x, x)} in {where}'s index"
        return text
    staged = _WORDS.get(x, x)
    if orig is not None:
        staged += f" from {orig}"
    return f"generated file {staged} in {where}'s index, not committed"


def under(path: str, dirs: Sequence[str]) -> bool:
    return not dirs or any(path == d or path.startswith(d + "/") for d in dirs)


def work_tree_changes(sm: Git, where: str, generated: Sequence[str], *, everything: bool = False
                      ) -> tuple[list[tuple[str, str]], set[str]]:
    """(submodule-relative path, message) for every change under ``generated``, and every path
    git reports as changed (in the whole submodule when ``everything``)."""
    spec = ["."] if everything else [f":(literal){g}" for g in generated] or ["."]
    _, out = sm.run("status", "--porcelain=v2", "-z", "--untracked-files=all",
                    "--ignore-submodules=none", "--", *spec)
    fields = split_z(out)
    changes: list[tuple[str, str]] = []
    dirty: set[str] = set()
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if not entry:
            continue
        kind = entry[0]
        if kind == "?":
            changes.append((entry[2:], f"untracked file among generated code "
                                       f"(not committed in {where})"))
        elif kind == "1":
            parts = entry.split(" ", 8)
            changes.append((parts[8], describe(parts[1], parts[2], None, where)))
        elif kind == "2":
            parts = entry.split(" ", 9)
            orig = fields[i] if i < len(fields) else None
            i += 1
            changes.append((parts[9], describe(parts[1], parts[2], orig, where)))
        elif kind == "u":
            parts = entry.split(" ", 10)
            changes.append((parts[10], f"generated file has a merge conflict in {where}"))
        if kind == "2" and i - 1 < len(fields):
            dirty.add(fields[i - 1])
    dirty.update(path for path, _ in changes)
    return sorted(c for c in changes if under(c[0], generated)), dirty


#: one ``ls-files -s -z`` entry of a file or symlink at stage 0: object id, path
_STAGED = re.compile(r"(?:100644|100755|120000) ([0-9a-f]+) 0\t([^\0]*)\0")


def index_blobs(sm: Git) -> dict[str, str]:
    """Blob id of every file in the submodule's index (stage 0, no gitlinks)."""
    _, out = sm.run("ls-files", "-s", "-z")
    return {path: blob for blob, path in _STAGED.findall(out.decode("utf-8", "surrogateescape"))}


# --- the check -----------------------------------------------------------------------------------


@dataclass
class Report:
    """Findings by category, for the summary line and the fix."""

    path: str
    state: list[Finding] = field(default_factory=lambda: [])
    work_tree: list[Finding] = field(default_factory=lambda: [])
    manifest: list[Finding] = field(default_factory=lambda: [])
    summary: list[str] = field(default_factory=lambda: [])
    fixes: list[str] = field(default_factory=lambda: [])
    manifest_outputs_only: bool = True
    #: files git reports identical to the submodule's index -> blob id (submodule-relative)
    unchanged: dict[str, str] | None = None

    def add_state(self, finding: Finding, summary: str, fix: str) -> None:
        self.state.append(finding)
        self.summary.append(summary)
        if fix not in self.fixes:
            self.fixes.append(fix)

    @property
    def findings(self) -> list[Finding]:
        return [*self.state, *self.work_tree, *self.manifest]


def _relation(sm: Git, pinned: str, checked_out: str, shallow: bool) -> str:
    """``; 2 commits ahead of it`` and the like, or ``""``."""
    if shallow:
        return "; whether it is ahead or behind is unknown (shallow clone)"
    _, out = sm.run("rev-list", "--left-right", "--count", f"{pinned}...{checked_out}")
    behind, ahead = (int(n) for n in out.split())

    def commits(n: int) -> str:
        return f"{n} commit{'s' if n != 1 else ''}"

    if ahead and behind:
        return f"; the two have diverged ({commits(ahead)} ahead, {commits(behind)} behind)"
    if ahead:
        return f"; the checkout is {commits(ahead)} ahead of it"
    if behind:
        return f"; the checkout is {commits(behind)} behind it"
    return ""


def check_gitmodules(run: Run, report: Report, link: Gitlink, sp: Git) -> None:
    """``.gitmodules`` and the gitlinks agree both ways."""
    p = report.path
    try:
        modules = {normalize_relpath(m.path): m for m in read_gitmodules(run.root)}
    except GitmodulesError as exc:
        raise GuardrailError(f".gitmodules:{exc.line or 1}: {exc.message}") from None
    module = modules.get(p)
    has_link = link.index is not None or link.head is not None or link.conflict
    if module is not None and not has_link:
        if link.plain_files or link.head_is_tree:
            n = link.plain_files
            message = (f"{p} is listed in .gitmodules, but the superproject tracks it as a plain "
                       f"directory ({n} file{'s' if n != 1 else ''}), not as a submodule gitlink")
        else:
            message = f"{p} is listed in .gitmodules, but the superproject has no gitlink there"
            orphans = orphan_gitlinks(sp, {m for m in modules if m})
            if orphans:
                message += (f"; gitlinks without a .gitmodules entry: {', '.join(orphans)} "
                            "(moved without `git mv`?)")
        report.add_state(Finding(message, ".gitmodules", module.line),
                         ".gitmodules entry without a gitlink",
                         f"register the submodule: git submodule add <url> {sh(p)} (or fix the path "
                         "in .gitmodules)")
    elif module is None and has_link:
        report.add_state(
            Finding(f"gitlink (pins {short(link.pinned)}) has no entry in .gitmodules, so "
                    "`git submodule update` cannot clone it", p),
            "gitlink without a .gitmodules entry",
            f"record it: git submodule add <url> {sh(p)} (or git rm --cached {sh(p)})")
    elif module is None:
        report.add_state(Finding("no submodule here: neither .gitmodules nor the index has it", p),
                         "no such submodule",
                         "fix [tool.guardrails] submodules in pyproject.toml")


def check_gitlink(report: Report, link: Gitlink) -> None:
    """Conflicts and staged-but-uncommitted bumps in the superproject."""
    p = report.path
    if link.conflict:
        sides = ", ".join(f"{label} {short(link.stages[n])}"
                          for n, label in ((1, "base"), (2, "ours"), (3, "theirs"))
                          if n in link.stages)
        report.add_state(Finding(f"merge conflict on the gitlink: {sides}", p),
                         "merge conflict on the gitlink",
                         f"pick one side: git -C {sh(p)} checkout <sha> && git add {sh(p)}")
        return
    if link.index and link.head and link.index != link.head:
        report.add_state(
            Finding(f"submodule bump staged but not committed: the index pins "
                    f"{short(link.index)}, HEAD pins {short(link.head)}", p),
            "bump staged, not committed",
            f"commit the bump: git commit -m 'Bump {p} to {short(link.index)}' -- {p} "
            f"(or unstage it: git reset -q -- {p})")
    elif link.index and not link.head:
        report.add_state(
            Finding(f"submodule added in the index (pins {short(link.index)}) but not committed",
                    p),
            "bump staged, not committed", f"commit it: git commit -- {p} .gitmodules")
    elif link.head and not link.index:
        report.add_state(
            Finding(f"gitlink removed from the index but still in HEAD (pins "
                    f"{short(link.head)}): the removal is staged, not committed", p),
            "removal staged, not committed",
            f"commit the removal, or restore it: git reset -q -- {p}")


def check_checkout(run: Run, report: Report, link: Gitlink, generated: Sequence[str],
                   with_manifest: bool, skip: Skip) -> bool:
    """The submodule is initialised and on the pinned commit; its generated files are clean.

    Returns False when the submodule is not initialised (nothing there to verify).
    """
    p = report.path
    root = run.target.root
    pinned = link.pinned
    if not (root / ".git").exists():
        what = (f"the pinned commit {short(pinned)} is not checked out" if pinned
                else "nothing is checked out")
        report.add_state(Finding(f"submodule not initialised: {p}/.git is missing, so {what}", p),
                         "not initialised", f"git submodule update --init {sh(p)}")
        return False
    try:
        sm = Git(root)
    except NotARepo:
        report.add_state(Finding(f"submodule not initialised: {p}/.git does not lead to a git "
                                 "repository", p),
                         "not initialised", f"git submodule update --init --force {sh(p)}")
        return False
    with sm:
        status, out = sm.run("rev-parse", "--show-toplevel", "--is-shallow-repository", "HEAD",
                             ok=(0, 128))
        lines = out.decode("utf-8", "surrogateescape").splitlines()
        toplevel = lines[0] if lines else ""
        if not toplevel or os.path.realpath(toplevel) != os.path.realpath(root):
            report.add_state(Finding(f"submodule not initialised: git resolves {p} to "
                                     f"{toplevel or '(nothing)'}", p),
                             "not initialised", f"git submodule update --init --force {sh(p)}")
            return False
        shallow = len(lines) > 1 and lines[1] == "true"
        checked_out = lines[2] if status == 0 and len(lines) > 2 else None
        if pinned and not link.conflict and checked_out != pinned:
            exists, _ = sm.run("cat-file", "-e", f"{pinned}^{{commit}}", ok=(0, 1, 128))
            missing = exists != 0
            if link.index and link.head and link.index != link.head:
                where = (f"the gitlink in the index pins {short(link.index)}"
                         + ("" if checked_out == link.head else
                            f" and in HEAD pins {short(link.head)}"))
            elif link.index and link.head:
                where = f"the gitlink (index and HEAD) pins {short(pinned)}"
            elif link.index:
                where = f"the gitlink in the index pins {short(pinned)}"
            else:
                where = f"the gitlink in HEAD pins {short(pinned)}"
            relation = ""
            if checked_out and not missing:
                relation = _relation(sm, pinned, checked_out, shallow)
            report.add_state(
                Finding(f"checked out {short(checked_out)}, but {where}{relation}", p),
                f"checked out {short(checked_out)} != gitlink {short(pinned)}",
                f"check out the pinned commit: git -C {sh(p)} checkout {pinned} (or git submodule "
                f"update {sh(p)}); or bump the gitlink to what is checked out: git add {sh(p)}")
            if missing:
                if shallow:
                    text = (f"pinned commit {short(pinned)} is not in this shallow clone of {p}; "
                            "whether it exists upstream is unknown")
                else:
                    text = (f"pinned commit {short(pinned)} is not in {p}'s object store (not "
                            "fetched, or never pushed)")
                report.add_state(
                    Finding(text, p), f"pinned commit {short(pinned)} missing",
                    f"fetch it: git submodule update --init {sh(p)}; if it was never pushed, push "
                    f"it from the schemas repo or bump to a pushed commit: "
                    f"git -C {sh(p)} checkout <sha> && git add {sh(p)}")
        changes, dirty = work_tree_changes(sm, p, generated, everything=with_manifest)
        for rel, message in changes:
            if not skip(rel):
                report.work_tree.append(Finding(message, f"{p}/{rel}"))
        if with_manifest:
            report.unchanged = {k: v for k, v in index_blobs(sm).items() if k not in dirty}
    return True


def check_generated_paths(run: Run, report: Report, generated: Sequence[str]) -> None:
    p = report.path
    for g in generated:
        if not (run.target.root / g).exists() and not any(
                f.path is not None and f.path.startswith(f"{p}/{g}/") for f in report.work_tree):
            report.add_state(
                Finding(f"generated path {g} does not exist in {p}", p),
                f"generated path {g} missing",
                f"fix [tool.guardrails.{NAME}] generated in pyproject.toml")


@dataclass
class ManifestResult:
    generators: list[manifest_mod.Generator] = field(default_factory=lambda: [])
    drifts: list[manifest_mod.Drift] = field(default_factory=lambda: [])
    error: manifest_mod.ManifestError | None = None


def verify_manifest(survey: Future[manifest_mod.Survey], unchanged: dict[str, str] | None
                    ) -> ManifestResult:
    """Compare the files with the manifest; files git vouches for are not read again."""
    from pytest_guardrails import manifest as manifest_mod

    try:
        found = survey.result()
        return ManifestResult(found.generators, manifest_mod.compare(found, unchanged))
    except manifest_mod.ManifestError as exc:
        return ManifestResult(error=exc)


def apply_manifest(report: Report, rel: str, configured: str | None,
                   result: ManifestResult | None, skip: Skip) -> int:
    """Findings from the manifest check; returns how many files it lists (0: no manifest)."""
    p = report.path
    if result is None:
        if configured:
            report.add_state(
                Finding(f"manifest {rel} not found in {p}", p), "manifest missing",
                f"write it in the schemas repo (guardrails-manifest write -m {sh(rel)}), or unset "
                f"[tool.guardrails.{NAME}] manifest")
        return 0
    if result.error is not None:
        report.manifest.append(Finding(f"cannot use the manifest: {result.error.message}",
                                       f"{p}/{rel}", result.error.line, error=True))
        return 0
    base = os.path.dirname(rel)
    for d in result.drifts:
        where = f"{base}/{d.path}" if base else d.path
        if skip(where):
            continue
        report.manifest.append(Finding(d.message, where if p == "." else f"{p}/{where}"))
        report.manifest_outputs_only &= d.is_output
    return sum(len(g.input_files or {}) + len(g.output_files or {}) for g in result.generators)


def _relative_to(paths: dict[str, str] | None, base: str) -> dict[str, str] | None:
    """``paths`` below ``base``, made relative to it."""
    if paths is None or not base:
        return paths
    prefix = base + "/"
    return {k[len(prefix):]: v for k, v in paths.items() if k.startswith(prefix)}


def _fix(report: Report, generated: Sequence[str], manifest_rel: str) -> str:
    p = report.path
    fixes = list(report.fixes)
    if report.work_tree or report.manifest:
        fixes.append(
            f"generated code is verified here, never regenerated: regenerate in the schemas repo "
            f"(the origin of {p}), run `guardrails-manifest write -m {sh(manifest_rel)}` there if "
            "it keeps a manifest, commit there, then bump the submodule here: "
            f"git -C {sh(p)} fetch && git -C {sh(p)} checkout <new-sha> && git add {sh(p)}")
    if report.work_tree:
        sh_paths = " ".join(map(sh, generated)) if generated else "."
        fixes.append(f"to drop the local edits instead: git -C {sh(p)} restore --staged "
                     f"--worktree -- {sh_paths} (untracked files: git -C {sh(p)} clean -n -- "
                     f"{sh_paths} lists them)")
    # one line: reports show it as the item's last line
    if len(fixes) == 1:
        return fixes[0]
    return "; ".join(f"({i}) {f}" for i, f in enumerate(fixes, start=1))


def check(run: Run) -> Iterator[Finding]:
    target = run.target
    if target.is_root:
        return check_here(run)
    p = target.path
    generated: tuple[str, ...] = tuple(g.rstrip("/") for g in run.settings["generated"])
    configured: str | None = run.settings["manifest"]
    manifest_rel = configured or MANIFEST_NAME
    report = Report(p)
    skip = Skip(target, GlobSet(run.settings["exclude"]), run.project.exclude)
    with_git = has_git_metadata(run.root)
    initialised = True
    manifest_path = target.root / manifest_rel
    has_manifest = manifest_path.is_file()
    # loading the manifest and listing its files overlaps with the git subprocesses
    from concurrent.futures import ThreadPoolExecutor

    from pytest_guardrails import manifest as manifest_mod

    pool = ThreadPoolExecutor(max_workers=1) if has_manifest else None
    try:
        survey = pool.submit(manifest_mod.survey, manifest_path) if pool is not None else None
        if with_git:
            try:
                sp = Git(run.root)
            except NotARepo as exc:
                raise GuardrailError(f"{run.root} is not a git repository: {exc}") from None
            with sp:
                link = read_gitlink(sp, p)
                check_gitmodules(run, report, link, sp)
                check_gitlink(report, link)
            if link.pinned or link.conflict or (target.root / ".git").exists():
                initialised = check_checkout(run, report, link, generated, has_manifest, skip)
                if initialised:
                    check_generated_paths(run, report, generated)
        listed = 0
        if initialised and target.root.is_dir():
            result = None
            if survey is not None:
                unchanged = _relative_to(report.unchanged, os.path.dirname(manifest_rel))
                result = verify_manifest(survey, unchanged)
            listed = apply_manifest(report, manifest_rel, configured, result, skip)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    findings = report.findings
    note = skip.note()
    if note:
        run.notes.append(note)
    if not with_git:
        no_binary = (run.root / ".git").exists()
        why = ("git is not installed" if no_binary
               else f"no git metadata in {run.root} (a copy without .git)")
        if not findings:
            verified = (f"; {manifest_rel} matched ({listed} files)" if listed
                        else f"; and {p} has no {manifest_rel} to verify")
            where = ("install git (it must be on PATH)" if no_binary else
                     "run where the repository is a git checkout with its submodules "
                     f"(git submodule update --init {sh(p)})")
            raise CannotRun(
                f"{why}: the gitlink and work-tree checks of {p} need git{verified}",
                f"{where}, or waive {NAME}[{p}] in [tool.guardrails.ignore] where only a copy "
                "exists")
        run.notes.append(f"not checked: {why}, so the gitlink and work-tree checks did not run")
    _summarise(report)
    if findings:
        run.summary = f"{NAME}[{p}]: " + "; ".join(report.summary)
        run.fix = _fix(report, generated, manifest_rel)
    return iter(findings)


def _summarise(report: Report) -> None:
    """The summary's parts for work-tree changes and manifest drift (both layouts)."""
    if report.work_tree:
        n = len(report.work_tree)
        report.summary.append(f"{n} generated file{'s' if n != 1 else ''} changed in the "
                              "work tree")
    drifted = [f for f in report.manifest if not f.error]
    if drifted:
        n = len(drifted)
        noun = "generated file" if report.manifest_outputs_only else "file"
        report.summary.append(f"{n} {noun}{'s' if n != 1 else ''} "
                              f"differ{'s' if n == 1 else ''} from the manifest")


# --- layout 2: generated code in the repository, its inputs in submodules -----------------------


def targets(project: Project, settings: Mapping[str, Any]) -> Sequence[Target]:
    """Every submodule (layout 1); the repository too when it is configured as a target of its
    own (``[tool.guardrails.codegen-drift.target."."]`` or ``targets`` naming ``"."``)."""
    scope = project.settings.targeting.get(NAME, Targeting())
    here = "." in scope.overrides or (scope.targets is not None and "." in scope.targets)
    return project.targets if here else project.targets[1:]


def _input_submodules(run: Run, generators: Sequence[manifest_mod.Generator], base: str
                      ) -> list[Target]:
    """The submodules holding some of the generators' inputs (paths relative to the root)."""
    paths: list[str] = []
    for g in generators:
        paths += [f"{base}/{p}" if base else p for p in (*g.inputs, *(g.input_files or {}))]
    return [t for t in run.project.targets[1:]
            if any(p == t.path or p.startswith(t.path + "/") for p in paths)]


def _check_pinned(report: Report, sp: Git, sub: Target) -> None:
    """The submodule the manifest reads inputs from is checked out at its gitlink."""
    link = read_gitlink(sp, sub.path)
    pinned = link.pinned
    if not (sub.root / ".git").exists():
        report.add_state(Finding("submodule not initialised, so the generator inputs in it "
                                 "cannot be verified", sub.path),
                         f"{sub.path} not initialised", f"git submodule update --init {sub.path}")
        return
    try:
        sm = Git(sub.root)
    except NotARepo:
        report.add_state(Finding(f"{sub.path}/.git does not lead to a git repository", sub.path),
                         f"{sub.path} not initialised",
                         f"git submodule update --init --force {sub.path}")
        return
    with sm:
        status, out = sm.run("rev-parse", "HEAD", ok=(0, 128))
    head = out.decode("utf-8", "surrogateescape").strip() if status == 0 else None
    if pinned and head != pinned:
        report.add_state(
            Finding(f"checked out {short(head)}, but the gitlink pins {short(pinned)}: the "
                    "generator inputs are verified against what is checked out", sub.path),
            f"{sub.path} checked out {short(head)} != gitlink {short(pinned)}",
            f"check out the pinned commit: git submodule update {sub.path}; or, if the bump is "
            f"meant, bump the gitlink (git add {sub.path}), regenerate here and commit both")


def check_here(run: Run) -> Iterator[Finding]:
    """Layout 2: the generated code is committed in this repository (the root target) and its
    generator reads inputs that may lie inside submodules; generation happens here."""
    target = run.target
    generated: tuple[str, ...] = tuple(g.rstrip("/") for g in run.settings["generated"])
    configured: str | None = run.settings["manifest"]
    manifest_rel = configured or MANIFEST_NAME
    manifest_path = target.root / manifest_rel
    has_manifest = manifest_path.is_file()
    if not generated and not has_manifest:
        raise CannotRun(
            f"the repository has neither generated paths nor a {manifest_rel} to verify",
            f'set [tool.guardrails.{NAME}.target."."] generated = [...] (and write the manifest '
            f"with guardrails-manifest write -m {manifest_rel} after generating)")
    if not has_git_metadata(run.root):
        raise CannotRun(f"no git metadata in {run.root}: the work-tree checks need git",
                        "run where the repository is a git checkout with its submodules")
    report = Report(".")
    skip = Skip(target, GlobSet(run.settings["exclude"]), run.project.exclude)
    result: ManifestResult | None = None
    with Git(run.root) as sp:
        if generated:
            changes, _ = work_tree_changes(sp, "the repository", generated)
            report.work_tree += [Finding(m, rel) for rel, m in changes if not skip(rel)]
            for g in generated:
                if not (target.root / g).exists() and not any(
                        f.path is not None and f.path.startswith(f"{g}/") for f in report.work_tree):
                    report.add_state(Finding(f"generated path {g} does not exist", g),
                                     f"generated path {g} missing",
                                     f"fix [tool.guardrails.{NAME}] generated in pyproject.toml")
        if has_manifest:
            from pytest_guardrails import manifest as manifest_mod

            try:
                found = manifest_mod.survey(manifest_path)
                result = ManifestResult(found.generators, manifest_mod.compare(found))
            except manifest_mod.ManifestError as exc:
                result = ManifestResult(error=exc)
            for sub in _input_submodules(run, result.generators, os.path.dirname(manifest_rel)):
                _check_pinned(report, sp, sub)
    apply_manifest(report, manifest_rel, configured, result, skip)
    findings = report.findings
    note = skip.note()
    if note:
        run.notes.append(note)
    _summarise(report)
    if findings:
        run.summary = f"{NAME}: " + "; ".join(report.summary)
        tools = sorted({f"{g.tool or g.name}" + (f" {g.tool_version}" if g.tool_version else "")
                        for g in (result.generators if result else [])})
        fixes = list(report.fixes)
        if report.work_tree or report.manifest:
            how = f" with {', '.join(tools)}" if tools else ""
            fixes.append(f"generation happens in this repository: regenerate here{how}, then "
                         f"guardrails-manifest write -m {manifest_rel}, and commit the generated "
                         "code with the manifest (and the submodule bump, if that is what "
                         "changed the inputs)")
        run.fix = fixes[0] if len(fixes) == 1 else "; ".join(
            f"({i}) {f}" for i, f in enumerate(fixes, start=1))
    return iter(findings)


GUARDRAIL = Guardrail(
    name=NAME,
    code="GR007",
    summary=__doc__ or "",
    check=check,
    scope=targets,
    options=OPTIONS,
    noun="drift",
    fix="regenerate in the schemas repo, commit there, then bump the submodule here",
    cache_inputs="repo",
)
