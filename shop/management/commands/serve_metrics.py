"""`python manage.py serve_metrics [--port 9808] [--addr 0.0.0.0]`: the Prometheus exposition of
shop.observability.metrics_registry() on a port of its own (Kubernetes: the `metrics` container of
the web, ws and worker pods, deploy/k8s/base).

It reads the samples every process of its pod writes to PROMETHEUS_MULTIPROC_DIR (a volume the
pod's containers share), so one scrape sums the gunicorn workers, daphne or the Celery pool
processes, the same figures /metrics gives behind nginx. Prometheus reaches it by the pod's
address: no Host header to allow, no HTTPS redirect, and nothing of it is behind the Ingress.
Access is the network's business (the NetworkPolicy `metrics-from-prometheus`)."""
import os

import prometheus_client
from django.core.management.base import BaseCommand, CommandError

from shop.observability import metrics_registry


class Command(BaseCommand):
    help = "Serve the Prometheus metrics of every process sharing PROMETHEUS_MULTIPROC_DIR on their own port."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=9808, help="TCP port (default 9808)")
        parser.add_argument("--addr", default="0.0.0.0", help="address to listen on (default: all)")

    def handle(self, *args, port: int, addr: str, **options):
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not directory:
            raise CommandError("PROMETHEUS_MULTIPROC_DIR is not set: there are no other processes' samples to serve.")
        if not os.path.isdir(directory):
            raise CommandError(f"PROMETHEUS_MULTIPROC_DIR={directory} is not a directory.")
        server, thread = prometheus_client.start_http_server(port, addr, registry=metrics_registry())
        self.stdout.write(f"Serving the metrics of {directory} on http://{addr}:{server.server_port}/metrics")
        self.stdout.flush()
        thread.join()  # until the process is stopped (SIGTERM ends it)
