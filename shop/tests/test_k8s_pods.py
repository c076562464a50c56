"""Issue 30: the prod overlay's pods, run here as the kubelet would run them: each container's
rendered command after $(VAR) expansion, with the rendered environment (secrets filled in).
Only what a pod gets from its cluster differs: local ports instead of the pod's, the test
database and Redis instead of the managed ones, one process per pool, and a temporary folder for
the pod's PROMETHEUS_MULTIPROC_DIR emptyDir, which the container and its metrics container share.

The probes are sent as the kubelet sends them (its headers, its Host unless the probe names
one; 200-399 is success) and must be truthful 200s; the worker's exec probe is run as written.
"""
import http.client
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from catalog.tests.conftest import _database_url
from catalog.tests.test_consumers import free_port
from shop.tests import kube

OVERLAY = "prod"


@dataclass
class Pod:
    """The processes of one pod, each logging to its own file under `directory`."""
    objects: list
    directory: Path
    overrides: dict
    processes: dict = field(default_factory=dict)

    def env(self, container: kube.Container, **extra: str) -> dict[str, str]:
        return kube.process_env(self.objects, container, **{**self.overrides, **extra})

    def start(self, container: kube.Container, **extra: str) -> subprocess.Popen:
        env = self.env(container, **extra)
        words = kube.command_words(container, env)
        with open(self.directory / f"{container.name}.log", "wb") as log:
            process = subprocess.Popen(words, cwd=kube.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes[container.name] = process
        return process

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def pod(transactional_db, tmp_path):
    """A pod of the prod overlay on this machine's PostgreSQL (the test database) and Redis."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("the pods' processes need PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (make test and CI do)")
    prometheus = tmp_path / "prometheus"
    prometheus.mkdir()
    overrides = {"DATABASE_URL": _database_url(connection.settings_dict), "REDIS_URL": settings.REDIS_URL,
                 "PROMETHEUS_MULTIPROC_DIR": str(prometheus), "WEB_CONCURRENCY": "1", "CELERY_CONCURRENCY": "1",
                 "HOME": str(tmp_path)}
    running = Pod(kube.render(OVERLAY), tmp_path, overrides)
    yield running
    running.stop()


def kubelet_get(port: int, probe: dict) -> tuple[int, bytes]:
    """An httpGet `probe` as the kubelet sends it to a pod on 127.0.0.1:`port`: its headers over
    the kubelet's own (Host: the pod's address), within its timeoutSeconds (default 1)."""
    get = probe["httpGet"]
    headers = {"User-Agent": f"kube-probe/{kube.KUBERNETES_VERSION}", "Accept": "*/*", "Connection": "close",
               "Host": f"127.0.0.1:{port}"}
    headers.update({header["name"]: header["value"] for header in get.get("httpHeaders", [])})
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=probe.get("timeoutSeconds", 1))
    try:
        client.putrequest("GET", get["path"], skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            client.putheader(name, value)
        client.endheaders()
        response = client.getresponse()
        return response.status, response.read()
    finally:
        client.close()


def wait_for_startup(container: kube.Container, port: int, process: subprocess.Popen, log) -> None:
    """Poll the startup probe as often and as long as it allows (periodSeconds x failureThreshold)."""
    probe = container.spec["startupProbe"]
    deadline = time.monotonic() + probe["periodSeconds"] * probe["failureThreshold"]
    while True:
        assert process.poll() is None, f"{container.name} exited:\n{log()}"
        try:
            if kubelet_get(port, probe)[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{container.name} failed its startup probe:\n{log()}"
        time.sleep(0.5)


def scrape(port: int) -> str:
    """What Prometheus gets from the pod's metrics container (its own port, the pod's address)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            client.request("GET", "/metrics")
            response = client.getresponse()
            assert response.status == 200
            return response.read().decode()
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "the metrics container never listened"
            time.sleep(0.3)


