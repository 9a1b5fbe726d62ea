"""Every document's frontmatter version equals the single source of truth."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
import json
from typing import Any
from typing import cast

from pytest_guardrails.api import CannotRun
from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.api import GuardrailError
from pytest_guardrails.api import NotApplicable
from pytest_guardrails.api import Run
from pytest_guardrails.escape import shell
from pytest_guardrails.fs import Unreadable
from pytest_guardrails.options import ConfigError
from pytest_guardrails.options import Option
from pytest_guardrails.project import Project
from pytest_guardrails.project import Target
from pytest_guardrails.selection import matching

NAME = "version-ssot"


def _validate_source(key: str, value: Any) -> None:
    if value and not str(value).endswith((".json", ".toml")):
        raise ConfigError(key, f"{key}: {value!r} must be a .json or .toml file")


OPTIONS = {
    "source": Option("path", None, "file holding the version (`.json` or `.toml`), repo-relative",
                     validate=_validate_source),
    "key": Option("str", "version", "dotted key of the version in `source`"),
    "files": Option("globs", ("README.md", "docs/**/*.md"),
                    "Markdown files (repo-relative globs) whose YAML frontmatter carries the version"),
    "frontmatter-key": Option("str", "version", "dotted key of the version in each frontmatter"),
    "allow-v-prefix": Option("bool", True, "`v0.7.3` equals `0.7.3`"),
}


def scope(project: Project, settings: Mapping[str, Any]) -> Sequence[Target]:
    """Bracketed by the submodule holding ``source``; the root item when it lives in the root."""
    source = settings.get("source")
    return [project.target_of(source) if source else project.targets[0]]


# --- reading -----------------------------------------------------------------------------------


def _lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            raise KeyError(part)
        data = data[part]  # pyright: ignore[reportUnknownVariableType]
    return data  # pyright: ignore[reportUnknownVariableType]


def read_source(run: Run, source: str, key: str) -> str:
    target = run.project.target_of(source)
    try:
        text = run.read(source).decode("utf-8-sig")
    except (FileNotFoundError, IsADirectoryError):
        if not target.is_root and not run.project.is_checked_out(target):
            raise CannotRun(f"submodule {target.path} is not checked out, so {source} is missing",
                            f"git submodule update --init {shell(target.path)}") from None
        raise GuardrailError(f"version source {source} does not exist") from None
    except Unreadable as exc:
        raise GuardrailError(f"version source {source} {exc.message}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GuardrailError(f"cannot read version source {source}: {exc}") from None
    try:
        if source.endswith(".toml"):
            from pytest_guardrails.config import load_toml

            data = load_toml(text)
        else:
            data = json.loads(text)
    except ValueError as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise GuardrailError(f"cannot parse version source {source}: {exc}") from None
    except RecursionError:
        raise GuardrailError(f"cannot parse version source {source}: nested too deeply") from None
    try:
        value = _lookup(data, key)
    except KeyError:
        raise GuardrailError(f"version source {source} has no key {key!r}") from None
    if isinstance(value, (dict, list)) or value is None or isinstance(value, bool):
        raise GuardrailError(f"{source}: {key} is {json.dumps(value)}, not a version string")
    return str(value)


def normalize(version: str, allow_v: bool) -> object:
    """A comparison key: a PEP 440 ``Version`` (``1.10 == 1.10.0``) or the stripped string."""
    from packaging.version import InvalidVersion
    from packaging.version import Version

    v = version.strip()
    if v[:1] in ("v", "V"):
        if not allow_v:
            return v  # PEP 440 itself would accept the prefix
        v = v[1:]
    try:
        return Version(v)
    except InvalidVersion:
        return v


def frontmatter(text: str) -> tuple[str, int] | None:
    """The YAML block between the leading ``---`` fences and the line it starts on, or None."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    if not lines or lines[0].rstrip() != "---":
        return None
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "\n".join(lines[1:i]), 2
    return None


def frontmatter_value(yaml_text: str, dotted: str) -> tuple[str | None, int | None]:
    """(value as written, 0-based line within the block) of ``dotted``; (None, None) if absent.

    Uses PyYAML's BaseLoader: every scalar stays a string, so ``1.10`` is ``"1.10"``.
    """
    import yaml

    node: yaml.Node | None = yaml.compose(yaml_text, Loader=yaml.BaseLoader)
    for part in dotted.split("."):
        if not isinstance(node, yaml.MappingNode):
            return None, None
        pairs = cast("list[tuple[yaml.Node, yaml.Node]]", node.value)
        for k, v in pairs:
            if isinstance(k, yaml.ScalarNode) and k.value == part:
                node = v
                break
        else:
            return None, None
    if node is None:
        return None, None
    line = cast("int", node.start_mark.line)
    if not isinstance(node, yaml.ScalarNode):
        return "", line
    return str(node.value), line


def check(run: Run) -> Iterator[Finding]:
    s = run.settings
    source: str | None = s["source"]
    if not source:
        raise NotApplicable(f"no version source: set [tool.guardrails.{NAME}] source")
    expected_raw = read_source(run, source, s["key"])
    allow_v: bool = s["allow-v-prefix"]
    expected = normalize(expected_raw, allow_v)
    fm_key: str = s["frontmatter-key"]
    root = run.project.targets[0]
    files = matching(run, run.project.files(root), OPTIONS["files"].default)
    if not files:
        raise NotApplicable(f"no file matches files = {list(s['files'])}")
    run.fix = (f"set `{fm_key}: {expected_raw}` in each file's frontmatter "
               f"(the source of truth is {source} {s['key']})")
    import yaml

    for rel in files:
        try:
            text = run.read(rel).decode("utf-8")
        except (FileNotFoundError, IsADirectoryError):
            continue  # deleted in the work tree but still in the index
        except Unreadable as exc:
            yield Finding(exc.message, rel, error=True)
            continue
        except UnicodeDecodeError as exc:
            yield Finding(f"not UTF-8 (byte {exc.start})", rel, 1, error=True)
            continue
        except OSError as exc:
            yield Finding(f"cannot read: {exc.strerror}", rel, error=True)
            continue
        fm = frontmatter(text)
        if fm is None:
            yield Finding(f"no YAML frontmatter; expected `{fm_key}: {expected_raw}`", rel, 1)
            continue
        block, first = fm
        try:
            value, line = frontmatter_value(block, fm_key)
        except RecursionError:
            yield Finding("invalid YAML frontmatter: nested too deeply", rel, first, error=True)
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line_no = first + mark.line if mark is not None else 1
            yield Finding(f"invalid YAML frontmatter: {getattr(exc, 'problem', exc)}", rel, line_no,
                          error=True)
            continue
        if value is None or line is None:
            yield Finding(f"frontmatter has no `{fm_key}`; expected {expected_raw}", rel, 1)
            continue
        if normalize(value, allow_v) != expected:
            yield Finding(f"{fm_key} {value!r} != {expected_raw!r} ({source} {s['key']})",
                          rel, first + line)


GUARDRAIL = Guardrail(
    name=NAME,
    code="GR001",
    summary=__doc__ or "",
    check=check,
    scope=scope,
    options=OPTIONS,
    noun="stale version",
    fix="set the frontmatter version to the source's version",
    cache_inputs="repo",
)
