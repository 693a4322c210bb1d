"""The access log of ``kasse serve``, off the request's path.

uvicorn formats each access line and writes it to stdout in the event loop, between one request and the
next: a slow terminal or a full pipe stalls every connection of the process. Here uvicorn's access
handler is a queue: the request only enqueues its record (no formatting, no write), and one thread per
process formats it with uvicorn's own formatter and writes it — the same lines, in the same order.
"""

from __future__ import annotations

import atexit
import copy
import logging
import queue
import sys
from logging.handlers import QueueHandler, QueueListener
from typing import Any, TextIO

__all__ = ["log_config"]


class _Queued(QueueHandler):
    """A queue in front of a stream handler, which the formatter dictConfig assigns is passed on to."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(queue.SimpleQueue())
        self.target = logging.StreamHandler(stream)
        self.listener = QueueListener(self.queue, self.target, respect_handler_level=False)
        self.listener.start()
        atexit.register(self._stop)  # drains what is queued before the process ends

    def _stop(self) -> None:
        if self.listener._thread is not None:  # stopping twice would fail
            self.listener.stop()

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        self.target.setFormatter(fmt)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # The listener's handler formats it: uvicorn's access records carry their values in ``args``
        # (strings and numbers), which stay as they are.
        return record

    def close(self) -> None:
        self._stop()
        self.target.close()
        super().close()


def queued_stdout() -> logging.Handler:
    return _Queued(sys.stdout)


def log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration, with the access handler queued."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"] = {"()": "kasse.cli.accesslog.queued_stdout", "formatter": "access"}
    return config
