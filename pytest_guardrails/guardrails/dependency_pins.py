"""Dependencies shared with a submodule have compatible constraints, and locks satisfy them."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
import functools
import posixpath
import re
from typing import TYPE_CHECKING
from typing import Any
from typing import Union

from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.api import NotApplicable
from pytest_guardrails.api import Run
from pytest_guardrails.fs import Unreadable
from pytest_guardrails.options import ConfigError
from pytest_guardrails.options import Option

if TYPE_CHECKING:
    from poetry.core.constraints.version import Version
    from poetry.core.constraints.version import VersionConstraint
    from poetry.core.version.markers import BaseMarker

NAME = "dependency-pins"

_PACKAGE_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.I)


def _validate_packages(key: str, value: Any) -> None:
    for i, name in enumerate(value):
        if not _PACKAGE_NAME.match(name):
            raise ConfigError(f"{key}[{i}]", f"{key}[{i}]: {name!r} is not a package name")


OPTIONS = {
    "projects": Option("auto-or-paths", "auto",
                       '`"auto"` (the root `pyproject.toml` and every `pyproject.toml` in the '
                       "submodule) or a list of repo-relative `pyproject.toml` / "
                       "`requirements*.txt` files (a directory means its `pyproject.toml`)"),
    "locks": Option("auto-or-paths", "auto",
                    '`"auto"` (`poetry.lock`, `uv.lock`, `requirements*.txt` and '
                    "`requirements/*.txt` at the root) or a list of repo-relative lock files"),
    "policy": Option("choice", "compatible",
                     '`"compatible"`: constraints must intersect; `"identical"`: they must be equal',
                     choices=("compatible", "identical")),
    "ignore-packages": Option("str-list", (), "package names never compared (any spelling: "
                              "names are PEP 503 normalised)", validate=_validate_packages),
}

#: Poetry dependency tables that are not package constraints
_POETRY_SKIP = frozenset({"python"})
#: keys of a Poetry dependency table that mean "no version: a path, VCS or URL source"
_POETRY_SOURCES = ("path", "git", "url", "file")
#: keys of a Poetry dependency table that restrict where it applies
_POETRY_MARKER_KEYS = ("python", "platform", "markers")


# --- where things are in a TOML file -----------------------------------------------------------

Key = tuple[Union[str, int], ...]
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}#\r\n]*")
#: multi-line basic, multi-line literal, basic, literal (a closing delimiter may be followed by
#: up to two more quotes, which belong to the string)
_STRINGS = (
    re.compile(r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""(?:"{0,2})'),
    re.compile(r"'''[\s\S]*?'''(?:'{0,2})"),
    re.compile(r'"(?:[^"\\\n]|\\.)*"'),
    re.compile(r"'[^'\n]*'"),
)
_TOML_ERROR_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


class _TomlLines:
    """1-based line of every key, table and array element of a *valid* TOML document.

    ``tomllib`` gives values but no positions; this walks the text once, following TOML's
    grammar (comments, quoted and dotted keys, multi-line strings, arrays, inline tables, arrays
    of tables). Paths hold array indices as ints: ``("project", "dependencies", 2)``,
    ``("package", 5, "version")``.
    """

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.line = 1
        self.found: dict[Key, int] = {}
        self.tables: dict[Key, int] = {}  # array-of-tables path -> number of elements so far

    def _goto(self, j: int) -> None:
        self.line += self.s.count("\n", self.i, j)
        self.i = j

    def _peek(self, k: int = 0) -> str:
        return self.s[self.i + k:self.i + k + 1]

    def _skip(self, newlines: bool) -> None:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t":
                self.i += 1
            elif c == "#":
                end = s.find("\n", self.i)
                self._goto(len(s) if end == -1 else end)
            elif newlines and c in "\r\n":
                self._goto(self.i + 1)
            else:
                return

    def _string_end(self) -> int:
        """Index just past the string starting at ``self.i``."""
        s, i = self.s, self.i
        for regex in _STRINGS:
            m = regex.match(s, i)
            if m:
                return m.end()
        return i + 1

    def _key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self._skip(newlines=False)
            c = self._peek()
            if c in ("'", '"'):
                end = self._string_end()
                raw = self.s[self.i:end]
                if c == "'":
                    parts.append(raw[1:-1])
                else:
                    from pytest_guardrails.config import tomllib

                    parts.append(str(tomllib.loads(f"k = {raw}")["k"]))
                self._goto(end)
            else:
                m = _BARE_KEY.match(self.s, self.i)
                end = m.end() if m else self.i + 1
                parts.append(self.s[self.i:end])
                self._goto(end)
            self._skip(newlines=False)
            if self._peek() != ".":
                return parts
            self.i += 1

    def _resolve(self, parts: Sequence[str]) -> Key:
        """A table path with the current element of each array of tables it passes through."""
        path: Key = ()
        for part in parts:
            path = (*path, part)
            if path in self.tables:
                path = (*path, self.tables[path] - 1)
        return path

    def _value(self, path: Key) -> None:
        self.found.setdefault(path, self.line)
        c = self._peek()
        if c in ("'", '"'):
            self._goto(self._string_end())
        elif c == "[":
            self.i += 1
            index = 0
            while True:
                self._skip(newlines=True)
                if self._peek() in ("]", ""):
                    self.i += 1
                    return
                self._value((*path, index))
                index += 1
                self._skip(newlines=True)
                if self._peek() == ",":
                    self.i += 1
        elif c == "{":
            self.i += 1
            while True:
                self._skip(newlines=True)
                if self._peek() in ("}", ""):
                    self.i += 1
                    return
                self._keyval(path)
                self._skip(newlines=True)
                if self._peek() == ",":
                    self.i += 1
        else:
            m = _SCALAR.match(self.s, self.i)
            self._goto(m.end() if m else self.i + 1)

    def _keyval(self, table: Key) -> None:
        line = self.line
        parts = self._key()
        for n in range(1, len(parts) + 1):
            self.found.setdefault((*table, *parts[:n]), line)
        self._skip(newlines=False)
        if self._peek() == "=":
            self.i += 1
        self._skip(newlines=False)
        self._value((*table, *parts))

    def scan(self) -> dict[Key, int]:
        table: Key = ()
        while True:
            self._skip(newlines=True)
            if self.i >= len(self.s):
                return self.found
            if self._peek() == "[":
                line = self.line
                array = self._peek(1) == "["
                self.i += 2 if array else 1
                parts = self._key()
                self.i += 2 if array else 1
                if array:
                    parent = self._resolve(parts[:-1])
                    key = (*parent, parts[-1])
                    self.tables[key] = self.tables.get(key, 0) + 1
                    self.found.setdefault(key, line)
                    table = (*key, self.tables[key] - 1)
                else:
                    table = self._resolve(parts)
                self.found.setdefault(table, line)
            else:
                self._keyval(table)


def toml_lines(text: str) -> dict[Key, int]:
    """Line of each key path in ``text`` (valid TOML); see ``_TomlLines``."""
    return _TomlLines(text).scan()


def _line_of(lines: dict[Key, int], path: Key) -> int:
    """The line of ``path``, else of its nearest recorded parent, else 1."""
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return 1


# --- what a file declares ----------------------------------------------------------------------


@dataclass(frozen=True)
class Declaration:
    """One constraint on a package, as written at ``path:line``.

    ``site`` identifies the declaration a constraint belongs to: a Poetry list of constraints
    (one per Python version, say) is one site with several constraints.
    """

    package: str
    path: str
    line: int
    site: tuple[str, str]
    text: str
    constraint: VersionConstraint
    #: where it applies, as written: a PEP 508 marker, or Poetry's ``python = "<3.9"``, ...
    marker_text: str = ""
    #: the PEP 508 marker, or the Poetry keys (``python``, ``platform``, ``markers``) it came from
    where: str | tuple[tuple[str, str], ...] = ""

    @functools.cached_property
    def marker(self) -> BaseMarker:
        """The environment marker, parsed on first use (poetry-core's marker parser is slow to
        load, and most declarations have none)."""
        return _marker(self.package, self.where)

    def show(self) -> str:
        return f"{self.text} ({self.marker_text})" if self.marker_text else self.text

    def at(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Pin:
    """A resolved version in a lock file."""

    package: str
    version: str
    parsed: Version
    path: str
    line: int


@dataclass
class Inputs:
    declarations: list[Declaration] = field(default_factory=lambda: [])
    pins: list[Pin] = field(default_factory=lambda: [])
    errors: list[Finding] = field(default_factory=lambda: [])

    #: the root project's Python requirement (``requires-python`` or Poetry's ``python``)
    python: str | None = None
    #: each lock's Python requirement: the Pythons it resolved for
    lock_python: dict[str, str] = field(default_factory=lambda: {})

    def error(self, message: str, path: str, line: int | None = None,
              col: int | None = None) -> None:
        self.errors.append(Finding(message, path, line, col, error=True))


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


_NAME_AND_EXTRAS = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*")


def _pep508(out: Inputs, raw: str, path: str, line: int, site: str) -> None:
    """Add the declaration of one PEP 508 string (URL requirements carry no version)."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement
    try:
        req = Requirement(raw)
    except InvalidRequirement as exc:
        out.error(f"invalid requirement {raw.strip()!r}: {_first_line(exc)}", path, line)
        return
    if req.url:
        return
    m = _NAME_AND_EXTRAS.match(raw)
    spec = raw[m.end() if m else 0:].split(";", 1)[0].strip()
    if spec.startswith("(") and spec.endswith(")"):
        spec = spec[1:-1].strip()
    normalized = ",".join(str(s).replace("===", "==") for s in req.specifier)
    where = str(req.marker) if req.marker is not None else ""
    marker_text = raw.split(";", 1)[1].strip() if where else ""
    _add(out, req.name, spec or "*", normalized or "*", marker_text, where, path, line, site)


