"""Code uses no deprecated or banned API."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
import re
import tokenize
from typing import Any
from typing import Union

from pytest_guardrails.api import Finding
from pytest_guardrails.api import Guardrail
from pytest_guardrails.api import Run
from pytest_guardrails.options import ConfigError
from pytest_guardrails.options import Option
from pytest_guardrails.sources import Scan
from pytest_guardrails.sources import Source
from pytest_guardrails.sources import Unreadable
from pytest_guardrails.sources import python_files

NAME = "deprecated-api"

#: always banned; ``[tool.guardrails.deprecated-api.banned]`` adds to (or rewords) these
BUILTIN_BANNED: Mapping[str, str] = {
    "jsonschema.RefResolver": "use referencing.Registry (jsonschema >= 4.18)",
    "jsonschema.validators.RefResolver": "use referencing.Registry (jsonschema >= 4.18)",
}

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def _validate_banned(key: str, value: Any) -> None:
    for name in value:
        if not _DOTTED.fullmatch(name):
            raise ConfigError(f'{key}."{name}"',
                              f'{key}."{name}": expected a dotted name like "package.module.Name"')


OPTIONS = {
    "banned": Option("str-map", {},
                     "table of dotted name = replacement message, added to the built-in list "
                     "(`jsonschema.RefResolver`, `jsonschema.validators.RefResolver`)",
                     validate=_validate_banned),
}


class Banned:
    """The banned dotted names, matched as "is or ends with" on a dotted-name boundary."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = dict(names)
        self.by_last: dict[str, list[str]] = {}
        for name in self.names:
            self.by_last.setdefault(name.rpartition(".")[2], []).append(name)
        #: byte prefilter: every use spells the banned name's last component somewhere
        self.needles = tuple(last.encode() for last in self.by_last)

    def might_use(self, raw: bytes) -> bool:
        return any(needle in raw for needle in self.needles)

    def match(self, path: str) -> str | None:
        for name in self.by_last.get(path.rpartition(".")[2], ()):
            if path == name or path.endswith("." + name):
                return name
        return None

    def match_prefixes(self, path: str) -> str | None:
        """A banned name among ``a``, ``a.b``, ``a.b.c`` for ``path = "a.b.c"`` (imports)."""
        parts = path.split(".")
        for i in range(1, len(parts) + 1):
            hit = self.match(".".join(parts[:i]))
            if hit:
                return hit
        return None


# --- name resolution -----------------------------------------------------------------------

ScopeNode = Union[ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef]


@dataclass
class Scope:
    """Names bound in one scope: by an import (to a dotted path) or otherwise (locals)."""

    node: ScopeNode
    parent: Scope | None
    imports: dict[str, str] = field(default_factory=lambda: {})
    locals: set[str] = field(default_factory=lambda: set())
    stars: list[str] = field(default_factory=lambda: [])

    @property
    def is_class(self) -> bool:
        return isinstance(self.node, ast.ClassDef)


def _module_path(node: ast.ImportFrom) -> str:
    return "." * (node.level or 0) + (node.module or "")


def _join(module: str, name: str) -> str:
    return f"{module}{name}" if not module or module.endswith(".") else f"{module}.{name}"


def _body(node: ScopeNode) -> list[ast.AST]:
    """The nodes evaluated in ``node``'s own scope (not its decorators, defaults or bases)."""
    if isinstance(node, ast.Lambda):
        return [node.body]
    return list(node.body)


def _annotations(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.expr]:
    a = node.args
    for arg in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg):
        if arg is not None and arg.annotation is not None:
            yield arg.annotation
    if node.returns is not None:
        yield node.returns


