"""gunicorn settings for the `web` process (Procfile, docker-compose.yml): HTML and the API over WSGI.

Sync workers: on this machine Django pages measured several times faster under gunicorn's sync
workers than under ASGI, so HTML goes through WSGI and daphne serves only /ws/.
WEB_CONCURRENCY sets the number of workers (default 2: one per core of the reference machine;
gunicorn's docs suggest 2-4 per core for I/O-bound apps).
"""
import os

worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))  # seconds before a stuck worker is restarted
graceful_timeout = 20  # seconds a worker gets to finish its request on shutdown
keepalive = 5  # seconds, behind nginx's keep-alive upstream pool
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "5000"))  # recycle workers (slow leaks)
max_requests_jitter = 500
accesslog = None  # nginx writes the access log (with the request id); Django logs each request as JSON
errorlog = "-"
if os.environ.get("DJANGO_LOG_FORMAT", "json" if os.environ.get("DJANGO_DEBUG", "").lower() == "false" else "") == "json":
    # gunicorn's own lines (boot, worker exits, timeouts) as JSON too, like the app's (shop/settings.py).
    import structlog

    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                           structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
            "foreign_pre_chain": [structlog.stdlib.add_logger_name, structlog.stdlib.add_log_level,
                                  structlog.processors.TimeStamper(fmt="iso", utc=True)],
        }},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    }
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips
# gunicorn 27's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): two stacks
# on one machine would fight over it. Keep it beside the run's other sockets, or off.
_run_dir = os.environ.get("ISHOP_RUN_DIR")
if _run_dir:
    control_socket = os.path.join(_run_dir, "gunicorn.ctl")
else:
    control_socket_disable = True


def child_exit(server, worker):
    """prometheus_client multiprocess mode: drop the live gauges of a worker that exited."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
