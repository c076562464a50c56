"""`make prod`: the production topology on this machine, in the foreground (Ctrl-C stops it).

    python deploy/prod.py            # start: migrate, collectstatic, nginx + the Procfile's processes
    python deploy/prod.py --stop     # stop a running one (SIGTERM to the runner in $ISHOP_RUN_DIR/prod.pid)
    python deploy/prod.py --render-docker   # rewrite deploy/nginx.docker.conf from the template

Production settings: DJANGO_DEBUG=false, PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) from the
environment, nginx on 127.0.0.1:$ISHOP_PROD_PORT (8080) in front of gunicorn and daphne, which
listen on Unix sockets in $ISHOP_RUN_DIR (nothing else on the machine can collide with them).

The processes run under honcho's manager (honcho 2.0, Foreman's Procfile format in Python): it
starts the Procfile's web, ws, worker and beat plus nginx, prefixes and interleaves their output,
and when one exits or on SIGINT/SIGTERM stops them all (SIGTERM, then SIGKILL after 10 s). One
Procfile thus serves `make prod`, a Procfile platform, and (checked by a test) docker-compose.yml.
"""
import argparse
import os
import pwd
import re
import secrets
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
        "WS_ENDPOINT": f"unix:{run_dir}/ws.sock",
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


def start(run_dir: Path, port: int) -> int:
    """Prepare (migrate, collectstatic, nginx.conf) and run everything until stopped; returns the
    exit code (0 after Ctrl-C or --stop)."""
    from honcho.manager import Manager
    from honcho.printer import Printer

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("nginx is missing: `make prod` installs Debian's nginx (apt-get install nginx-light).")
    run_dir.mkdir(parents=True, exist_ok=True)
    env = production_environment(run_dir, port)
    for leftover in ("web.sock", "ws.sock"):
        (run_dir / leftover).unlink(missing_ok=True)
    shutil.rmtree(run_dir / "prometheus", ignore_errors=True)  # counters start at zero with the stack
    (run_dir / "prometheus").mkdir()
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run_dir / "nginx-tmp" / temp).mkdir(parents=True, exist_ok=True)
    values = local_values(run_dir, port, env)
    Path(values["MEDIA_ROOT"]).mkdir(parents=True, exist_ok=True)

    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    conf = run_dir / "nginx.conf"
    conf.write_text(render_nginx_conf(values))
    subprocess.run([nginx, "-t", "-q", "-e", "stderr", "-p", str(run_dir), "-c", str(conf)], check=True)

    (run_dir / "prod.pid").write_text(str(os.getpid()))
    manager = Manager(Printer(sys.stdout))
    for name, command in read_procfile().items():
        manager.add_process(name, command, env=env, cwd=str(BASE_DIR))
    manager.add_process("nginx", f"{nginx} -e stderr -p {run_dir} -c {conf} -g 'daemon off;'", env=env,
                        cwd=str(BASE_DIR))
    print(f"iShop (production settings) is at http://127.0.0.1:{port}/  (Ctrl-C or `make prod-stop` stops it)",
          flush=True)
    try:
        manager.loop()
    finally:
        (run_dir / "prod.pid").unlink(missing_ok=True)
    return manager.returncode or 0


def stop(run_dir: Path, timeout: float = 30.0) -> int:
    """SIGTERM the runner whose pid is in run_dir/prod.pid and wait until it has exited."""
    pid_file = run_dir / "prod.pid"
    if not pid_file.exists():
        print(f"Nothing to stop: no {pid_file}.")
        return 0
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        return 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("iShop stopped.")
            return 0
        time.sleep(0.2)
    print(f"The runner (pid {pid}) did not stop within {timeout:.0f} s.", file=sys.stderr)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stop", action="store_true", help="stop the running stack")
    parser.add_argument("--render-docker", action="store_true", help="rewrite deploy/nginx.docker.conf")
    args = parser.parse_args()
    run_dir = Path(os.environ.get("ISHOP_RUN_DIR", BASE_DIR / ".prod")).resolve()
    port = int(os.environ.get("ISHOP_PROD_PORT", "8080"))
    if args.render_docker:
        DOCKER_CONF.write_text(render_nginx_conf(DOCKER_VALUES))
        return 0
    if args.stop:
        return stop(run_dir)
    return start(run_dir, port)


if __name__ == "__main__":
    sys.exit(main())
