"""The project passes its own guardrails in strict mode (what its CI workflow runs)."""

from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).parent.parent


def test_own_guardrails_pass_strict() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "STRICT_"))}
    env["STRICT_GUARDRAILS"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--guardrails-only", "-p", "no:cacheprovider", "-q",
         "-n", "2", "-rfEs"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout.splitlines()[-1]
