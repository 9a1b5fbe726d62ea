"""grep and POSIX regex habits that Python's ``re`` would read differently, without an error.

``[[:space:]]`` is, to ``re``, the class ``[[:space:]`` then a literal ``]``; ``\\<`` and ``\\>``
are a literal ``<`` and ``>``; ``\\|`` (BRE alternation) is a literal ``|``. Each would match
something else than the author meant, silently. ``habit(pattern)`` finds the first one and says
how Python spells it.
"""

from __future__ import annotations

import re

#: POSIX bracket classes and their spelling inside a Python character class
POSIX_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r"\s", "blank": r" \t", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f",
    "cntrl": r"\x00-\x1f\x7f", "print": r"\x20-\x7e", "graph": r"\x21-\x7e", "word": r"\w",
}
_POSIX = re.compile(r"\[:([a-z]+):\]")
_ESCAPES = {
    "<": r"`\b` (a word boundary; `\b(?=\w)` for a word start only)",
    ">": r"`\b` (a word boundary; `\b(?<=\w)` for a word end only)",
    "|": "`|` for alternation (`\\|` is a literal `|` in Python; write `[|]` to make that plain)",
}


def habit(pattern: str) -> str | None:
    """What in ``pattern`` is grep syntax, and the Python spelling; None when there is none."""
    i, n = 0, len(pattern)
    in_class = False
    class_start = 0
    while i < n:
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1:i + 2]
            if not in_class and nxt in _ESCAPES:
                return f"`\\{nxt}` is grep syntax; in Python write {_ESCAPES[nxt]}"
            i += 2
            continue
        if in_class:
            m = _POSIX.match(pattern, i)
            if m is not None:
                return _class_message(m)
            if c == "]" and i > class_start:
                in_class = False
        elif c == "[":
            m = _POSIX.match(pattern, i)
            if m is not None:  # "[:space:]" alone: a POSIX class outside a bracket expression
                return _class_message(m)
            in_class = True
            j = i + 1
            if pattern[j:j + 1] == "^":
                j += 1
            class_start = j + 1 if pattern[j:j + 1] == "]" else j  # "[]..." starts with "]"
            i = j
            continue
        i += 1
    return None


def _class_message(m: re.Match[str]) -> str:
    name = m.group(1)
    spelling = POSIX_CLASSES.get(name)
    if spelling is None:
        return f"`{m.group()}` looks like a POSIX character class, which Python does not have"
    return (f"`{m.group()}` is a POSIX character class, which Python does not have; inside "
            f"brackets write `{spelling}` (e.g. `[{spelling}]`)")
