"""pytest-guardrails: a repository's CI guardrails as pytest items."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # resolved on first use so importing the plugin stays cheap; pyproject.toml holds the version
    if name == "__version__":
        from importlib.metadata import version

        return version("pytest-guardrails")
    raise AttributeError(name)
