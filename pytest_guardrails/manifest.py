"""Write and verify a codegen manifest: the hashes of each generator's inputs and outputs.

The repository that owns the generated code (the schemas repo) runs ``write`` right after it
regenerates and commits the manifest beside the code. Anyone vendoring that repo then verifies
the generated code with nothing but hashes (``verify``, or the ``codegen-drift`` guardrail): no
generator, no generator environment, no git.

    python -m pytest_guardrails.manifest write --generator python \\
        --input 'jsonschema/*.schema.json' --output 'python/src/synesthetic_schemas/**' \\
        --tool datamodel-code-generator --tool-version 0.25.8
    python -m pytest_guardrails.manifest write      # re-hash every generator already listed
    python -m pytest_guardrails.manifest verify     # exit 0 clean, 1 drift, 2 bad manifest

Format (``manifest_version`` 1, see docs/manifest.md): paths are posix, relative to the directory
holding the manifest; a hash is ``sha256:<hex>`` of the file's bytes with CRLF turned into LF and
the lines matching any ``ignore_lines`` regex removed (files with a NUL byte in their first 8000
bytes are binary and hashed as they are).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
import hashlib
import json
import os
from pathlib import Path
import re
import sys
from typing import TYPE_CHECKING
from typing import Any

from pytest_guardrails import bounded
from pytest_guardrails.fs import Reader
from pytest_guardrails.fs import Unreadable
from pytest_guardrails.fs import read_file
from pytest_guardrails.globs import GlobSet
from pytest_guardrails.globs import problem as glob_problem

if TYPE_CHECKING:
    import argparse

MANIFEST_VERSION = 1
DEFAULT_NAME = "codegen.manifest.json"
#: written into a new generator's ``exclude``: build debris that is never generated code
DEFAULT_EXCLUDE = ("**/__pycache__/**", "**/*.py[cod]", "**/.DS_Store")
#: git's own rule: a NUL byte in the first 8000 bytes makes a file binary
BINARY_SNIFF = 8000
_HASH = re.compile(r"sha256:[0-9a-f]{64}\Z")
_BLOB = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?\Z")
#: the same forms, for many values joined by newlines (checked in one call)
_ALL_OF = {p.pattern: re.compile(f"(?:{p.pattern[:-2]}\n)*{p.pattern[:-2]}") for p in (_HASH, _BLOB)}
_GLOB_CHARS = re.compile(r"[*?\[]")
#: in "\n" + paths joined by "\n" + "\n": an absolute, escaping, Windows-style or empty path
_BAD_PATH_PARTS = ("\n/", "\n../", "/../", "/..\n", "\n..\n", "\\", "\n\n")


def _any_bad_path(paths: Iterable[str]) -> bool:
    joined = "\n" + "\n".join(paths) + "\n"
    return any(part in joined for part in _BAD_PATH_PARTS)


class ManifestError(Exception):
    """The manifest is missing, not valid JSON, or not in the documented format."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Generator:
    """One generator's entry: what it reads, what it writes, and the hashes of both."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    ignore_lines: tuple[str, ...] = ()
    tool: str | None = None
    tool_version: str | None = None
    input_files: Mapping[str, str] | None = None
    output_files: Mapping[str, str] | None = None
    #: git blob id of each listed file (LF-normalised): lets a verifier with git skip reading
    #: files git reports unchanged; the sha256 hashes stay authoritative
    git_blobs: Mapping[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.tool is not None:
            out["tool"] = self.tool
        if self.tool_version is not None:
            out["tool_version"] = self.tool_version
        out["inputs"] = list(self.inputs)
        out["outputs"] = list(self.outputs)
        out["exclude"] = list(self.exclude)
        out["ignore_lines"] = list(self.ignore_lines)
        out["input_files"] = dict(sorted((self.input_files or {}).items()))
        out["output_files"] = dict(sorted((self.output_files or {}).items()))
        if self.git_blobs:
            out["git_blobs"] = dict(sorted(self.git_blobs.items()))
        return out


@dataclass(frozen=True)
class Drift:
    """One difference between the files on disk and the manifest.

    ``kind`` is one of ``output-modified``, ``output-missing``, ``output-stray``,
    ``input-modified``, ``input-missing``, ``input-new``; ``path`` is relative to the manifest's
    directory.
    """

    path: str
    kind: str
    generator: str

    @property
    def message(self) -> str:
        g = self.generator
        return {
            "output-modified": f"generated file differs from the manifest (generator {g!r})",
            "output-missing": f"generated file listed in the manifest is missing (generator {g!r})",
            "output-stray": f"file matches the outputs of generator {g!r} but is not in the manifest",
            "input-modified": f"generator input changed since the manifest was written "
                              f"(generator {g!r})",
            "input-missing": f"generator input listed in the manifest is missing (generator {g!r})",
            "input-new": f"file matches the inputs of generator {g!r} but is not in the manifest",
        }[self.kind]

    @property
    def is_output(self) -> bool:
        return self.kind.startswith("output-")


# --- hashing and file sets -----------------------------------------------------------------------


def compile_ignore(patterns: Sequence[str]) -> bounded.Pattern[bytes] | None:
    """One bytes regex matching a line to leave out of the hash, or None. Its searches are
    time-bounded (``bounded``): a catastrophic pattern is a ``ManifestError``, not a hang."""
    if not patterns:
        return None
    return bounded.compile_bytes(b"|".join(b"(?:" + p.encode("utf-8") + b")" for p in patterns),
                                 bounded.MULTILINE)


def _drop_lines(data: bytes, ignore: bounded.Pattern[bytes]) -> bytes:
    """``data`` without the lines in which ``ignore`` matches (searched line by line)."""
    spans: list[tuple[int, int]] = []
    for m in ignore.finditer(data):
        if b"\n" in m.group():  # the match spans lines: search each line on its own
            parts = data.split(b"\n")
            kept = [p + b"\n" for p in parts[:-1] if not ignore.search(p)]
            if parts[-1] and not ignore.search(parts[-1]):
                kept.append(parts[-1])
            return b"".join(kept)
        start = data.rfind(b"\n", 0, m.start()) + 1
        end = data.find(b"\n", m.start())
        end = len(data) if end < 0 else end + 1
        if not spans or start >= spans[-1][1]:
            spans.append((start, end))
    if not spans:
        return data
    out: list[bytes] = []
    pos = 0
    for start, end in spans:
        out.append(data[pos:start])
        pos = end
    out.append(data[pos:])
    return b"".join(out)


def file_hash(data: bytes, ignore: bounded.Pattern[bytes] | None = None) -> str:
    """``sha256:<hex>`` of ``data``, LF-normalised and without ignored lines (text files only)."""
    if data.find(b"\0", 0, BINARY_SNIFF) < 0:
        if b"\r\n" in data:
            data = data.replace(b"\r\n", b"\n")
        if ignore is not None:
            data = _drop_lines(data, ignore)
    return "sha256:" + hashlib.sha256(data).hexdigest()


def git_blob_id(data: bytes) -> str:
    """What ``git hash-object`` gives for ``data`` once CRLF is LF (text files only)."""
    if data.find(b"\0", 0, BINARY_SNIFF) < 0 and b"\r\n" in data:
        data = data.replace(b"\r\n", b"\n")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _static_prefix(pattern: str) -> str:
    """The leading directories of a glob that contain no wildcard (``""`` for the root)."""
    parts = pattern.split("/")
    fixed: list[str] = []
    for part in parts[:-1]:
        if _GLOB_CHARS.search(part):
            break
        fixed.append(part)
    else:
        if not _GLOB_CHARS.search(parts[-1]):
            fixed.append(parts[-1])  # a plain path: a file, or a directory to walk
    return "/".join(fixed)


def expand(patterns: Iterable[str]) -> tuple[str, ...]:
    """A pattern without wildcards also matches everything below it (a directory)."""
    out: list[str] = []
    for p in patterns:
        p = p.rstrip("/")
        out.append(p)
        if not _GLOB_CHARS.search(p):
            out.append(f"{p}/**")
    return tuple(out)


def _walk(root: Path, top: str) -> list[str]:
    """Every file below ``root/top`` (or ``top`` itself if it is a file), ``.git`` skipped."""
    start = root / top if top else root
    real_root = os.path.realpath(root)
    real = os.path.realpath(start)
    if real != real_root and not real.startswith(real_root + os.sep):
        return []  # a symlink out of the tree: its names are not ours to list
    if start.is_file():
        return [top]
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(start):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        found.extend(prefix + f for f in filenames)
    return found


def list_files(root: Path, patterns: Sequence[str], exclude: Sequence[str] = (),
               skip: Iterable[str] = (), walks: dict[str, list[str]] | None = None
               ) -> list[str]:
    """Files under ``root`` (posix, relative) matching ``patterns`` and not ``exclude``.

    Only the directories a pattern can reach are walked (once per ``walks`` cache); ``.git`` is
    never entered.
    """
    if not patterns:
        return []
    walks = {} if walks is None else walks
    prefixes = sorted({_static_prefix(p) for p in patterns})
    # drop prefixes inside another prefix: that directory is walked anyway
    tops = [p for p in prefixes
            if not any(q != p and (q == "" or p.startswith(q + "/")) for q in prefixes)]
    found: set[str] = set()
    for top in tops:
        if top not in walks:
            walks[top] = _walk(root, top)
        found.update(walks[top])
    files = sorted(found)
    if any(_GLOB_CHARS.search(p) for p in patterns):  # plain paths: everything walked matches
        files = GlobSet(expand(patterns)).filter(files)
    excluded = GlobSet(exclude)
    skipped = set(skip)
    return [f for f in files if f not in skipped and not excluded.match(f)]


def hash_files(root: Path, files: Iterable[str], ignore: bounded.Pattern[bytes] | None,
               cache: dict[bytes | None, dict[str, str]] | None = None,
               blobs: dict[str, str] | None = None) -> dict[str, str]:
    """Hash of each file; an unreadable one raises ``ManifestError``.

    ``cache`` (by ignore pattern, then path) lets generators sharing inputs read them once;
    ``blobs``, when given, receives each file's git blob id.
    Files are read through ``fs.Reader`` contained in ``root``: a symlink out of it, a FIFO or
    device, or a file over 10 MiB is a ``ManifestError`` naming it, never opened.
    """
    reader = Reader(root)
    seen = {} if cache is None else cache.setdefault(
        ignore.pattern if ignore is not None else None, {})
    out: dict[str, str] = {}
    for rel in files:  # the hot loop of a manifest check
        digest = seen.get(rel)
        if digest is None:
            try:
                data = reader.read(rel)
            except Unreadable as exc:
                raise ManifestError(f"{rel}: {exc.message}") from None
            except OSError as exc:
                raise ManifestError(f"cannot read {rel}: {exc.strerror}") from None
            try:
                digest = seen[rel] = file_hash(data, ignore)
            except bounded.RegexTimeout as exc:
                raise ManifestError(f"{rel}: ignore_lines {exc}") from None
            if blobs is not None:
                blobs[rel] = git_blob_id(data)
        out[rel] = digest
    return out


# --- reading and writing -------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise ManifestError(f"duplicate key {k!r}")
            seen.add(k)
    return out


def _line_of(text: str, needle: str) -> int | None:
    i = text.find(needle)
    return None if i < 0 else text.count("\n", 0, i) + 1


def _relpattern(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}: expected a non-empty string, got {json.dumps(value)}")
    if (value.startswith(("/", "../")) or value == ".." or value.endswith("/..")
            or "/../" in value or "\\" in value):
        raise ManifestError(f"{where}: {value!r} must be a posix path relative to the manifest")
    why = glob_problem(value)
    if why is not None:
        raise ManifestError(f"{where}: glob {value!r}: {why}")
    return value


def _strings(where: str, value: Any, *, required: bool = False) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    if not isinstance(value, list):
        raise ManifestError(f"{where}: expected an array of strings, got {json.dumps(value)}")
    items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
    return tuple(_relpattern(f"{where}[{i}]", v) for i, v in enumerate(items))


def _regexes(where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):  # pyright: ignore[reportUnknownVariableType]
        raise ManifestError(f"{where}: expected an array of regular expressions")
    items: list[str] = value  # pyright: ignore[reportUnknownVariableType]
    for i, v in enumerate(items):
        why = bounded.check(v.encode("utf-8"))
        if why is not None:
            raise ManifestError(f"{where}[{i}]: invalid regular expression {v!r}: {why}")
    return tuple(items)


def _hashes(where: str, value: Any, form: re.Pattern[str] = _HASH) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: expected an object of path -> \"sha256:...\"")
    table: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
    if not table:
        return {}
    try:
        joined = "\n".join(table.values())
    except TypeError:  # a value is not a string: reported below
        joined = ""
    if joined and _ALL_OF[form.pattern].fullmatch(joined) and not _any_bad_path(table):
        return table  # the common case, checked with one regex per column
    out: dict[str, str] = {}
    for path, digest in table.items():
        _relpattern(f"{where}", path)
        if not isinstance(digest, str) or not form.match(digest):
            expected = "sha256:<64 hex digits>" if form is _HASH else "a git object id"
            raise ManifestError(f"{where}.{path}: expected \"{expected}\", "
                                f"got {json.dumps(digest)}")
        out[path] = digest
    return out


GENERATOR_KEYS = ("tool", "tool_version", "inputs", "outputs", "exclude", "ignore_lines",
                  "input_files", "output_files", "git_blobs")


def parse(text: str) -> list[Generator]:
    """The generators of a manifest's JSON text; ``ManifestError`` (with a line) if malformed."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"invalid JSON: {exc.msg}", exc.lineno) from None
    except ManifestError as exc:
        raise ManifestError(f"invalid manifest: {exc.message}") from None
    except RecursionError:
        raise ManifestError("invalid JSON: nested too deeply", 1) from None
    except ValueError as exc:  # an integer of more digits than int() converts
        raise ManifestError(f"invalid JSON: {exc}", 1) from None
    if not isinstance(data, dict):
        raise ManifestError("a manifest is a JSON object", 1)
    doc: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
    version = doc.get("manifest_version")
    if version != MANIFEST_VERSION:
        raise ManifestError(
            f"unsupported manifest_version {json.dumps(version)} (this version of "
            f"pytest-guardrails reads {MANIFEST_VERSION})", _line_of(text, '"manifest_version"') or 1)
    unknown = sorted(set(doc) - {"manifest_version", "generators"})
    if unknown:
        raise ManifestError(f"unknown key {unknown[0]!r}", _line_of(text, f'"{unknown[0]}"'))
    gens = doc.get("generators")
    if not isinstance(gens, dict) or not gens:
        raise ManifestError("\"generators\" must be a non-empty object",
                            _line_of(text, '"generators"') or 1)
    table: dict[str, Any] = gens  # pyright: ignore[reportUnknownVariableType]
    out: list[Generator] = []
    for name, spec in table.items():
        line = _line_of(text, f'"{name}"')
        where = f"generators.{name}"
        try:
            if not isinstance(spec, dict):
                raise ManifestError(f"{where}: expected an object")
            g: dict[str, Any] = spec  # pyright: ignore[reportUnknownVariableType]
            extra = sorted(set(g) - set(GENERATOR_KEYS))
            if extra:
                raise ManifestError(f"{where}: unknown key {extra[0]!r}")
            outputs = _strings(f"{where}.outputs", g.get("outputs"), required=True)
            if not outputs:
                raise ManifestError(f"{where}.outputs: list at least one output path or glob")
            for key in ("tool", "tool_version"):
                if g.get(key) is not None and not isinstance(g[key], str):
                    raise ManifestError(f"{where}.{key}: expected a string")
            out.append(Generator(
                name=name,
                inputs=_strings(f"{where}.inputs", g.get("inputs")),
                outputs=outputs,
                exclude=_strings(f"{where}.exclude", g.get("exclude")),
                ignore_lines=_regexes(f"{where}.ignore_lines", g.get("ignore_lines")),
                tool=g.get("tool"),
                tool_version=g.get("tool_version"),
                input_files=_hashes(f"{where}.input_files", g.get("input_files")),
                output_files=_hashes(f"{where}.output_files", g.get("output_files")),
                git_blobs=_hashes(f"{where}.git_blobs", g.get("git_blobs"), _BLOB),
            ))
        except ManifestError as exc:
            raise ManifestError(exc.message, exc.line or line) from None
    return out


