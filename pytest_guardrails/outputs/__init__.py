"""Outputs: sinks that read the controller's one stream of outcomes (``report.Reporter.rows``),
one module each. They run on the controller only, once the session has finished."""

from __future__ import annotations

import os


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def step_summary_file() -> str | None:
    """The file GitHub gave for the step summary (``$GITHUB_STEP_SUMMARY``), else None."""
    return os.environ.get("GITHUB_STEP_SUMMARY") or None


def github_wanted() -> bool:
    """GitHub Actions runs this session or gave it a step summary file: only then is the
    ``github`` output imported (it is a few milliseconds every run otherwise)."""
    return in_github_actions() or step_summary_file() is not None
