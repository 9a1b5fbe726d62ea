"""Hooks pytest-guardrails adds to pytest (``pytest_addhooks``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_guardrails.api import Guardrail


@pytest.hookspec
def pytest_guardrails_register(config: pytest.Config) -> Sequence[Guardrail]:
    """Return extra guardrails (``pytest_guardrails.api.Guardrail`` records) to collect.

    :param config: The pytest config object.

    Called once per process when guardrails are enabled, after the plugins and the rootdir
    ``conftest.py`` are loaded, before ``[tool.guardrails]`` is validated, so the options of the
    returned guardrails are validated like the built-in ones and their ids can be waived.

    Use in conftest plugins: only ``conftest.py`` files loaded at startup (the rootdir's) are
    seen. ``--guardrails-only`` loads no ``conftest.py``; load a plugin module with ``-p`` or
    ship an entry point in the ``pytest_guardrails`` group instead.
    """
    raise NotImplementedError
