"""Typed configuration keys: each ``Option`` validates and converts one TOML value.

Errors are ``ConfigError`` with the dotted key (``tool.guardrails.ruff.args``) so the message
points at the exact place in pyproject.toml.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
import difflib
import math
import posixpath
import re
from typing import Any
from typing import Callable
from typing import cast
import warnings


class ConfigError(Exception):
    """A bad ``[tool.guardrails]`` value; ``key`` is the dotted TOML key it concerns.

    ``where`` (``".gitmodules:3"``) locates an error in another file the configuration depends
    on; the message is then shown there instead of at the key."""

    def __init__(self, key: str, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.message = message
        self.where = where


def did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _type_name(value: object) -> str:
    names: dict[type, str] = {str: "a string", bool: "a boolean", int: "an integer",
                              float: "a number", list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def as_table(value: object) -> dict[str, Any] | None:
    """``value`` typed as a TOML table, or None if it is not one."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def as_array(value: object) -> list[Any] | None:
    """``value`` typed as a TOML array, or None if it is not one."""
    return cast("list[Any]", value) if isinstance(value, list) else None


def check_relpath(key: str, value: str) -> str:
    """A repo-relative path or glob that stays inside the repo; returned in posix form."""
    if not value:
        raise ConfigError(key, f"{key}: empty path")
    v = value.replace("\\", "/")
    if v.startswith("/") or re.match(r"^[A-Za-z]:", v):
        raise ConfigError(key, f"{key}: {value!r} is absolute; paths are relative to the repo root")
    norm = posixpath.normpath(v)
    if norm == ".." or norm.startswith("../"):
        raise ConfigError(key, f"{key}: {value!r} escapes the repository")
    return norm if not v.endswith("/") else norm + "/"


def _str(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(key, f"{key}: expected a string, got {_type_name(value)}")
    return value


def _str_list(key: str, value: Any) -> tuple[str, ...]:
    items = as_array(value)
    if items is None:
        raise ConfigError(key, f"{key}: expected an array of strings, got {_type_name(value)}")
    out: list[str] = []
    for i, item in enumerate(items):
        out.append(_str(f"{key}[{i}]", item))
    return tuple(out)


def _regex(key: str, value: str) -> str:
    from pytest_guardrails import bounded
    from pytest_guardrails.grep_syntax import habit

    grep = habit(value)
    if grep is not None:
        raise ConfigError(key, f"{key}: {value!r}: {grep}")
    with warnings.catch_warnings():  # "possible nested set": under -W error, an exception
        warnings.simplefilter("ignore", FutureWarning)
        why = bounded.check(value)
    if why is not None:
        raise ConfigError(key, f"{key}: invalid regular expression {value!r}: {why}")
    return value


def _number(key: str, value: Any) -> float:
    """A positive, finite number (TOML's ``inf`` and ``nan`` are floats too)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer past a float's range
            number = math.inf
        if 0 < number < math.inf:  # false for nan
            return number
        shown = f"{value!r}" if isinstance(value, float) or abs(value) < 10 ** 20 else "a huge integer"
    else:
        shown = _type_name(value)
    raise ConfigError(key, f"{key}: expected a positive number, got {shown}")


#: the longest ``timeout``: a longer one bounds nothing, and past about 24 days the waits it
#: feeds (``poll()``, in milliseconds in a C int) cannot even be expressed
MAX_TIMEOUT = 7 * 24 * 3600.0


def _timeout(key: str, value: float) -> None:
    if value > MAX_TIMEOUT:
        raise ConfigError(key, f"{key}: at most {MAX_TIMEOUT:.0f} seconds (a week), got {value:g}")


def refuse_args(refused: Mapping[str, str]) -> Callable[[str, Any], None]:
    """A validator for a tool's ``args``: refuses a NUL character, and the options in
    ``refused`` (name -> why) given as ``--name``, ``--name=value`` or a short ``-x``,
    ``-xvalue`` or ``-qx``. (A value such as ``["--select", "-w"]`` is refused too: no rule code
    looks like that.)"""

    def check(key: str, value: Any) -> None:
        for i, arg in enumerate(value):
            if "\0" in arg:  # no command line can carry it
                raise ConfigError(f"{key}[{i}]", f"{key}[{i}]: {arg!r} holds a NUL character")
            if arg.startswith("--"):
                names = [arg.split("=", 1)[0]]
            elif re.fullmatch(r"-[A-Za-z]+", arg):  # -w, or flags together: -qw
                names = [f"-{c}" for c in arg[1:]]
            else:  # -ofile, or not an option
                names = [arg[:2]]
            for name in names:
                if name in refused:
                    raise ConfigError(f"{key}[{i}]", f"{key}[{i}]: {arg!r} is not allowed: "
                                                     f"{refused[name]}")

    return check


def arg_values(args: Sequence[str], name: str) -> list[str]:
    """Every value ``args`` gives option ``name``, as ``name value`` or ``name=value``."""
    out = [args[i + 1] for i, a in enumerate(args[:-1]) if a == name]
    return out + [a.split("=", 1)[1] for a in args if a.startswith(f"{name}=")]


def timeout_option(default: float, help: str) -> Option:
    """A tool's ``timeout`` key: seconds, positive, at most a week."""
    return Option("number", default, help, validate=_timeout)


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(|B|bytes?|KiB|KB|K|MiB|MB|M|GiB|GB|G)\s*", re.I)
_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "kib": 1 << 10, "kb": 1000, "k": 1 << 10,
          "mib": 1 << 20, "mb": 1000 ** 2, "m": 1 << 20, "gib": 1 << 30, "gb": 1000 ** 3,
          "g": 1 << 30}