def load(path: Path) -> list[Generator]:
    try:
        raw = read_file(path.name, path.parent)
    except FileNotFoundError:
        raise ManifestError(f"{path.name} does not exist") from None
    except Unreadable as exc:
        raise ManifestError(f"{path.name}: {exc.message}") from None
    except OSError as exc:
        raise ManifestError(f"cannot read {path.name}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"not UTF-8 (byte {exc.start})", raw.count(b"\n", 0, exc.start) + 1
                            ) from None
    return parse(text)


def dumps(generators: Sequence[Generator]) -> str:
    doc = {"manifest_version": MANIFEST_VERSION,
           "generators": {g.name: g.to_json() for g in generators}}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def rehash(root: Path, gen: Generator, manifest_name: str,
           cache: dict[bytes | None, dict[str, str]] | None = None,
           blobs: dict[str, str] | None = None,
           unchanged: Mapping[str, str] | None = None,
           walks: dict[str, list[str]] | None = None,
           files: tuple[list[str], list[str]] | None = None) -> Generator:
    """``gen`` with the hashes of the files now on disk under ``root``.

    ``files``: its (inputs, outputs) as ``list_files`` found them, if already known.

    ``unchanged`` maps files that git says are identical to its index to their blob ids: where
    that id equals the manifest's ``git_blobs`` entry the recorded hash is taken as is, without
    reading the file.
    """
    ignore = compile_ignore(gen.ignore_lines)
    skip = (manifest_name,)
    cache = {} if cache is None else cache
    walks = {} if walks is None else walks

    def hashes(files: list[str], recorded: Mapping[str, str] | None) -> dict[str, str]:
        out: dict[str, str] = {}
        known = gen.git_blobs
        if unchanged and known and recorded:
            todo: list[str] = []
            for rel in files:
                blob = unchanged.get(rel)
                if blob is not None and known.get(rel) == blob and rel in recorded:
                    out[rel] = recorded[rel]
                else:
                    todo.append(rel)
            files = todo
        out.update(hash_files(root, files, ignore, cache, blobs))
        return out

    if files is None:
        files = (list_files(root, gen.inputs, gen.exclude, skip, walks),
                 list_files(root, gen.outputs, gen.exclude, skip, walks))
    return replace(gen, input_files=hashes(files[0], gen.input_files),
                   output_files=hashes(files[1], gen.output_files))


