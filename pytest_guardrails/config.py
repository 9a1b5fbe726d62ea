"""Load and validate ``[tool.guardrails]`` from the root pyproject.toml.

Every key is checked before anything runs: unknown keys (with a did-you-mean), wrong types,
paths escaping the repo and waivers without a reason are ``ConfigError``s that the plugin turns
into a usage error (exit 4) located as ``pyproject.toml:LINE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import copy
from dataclasses import dataclass
from dataclasses import field
import functools
from pathlib import Path
import re
import sys
from typing import Any

from pytest_guardrails.api import Guardrail
from pytest_guardrails.fs import DEFAULT_MAX_FILE_SIZE
from pytest_guardrails.fs import Unreadable
from pytest_guardrails.fs import read_file
from pytest_guardrails.options import MODE
from pytest_guardrails.options import ConfigError
from pytest_guardrails.options import Option
from pytest_guardrails.options import as_table
from pytest_guardrails.options import convert_table
from pytest_guardrails.options import did_you_mean
from pytest_guardrails.targeting import Targeting
from pytest_guardrails.targeting import own_keys as _own
from pytest_guardrails.targeting import validate as validate_targeting
import pytest_guardrails.waivers as waivers
from pytest_guardrails.waivers import Waiver

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PREFIX = "tool.guardrails"


#: characters of a TOML text kept parsed by ``load_toml``: a pyproject.toml has a few thousand,
#: and the files read may each have up to ``DEFAULT_MAX_FILE_SIZE`` (eight of those kept parsed
#: would hold gigabytes)
REMEMBERED_TOML = 256 * 1024


def load_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads(text)``, parsed once per process for each distinct text: the anchor
    alone is read by the settings, the cache key, ruff's and pyright's config lookups and
    several guardrails. Each caller gets a copy of its own (some change what they get); errors
    are raised each time, as by ``tomllib``. A text over ``REMEMBERED_TOML`` is parsed each time."""
    if len(text) > REMEMBERED_TOML:
        return tomllib.loads(text)
    return copy.deepcopy(_parsed_toml(text))


