"""The server's logs, as text or as one JSON object per line (``PUSTULA_LOG_FORMAT=json``),
for a log collector.

No personal data: an access line names the route (``subject_timeline``), the method, the
status and the time taken. It has no path (paths hold subject codes and patients' tokens),
no query string, no client address and no form value. The app's own messages are written
to say what happened without the values entered (see the privacy rule in contributing.md).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = ["ACCESS", "JsonFormatter", "configure_logging"]

#: One line per request, written by :class:`pustula.web.metrics.RequestMetrics`.
ACCESS = logging.getLogger("pustula.access")
_FIELDS = ("route", "method", "status", "ms")


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time (UTC), level, logger, message, and an access
    line's route, method, status and milliseconds.

    >>> record = logging.LogRecord("pustula.access", logging.INFO, "", 0, "request", (), None)
    >>> record.route, record.method, record.status, record.ms = "dashboard", "GET", 200, 3.2
    >>> line = json.loads(JsonFormatter().format(record))
    >>> line["logger"], line["route"], line["status"]
    ('pustula.access', 'dashboard', 200)
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info and record.exc_info[0] is not None:
            # the kind of failure only: a traceback's locals and messages can quote values
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(fmt: str) -> None:
    """Send Pustula's and uvicorn's logs to standard error as ``fmt`` (text or json); in
    JSON, with an access line per request (text keeps a demo's terminal quiet)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("pustula").setLevel(logging.INFO)
    ACCESS.setLevel(logging.INFO if fmt == "json" else logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn = logging.getLogger(name)
        uvicorn.handlers[:] = []
        uvicorn.propagate = True
    # uvicorn's own access line has the path and the client's address: ours has neither
    logging.getLogger("uvicorn.access").disabled = True