def test_the_web_pod_answers_its_probes_and_its_metrics_container_sums_its_workers(pod):
    web, metrics = kube.main_container(pod.objects, "web"), container_named(pod.objects, "web", "metrics")
    port, metrics_port = free_port(), free_port()
    process = pod.start(web, WEB_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2")
    start_metrics(pod, metrics, metrics_port)
    wait_for_startup(web, port, process, lambda: pod.log("web"))
    assert kubelet_get(port, web.spec["livenessProbe"]) == (200, b'{"status": "ok"}')
    assert kubelet_get(port, web.spec["readinessProbe"]) == (200, b'{"status": "ready"}')
    # Without the probes' Host and X-Forwarded-Proto, Django would refuse the pod's address (400),
    # and a probe that is a 301 to https would pass whatever /ready/ says.
    assert kubelet_get(port, {"httpGet": {"path": "/ready/"}, "timeoutSeconds": 8})[0] == 400
    # Whichever of the two gunicorn workers answers, one scrape of the metrics container counts it.
    health = re.compile(r'^django_http_responses_total_by_status_view_method_total\{method="GET",status="200",'
                        r'view="health"\} (\S+)$', re.M)
    before = float(health.search(scrape(metrics_port)).group(1))
    for _ in range(20):
        assert kubelet_get(port, web.spec["livenessProbe"])[0] == 200
    assert float(health.search(scrape(metrics_port)).group(1)) == before + 20
    # A stop (SIGTERM after the preStop pause) ends gunicorn well inside the grace period.
    grace = web.pod["terminationGracePeriodSeconds"] - int(web.spec["lifecycle"]["preStop"]["exec"]["command"][-1])
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=grace) == 0 and time.monotonic() - started < grace


def container_named(objects: list, deployment: str, name: str) -> kube.Container:
    return next(c for c in kube.containers(objects, include_init=False)
                if c.workload["metadata"]["name"] == deployment and c.name == name)


