"""The production topology is described once per runtime and the descriptions agree.

There is no Docker engine here, so these checks are the test of the Dockerfile and
docker-compose.yml: the compose services run the same commands as the Procfile that `make prod`
runs (tests/test_production_stack.py and tests/test_stack_failures.py run that one for real), the
Django services share one `x-django` block, every long-running service has a healthcheck, a restart
policy and waits for what it needs, and the nginx config of the Docker image is the same template
`make prod` renders. The supervisord configuration `make prod` writes runs every Procfile process
and nginx, each restarted on its own and stopped with its whole process group.
"""
import configparser
import os
import re
import runpy
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from deploy import prod

ROOT = Path(__file__).resolve().parent.parent.parent
PROCESSES = {"web", "ws", "worker", "beat"}
# Options whose values say where a process listens or writes: Unix sockets and run dirs for
# `make prod`, container addresses for Docker. Both must give them; their values may differ.
PLACE_OPTIONS = {"--bind", "--endpoint", "--pidfile"}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def normalized(command: str) -> list[str]:
    """The command's words with the values of PLACE_OPTIONS replaced by "<place>"."""
    words = shlex.split(command)
    return ["<place>" if index and words[index - 1] in PLACE_OPTIONS else word for index, word in enumerate(words)]


def test_the_procfile_names_the_four_processes():
    assert set(prod.read_procfile()) == PROCESSES


def test_compose_runs_the_procfile_commands():
    services = compose()["services"]
    assert set(services) == PROCESSES | {"nginx", "postgres", "redis", "migrate"}
    for name, command in prod.read_procfile().items():
        assert normalized(services[name]["command"]) == normalized(command), name


def test_each_process_is_what_the_topology_asks_for():
    procfile = {name: shlex.split(command) for name, command in prod.read_procfile().items()}
    assert procfile["web"][:2] == ["gunicorn", "shop.wsgi:application"]
    assert procfile["ws"][0] == "daphne" and procfile["ws"][-1] == "shop.asgi:application"
    assert procfile["worker"][:4] == ["celery", "-A", "shop", "worker"]
    worker = procfile["worker"]
    assert worker[worker.index("--prefetch-multiplier") + 1] == "1"
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert procfile["beat"][:4] == ["celery", "-A", "shop", "beat"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in procfile["beat"]


def test_gunicorn_runs_sync_workers_counted_by_the_environment(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert config["worker_class"] == "sync" and config["workers"] == 5


def test_the_django_services_share_one_block_and_differ_only_in_their_command():
    document = compose()
    shared = document["x-django"]
    for name in PROCESSES | {"migrate"}:
        service = document["services"][name]
        differences = {key for key in set(service) | set(shared) if service.get(key) != shared.get(key)}
        allowed = {"command", "healthcheck"} | ({"restart", "depends_on"} if name == "migrate" else set())
        assert differences <= allowed, (name, differences)
    assert shared["environment"]["DJANGO_DEBUG"] == "false"


def test_every_service_has_a_healthcheck_and_waits_on_conditions():
    services = compose()["services"]
    for name, service in services.items():
        if name == "migrate":  # one-shot; the others wait for it to complete
            assert service["healthcheck"] == {"disable": True}
            continue
        assert service["healthcheck"]["test"], name
        for dependency in service.get("depends_on", {}).values():
            assert dependency["condition"] in {"service_healthy", "service_completed_successfully"}, name
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["nginx"]["depends_on"] == {"web": {"condition": "service_healthy"},
                                               "ws": {"condition": "service_healthy"}}
    assert set(compose()["volumes"]) >= {"pgdata", "media"}
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "media:/srv/media" in services["web"]["volumes"]


def test_the_dockerfile_is_multi_stage_slim_non_root_with_static_and_a_healthcheck():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)", dockerfile, re.MULTILINE)
    assert [name for _, name in stages] == ["chartjs", "build", "app", "nginx"]
    assert "slim" in re.search(r"ARG PYTHON_IMAGE=(\S+)", dockerfile).group(1)
    app_stage = dockerfile.split("AS app", 1)[1].split("AS nginx", 1)[0]
    assert "collectstatic" in app_stage and "HEALTHCHECK" in app_stage
    assert re.search(r"^USER shop$", app_stage, re.MULTILINE)
    assert "build-essential" not in app_stage  # compilers stay in the build stage
    assert "COPY --from=chartjs" in app_stage and "sha256sum -c" in dockerfile  # checked Chart.js, no CDN
    assert compose()["services"]["nginx"]["build"]["target"] == "nginx"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".prod", ".env", "media", "backups"} <= set(ignored)  # no local state or secrets


def test_the_docker_nginx_config_is_the_rendered_template():
    assert (ROOT / "deploy" / "nginx.docker.conf").read_text() == prod.render_nginx_conf(prod.DOCKER_VALUES), \
        "run `python deploy/prod.py --render-docker` after changing deploy/nginx.conf.template"


def test_the_local_nginx_config_is_valid(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert os.path.exists(nginx), "nginx is missing: make test and .ci/run install Debian's nginx-light"
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "nginx-tmp" / temp).mkdir(parents=True)
    env = prod.production_environment(tmp_path, 18080)
    values = prod.local_values(tmp_path, 18080, env)
    conf = tmp_path / "nginx.conf"
    conf.write_text(prod.render_nginx_conf(values))
    result = subprocess.run([nginx, "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(conf)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = conf.read_text()
    assert "listen 127.0.0.1:18080" in text and f"unix:{tmp_path}/ws.sock" in text


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_the_procfile_commands_exist_in_the_environment(name):
    program = shlex.split(prod.read_procfile()[name])[0]
    assert shutil.which(program) or (ROOT / ".venv" / "bin" / program).exists(), program


def test_every_long_running_service_restarts_on_its_own():
    services = compose()["services"]
    for name, service in services.items():
        expected = "no" if name == "migrate" else "unless-stopped"
        assert service["restart"] == expected, name


def test_make_prod_supervises_every_process_on_its_own(tmp_path):
    commands = {**prod.read_procfile(), "nginx": "nginx -g 'daemon off;'"}
    config = configparser.RawConfigParser()
    config.read_string(prod.supervisor_conf(tmp_path, commands))
    assert config.get("supervisord", "nodaemon") == "true"
    assert config.get("supervisord", "pidfile") == f"{tmp_path}/prod.pid"  # what `make prod-stop` signals
    programs = {section.split(":", 1)[1]: config[section] for section in config.sections()
                if section.startswith("program:")}
    assert set(programs) == PROCESSES | {"nginx"}
    for name, program in programs.items():
        assert program["autorestart"] == "true" and int(program["startretries"]) >= 10, name  # back-off, then FATAL
        assert program["stopasgroup"] == program["killasgroup"] == "true", name  # children go too
        assert program["stdout_logfile"] == f"{tmp_path}/log/{name}.log", name
        words = shlex.split(program["command"].replace("%%", "%"))
        assert words[:2] == ["/bin/sh", "-c"] and words[2] == f"exec {commands[name]}", name
    assert int(programs["nginx"]["priority"]) > int(programs["web"]["priority"])  # nginx starts last, stops first


def test_the_worker_rides_out_broker_outages():
    assert settings.CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS is False  # finish, never cut an email
    assert settings.CELERY_BROKER_CONNECTION_MAX_RETRIES is None  # reconnects for ever
    assert settings.CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP is True
    worker = shlex.split(prod.read_procfile()["worker"])
    assert {"--without-gossip", "--without-mingle"} <= set(worker)
    assert settings.CELERY_WORKER_READY_TASKS[0][0] == "outbox.tasks.relay"