def _add(out: Inputs, name: str, text: str, constraint_text: str, marker_text: str,
         where: str | tuple[tuple[str, str], ...], path: str, line: int, site: str) -> None:
    from poetry.core.constraints.version import parse_constraint

    try:
        constraint = parse_constraint(constraint_text)
    except ValueError as exc:
        out.error(f"{name}: invalid version constraint {text!r}: {_first_line(exc)}", path, line)
        return
    out.declarations.append(Declaration(
        _canonical(name), path, line, (path, site), text, constraint, marker_text, where))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _poetry_dependency(out: Inputs, name: str, value: Any, path: str, line: int,
                       site: str) -> None:
    """One entry of a Poetry dependency table: a string, a table, or a list of tables."""
    if isinstance(value, str):
        _add(out, name, value, value, "", "", path, line, site)
        return
    if not isinstance(value, dict):
        out.error(f"{name}: expected a version string or a table, got {type(value).__name__}",
                  path, line)
        return
    table: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
    if any(k in table for k in _POETRY_SOURCES):
        return
    version = table.get("version", "*")
    if not isinstance(version, str):
        out.error(f"{name}: version must be a string", path, line)
        return
    where: list[tuple[str, str]] = []
    for key in _POETRY_MARKER_KEYS:
        if key not in table:
            continue
        problem = _where_problem(key, table[key])
        if problem:
            out.error(f"{name}: invalid {key} {table[key]!r}: {problem}", path, line)
            return
        where.append((key, table[key]))
    shown = ", ".join(f"{k} = {_toml_str(v)}" for k, v in where)
    _add(out, name, version, version, shown, tuple(where), path, line, site)


