"""`make prod`: the production topology on this machine, in the foreground (Ctrl-C stops it).

    python deploy/prod.py            # start: migrate, collectstatic, then nginx + the Procfile's processes
    python deploy/prod.py --stop     # stop a running one (SIGTERM to supervisord, pid in $ISHOP_RUN_DIR/prod.pid)
    python deploy/prod.py --status   # each process's state, pid and uptime (supervisorctl status)
    python deploy/prod.py --render-docker   # rewrite deploy/nginx.docker.conf from the template

Production settings: DJANGO_DEBUG=false, PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) from the
environment, nginx on 127.0.0.1:$ISHOP_PROD_PORT (8080) in front of gunicorn and daphne, which
listen on Unix sockets in $ISHOP_RUN_DIR (nothing else on the machine can collide with them).

The processes run under supervisord (supervisor 4.3 from PyPI), which this script becomes once
everything is prepared: it starts the Procfile's web, ws, worker and beat plus nginx, and when one
of them exits, for whatever reason, restarts that one alone, at once if it had been running for
STARTSECS, otherwise after a back-off that grows by a second per failed start (1 s, 2 s, ... up to
STARTRETRIES tries, then it is left FATAL until `supervisorctl start`). One process's death never
stops another. SIGINT (Ctrl-C) or SIGTERM (--stop) stops them all, each process group with its
stop signal, then SIGKILL after its stop wait, and leaves nothing behind. Each process writes to
$ISHOP_RUN_DIR/log/<name>.log (rotated); supervisord's own log (starts, exits, restarts) is printed
and kept in log/supervisord.log. One Procfile thus serves `make prod`, a Procfile platform, and
(checked by a test) docker-compose.yml.
"""
import argparse
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE = BASE_DIR / "deploy" / "nginx.conf.template"
DOCKER_CONF = BASE_DIR / "deploy" / "nginx.docker.conf"
PROCESSES = ("web", "ws", "worker", "beat")  # the Procfile's processes, in start order

DOCKER_VALUES = {
    "USER_DIRECTIVE": "",
    "WORKER_PROCESSES": "auto",
    "RUN_DIR": "/tmp",
    "MIME_TYPES": "/etc/nginx/mime.types",
    "CLIENT_MAX_BODY_SIZE": "16m",  # = SHOP_MAX_REQUEST_BYTES (shop/tests/test_hostile_input.py)
    "ACCESS_LOG": "/dev/stdout",
    "WEB_UPSTREAM": "web:8000",
    "WS_UPSTREAM": "ws:8001",
    "LISTEN": "80",
    "STATIC_ROOT": "/srv/static",
    "MEDIA_ROOT": "/srv/media",
    # Inside compose, Prometheus reaches nginx over the compose network (private addresses).
    "METRICS_ALLOW": "            allow 127.0.0.1;\n            allow ::1;\n            allow 10.0.0.0/8;\n"
                     "            allow 172.16.0.0/12;\n            allow 192.168.0.0/16;",
}


def render_nginx_conf(values: dict[str, str]) -> str:
    """The template with every @@NAME@@ replaced by values[NAME]; KeyError names a missing one."""
    return re.sub(r"@@([A-Z_]+)@@", lambda match: values[match.group(1)], TEMPLATE.read_text())


def read_procfile(path: Path = BASE_DIR / "Procfile") -> dict[str, str]:
    """{process name: command} of a Procfile (comments and blank lines skipped)."""
    processes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    return processes


def production_environment(run_dir: Path, port: int) -> dict[str, str]:
    """os.environ plus the production settings `make prod` runs with (what is already set wins,
    except DJANGO_DEBUG, which is always false)."""
    env = dict(os.environ)
    secret_file = run_dir / "secret_key"
    if not env.get("DJANGO_SECRET_KEY"):
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(50))
            secret_file.chmod(0o600)
        env["DJANGO_SECRET_KEY"] = secret_file.read_text().strip()
    defaults = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/ishop",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port},http://localhost:{port}",
        # nginx listens on plain HTTP on the loopback here: no TLS to redirect to or to mark
        # cookies Secure for, and no HSTS to promise. Behind a TLS terminator, drop these three.
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_SERVE_MEDIA": "false",
        "DJANGO_LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "2",
    }
    for key, value in defaults.items():
        env.setdefault(key, value)
    env.update({
        "DJANGO_DEBUG": "false",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "ISHOP_RUN_DIR": str(run_dir),
        "WEB_BIND": f"unix:{run_dir}/web.sock",
        # lockfile=1: Twisted keeps ws.sock.lock beside the socket and removes a socket left by a
        # killed daphne, so the restarted one can bind (gunicorn does the same for web.sock).
        "WS_ENDPOINT": f"unix:{run_dir}/ws.sock:lockfile=1",
        "PROMETHEUS_MULTIPROC_DIR": str(run_dir / "prometheus"),
        "PYTHONUNBUFFERED": "1",
    })
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    return env


