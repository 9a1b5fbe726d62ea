"""The built-in guardrails, in their fixed order, plus those from config and plugins."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import importlib
from importlib.metadata import entry_points
import sys
from typing import Any

from pytest_guardrails.api import Guardrail
from pytest_guardrails.options import ConfigError

#: one module per built-in guardrail, each exposing ``GUARDRAIL``; the order is the item order
BUILTIN: Sequence[str] = (
    "version_ssot",
    "dependency_pins",
    "ruff",
    "pyright",
    "blanket_suppressions",
    "deprecated_api",
    "codegen_drift",
    "legacy_examples",
)

ENTRY_POINT_GROUP = "pytest_guardrails"


def builtin() -> list[Guardrail]:
    return [importlib.import_module(f"{__name__}.{name}").GUARDRAIL for name in BUILTIN]


def from_config(raw: Mapping[str, Any]) -> list[Guardrail]:
    """Guardrails defined by configuration: one ``forbid-<name>`` per forbid table."""
    forbid = raw.get("forbid")
    if forbid is None:
        return []
    from pytest_guardrails.guardrails.forbid import expand

    return expand(forbid)


def from_entry_points() -> list[Guardrail]:
    found: list[Guardrail] = []
    if sys.version_info >= (3, 10):
        eps = entry_points(group=ENTRY_POINT_GROUP)
    else:  # pragma: no cover - the selectable API arrived in 3.10
        eps = entry_points().get(ENTRY_POINT_GROUP, ())
    for ep in eps:
        obj = ep.load()
        found.extend(_as_guardrails(obj, f"entry point {ep.name!r} ({ep.value})"))
    return found


def _as_guardrails(obj: object, origin: str) -> list[Guardrail]:
    obj = getattr(obj, "GUARDRAIL", obj)
    items: list[object] = list(obj) if isinstance(obj, (list, tuple)) else [obj]  # pyright: ignore[reportUnknownArgumentType]
    for item in items:
        if not isinstance(item, Guardrail):
            raise ConfigError("", f"{origin} gave {item!r}, not a pytest_guardrails.api.Guardrail")
    return items  # pyright: ignore[reportReturnType]


def assemble(raw: Mapping[str, Any], plugins: Sequence[tuple[str, object]]) -> list[Guardrail]:
    """Built-ins, then config-defined, then plugin guardrails; ids must be unique."""
    guardrails = builtin() + from_config(raw) + from_entry_points()
    for origin, obj in plugins:
        guardrails.extend(_as_guardrails(obj, origin))
    seen: dict[str, Guardrail] = {}
    for g in guardrails:
        if g.name in seen:
            raise ConfigError("", f"two guardrails are named {g.name!r}; ids must be unique")
        if not g.name or any(c in g.name for c in "[]:/ \t"):
            raise ConfigError("", f"invalid guardrail id {g.name!r}: use kebab-case letters")
        seen[g.name] = g
    return guardrails
