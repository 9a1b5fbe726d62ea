"""User regular expressions, run with a time bound so that no pattern can hang a run.

The patterns in ``[tool.guardrails]`` (forbid ``pattern``, legacy-examples ``patterns``) and in a
codegen manifest (``ignore_lines``) come from the repository under check: a pull request can
write ``(a+)+$`` and commit a long line of ``a``. Python's ``re`` would backtrack for hours.

They are compiled with the ``regex`` package instead, whose default (``VERSION0``) syntax is
``re``'s, so every pattern that worked keeps working, lookarounds and backreferences included
(a linear-time engine such as RE2 would reject those). Each search gets ``timeout=``: at most
``CALL_SECONDS``, and never past the ``Budget`` of its guardrail item (``ITEM_SECONDS`` for all of
that item's searches together). Running out raises ``RegexTimeout``, which the guardrail reports
as a located error; the item then stops searching.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import time
from typing import TYPE_CHECKING
from typing import Any
from typing import AnyStr
from typing import Generic
from typing import TypeVar

if TYPE_CHECKING:
    import regex

#: the longest one search may take
CALL_SECONDS = 1.0
#: all the searches of one guardrail item together
ITEM_SECONDS = 20.0

#: ``regex``'s flags (the same values as ``re``'s: ``regex`` itself is imported on first use,
#: since a run whose results all come from the cache compiles no pattern)
IGNORECASE = 2
MULTILINE = 8
VERBOSE = 64


def _regex() -> Any:
    import regex

    return regex

_T = TypeVar("_T")


class RegexTimeout(Exception):
    """A search ran out of time: ``pattern`` is (almost certainly) catastrophic."""

    def __init__(self, pattern: str, seconds: float) -> None:
        super().__init__(f"pattern {pattern!r} took longer than {seconds:g} s (nested "
                         "quantifiers such as (a+)+ backtrack exponentially); not searched further")
        self.pattern = pattern
        self.seconds = seconds


@dataclass
class Budget:
    """The search time left for one guardrail item (time spent searching, not wall time)."""

    left: float = ITEM_SECONDS

    def run(self, pattern: str, call: Callable[[float], _T]) -> _T:
        """``call(timeout)``, charged to this budget; ``RegexTimeout`` when it runs out."""
        limit = max(min(CALL_SECONDS, self.left), 0.001)
        start = time.monotonic()
        try:
            return call(limit)
        except TimeoutError:
            raise RegexTimeout(pattern, limit) from None
        finally:
            self.left -= time.monotonic() - start


class Pattern(Generic[AnyStr]):
    """A compiled pattern whose every search is bounded by its ``Budget``."""

    def __init__(self, compiled: regex.Pattern[AnyStr], budget: Budget) -> None:
        # Any: the stubs' overloads cannot bind a method of a generic Pattern[AnyStr]
        self._compiled: Any = compiled
        self.pattern: AnyStr = compiled.pattern
        self.flags: int = compiled.flags
        self.budget = budget
        shown: object = compiled.pattern
        self._shown: str = (shown.decode("utf-8", "replace") if isinstance(shown, bytes)
                            else str(shown))

    def search(self, string: AnyStr, pos: int = 0) -> regex.Match[AnyStr] | None:
        return self.budget.run(self._shown,
                               lambda t: self._compiled.search(string, pos, timeout=t))

    def match(self, string: AnyStr, pos: int = 0) -> regex.Match[AnyStr] | None:
        return self.budget.run(self._shown, lambda t: self._compiled.match(string, pos, timeout=t))

    def finditer(self, string: AnyStr) -> list[regex.Match[AnyStr]]:
        """Every match, found within one bounded call."""
        return self.budget.run(self._shown,
                               lambda t: list(self._compiled.finditer(string, timeout=t)))


def compile_str(pattern: str, flags: int = 0, budget: Budget | None = None) -> Pattern[str]:
    """``pattern`` compiled (``regex.error`` if invalid), bounded by ``budget``."""
    return Pattern(_regex().compile(pattern, flags), budget or Budget())


def compile_bytes(pattern: bytes, flags: int = 0, budget: Budget | None = None) -> Pattern[bytes]:
    """A bytes pattern, as ``compile_str``."""
    return Pattern(_regex().compile(pattern, flags), budget or Budget())


def check(pattern: str | bytes) -> str | None:
    """Why ``pattern`` (a str or bytes pattern) does not compile, or None."""
    re = _regex()
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None
