"""Per-target settings: ``targets = [...]`` and ``[tool.guardrails.<id>.target."<path>"]``.

Every guardrail table may limit its items to some targets (``"."`` is the repository, other
entries are submodule paths) and override any of its keys for one target; the override table
takes the same keys as the guardrail's table and wins for that target.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from pytest_guardrails.options import ConfigError
from pytest_guardrails.options import Option
from pytest_guardrails.options import as_array
from pytest_guardrails.options import as_table
from pytest_guardrails.options import convert_table
from pytest_guardrails.options import did_you_mean

#: keys every guardrail table accepts besides its own options
KEYS = ("targets", "target")


@dataclass(frozen=True)
class Targeting:
    """Which targets a guardrail has items for (None: all it applies to), and per-target
    settings that replace the table's for that target."""

    targets: tuple[str, ...] | None = None
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: {})

    def applies(self, path: str) -> bool:
        return self.targets is None or path in self.targets

    def settings(self, path: str, base: Mapping[str, Any]) -> Mapping[str, Any]:
        return self.overrides.get(path, base)


def own_keys(table: object) -> object:
    """``table`` without ``targets``/``target``: what the guardrail's own options validate (a
    value that is not a table is returned as it is, for ``convert_table`` to reject)."""
    raw = as_table(table)
    if raw is None:
        return table
    return {k: v for k, v in raw.items() if k not in KEYS}


def _check_path(key: str, path: object, valid: Sequence[str]) -> str:
    if not isinstance(path, str):
        raise ConfigError(key, f"{key}: expected a target path (a string), got {path!r}")
    norm = path.strip().rstrip("/") or path
    if norm not in valid:
        raise ConfigError(key, f"{key}: unknown target {path!r} (targets: {', '.join(valid)})"
                          + did_you_mean(norm, valid))
    return norm


def validate(prefix: str, table: Any, options: Mapping[str, Option], valid: Sequence[str],
             *, required: tuple[str, ...] = ()) -> Targeting:
    """``targets`` and the ``target`` tables of the guardrail table ``table`` at ``prefix``;
    ``valid`` are the target paths this guardrail can have items for."""
    raw = as_table(table)
    if raw is None:
        return Targeting()
    targets: tuple[str, ...] | None = None
    if "targets" in raw:
        key = f"{prefix}.targets"
        items = as_array(raw["targets"])
        if items is None:
            raise ConfigError(key, f"{key}: expected an array of target paths (\".\" is the "
                              "repository), got {raw['targets']!r}")
        seen: list[str] = []
        for i, item in enumerate(items):
            path = _check_path(f"{key}[{i}]", item, valid)
            if path in seen:
                raise ConfigError(f"{key}[{i}]", f"{key}: {path!r} is listed twice")
            seen.append(path)
        targets = tuple(seen)
    overrides: dict[str, Mapping[str, Any]] = {}
    if "target" in raw:
        key = f"{prefix}.target"
        per = as_table(raw["target"])
        if per is None:
            raise ConfigError(key, f'{key}: expected tables [{key}."<target path>"]')
        base = {k: v for k, v in raw.items() if k not in KEYS}
        for path, over in per.items():
            where = f'{key}."{path}"'
            norm = _check_path(where, path, valid)
            if norm in overrides:
                raise ConfigError(where, f"{where}: target {norm!r} is configured twice")
            over_table = as_table(over)
            if over_table is None:
                raise ConfigError(where, f"{where}: expected a table of the guardrail's keys")
            nested = [k for k in over_table if k in KEYS]
            if nested:
                raise ConfigError(f"{where}.{nested[0]}",
                                  f"{where}: {nested[0]!r} belongs in [{prefix}], not in a target table")
            # the override's own keys are validated at their own place first
            convert_table(where, over_table, options)
            overrides[norm] = convert_table(where, {**base, **over_table}, options,
                                            required=required)
    if targets is not None:
        for path in overrides:
            if path not in targets:
                raise ConfigError(f'{prefix}.target."{path}"',
                                  f'{prefix}.target."{path}": target {path!r} is not in '
                                  f"{prefix}.targets, so it has no item to configure")
    return Targeting(targets, overrides)