@functools.lru_cache(maxsize=8)
def _parsed_toml(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


GLOBAL_OPTIONS: dict[str, Option] = {
    "mode": MODE,
    "submodules": Option("auto-or-paths", "auto",
                         '`"auto"` (every path in `.gitmodules`) or a list of submodule paths'),
    "exclude": Option("globs", (), "extra globs (repo-relative) that no scanning guardrail reads"),
    "junit-properties": Option("bool", True, "each JUnit testcase carries `<properties>` "
                               "(guardrail, target, mode, findings, tool version)"),
    "baseline": Option("path", "guardrails-baseline.json",
                       "the baseline file (repo-relative), read when present, written by "
                       "`--guardrails-baseline-write`"),
    "max-file-size": Option("size", DEFAULT_MAX_FILE_SIZE,
                            'files larger than this (bytes, or a string such as `"10 MiB"`) are '
                            "named, not read"),
}
#: tables handled by the engine itself rather than by one guardrail
SPECIAL_TABLES = ("ignore", "forbid")


@dataclass(frozen=True)
class Settings:
    """The validated ``[tool.guardrails]``: global keys plus one table per guardrail id."""

    pyproject: Path
    mode: str | None
    #: the submodule paths (``"auto"`` already resolved from ``.gitmodules``)
    submodules: tuple[str, ...]
    exclude: tuple[str, ...]
    ignore: Mapping[str, str]
    tables: Mapping[str, Mapping[str, Any]]
    #: JUnit testcases carry <properties> (``junit-properties``)
    junit_properties: bool = True
    #: the waivers of ``ignore``, with their ``until`` dates
    waivers: Mapping[str, Waiver] = field(default_factory=lambda: {})
    baseline: str = "guardrails-baseline.json"
    #: ``targets`` and per-target overrides of each guardrail table
    targeting: Mapping[str, Targeting] = field(default_factory=lambda: {})
    #: ``max-file-size``: files larger than this many bytes are named, not read
    max_file_size: int = DEFAULT_MAX_FILE_SIZE

    def table(self, guardrail_id: str) -> Mapping[str, Any]:
        return self.tables.get(guardrail_id, {})

    def for_target(self, guardrail_id: str, target: str) -> Mapping[str, Any] | None:
        """The guardrail's settings for ``target``; None when ``targets`` leaves it out."""
        scope = self.targeting.get(guardrail_id, Targeting())
        if not scope.applies(target):
            return None
        return scope.settings(target, self.table(guardrail_id))


def read_pyproject(path: Path) -> dict[str, Any]:
    """The raw ``[tool.guardrails]`` table (``{}`` if absent)."""
    try:
        data = load_toml(read_file(path.name, path.parent).decode("utf-8"))
    except FileNotFoundError:
        return {}
    except Unreadable as exc:
        raise ConfigError("", f"cannot read {path.name}: {exc.message.removeprefix('not read: ')}"
                          ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"cannot read {path.name}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", f"invalid TOML in {path.name}: {exc}") from None
    except ValueError as exc:  # an integer of more digits than int() takes
        raise ConfigError("", f"invalid TOML in {path.name}: {exc}") from None
    except RecursionError:
        raise ConfigError("", f"invalid TOML in {path.name}: nested too deeply") from None
    tool = as_table(data.get("tool", {})) or {}
    table = as_table(tool.get("guardrails", {}))
    if table is None:
        raise ConfigError(PREFIX, f"{PREFIX} must be a table")
    return table


def split_waiver_key(key: str) -> tuple[str, str | None]:
    """``"ruff[libs/x]"`` -> ``("ruff", "libs/x")``; ``"ruff"`` -> ``("ruff", None)``."""
    m = re.fullmatch(r"([^\[\]]+)(?:\[([^\[\]]*)\])?", key.strip())
    if not m:
        return key, ""
    return m.group(1), m.group(2)


def _validate_ignore(raw: Any, ids: Sequence[str], targets: Sequence[str]) -> dict[str, Waiver]:
    key = f"{PREFIX}.ignore"
    table = as_table(raw)
    if table is None:
        raise ConfigError(key, f"{key}: expected a table of id = \"reason\"")
    out: dict[str, Waiver] = {}
    for waiver, value in table.items():
        dotted = f'{key}."{waiver}"'
        gid, target = split_waiver_key(waiver)
        if gid not in ids:
            raise ConfigError(dotted, f"{dotted}: unknown guardrail {gid!r}" + did_you_mean(gid, ids))
        if target is not None and target not in targets:
            raise ConfigError(
                dotted, f"{dotted}: unknown target {target!r} (targets: {', '.join(targets)})"
                + did_you_mean(target, targets))
        out[waiver] = waivers.parse(dotted, waiver, value)
    return out


def validate(
    pyproject: Path,
    raw: Mapping[str, Any],
    guardrails: Sequence[Guardrail],
) -> Settings:
    """Check every key of ``raw`` (the ``[tool.guardrails]`` table) and fill in defaults.

    ``submodules = "auto"`` is resolved here, from ``.gitmodules`` beside ``pyproject``: the
    resolved paths validate ``id[target]`` waivers and become ``Settings.submodules``.
    """
    by_id = {g.name: g for g in guardrails}
    known = [*GLOBAL_OPTIONS, *SPECIAL_TABLES, *(g.name for g in guardrails if g.settings is None)]
    for key in raw:
        if key not in known:
            # a forbid-<name> id is configured under [tool.guardrails.forbid.<name>]
            hint = (f"; configure it as [{PREFIX}.forbid.{key[len('forbid-'):]}]"
                    if key.startswith("forbid-") else did_you_mean(key, known))
            raise ConfigError(f"{PREFIX}.{key}", f"unknown key '{PREFIX}.{key}'{hint}")
    top = convert_table(PREFIX, {k: v for k, v in raw.items() if k in GLOBAL_OPTIONS},
                        {k: v for k, v in GLOBAL_OPTIONS.items() if k != "mode"})
    from pytest_guardrails.project import GitmodulesError
    from pytest_guardrails.project import submodule_paths

    _check_submodules(top["submodules"])
    try:
        submodules = submodule_paths(pyproject.parent, top["submodules"])
    except GitmodulesError as exc:
        where = ".gitmodules" + (f":{exc.line}" if exc.line else "")
        raise ConfigError(f"{PREFIX}.submodules", exc.message, where=where) from None
    tables: dict[str, Mapping[str, Any]] = {}
    targeting: dict[str, Targeting] = {}
    everywhere = (".", *submodules)
    for g in guardrails:
        valid = submodules if g.scope == "submodule" else everywhere
        if g.settings is not None:  # validated where it was defined ([tool.guardrails.forbid])
            tables[g.name] = g.settings
            forbid = _forbid_table(raw, g)
            if forbid is not None:
                from pytest_guardrails.guardrails.forbid import OPTIONS as FORBID_OPTIONS

                targeting[g.name] = validate_targeting(
                    forbid[0], forbid[1], FORBID_OPTIONS, valid, required=("pattern",))
            continue
        prefix = f"{PREFIX}.{g.name}"
        table = raw.get(g.name, {})
        own = _own(table)
        tables[g.name] = convert_table(prefix, own, g.options)
        targeting[g.name] = validate_targeting(prefix, table, g.options, valid)
    ignore = _validate_ignore(raw.get("ignore", {}), list(by_id), [".", *submodules])
    return Settings(
        pyproject=pyproject,
        mode=top["mode"],
        submodules=submodules,
        exclude=top["exclude"],
        ignore={k: w.reason for k, w in ignore.items()},
        tables=tables,
        junit_properties=top["junit-properties"],
        waivers=ignore,
        baseline=top["baseline"],
        targeting=targeting,
        max_file_size=top["max-file-size"],
    )


def _check_submodules(configured: str | Sequence[str]) -> None:
    """A listed ``submodules`` path is a submodule: not the repository, not twice."""
    if configured == "auto":
        return
    seen: list[str] = []
    for i, path in enumerate(configured):
        key = f"{PREFIX}.submodules[{i}]"
        if path == ".":
            raise ConfigError(key, f"{key}: \".\" is the repository itself, always a target; "
                              "list only submodule paths")
        if path in seen:
            raise ConfigError(key, f"{key}: {path!r} is listed twice")
        seen.append(path)


def _forbid_table(raw: Mapping[str, Any], g: Guardrail) -> tuple[str, Any] | None:
    """(dotted prefix, raw table) of a ``forbid-<name>`` guardrail's table, or None."""
    if not g.name.startswith("forbid-") or g.code != "GR100":
        return None
    forbid = as_table(raw.get("forbid"))
    name = g.name[len("forbid-"):]
    if forbid is None or name not in forbid:
        return None
    return f"{PREFIX}.forbid.{name}", forbid[name]


# --- locating a key in the file, for error messages ------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def _norm_key(key: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([^.\s"\']+)', key)
    return ".".join(a or b or c for a, b, c in parts)


@functools.lru_cache(maxsize=8)
def _outline(text: str) -> tuple[tuple[int, bool, str], ...]:
    """``(line, is_header, normalised key)`` of each table header and key assignment in
    ``text``: parsed once per text, however many keys are located in it."""
    out: list[tuple[int, bool, str]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if m:
            out.append((lineno, True, _norm_key(m.group(1))))
            continue
        km = _ASSIGN.match(line)
        if km:
            out.append((lineno, False, _norm_key(km.group(1))))
    return tuple(out)


_ASSIGN = re.compile(r"\s*((?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_.\-\s\"'])+?)\s*=")


def locate(text: str, dotted: str) -> int | None:
    """Best-effort line number of ``dotted`` (``tool.guardrails.ruff.args[0]``) in ``text``."""
    dotted = re.sub(r"\[\d+\]$", "", dotted)
    norm = _norm_key(dotted)
    table, _, leaf = norm.rpartition(".")
    current = ""
    header_line: int | None = None
    #: the deepest table header holding the key (a missing required key is located there)
    parent: tuple[int, int] | None = None
    for lineno, is_header, key in _outline(text):
        if is_header:
            current = key
            if current == norm:
                header_line = lineno
            elif norm.startswith(current + ".") and (parent is None or len(current) > parent[0]):
                parent = (len(current), lineno)
            continue
        if f"{current}.{key}" == norm or (current == table and key == leaf):
            return lineno
        if norm.startswith(f"{current}.{key}.") and current:
            return lineno  # a dotted key or inline table holding the key
    if header_line is None and parent is not None and parent[0] > len(PREFIX):
        return parent[1]
    return header_line


def _quoted(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else '"' + key.replace('"', '\\"') + '"'


def table_line(text: str, guardrail_id: str, target: str) -> int:
    """The 1-based line configuring ``guardrail_id`` for ``target`` in ``text`` (1 when absent).

    A per-target table (``[tool.guardrails.<id>.target."<target>"]``) wins over the guardrail's
    own table; ``forbid-<name>`` is configured under ``[tool.guardrails.forbid.<name>]``.
    """
    tables = [f"{PREFIX}.{_quoted(guardrail_id)}"]
    if guardrail_id.startswith("forbid-"):
        tables.insert(0, f"{PREFIX}.forbid.{_quoted(guardrail_id[len('forbid-'):])}")
    for table in tables:
        for key in (f"{table}.target.{_quoted(target)}", table):
            line = locate(text, key)
            if line:
                return line
    return 1


def format_error(pyproject: Path, root: Path, err: ConfigError) -> str:
    if err.where is not None:
        return f"{err.where}: {err.message}"
    try:
        rel = pyproject.relative_to(root).as_posix()
    except ValueError:
        rel = str(pyproject)
    line = None
    if err.key:
        try:
            text = read_file(pyproject.name, pyproject.parent).decode("utf-8", "replace")
        except (OSError, Unreadable):
            line = None
        else:
            line = locate(text, err.key)
    where = f"{rel}:{line}" if line else rel
    return f"{where}: {err.message}"