def local_values(run_dir: Path, port: int, env: dict[str, str]) -> dict[str, str]:
    owner = pwd.getpwuid(run_dir.stat().st_uid).pw_name
    return {
        # As root, nginx's workers would drop to "nobody", who may not read the media or connect
        # to the sockets: run them as the owner of the run directory instead.
        "USER_DIRECTIVE": f"user {owner};" if os.geteuid() == 0 else "",
        "WORKER_PROCESSES": "1",
        "RUN_DIR": str(run_dir),
        "MIME_TYPES": "/etc/nginx/mime.types",
        "CLIENT_MAX_BODY_SIZE": "16m",  # = SHOP_MAX_REQUEST_BYTES (shop/tests/test_hostile_input.py)
        "ACCESS_LOG": "/dev/stdout",
        "WEB_UPSTREAM": f"unix:{run_dir}/web.sock",
        "WS_UPSTREAM": f"unix:{run_dir}/ws.sock",
        "LISTEN": f"127.0.0.1:{port}",
        "STATIC_ROOT": env.get("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")),
        "MEDIA_ROOT": env.get("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media")),
        "METRICS_ALLOW": "            allow 127.0.0.1;\n            allow ::1;",
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], cwd=BASE_DIR, env=env, check=True)


# How supervisord runs each program (seconds). A program that exits within its startsecs counts
# as a failed start and is retried after a back-off of 1 s, 2 s, ... (STARTRETRIES tries, about
# 7 minutes in all); one that ran longer is restarted at once. Stop: the stop signal to the whole
# process group (gunicorn's and celery's children too), SIGKILL after stopwaitsecs.
STARTRETRIES = 30
PROGRAMS = {
    # name: (priority, startsecs, stopsignal, stopwaitsecs); lower priority starts first, stops last
    "web": (100, 5, "TERM", 25),  # gunicorn's graceful_timeout is 20 s
    "ws": (100, 5, "TERM", 10),
    "worker": (100, 5, "TERM", 30),  # warm shutdown: the task in hand finishes (acks_late redelivers the rest)
    "beat": (100, 5, "TERM", 10),
    "nginx": (200, 1, "QUIT", 10),  # graceful: open requests finish
}


def supervisor_conf(run_dir: Path, commands: dict[str, str]) -> str:
    """supervisord's configuration for `commands` ({program name: command line}, each run through
    /bin/sh so that the Procfile's ${VAR:-default} expand), with PROGRAMS' settings, logs in
    run_dir/log and a control socket run_dir/supervisor.sock for supervisorctl."""
    sections = [
        "[supervisord]", "nodaemon=true", f"pidfile={run_dir}/prod.pid", f"logfile={run_dir}/log/supervisord.log",
        "logfile_maxbytes=10MB", "logfile_backups=3", f"childlogdir={run_dir}/log", f"directory={BASE_DIR}",
        "identifier=ishop", *(["user=root"] if os.geteuid() == 0 else []), "",
        "[unix_http_server]", f"file={run_dir}/supervisor.sock", "chmod=0700", "",
        "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]", f"serverurl=unix://{run_dir}/supervisor.sock", "",
    ]
    for name, command in commands.items():
        priority, startsecs, stopsignal, stopwaitsecs = PROGRAMS[name]
        shell_command = shlex.join(["/bin/sh", "-c", f"exec {command}"]).replace("%", "%%")
        sections += [
            f"[program:{name}]", f"command={shell_command}", f"priority={priority}", "autostart=true",
            "autorestart=true", f"startsecs={startsecs}", f"startretries={STARTRETRIES}", f"stopsignal={stopsignal}",
            f"stopwaitsecs={stopwaitsecs}", "stopasgroup=true", "killasgroup=true", "redirect_stderr=true",
            f"stdout_logfile={run_dir}/log/{name}.log", "stdout_logfile_maxbytes=20MB", "stdout_logfile_backups=5", "",
        ]
    return "\n".join(sections)