def write(path: Path, generators: Sequence[Generator]) -> bool:
    """Re-hash ``generators`` and write the manifest at ``path``; False if it was unchanged."""
    root = path.parent
    cache: dict[bytes | None, dict[str, str]] = {}
    blobs: dict[str, str] = {}
    hashed = [rehash(root, replace(g, git_blobs=None), path.name, cache, blobs)
              for g in generators]
    hashed = [replace(g, git_blobs={rel: blobs[rel]
                                    for rel in (*(g.input_files or {}), *(g.output_files or {}))})
              for g in hashed]
    for g in hashed:
        if not g.output_files:
            raise ManifestError(f"generator {g.name!r}: no file matches outputs "
                                f"{list(g.outputs)} under {root.resolve()}")
    text = dumps(hashed)
    try:
        if read_file(path.name, path.parent).decode("utf-8") == text:
            return False
    except (OSError, Unreadable, UnicodeDecodeError):
        pass
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:  # write_text(newline=): 3.10+
        f.write(text)
    os.replace(tmp, path)
    return True


# --- verifying -----------------------------------------------------------------------------------


def _compare(kind: str, gen: str, expected: Mapping[str, str], actual: Mapping[str, str]
             ) -> list[Drift]:
    out: list[Drift] = []
    for rel in sorted(set(expected) | set(actual)):
        if rel not in actual:
            out.append(Drift(rel, f"{kind}-missing", gen))
        elif rel not in expected:
            out.append(Drift(rel, "output-stray" if kind == "output" else "input-new", gen))
        elif expected[rel] != actual[rel]:
            out.append(Drift(rel, f"{kind}-modified", gen))
    return out


