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
import os
import queue
import sys
import threading
from logging.handlers import QueueHandler, QueueListener
from multiprocessing.util import Finalize
from typing import Any, TextIO

__all__ = ["log_config"]


class _Queued(QueueHandler):
    """A queue in front of a stream handler (which the formatter dictConfig assigns is passed on to).
    Its writer thread starts with the first record of each process, so a forked worker gets its own."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(queue.SimpleQueue())
        self.target = logging.StreamHandler(stream)
        self._listener: QueueListener | None = None
        self._pid = 0
        self._starting = threading.Lock()

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        self.target.setFormatter(fmt)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # The writer thread formats it: uvicorn's access records carry their values in ``args``
        # (strings and numbers), which stay as they are.
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        if self._pid != os.getpid():
            self._start()
        self.queue.put_nowait(record)

    def _start(self) -> None:
        with self._starting:
            if self._pid == os.getpid():
                return
            self.queue = queue.SimpleQueue()  # not the one a parent process's thread was reading
            self._listener = QueueListener(self.queue, self.target, respect_handler_level=False)
            self._listener.start()
            self._pid = os.getpid()
        # What is queued is written before the process ends: at exit, and in a worker process
        # (multiprocessing ends those without running atexit) from its exit function.
        atexit.register(self._stop)
        Finalize(self, self._stop, exitpriority=10)

    def _stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None and self._pid == os.getpid():
            listener.stop()

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