def _bind(scope: Scope) -> None:
    """Fill ``scope`` with the names its own statements bind."""
    node = scope.node
    declared: set[str] = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = node.args
        for arg in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg):
            if arg is not None:
                scope.locals.add(arg.arg)
    stack = _body(node)
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope.locals.add(n.name)
            continue
        if isinstance(n, ast.Lambda):
            continue
        if isinstance(n, ast.Import):
            for alias in n.names:
                if alias.asname:
                    scope.imports[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    scope.imports[top] = top
        elif isinstance(n, ast.ImportFrom):
            module = _module_path(n)
            for alias in n.names:
                if alias.name == "*":
                    scope.stars.append(module)
                else:
                    scope.imports[alias.asname or alias.name] = _join(module, alias.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            declared.update(n.names)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            scope.locals.add(n.id)
        elif isinstance(n, ast.comprehension):
            stack.extend((n.iter, *n.ifs))  # its target binds in the comprehension's own scope
            continue
        elif isinstance(n, ast.ExceptHandler) and n.name:
            scope.locals.add(n.name)
        stack.extend(ast.iter_child_nodes(n))
    scope.locals -= declared
    for name in declared:
        scope.imports.pop(name, None)


def _lookup(scope: Scope, name: str, banned: Banned) -> str | None:
    """The dotted path ``name`` refers to in ``scope``, or None when not bound by an import."""
    current: Scope | None = scope
    first = True
    while current is not None:
        if first or not current.is_class:  # class bodies are not enclosing scopes
            if name in current.imports:
                return current.imports[name]
            if name in current.locals:
                return None
            if current.parent is None:
                for module in current.stars:
                    path = _join(module, name)
                    if banned.match(path):
                        return path
        first = False
        current = current.parent
    return None


# --- the scan --------------------------------------------------------------------------------


class _Visitor:
    def __init__(self, source: Source, banned: Banned) -> None:
        self.source = source
        self.banned = banned
        self.findings: list[Finding] = []

    def report(self, node: ast.AST | tuple[int, int], shown: str, name: str) -> None:
        """Report ``node`` (or a 1-based line and UTF-8 byte column) as a use of ``name``."""
        message = self.banned.names[name]
        what = f"`{shown}` is deprecated" if shown == name else f"`{shown}` is {name}, deprecated"
        if isinstance(node, tuple):
            line, col = node
        else:
            line = getattr(node, "lineno", 1)
            col = getattr(node, "col_offset", 0)
        self.findings.append(Finding(f"{what}: {message}", self.source.rel, line,
                                     self._char_col(line, col)))

    def _char_col(self, line: int, byte_col: int) -> int:
        text = self.source.line_text(line)
        if text.isascii():
            return byte_col + 1
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", "ignore")) + 1

    def scan_scope(self, node: ScopeNode, parent: Scope | None) -> None:
        scope = Scope(node, parent)
        _bind(scope)
        stack = _body(node)
        nested: list[ScopeNode] = []
        while stack:
            n = stack.pop()
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                nested.append(n)
                stack.extend(n.decorator_list)
                stack.extend(n.args.defaults)
                stack.extend(d for d in n.args.kw_defaults if d is not None)
                for annotation in _annotations(n):
                    stack.append(annotation)
                    self._string_annotation(annotation, scope)
                continue
            if isinstance(n, ast.ClassDef):
                nested.append(n)
                stack.extend((*n.decorator_list, *n.bases, *n.keywords))
                continue
            if isinstance(n, ast.Lambda):
                nested.append(n)
                stack.extend(n.args.defaults)
                stack.extend(d for d in n.args.kw_defaults if d is not None)
                continue
            self.visit(n, scope)
            if isinstance(n, ast.Attribute):
                stack.append(n.value)  # the chain's inner links are visited as attributes too
                continue
            if isinstance(n, ast.AnnAssign):
                self._string_annotation(n.annotation, scope)
            stack.extend(ast.iter_child_nodes(n))
        for child in nested:
            self.scan_scope(child, scope)

    def visit(self, n: ast.AST, scope: Scope) -> None:
        if isinstance(n, ast.Attribute):
            self.visit_expr(n, scope)
        elif isinstance(n, ast.Name):
            # a name bound by an import is reported at the import; a star import has none
            if _from_star(scope, n.id):
                path = _lookup(scope, n.id, self.banned)
                hit = self.banned.match(path) if path else None
                if hit:
                    self.report(n, n.id, hit)
        elif isinstance(n, ast.Import):
            for i, alias in enumerate(n.names):
                hit = self.banned.match_prefixes(alias.name)
                if hit:
                    self.report(self._where(n, i), alias.name, hit)
        elif isinstance(n, ast.ImportFrom):
            module = _module_path(n)
            hit = self.banned.match_prefixes(module.lstrip(".")) if module.lstrip(".") else None
            if hit:
                self.report(n, module, hit)
                return
            for i, alias in enumerate(n.names):
                if alias.name == "*":
                    continue
                path = _join(module, alias.name)
                hit = self.banned.match(path.lstrip("."))
                if hit:
                    self.report(self._where(n, i), path, hit)

    def _where(self, stmt: ast.Import | ast.ImportFrom, i: int) -> ast.AST | tuple[int, int]:
        """Where the ``i``-th name of an import statement is (its line and byte column)."""
        alias = stmt.names[i]
        if hasattr(alias, "lineno"):  # alias locations: Python >= 3.10
            return alias
        positions = _alias_positions(self.source, stmt)
        return positions[i] if positions is not None else stmt

    def visit_expr(self, node: ast.AST, scope: Scope) -> None:
        """Report ``node`` itself when it is an attribute chain naming a banned API."""
        if not isinstance(node, ast.Attribute):
            return
        parts: list[str] = []
        cur: ast.AST = node
        while isinstance(cur, ast.Attribute):
            parts.append(cur.attr)
            cur = cur.value
        if not isinstance(cur, ast.Name):
            return
        resolved = _lookup(scope, cur.id, self.banned) or cur.id
        path = ".".join([resolved, *reversed(parts)]).lstrip(".")
        hit = self.banned.match(path)
        if hit:
            shown = ".".join([cur.id, *reversed(parts)])
            self.report(node, shown, hit)

    def _string_annotation(self, node: ast.AST, scope: Scope) -> None:
        """Annotations written as strings (``"jsonschema.RefResolver"``) are parsed and checked."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                text = sub.value.strip()
                if not text or len(text) > 1000 or not self.banned.might_use(text.encode()):
                    continue
                try:
                    expr = ast.parse(text, mode="eval")
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    continue
                for inner in ast.walk(expr):
                    if isinstance(inner, ast.Attribute):
                        before = len(self.findings)
                        self.visit_expr(inner, scope)
                        for i in range(before, len(self.findings)):
                            f = self.findings[i]
                            line: int = sub.lineno
                            self.findings[i] = Finding(
                                f.message, f.path, line,
                                self._char_col(line, sub.col_offset))


def _from_star(scope: Scope, name: str) -> bool:
    current: Scope | None = scope
    while current is not None:
        if name in current.imports or name in current.locals:
            return False
        current = current.parent
    return True


_SKIPPED_TOKENS = frozenset((tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT,
                             tokenize.DEDENT))


def _alias_positions(source: Source, stmt: ast.Import | ast.ImportFrom
                     ) -> list[tuple[int, int]] | None:
    """(line, UTF-8 byte column) of each name an import statement imports, as Python >= 3.10 puts
    on ``ast.alias``, read from the statement's tokens; None if they cannot be told."""
    first = stmt.lineno
    last = stmt.end_lineno or first
    try:
        lines: list[str] = []
        for number in range(first, last + 1):
            raw = source.line_text(number).encode("utf-8")
            if number == last and stmt.end_col_offset is not None:
                raw = raw[:stmt.end_col_offset]
            if number == first:  # only the statement: blank out what precedes it on its line
                raw = b" " * stmt.col_offset + raw[stmt.col_offset:]
            lines.append(raw.decode("utf-8") + "\n")
        positions: list[tuple[int, int]] = []
        after_import = False
        expect_name = True
        for tok in tokenize.generate_tokens(iter(lines).__next__):
            if tok.type in _SKIPPED_TOKENS:
                continue
            if not after_import:
                after_import = tok.type == tokenize.NAME and tok.string == "import"
                continue
            if tok.string == ",":
                expect_name = True
            elif expect_name and (tok.type == tokenize.NAME or tok.string == "*"):
                row, col = tok.start
                text = lines[row - 1]
                positions.append((first + row - 1, len(text[:col].encode("utf-8"))))
                expect_name = False
                if len(positions) == len(stmt.names):
                    return positions
    except (tokenize.TokenError, SyntaxError, UnicodeError, IndexError):
        pass
    return None


def scan_source(source: Source, banned: Banned) -> list[Finding]:
    """Uses of banned names in one file; raises ``Unreadable`` for a file that does not parse."""
    visitor = _Visitor(source, banned)
    visitor.scan_scope(source.tree(), None)
    visitor.findings.sort(key=lambda f: (f.line or 0, f.col or 0))
    return visitor.findings


def check(run: Run) -> Iterator[Finding]:
    banned = Banned({**BUILTIN_BANNED, **run.settings["banned"]})
    target = run.target
    run.project.require_checked_out(target)
    scan = Scan(run)
    for source in scan.sources(python_files(run.project.files(target))):
        if not banned.might_use(source.raw):
            continue
        try:
            yield from scan_source(source, banned)
        except Unreadable as exc:
            scan.error(source.rel, Unreadable(
                f"{exc.message}; cannot check it for deprecated APIs (fix it, or add it to "
                "[tool.guardrails] exclude)", exc.line, exc.col))
    yield from scan.finish()


GUARDRAIL = Guardrail(
    name=NAME,
    code="GR006",
    summary=__doc__ or "",
    check=check,
    options=OPTIONS,
    noun="deprecated API use",
    fix="replace each use as its message says; see docs/guardrails/deprecated-api.md",
    cache_inputs="python",
)