@dataclass(frozen=True)
class Survey:
    """A loaded manifest and the files each generator's globs match now (no file read yet)."""

    path: Path
    generators: list[Generator]
    files: list[tuple[list[str], list[str]]]


def survey(path: Path) -> Survey:
    """Load the manifest at ``path`` and list the files its globs match beside it."""
    generators = load(path)
    walks: dict[str, list[str]] = {}
    skip = (path.name,)
    files = [(list_files(path.parent, g.inputs, g.exclude, skip, walks),
              list_files(path.parent, g.outputs, g.exclude, skip, walks)) for g in generators]
    return Survey(path, generators, files)


def compare(found: Survey, unchanged: Mapping[str, str] | None = None) -> list[Drift]:
    """Every difference between the surveyed files and the manifest's hashes.

    ``unchanged``: see ``rehash`` (paths relative to the manifest's directory).
    """
    drifts: list[Drift] = []
    cache: dict[bytes | None, dict[str, str]] = {}
    for gen, files in zip(found.generators, found.files):
        now = rehash(found.path.parent, gen, found.path.name, cache, unchanged=unchanged,
                     files=files)
        drifts += _compare("input", gen.name, gen.input_files or {}, now.input_files or {})
        drifts += _compare("output", gen.name, gen.output_files or {}, now.output_files or {})
    return drifts


