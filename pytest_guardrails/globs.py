"""Path globs anchored at a root: ``*`` and ``?`` stay within a path segment, ``**`` spans any
number of directories (``docs/**/*.md`` matches ``docs/a.md`` and ``docs/x/y/a.md``). A pattern
without wildcards also matches everything below it, as a git pathspec does (``app/shaderlib``
and ``app/shaderlib/`` match ``app/shaderlib/a/b.glsl``).

Many globs compile into one regular expression, so matching a file list is one ``re`` call per
file. Globs come from the repository's configuration, so ``problem`` bounds them before use: a glob
with dozens of ``*`` would backtrack polynomially (``*a*a*a...``) on every path; repeated ``**/``
collapse into one.
"""

from __future__ import annotations

from collections.abc import Iterable
import re


def glob_to_regex(pattern: str) -> str:
    """Translate one glob into a regex (no anchors)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                at_start = i == 0 or pattern[i - 1] == "/"
                j = i + 2
                if at_start and j < n and pattern[j] == "/":
                    out.append("(?:.*/)?")  # "**/" = zero or more directories
                    i = j + 1
                    while pattern.startswith("**/", i):  # "**/**/" is "**/"
                        i += 3
                    continue
                if at_start and j == n:
                    out.append(".*")  # trailing "**" = everything below
                    i = j
                    continue
                out.append(".*")
                i = j
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("!", "]") else i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


_WILDCARDS = re.compile(r"[*?\[]")


def pattern_regex(pattern: str) -> str:
    """``glob_to_regex``, plus everything below a pattern without wildcards (a directory)."""
    if _WILDCARDS.search(pattern):
        return glob_to_regex(pattern)
    bare = pattern.rstrip("/")
    if not bare:
        return ".*"
    return f"{re.escape(bare)}(?:/.*)?"


#: the most wildcards (``*``, ``?``, ``[...]``) one glob may hold, and its longest length
MAX_WILDCARDS = 16
MAX_LENGTH = 1024
_WILDCARD = re.compile(r"\*+|\?|\[")


def problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used as a glob (too many wildcards, too long, an invalid
    ``[...]`` class), or None."""
    if len(pattern) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    wildcards = len(_WILDCARD.findall(pattern))
    if wildcards > MAX_WILDCARDS:
        return (f"{wildcards} wildcards (at most {MAX_WILDCARDS}: each one multiplies the work of "
                "matching every path)")
    try:
        re.compile(glob_to_regex(pattern))
    except re.error as exc:
        return f"invalid: {exc}"
    return None


class GlobSet:
    """A set of root-anchored globs, matched against posix relative paths."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        if self.patterns:
            body = "|".join(f"(?:{pattern_regex(p)})" for p in self.patterns)
            self._regex: re.Pattern[str] | None = re.compile(f"(?s:{body})\\Z")
        else:
            self._regex = None

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def match(self, path: str) -> bool:
        return self._regex is not None and self._regex.match(path) is not None

    def filter(self, paths: Iterable[str]) -> list[str]:
        if self._regex is None:
            return []
        m = self._regex.match
        return [p for p in paths if m(p)]