def _running_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None


def start(run_dir: Path, port: int) -> int:
    """Prepare (migrate, collectstatic, nginx.conf, supervisord.conf), then become supervisord,
    which runs everything until stopped (this function does not return unless it fails)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("nginx is missing: `make prod` installs Debian's nginx (apt-get install nginx-light).")
    run_dir.mkdir(parents=True, exist_ok=True)
    if pid := _running_pid(run_dir / "prod.pid"):
        sys.exit(f"iShop already runs from {run_dir} (supervisord pid {pid}): `make prod-stop` first.")
    env = production_environment(run_dir, port)
    for leftover in ("web.sock", "ws.sock", "ws.sock.lock", "supervisor.sock"):
        (run_dir / leftover).unlink(missing_ok=True)
    shutil.rmtree(run_dir / "prometheus", ignore_errors=True)  # counters start at zero with the stack
    (run_dir / "prometheus").mkdir()
    (run_dir / "log").mkdir(exist_ok=True)
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run_dir / "nginx-tmp" / temp).mkdir(parents=True, exist_ok=True)
    values = local_values(run_dir, port, env)
    Path(values["MEDIA_ROOT"]).mkdir(parents=True, exist_ok=True)

    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    conf = run_dir / "nginx.conf"
    conf.write_text(render_nginx_conf(values))
    subprocess.run([nginx, "-t", "-q", "-e", "stderr", "-p", str(run_dir), "-c", str(conf)], check=True)

    commands = {**read_procfile(),
                "nginx": shlex.join([nginx, "-e", "stderr", "-p", str(run_dir), "-c", str(conf), "-g", "daemon off;"])}
    supervisor = run_dir / "supervisord.conf"
    supervisor.write_text(supervisor_conf(run_dir, commands))
    print(f"iShop (production settings) is at http://127.0.0.1:{port}/  (Ctrl-C or `make prod-stop` stops it; "
          f"logs in {run_dir}/log/, `make prod-status` shows the processes)", flush=True)
    executable = str(Path(sys.executable).with_name("supervisord"))
    os.execve(executable, [executable, "--nodaemon", "--configuration", str(supervisor)], env)


def status(run_dir: Path) -> int:
    """Print supervisorctl's status of every program; returns its exit code (0: all running)."""
    conf = run_dir / "supervisord.conf"
    if not _running_pid(run_dir / "prod.pid"):
        print(f"Not running (no live supervisord in {run_dir}).")
        return 3
    command = [str(Path(sys.executable).with_name("supervisorctl")), "--configuration", str(conf), "status"]
    return subprocess.run(command).returncode


def stop(run_dir: Path, timeout: float = 90.0) -> int:
    """SIGTERM supervisord (pid in run_dir/prod.pid) and wait until it has stopped every process
    and exited."""
    pid_file = run_dir / "prod.pid"
    pid = _running_pid(pid_file)
    if pid is None:
        print(f"Nothing to stop: no running supervisord in {pid_file}.")
        pid_file.unlink(missing_ok=True)
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("iShop stopped.")
            return 0
        time.sleep(0.2)
    print(f"supervisord (pid {pid}) did not stop within {timeout:.0f} s.", file=sys.stderr)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stop", action="store_true", help="stop the running stack")
    parser.add_argument("--status", action="store_true", help="show each process's state")
    parser.add_argument("--render-docker", action="store_true", help="rewrite deploy/nginx.docker.conf")
    args = parser.parse_args()
    run_dir = Path(os.environ.get("ISHOP_RUN_DIR", BASE_DIR / ".prod")).resolve()
    port = int(os.environ.get("ISHOP_PROD_PORT", "8080"))
    if args.render_docker:
        DOCKER_CONF.write_text(render_nginx_conf(DOCKER_VALUES))
        return 0
    if args.stop:
        return stop(run_dir)
    if args.status:
        return status(run_dir)
    return start(run_dir, port)


if __name__ == "__main__":
    sys.exit(main())