def verify(path: Path, unchanged: Mapping[str, str] | None = None
           ) -> tuple[list[Generator], list[Drift]]:
    """Load the manifest at ``path`` and compare it with the files beside it."""
    found = survey(path)
    return found.generators, compare(found, unchanged)


# --- command line --------------------------------------------------------------------------------


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel.replace(os.sep, "/")


def _parser() -> argparse.ArgumentParser:
    import argparse  # only the command line needs it

    p = argparse.ArgumentParser(
        prog="guardrails-manifest",
        description="Write or verify a codegen manifest: hashes of generator inputs and outputs.")
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("write", "hash the files now on disk into the manifest"),
                       ("verify", "compare the files on disk with the manifest")):
        s = sub.add_parser(name, help=text, description=text)
        s.add_argument("-m", "--manifest", default=DEFAULT_NAME, type=Path,
                       help=f"Manifest path; listed paths are relative to its directory "
                            f"(default: {DEFAULT_NAME})")
    w = sub.choices["write"]
    w.add_argument("-g", "--generator", help="Add or update this generator's entry")
    w.add_argument("--input", dest="inputs", action="append", metavar="GLOB",
                   help="Generator input (repeatable); replaces the entry's inputs")
    w.add_argument("--output", dest="outputs", action="append", metavar="GLOB",
                   help="Generated file or directory (repeatable); replaces the entry's outputs")
    w.add_argument("--exclude", action="append", metavar="GLOB",
                   help=f"Never part of the generator (repeatable; new entries default to "
                        f"{' '.join(DEFAULT_EXCLUDE)})")
    w.add_argument("--ignore-line", dest="ignore_lines", action="append", metavar="REGEX",
                   help="Lines matching this regex are left out of hashes (timestamps)")
    w.add_argument("--tool", help="Name of the generator tool (informational)")
    w.add_argument("--tool-version", help="Version of the generator tool (informational)")
    return p