def _where_problem(key: str, value: Any) -> str | None:
    """Why a Poetry ``python`` / ``platform`` / ``markers`` value is unusable, or None."""
    if not isinstance(value, str):
        return "expected a string"
    if key == "python":
        from poetry.core.constraints.version import parse_constraint

        try:
            parse_constraint(value)
        except ValueError as exc:
            return _first_line(exc)
    elif key == "markers":
        from packaging.markers import InvalidMarker
        from packaging.markers import Marker

        try:
            Marker(value)
        except InvalidMarker as exc:
            return _first_line(exc)
    return None


def _toml_str(value: str) -> str:
    return f"'{value}'" if '"' in value and "'" not in value else '"' + value.replace('"', '\\"') + '"'


def _any_marker() -> BaseMarker:
    from poetry.core.version.markers import AnyMarker

    return AnyMarker()


def _marker(package: str, where: str | tuple[tuple[str, str], ...]) -> BaseMarker:
    """poetry-core's marker for a PEP 508 marker or Poetry's keys; any marker if it refuses one
    (the inputs were validated when read, so that means an unsupported corner of the grammar)."""
    if not where:
        return _any_marker()
    try:
        if isinstance(where, str):
            from poetry.core.version.markers import parse_marker

            return parse_marker(where)
        from poetry.core.factory import Factory

        return Factory.create_dependency(package, {"version": "*", **dict(where)}).marker
    except Exception:  # its marker parser raises its own (lark) errors
        return _any_marker()


