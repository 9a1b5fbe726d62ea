"""Outputs: sinks that read the controller's one stream of outcomes (``report.Reporter.rows``),
one module each. They run on the controller only, once the session has finished."""