def _updated(existing: list[Generator], args: argparse.Namespace) -> list[Generator]:
    if args.generator is None:
        given = [o for o in ("inputs", "outputs", "exclude", "ignore_lines", "tool",
                             "tool_version") if getattr(args, o) is not None]
        if given:
            raise ManifestError(f"--{given[0].replace('_', '-')} needs --generator NAME")
        if not existing:
            raise ManifestError("the manifest lists no generator yet: add one with "
                                "--generator NAME --output GLOB [--input GLOB]")
        return existing
    inputs = _strings("--input", args.inputs)
    outputs = _strings("--output", args.outputs)
    exclude = _strings("--exclude", args.exclude)
    ignore = _regexes("--ignore-line", args.ignore_lines)
    fields: dict[str, Any] = {}
    if args.inputs is not None:
        fields["inputs"] = inputs
    if args.outputs is not None:
        fields["outputs"] = outputs
    if args.exclude is not None:
        fields["exclude"] = exclude
    if args.ignore_lines is not None:
        fields["ignore_lines"] = ignore
    if args.tool is not None:
        fields["tool"] = args.tool
    if args.tool_version is not None:
        fields["tool_version"] = args.tool_version
    out = list(existing)
    for i, g in enumerate(out):
        if g.name == args.generator:
            out[i] = replace(g, **fields)
            return out
    if "outputs" not in fields:
        raise ManifestError(f"new generator {args.generator!r} needs at least one --output")
    fields.setdefault("exclude", DEFAULT_EXCLUDE)
    fields.setdefault("inputs", ())
    out.append(Generator(name=args.generator, **fields))
    return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _summary(generators: Sequence[Generator]) -> str:
    return ", ".join(f"{g.name}: {_count(len(g.input_files or {}), 'input')}, "
                     f"{_count(len(g.output_files or {}), 'output')}" for g in generators)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    path: Path = args.manifest
    shown = _display(path)
    try:
        if args.command == "write":
            existing = load(path) if path.exists() else []
            generators = _updated(existing, args)
            changed = write(path, generators)
            written = load(path)
            print(f"{'wrote' if changed else 'unchanged:'} {shown} ({_summary(written)})")
            return 0
        generators, drifts = verify(path)
    except ManifestError as exc:
        where = f"{shown}:{exc.line}" if exc.line else shown
        print(f"{where}: error: {exc.message}", file=sys.stderr)
        return 2
    if not drifts:
        print(f"{shown}: OK ({_summary(generators)})")
        return 0
    base = path.parent
    n = len(drifts)
    print(f"{shown}: {n} file{'s' if n != 1 else ''} differ{'s' if n == 1 else ''} "
          "from the manifest")
    for d in drifts:
        print(f"{_display(base / d.path)}: {d.message}")
    print("how to fix: regenerate, then run `guardrails-manifest write"
          + (f" -m {shown}" if shown != DEFAULT_NAME else "") + "` and commit both")
    return 1


if __name__ == "__main__":
    sys.exit(main())