def _as_table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def _as_list(out: Inputs, value: Any, what: str, path: str, line: int) -> list[Any]:
    if isinstance(value, list):
        return value  # pyright: ignore[reportUnknownVariableType]
    out.error(f"{what} must be an array, got {type(value).__name__}", path, line)
    return []


def read_pyproject(out: Inputs, path: str, text: str) -> None:
    """Declarations of Poetry tables and groups, PEP 621 and PEP 735 in one ``pyproject.toml``."""
    data = _load_toml(out, path, text)
    if data is None:
        return
    lines = toml_lines(text)

    def strings(values: list[Any], key: Key, site: str) -> None:
        for i, raw in enumerate(values):
            at = _line_of(lines, (*key, i))
            if isinstance(raw, str):
                _pep508(out, raw, path, at, f"{site}[{i}]")
            elif not (isinstance(raw, dict) and "include-group" in raw):
                out.error(f"{'.'.join(map(str, key))}[{i}]: expected a requirement string",
                          path, at)

    project = _as_table(data.get("project"))
    if path == "pyproject.toml":
        python = project.get("requires-python", _poetry_python(data))
        out.python = python if isinstance(python, str) else None
    if "dependencies" in project:
        key: Key = ("project", "dependencies")
        strings(_as_list(out, project["dependencies"], "project.dependencies", path,
                         _line_of(lines, key)), key, "project.dependencies")
    for extra, values in _as_table(project.get("optional-dependencies")).items():
        key = ("project", "optional-dependencies", extra)
        strings(_as_list(out, values, f"project.optional-dependencies.{extra}", path,
                         _line_of(lines, key)), key, f"optional-dependencies.{extra}")
    for group, values in _as_table(data.get("dependency-groups")).items():
        key = ("dependency-groups", group)
        strings(_as_list(out, values, f"dependency-groups.{group}", path, _line_of(lines, key)),
                key, f"dependency-groups.{group}")

    poetry = _as_table(_as_table(data.get("tool")).get("poetry"))
    tables: list[tuple[Key, Any]] = [
        (("tool", "poetry", "dependencies"), poetry.get("dependencies")),
        (("tool", "poetry", "dev-dependencies"), poetry.get("dev-dependencies")),
    ]
    for group, body in _as_table(poetry.get("group")).items():
        tables.append((("tool", "poetry", "group", group, "dependencies"),
                       _as_table(body).get("dependencies")))
    for key, table in tables:
        for name, value in _as_table(table).items():
            if name.lower() in _POETRY_SKIP:
                continue
            site = ".".join(map(str, (*key, name)))
            if isinstance(value, list):
                entries: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
                for i, entry in enumerate(entries):
                    _poetry_dependency(out, name, entry, path, _line_of(lines, (*key, name, i)),
                                       site)
            else:
                _poetry_dependency(out, name, value, path, _line_of(lines, (*key, name)), site)