def start_metrics(pod: Pod, metrics: kube.Container, port: int) -> subprocess.Popen:
    """The metrics container on a local port (the rendered command names the pod's port)."""
    words = kube.command_words(metrics, pod.env(metrics))
    assert words[-2:] == ["--port", str(metrics.spec["ports"][0]["containerPort"])]
    env = pod.env(metrics)
    with open(pod.directory / "metrics.log", "wb") as log:
        process = subprocess.Popen([*words[:-1], str(port), "--addr", "127.0.0.1"], cwd=kube.ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    pod.processes["metrics"] = process
    return process


def test_the_ws_pod_answers_its_probes_and_takes_a_websocket_from_the_shop(pod):
    ws, metrics = kube.main_container(pod.objects, "ws"), container_named(pod.objects, "ws", "metrics")
    port, metrics_port = free_port(), free_port()
    process = pod.start(ws, WS_ENDPOINT=f"tcp:{port}:interface=127.0.0.1")
    start_metrics(pod, metrics, metrics_port)
    wait_for_startup(ws, port, process, lambda: pod.log("ws"))
    assert kubelet_get(port, ws.spec["livenessProbe"])[0] == 200
    assert kubelet_get(port, ws.spec["readinessProbe"]) == (200, b'{"status": "ready"}')
    # As the Ingress passes it on: the shop's Host, the shop's page as the Origin.
    host = pod.env(ws)["SHOP_BASE_URL"].removeprefix("https://")
    before = open_sockets(scrape(metrics_port))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            connect(f"ws://{host}/ws/inventory/", sock=raw, origin=f"https://{host}", open_timeout=10) as client:
        client.send('{"type": "subscribe", "variants": [1]}')
        assert client.recv(timeout=10) == '{"type": "subscribed", "variants": [1]}'
        assert open_sockets(scrape(metrics_port)) == before + 1


def open_sockets(metrics: str) -> float:
    """ishop_websocket_connections_open{stream="inventory"}: shop-wide, kept in Redis."""
    return float(re.search(r'^ishop_websocket_connections_open\{stream="inventory"\} (\S+)$', metrics, re.M).group(1))


def test_the_worker_pod_answers_its_ping_probe_and_fails_it_once_stopped(pod):
    worker, metrics = kube.main_container(pod.objects, "worker"), container_named(pod.objects, "worker", "metrics")
    queue = f"k8s-{uuid.uuid4().hex[:12]}"  # this worker alone consumes it
    from analytics import events

    events.clear_buffer()  # the worker's start-up rollup must not write events other tests buffered
    process = pod.start(worker, CELERY_TASK_DEFAULT_QUEUE=queue)
    metrics_port = free_port()
    start_metrics(pod, metrics, metrics_port)
    # The kubelet sets HOSTNAME to the pod's name, which is also the host name Celery names its node by.
    probe_env = pod.env(worker, CELERY_TASK_DEFAULT_QUEUE=queue, HOSTNAME=socket.gethostname())
    startup = worker.spec["startupProbe"]

    def ping(probe: dict) -> subprocess.CompletedProcess:
        return subprocess.run(probe["exec"]["command"], cwd=kube.ROOT, env=probe_env, capture_output=True,
                              text=True, timeout=probe["timeoutSeconds"])

    try:
        deadline = time.monotonic() + startup["periodSeconds"] * startup["failureThreshold"]
        while (result := ping(startup)).returncode != 0:
            assert process.poll() is None, pod.log("worker")
            assert time.monotonic() < deadline, f"the startup probe never passed:\n{result.stdout}{result.stderr}"
            time.sleep(1)
        assert "pong" in result.stdout
        # The start-up recovery tasks ran in the pool: the metrics container counts them.
        deadline = time.monotonic() + 60
        while 'ishop_celery_tasks_total{outcome="success",task="analytics.tasks.refresh_today"}' not in \
                (text := scrape(metrics_port)):
            assert time.monotonic() < deadline, text[-3000:]
            time.sleep(1)
        process.send_signal(signal.SIGTERM)  # warm shutdown, as at a pod's stop
        assert process.wait(timeout=worker.pod["terminationGracePeriodSeconds"]) == 0
        assert ping(worker.spec["livenessProbe"]).returncode != 0
    finally:
        import redis

        with redis.Redis.from_url(settings.REDIS_URL) as client:
            client.delete(queue)


def test_the_init_container_waits_for_the_migrate_job_and_lets_a_rolled_back_release_start(pod, tmp_path):
    web = kube.main_container(pod.objects, "web")
    (init,) = [c for c in kube.containers(pod.objects) if c.init and c.workload is web.workload]
    current = subprocess.run(init.spec["command"], cwd=kube.ROOT, env=pod.env(init), capture_output=True,
                             text=True, timeout=120)
    assert current.returncode == 0, current.stdout + current.stderr  # the test database is migrated
    # Rolled back onto a schema a newer release migrated: migrations it does not know are not waited for.
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('catalog', '9999_from_a_newer_release', now())")
    try:
        older = subprocess.run(init.spec["command"], cwd=kube.ROOT, env=pod.env(init), capture_output=True,
                               text=True, timeout=120)
        assert older.returncode == 0, older.stdout + older.stderr
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM django_migrations WHERE name = '9999_from_a_newer_release'")
    empty = f"test_ishop_k8s_empty_{uuid.uuid4().hex[:8]}"
    admin = connection.settings_dict | {"NAME": "postgres"}
    with psycopg.connect(_database_url(admin).replace("postgres://", "postgresql://", 1), autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{empty}"')
        try:
            env = pod.env(init, DATABASE_URL=_database_url(connection.settings_dict | {"NAME": empty}))
            with open(tmp_path / "init.log", "wb") as log:
                waiting = subprocess.Popen(init.spec["command"], cwd=kube.ROOT, env=env, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)
            try:  # it says it waits, and goes on waiting (each look is a `migrate --check`)
                deadline = time.monotonic() + 120
                while "waiting for the migrate Job" not in (tmp_path / "init.log").read_text():
                    assert waiting.poll() is None, (tmp_path / "init.log").read_text()
                    assert time.monotonic() < deadline, "the init container neither passed nor said it waits"
                    time.sleep(0.5)
                with pytest.raises(subprocess.TimeoutExpired):
                    waiting.wait(timeout=5)
            finally:
                os.killpg(waiting.pid, signal.SIGKILL)
                waiting.wait()
        finally:
            db.execute(f'DROP DATABASE "{empty}" WITH (FORCE)')
