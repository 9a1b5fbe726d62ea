"""Waivers in ``[tool.guardrails.ignore]``: ``"id[target]" = "reason"`` or
``"id[target]" = { reason = "...", until = "2027-03-31" }``.

A waiver with ``until`` waives through that day (UTC); from the next day on it is expired: the
item runs as if unwaived and its report says the waiver expired on that date.
"""

from __future__ import annotations

from dataclasses import dataclass
import datetime
import re
from typing import Any

from pytest_guardrails.options import ConfigError
from pytest_guardrails.options import as_table

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Waiver:
    reason: str
    until: datetime.date | None = None

    def expired(self, today: datetime.date) -> bool:
        return self.until is not None and today > self.until


def today() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def parse(dotted: str, waiver: str, value: Any) -> Waiver:
    """One waiver's value (``dotted`` is its TOML key, for errors)."""
    table = as_table(value)
    if table is None:
        reason, until = value, None
    else:
        unknown = sorted(set(table) - {"reason", "until"})
        if unknown:
            raise ConfigError(f"{dotted}.{unknown[0]}",
                              f"{dotted}: unknown key {unknown[0]!r} (a waiver has reason and until)")
        reason, until = table.get("reason"), _date(f"{dotted}.until", table.get("until"))
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(dotted, f"{dotted}: a waiver needs a reason: \"{waiver}\" = \"why\" "
                          f"or {{ reason = \"why\", until = \"YYYY-MM-DD\" }}")
    return Waiver(reason.strip(), until)


def _date(key: str, value: Any) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime) or not isinstance(value, (str, datetime.date)):
        raise ConfigError(key, f"{key}: expected a date \"YYYY-MM-DD\", got {value!r}")
    if isinstance(value, datetime.date):
        return value
    if not _DATE.fullmatch(value):
        raise ConfigError(key, f"{key}: expected a date \"YYYY-MM-DD\", got {value!r}")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(key, f"{key}: invalid date {value!r}: {exc}") from None
