"""Structured logs: one JSON object per line ("json") or readable lines ("console").

django-structlog binds request_id (accepted from X-Request-ID) to every line and passes it to
Celery tasks; shop.celery keeps these settings in the worker too.
"""
import structlog

# What every line gets, from structlog and from the standard library's loggers alike.
SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def logging_config(*, log_format: str, level: str) -> dict:
    """LOGGING: the root logger at `level` writes `log_format` ("json" or "console") lines to
    stderr. A client's error (4xx: PermissionDenied, a SuspiciousOperation) is one line, never a
    traceback (shop.observability.ClientErrorsWithoutTraceback)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                               structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
                "foreign_pre_chain": SHARED_PROCESSORS,
            },
            "console": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processor": structlog.dev.ConsoleRenderer(colors=False),
                "foreign_pre_chain": SHARED_PROCESSORS,
            },
        },
        "filters": {"client_errors_without_traceback": {"()": "shop.observability.ClientErrorsWithoutTraceback"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format,
                                 "filters": ["client_errors_without_traceback"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}, "celery.app.trace": {"level": "WARNING"}},
    }


def configure_structlog() -> None:
    """Route structlog's loggers through the standard library's, formatted by LOGGING's formatters."""
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *SHARED_PROCESSORS,
                    structlog.processors.StackInfoRenderer(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