def _poetry_python(data: dict[str, Any]) -> Any:
    poetry = _as_table(_as_table(data.get("tool")).get("poetry"))
    return _as_table(poetry.get("dependencies")).get("python")


def python_marker(python: str | None) -> BaseMarker:
    """The environment marker of the root project's Python requirement (any if none/invalid)."""
    if not python:
        return _any_marker()
    from poetry.core.factory import Factory

    try:
        return Factory.create_dependency("python-requirement", {"version": "*", "python": python}
                                         ).marker
    except Exception:  # an invalid Python requirement restricts nothing
        return _any_marker()


def _load_toml(out: Inputs, path: str, text: str) -> dict[str, Any] | None:
    from pytest_guardrails.config import load_toml
    from pytest_guardrails.config import tomllib

    try:
        return load_toml(text)
    except RecursionError:
        out.error("invalid TOML: nested too deeply", path, 1)
        return None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_ERROR_AT.search(message)
        if m:
            out.error(f"invalid TOML: {message[:m.start()]}", path, int(m.group(1)),
                      int(m.group(2)))
        else:
            out.error(f"invalid TOML: {message}", path, 1)
        return None
    except ValueError as exc:  # an integer of more digits than int() converts
        out.error(f"invalid TOML: {exc}", path, 1)
        return None