def _size(key: str, value: Any) -> int:
    """A positive size in bytes: an integer, or a string such as ``"10 MiB"``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    m = _SIZE.fullmatch(value) if isinstance(value, str) and len(value) < 40 else None
    if m is not None:
        size = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
        if size > 0:
            return size
    raise ConfigError(key, f"{key}: expected a positive size in bytes (an integer, or a string "
                           f"such as \"10 MiB\"), got {value!r}")


def _glob(key: str, value: str) -> str:
    from pytest_guardrails.globs import problem

    glob = check_relpath(key, value)
    why = problem(glob)
    if why is not None:
        raise ConfigError(key, f"{key}: glob {value!r}: {why}")
    return glob


def _convert(kind: str, key: str, value: Any, choices: tuple[str, ...]) -> Any:
    if kind == "str":
        return _str(key, value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(key, f"{key}: expected true or false, got {_type_name(value)}")
        return value
    if kind == "number":
        return _number(key, value)
    if kind == "choice":
        s = _str(key, value)
        if s not in choices:
            raise ConfigError(
                key, f"{key}: expected one of {', '.join(map(repr, choices))}, got {s!r}"
                + did_you_mean(s, choices))
        return s
    if kind == "str-list":
        return _str_list(key, value)
    if kind == "path":
        return check_relpath(key, _str(key, value))
    if kind == "paths":
        return tuple(check_relpath(f"{key}[{i}]", s) for i, s in enumerate(_str_list(key, value)))
    if kind == "globs":
        return tuple(_glob(f"{key}[{i}]", s) for i, s in enumerate(_str_list(key, value)))
    if kind == "auto-or-paths":
        if value == "auto":
            return "auto"
        if isinstance(value, str):
            raise ConfigError(key, f"{key}: expected \"auto\" or an array of paths, got {value!r}")
        return _convert("paths", key, value, choices)
    if kind == "size":
        return _size(key, value)
    if kind == "regex":
        return _regex(key, _str(key, value))
    if kind == "regexes":
        return tuple(_regex(f"{key}[{i}]", s) for i, s in enumerate(_str_list(key, value)))
    if kind == "str-map":
        table = as_table(value)
        if table is None:
            raise ConfigError(key, f"{key}: expected a table of strings, got {_type_name(value)}")
        return {k: _str(f'{key}."{k}"', v) for k, v in table.items()}
    raise AssertionError(f"unknown option kind {kind!r}")


KINDS = ("str", "bool", "number", "choice", "str-list", "path", "paths", "globs",
         "auto-or-paths", "regex", "regexes", "str-map", "size")


@dataclass(frozen=True)
class Option:
    """One key of a guardrail's table: its kind, default and one-line help (shown in the docs)."""

    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    #: extra validation after conversion; raise ConfigError
    validate: Callable[[str, Any], None] | None = None

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    def convert(self, key: str, value: Any) -> Any:
        converted = _convert(self.kind, key, value, self.choices)
        if self.validate is not None:
            self.validate(key, converted)
        return converted


MODE = Option("choice", None, "`\"warn\"` or `\"strict\"`: this guardrail's mode",
              choices=("warn", "strict"))


def convert_table(
    prefix: str, table: Any, options: Mapping[str, Option], *, required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Validate ``table`` against ``options`` (plus ``mode``); fill in defaults."""
    raw = as_table(table)
    if raw is None:
        raise ConfigError(prefix, f"{prefix}: expected a table, got {_type_name(table)}")
    allowed = {"mode": MODE, **options}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        dotted = f"{prefix}.{key}"
        if key not in allowed:
            raise ConfigError(dotted, f"unknown key {dotted!r}" + did_you_mean(key, allowed))
        out[key] = allowed[key].convert(dotted, value)
    for key in required:
        if key not in out:
            raise ConfigError(f"{prefix}.{key}", f"{prefix}: missing required key {key!r}")
    for key, opt in allowed.items():
        out.setdefault(key, opt.default)
    return out
