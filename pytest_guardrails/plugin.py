"""The pytest11 entry point. Cheap on purpose: without ``--guardrails`` (or an argument naming
``pyproject.toml``) it adds options, a marker and a hookspec, and nothing else is imported,
collected or run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MARKER = "guardrail: a repository guardrail item (pytest-guardrails)"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("guardrails", "repository guardrails (pytest-guardrails)")
    group.addoption(
        "--guardrails", action="store_true", default=False,
        help="Also collect the repository's guardrails as items under pyproject.toml",
    )
    group.addoption(
        "--guardrails-only", action="store_true", default=False,
        help="Collect only the guardrails: no test files, no conftest.py",
    )
    group.addoption(
        "--guardrails-mode", choices=("warn", "strict"), default=None,
        help="warn: findings xfail, nothing fails; strict: findings fail. "
        "Overrides STRICT_GUARDRAILS and [tool.guardrails] mode",
    )
    group.addoption(
        "--guardrails-no-cache", action="store_true", default=False,
        help="Run every guardrail again instead of reusing results whose inputs did not change "
        "(kept in pytest's cache; see docs/cache.md)",
    )
    group.addoption(
        "--guardrails-sarif", metavar="FILE", default=None,
        help="Write the guardrails' findings to FILE as SARIF 2.1.0 (for code scanning)",
    )
    group.addoption(
        "--guardrails-baseline-write", action="store_true", default=False,
        help="Write every current finding to the baseline file (guardrails-baseline.json or "
        "[tool.guardrails] baseline); known findings then no longer count",
    )
    group.addoption(
        "--guardrails-baseline-against", metavar="REF", default=None,
        help="Add the item baseline-growth: fails when the baseline has entries that the baseline "
        "at the merge-base of REF and HEAD lacks",
    )


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_guardrails import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


#: config files pytest may choose instead of pyproject.toml; guardrails then hang under it
INI_ANCHORS = ("pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg")


def anchor_of(config: pytest.Config) -> Path:
    """``<rootdir>/pyproject.toml``; without one, the config file pytest chose in the rootdir
    (``pytest.ini``, ``tox.ini``, ``setup.cfg``), so such a repository still gets guardrails."""
    pyproject = config.rootpath / "pyproject.toml"
    inipath = config.inipath
    if (not pyproject.is_file() and inipath is not None and inipath.parent == config.rootpath
            and inipath.name in INI_ANCHORS and inipath.is_file()):
        return inipath
    return pyproject


def addresses_anchor(arg: str, invocation_dir: Path, anchor: Path) -> bool:
    """``arg`` is ``pyproject.toml`` itself or a node id below it."""
    path = arg.split("::", 1)[0]
    return os.path.abspath(invocation_dir / path) == str(anchor)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    ns = early_config.known_args_namespace
    if getattr(ns, "guardrails_only", False):
        # the host-level CI layer has no app dependencies: import no conftest.py at all
        ns.noconftest = True


def enabled(config: pytest.Config) -> bool:
    if config.getoption("guardrails") or config.getoption("guardrails_only"):
        return True
    anchor = anchor_of(config)
    invocation_dir = config.invocation_params.dir
    return any(addresses_anchor(str(a), invocation_dir, anchor) for a in config.args)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    if not enabled(config):
        if config.getoption("guardrails_sarif"):
            raise pytest.UsageError(
                "--guardrails-sarif writes the guardrails' findings; add --guardrails or "
                "--guardrails-only to run them")
        return
    from pytest_guardrails.session import GuardrailsSession

    config.pluginmanager.register(GuardrailsSession.create(config), GuardrailsSession.NAME)
