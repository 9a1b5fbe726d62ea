"""Outputs: sinks that read the controller's one stream of outcomes (``report.Reporter.rows``),
one module each. They run on the controller only, once the session has finished."""

from __future__ import annotations

import os


def github_wanted() -> bool:
    """GitHub Actions runs this session or gave it a step summary file: only then is the
    ``github`` output imported (it is a few milliseconds every run otherwise)."""
    return os.environ.get("GITHUB_ACTIONS") == "true" or bool(os.environ.get("GITHUB_STEP_SUMMARY"))
