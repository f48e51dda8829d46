"""structlog set-up: JSON lines when not on a terminal, readable lines on one; one format per run.

Log events have stable dotted names (`gateway.event_stored`, `alert.opened`) and carry their
context as key/value pairs (device_id, alert_id), never formatted into the text. Libraries that use
the standard logging module (uvicorn, alembic, amqtt, APScheduler) go through structlog's
ProcessorFormatter with the same renderer, so a run never mixes two formats.
"""

from __future__ import annotations

import logging
import sys

import structlog

# Chatty libraries: their routine lines ("Running job …", "executed successfully", "Added job") were
# most of a demo's log; their warnings and errors still show.
# libraries whose INFO lines are noise, or worse: httpx logs each request's URL, and WeCom's API
# takes its access token in the URL
QUIET = ("amqtt", "transitions", "apscheduler", "httpx", "httpcore")


def configure_logging(level: str = "info", fmt: str = "auto", stream=None) -> None:
    stream = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False) if use_json else structlog.dev.ConsoleRenderer()
    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            stamp,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, stamp],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.INFO, logging.getLevelNamesMapping()[level.upper()]))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # to the root's handler, not uvicorn's own
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
