"""A stand-in for the execution half of VS Code's pytest adapter (``vscode_pytest``, shipped in
the VS Code Python extension), written for these tests from its documented behaviour.

Like the adapter, it writes one JSON-RPC frame per decided test report to the named pipe in
``TEST_RUN_PIPE`` (``content-length: N``, ``content-type``, a blank line, the JSON body), with
``params = {"cwd", "status", "result": {<absolute test id>: outcome}, ...}``. As in the adapter,
an outcome's ``message`` is the report's ``longreprtext`` for a failure and ``None`` for anything
else (a skip or an xfail reaches VS Code as "skipped" without text). One field is extra and not
sent by VS Code: ``sections``, the report's own sections, which is where an item's output lives.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO

import pytest

_writer: list[IO[bytes]] = []


def _send(payload: dict[str, object]) -> None:
    if not _writer:
        _writer.append(open(os.environ["TEST_RUN_PIPE"], "wb"))  # kept open, as the adapter does
    data = json.dumps({"jsonrpc": "2.0", "params": payload})
    frame = f"content-length: {len(data)}\r\ncontent-type: application/json\r\n\r\n{data}"
    _writer[0].write(frame.encode("utf-8"))
    _writer[0].flush()


def pytest_report_teststatus(report: pytest.TestReport) -> None:
    if not (report.when == "call" or (report.when == "setup" and report.skipped)):
        return
    outcome = "success" if report.passed else "failure" if report.failed else "skipped"
    test_id = "::".join([str(Path(report.fspath).resolve()), *report.nodeid.split("::")[1:]])
    result = {"test": test_id, "outcome": outcome,
              "message": report.longreprtext if report.failed else None,
              "traceback": None, "subtest": None,
              "sections": [list(s) for s in report.sections]}
    _send({"cwd": os.getcwd(), "status": "success", "result": {test_id: result},
           "not_found": None, "error": None})


def pytest_unconfigure() -> None:
    if _writer:
        _writer.pop().close()
    elif "TEST_RUN_PIPE" in os.environ:
        open(os.environ["TEST_RUN_PIPE"], "wb").close()  # let the reader finish