_PACKAGE_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*package[ \t]*\]\][ \t]*(?:#.*)?$", re.M)
_ANY_HEADER = re.compile(r"^[ \t]*\[", re.M)
_VERSION_KEY = re.compile(r"^[ \t]*version[ \t]*=", re.M)


def _version_lines(text: str, count: int) -> list[int] | None:
    """Line of each ``[[package]]``'s ``version`` (else its header), found with three regexes:
    lock files are large and machine-written. None when the headers do not match ``count``
    (then the full ``toml_lines`` walk decides)."""
    headers = [m.start() for m in _PACKAGE_HEADER.finditer(text)]
    if len(headers) != count:
        return None
    found: list[int] = []
    line, pos = 1, 0
    for start in headers:
        eol = text.find("\n", start)
        nxt = _ANY_HEADER.search(text, len(text) if eol == -1 else eol + 1)
        end = nxt.start() if nxt else len(text)
        m = _VERSION_KEY.search(text, start, end)
        at = m.start() if m else start
        line += text.count("\n", pos, at)
        pos = at
        found.append(line)
    return found


def read_toml_lock(out: Inputs, path: str, text: str) -> None:
    """The ``[[package]]`` name/version pairs of ``poetry.lock`` or ``uv.lock``."""
    from poetry.core.constraints.version import Version
    from poetry.core.version.exceptions import InvalidVersionError

    data = _load_toml(out, path, text)
    if data is None:
        return
    python = _as_table(data.get("metadata")).get("python-versions", data.get("requires-python"))
    if isinstance(python, str):
        out.lock_python[path] = python  # poetry.lock [metadata], uv.lock top level
    raw = data.get("package", [])
    packages: list[Any] = raw if isinstance(raw, list) else []  # pyright: ignore[reportUnknownVariableType]
    fast = _version_lines(text, len(packages))
    lines = toml_lines(text) if fast is None else {}
    for i, entry in enumerate(packages):
        table = _as_table(entry)
        name, version = table.get("name"), table.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            continue  # uv.lock: a virtual or dynamic-version workspace member
        line = fast[i] if fast is not None else _line_of(lines, ("package", i, "version"))
        try:
            parsed = Version.parse(version)
        except InvalidVersionError:
            out.error(f"{name}: invalid version {version!r}", path, line)
            continue
        out.pins.append(Pin(_canonical(name), version, parsed, path, line))


# --- requirements files --------------------------------------------------------------------------

_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDE = re.compile(r"^(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?<=-[rc]))(\S.*)$")
_REQ_OPTIONS = re.compile(r"\s+--?[A-Za-z].*$")
_ARCHIVE = re.compile(r"\.(?:whl|zip|tar\.gz|tgz|tar\.bz2|tar\.xz|tar)$", re.I)
_PIN = re.compile(r"^===?\s*([^\s,*;]+)$")


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each requirement line: continuations joined, comments
    removed, blank lines dropped (pip's rules)."""
    start = 0
    parts: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not parts:
            start = number
        stripped = raw.rstrip()
        if stripped.endswith("\\") and not stripped.lstrip().startswith("#"):
            parts.append(stripped[:-1])
            continue
        parts.append(raw)
        line = _COMMENT.sub("", " ".join(parts)).strip()
        parts = []
        if line:
            yield start, line
    if parts:
        line = _COMMENT.sub("", " ".join(parts)).strip()
        if line:
            yield start, line


#: ``-r``/``-c`` includes followed this deep, no deeper
MAX_INCLUDE_DEPTH = 32


def read_requirements(out: Inputs, run: Run, path: str, *, lock: bool,
                      seen: set[str], depth: int = 0) -> None:
    """Declarations (and, for a lock, ``==`` pins) of a requirements file and its includes."""
    text = _read_text(out, run, path)
    if text is None:
        return
    seen.add(path)
    for line_no, line in logical_lines(text):
        if line.startswith("-"):
            m = _INCLUDE.match(line)
            if not m:
                continue  # -e/--editable (no version), --index-url, --hash, ...
            ref = m.group(1).strip()
            included = posixpath.normpath(posixpath.join(posixpath.dirname(path), ref))
            if (included == ".." or included.startswith(("../", "/")) or ref.startswith("~")
                    or re.match(r"^[A-Za-z]:[\\/]|^[\\/]", ref)):
                out.error(f"{ref} is outside the repository (not read)", path, line_no)
            elif "://" in ref:
                out.error(f"{ref} is a URL (not fetched)", path, line_no)
            elif not (run.root / included).is_file() and not (run.root / included).is_symlink():
                out.error(f"included file {included} does not exist", path, line_no)
            elif included in seen:
                pass
            elif depth >= MAX_INCLUDE_DEPTH:
                out.error(f"{ref}: includes nested deeper than {MAX_INCLUDE_DEPTH} files (not read)",
                          path, line_no)
            else:
                read_requirements(out, run, included, lock=lock, seen=seen, depth=depth + 1)
            continue
        req = _REQ_OPTIONS.sub("", line)
        if (req.startswith((".", "/", "~")) or "://" in req.split(";", 1)[0].split("@", 1)[0]
                or _ARCHIVE.search(req.split(";", 1)[0].strip())):
            continue  # a path or URL: no version
        if lock and _pin(out, req, path, line_no):
            continue
        _pep508(out, req, path, line_no, f"line {line_no}")


def _pin(out: Inputs, req: str, path: str, line: int) -> bool:
    """Record ``name==version`` as a pin; False when ``req`` is not an exact pin."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement
    from poetry.core.constraints.version import Version
    from poetry.core.version.exceptions import InvalidVersionError

    try:
        parsed = Requirement(req)
    except InvalidRequirement:
        return False  # reported by _pep508
    specs = list(parsed.specifier)
    if parsed.url or len(specs) != 1:
        return False
    m = _PIN.match(str(specs[0]))
    if not m:
        return False
    try:
        version = Version.parse(m.group(1))
    except InvalidVersionError:
        return False
    out.pins.append(Pin(_canonical(parsed.name), m.group(1), version, path, line))
    return True


def _read_text(out: Inputs, run: Run, path: str) -> str | None:
    try:
        raw = run.read(path)
    except FileNotFoundError:
        out.error("file not found", path)
        return None
    except Unreadable as exc:
        out.error(exc.message, path)
        return None
    except OSError as exc:
        out.error(f"cannot read: {exc.strerror}", path)
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        out.error(f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})", path,
                  raw.count(b"\n", 0, exc.start) + 1)
        return None


def _is_requirements(path: str) -> bool:
    return not path.endswith((".toml", ".lock"))


# --- which files -------------------------------------------------------------------------------


def _inside(path: str, target_path: str) -> bool:
    return path.startswith(target_path + "/")


def project_files(run: Run) -> list[str]:
    """Repo-relative project files of the root and of this item's submodule."""
    configured = run.settings["projects"]
    target = run.target
    if configured == "auto":
        mine = [target.rel(f) for f in run.project.files(target)
                if posixpath.basename(f) == "pyproject.toml"]
        return ["pyproject.toml", *sorted(mine, key=lambda p: (p.count("/"), p))]
    out: list[str] = []
    for p in configured:
        if (run.root / p).is_dir():
            p = posixpath.join(p, "pyproject.toml") if p != "." else "pyproject.toml"
        if _relevant(run, p) and p not in out:
            out.append(p)
    return out


def lock_files(run: Run) -> list[str]:
    configured = run.settings["locks"]
    if configured == "auto":
        root = run.project.targets[0]
        names = ("poetry.lock", "uv.lock")
        return [f for f in run.project.files(root)
                if f in names or re.fullmatch(r"requirements[^/]*\.txt|requirements/[^/]+\.txt", f)]
    return [p for p in configured if _relevant(run, p)]


def _relevant(run: Run, path: str) -> bool:
    """``path`` lies in the root repository or in this item's submodule."""
    return run.project.target_of(path).is_root or _inside(path, run.target.path)


# --- comparing ---------------------------------------------------------------------------------


class Pythons:
    """Markers of Python requirements, parsed on first use and kept for one check (not longer:
    poetry-core's marker objects must not outlive the module that made them)."""

    def __init__(self) -> None:
        self._markers: dict[tuple[str | None, ...], BaseMarker] = {}

    def __call__(self, *pythons: str | None) -> BaseMarker:
        """The environments every one of ``pythons`` allows."""
        if pythons not in self._markers:
            marker = _any_marker()
            for python in pythons:
                marker = marker.intersect(python_marker(python))
            self._markers[pythons] = marker
        return self._markers[pythons]


def _disjoint(a: Declaration, b: Declaration, env: BaseMarker) -> bool:
    """No environment ``env`` allows installs both."""
    return env.intersect(a.marker).intersect(b.marker).is_empty()


def _equal(a: Declaration, b: Declaration) -> bool:
    return a.constraint.allows_all(b.constraint) and b.constraint.allows_all(a.constraint)


def conflicts(decls: Sequence[Declaration], submodule: str, identical: bool,
              python: str | None, pythons: Pythons) -> Iterator[Finding]:
    """One finding per pair of declarations of a package that cannot both hold."""
    by_package: dict[str, list[Declaration]] = {}
    for d in decls:
        by_package.setdefault(d.package, []).append(d)
    for package, group in by_package.items():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if not (_inside(a.path, submodule) or _inside(b.path, submodule)):
                    continue  # both in the root repository: not a cross-repo question
                if a.site == b.site:
                    continue  # one Poetry list of constraints
                if (a.where or b.where) and _disjoint(a, b, pythons(python)):
                    continue  # no environment the root supports installs both
                if _inside(a.path, submodule) and not _inside(b.path, submodule):
                    a, b = b, a  # report at the root repository's side: that is what you edit
                if a.constraint.intersect(b.constraint).is_empty():
                    verb = "does not intersect"
                elif identical and not (a.constraint.is_any() or b.constraint.is_any()) \
                        and not _equal(a, b):
                    verb = "differs from"
                else:
                    continue
                yield Finding(f"{package} {a.show()} {verb} {b.show()} at {b.at()}",
                              a.path, a.line)


def _applies(d: Declaration, env: BaseMarker) -> bool:
    """``d`` applies to some environment ``env`` allows."""
    return not env.intersect(d.marker).is_empty()


def outside(decls: Sequence[Declaration], pins: Sequence[Pin], submodule: str,
            python: str | None, lock_python: Mapping[str, str], pythons: Pythons
            ) -> Iterator[Finding]:
    """One finding per (lock, declaration) where no locked version satisfies the declaration.

    Constraints whose markers exclude every Python the root project and the lock support are
    left out; of a Poetry list of constraints, one must hold.
    """
    sites: dict[str, dict[tuple[str, str], list[Declaration]]] = {}
    for d in decls:
        sites.setdefault(d.package, {}).setdefault(d.site, []).append(d)
    locked: dict[tuple[str, str], list[Pin]] = {}
    for p in pins:
        locked.setdefault((p.path, p.package), []).append(p)
    for (lock, package), versions in locked.items():
        for site in sites.get(package, {}).values():
            site = [d for d in site
                    if not d.where or _applies(d, pythons(python, lock_python.get(lock)))]
            if not site or not (_inside(lock, submodule) or _inside(site[0].path, submodule)):
                continue
            if any(d.constraint.allows(p.parsed) for d in site for p in versions):
                continue
            first = site[0]
            shown = ", ".join(p.version for p in versions)
            verb = "is" if len(versions) == 1 else "are"
            if len(site) == 1:
                where = f"{first.show()} at {first.at()}"
            else:
                where = f"every constraint at {first.at()}: " + "; ".join(d.show() for d in site)
            yield Finding(f"{package} {shown} {verb} outside {where}", lock, versions[0].line)


def check(run: Run) -> Iterator[Finding]:
    target = run.target
    run.project.require_checked_out(target)
    s = run.settings
    projects = project_files(run)
    locks = lock_files(run)
    if not any(_inside(p, target.path) for p in projects):
        raise NotApplicable(f"no project file in {target.path} (pyproject.toml; or set "
                            f"[tool.guardrails.{NAME}] projects)")
    out = Inputs()
    seen: set[str] = set()
    for path in locks:
        if _is_requirements(path):
            if path not in seen:
                read_requirements(out, run, path, lock=True, seen=seen)
        else:
            text = _read_text(out, run, path)
            if text is not None:
                read_toml_lock(out, path, text)
    for path in projects:
        if path in seen:
            continue
        if _is_requirements(path):
            read_requirements(out, run, path, lock=False, seen=seen)
        else:
            seen.add(path)
            text = _read_text(out, run, path)
            if text is not None:
                read_pyproject(out, path, text)
    ignored = {_canonical(p) for p in s["ignore-packages"]}
    decls = [d for d in out.declarations if d.package not in ignored]
    pins = [p for p in out.pins if p.package not in ignored]
    if "pyproject.toml" not in seen:
        root_only = Inputs()  # not compared, but it says which Pythons matter
        read_pyproject(root_only, "pyproject.toml",
                       _read_text(root_only, run, "pyproject.toml") or "")
        out.python = root_only.python
    pythons = Pythons()
    findings = [*conflicts(decls, target.path, s["policy"] == "identical", out.python, pythons),
                *outside(decls, pins, target.path, out.python, out.lock_python, pythons)]
    run.notes.append("compared: " + ", ".join(projects))
    if locks:
        run.notes.append("locks: " + ", ".join(locks))
    if findings:
        packages = sorted({f.message.split(" ", 1)[0] for f in findings})
        noun = "pin conflict" if len(findings) == 1 else "pin conflicts"
        run.summary = f"{NAME}[{target.path}]: {len(findings)} {noun} ({', '.join(packages)})"
        run.fix = (f"change this repository's constraint or lock to agree with {target.path} "
                   f"(or change {target.path} in its own repository, commit there and bump the "
                   "submodule here), then relock: poetry lock / uv lock / pip-compile")
    yield from _sorted([*out.errors, *findings])


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.path or "", f.line or 0, f.message))


GUARDRAIL = Guardrail(
    name=NAME,
    code="GR002",
    summary=__doc__ or "",
    check=check,
    scope="submodule",
    options=OPTIONS,
    noun="pin conflict",
    fix="make the constraints intersect (or relock) so every declaration and lock agree",
    cache_inputs="repo",
)
