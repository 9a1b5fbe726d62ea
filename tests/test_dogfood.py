"""The project passes its own guardrails in strict mode (what its CI workflow runs)."""

from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys

import pytest

ROOT = Path(__file__).parent.parent


def _activated(env: dict[str, str]) -> dict[str, str]:
    """The environment after ``source venv/bin/activate``."""
    path = [os.path.dirname(sys.executable), *env.get("PATH", "").split(os.pathsep)]
    return {**env, "VIRTUAL_ENV": sys.prefix, "PATH": os.pathsep.join(path)}


def _not_activated(env: dict[str, str]) -> dict[str, str]:
    """The environment of ``venv/bin/python -m pytest`` typed without activating the venv: no
    ``VIRTUAL_ENV`` and no directory of this interpreter on ``PATH``, so PATH's first python
    (if any) is another one, lacking pytest and the plugin's other dependencies."""
    here = {os.path.dirname(sys.executable), os.path.dirname(os.path.realpath(sys.executable))}
    path = [d for d in env.get("PATH", "").split(os.pathsep) if d and d not in here]
    env = {k: v for k, v in env.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(path)
    return env


@pytest.mark.parametrize("activated", [True, False], ids=["activated", "not-activated"])
def test_own_guardrails_pass_strict(activated: bool) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "STRICT_"))}
    env["STRICT_GUARDRAILS"] = "1"
    args = ["-n", "2"]
    if activated:
        env = _activated(env)
    else:
        env = _not_activated(env)
        args = ["-k", "pyright"]  # the guardrail that depends on the environment
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--guardrails-only", "-p", "no:cacheprovider", "-q",
         "-rfEs", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout.splitlines()[-1]
    assert "reportMissingImports" not in proc.stdout
