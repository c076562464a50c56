"""Serving a WSGI app under gunicorn and measuring its pages with wrk: what benchmarks/pages.py and
benchmarks/peer_oscar.py share. Each URL answers 200 before it is measured, any non-2xx answer fails
the run, and the server's CPU per request is read from /proc (utime + stime of the master and its
workers, before and after the run).
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")

WRK_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d non2xx=%d socket_errors=%d duration_us=%d p50=%d p95=%d p99=%d\\n",
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def ensure_wrk() -> str:
    """wrk's path; installs Debian's package when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing Debian's wrk with apt-get", flush=True)
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*prefix, "apt-get", "install", "-y", "-q", "wrk"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    found = shutil.which("wrk")
    if not found:
        sys.exit("apt-get did not install wrk")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    url: str

    def pids(self) -> list[int]:
        """The gunicorn master and its workers."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        kids = [int(p) for p in children.read_text().split()] if children.exists() else []
        return [self.process.pid, *kids]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def serve(command: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> Server:
    """Start gunicorn `command` (no --bind) on a free port; return once its /health/ answers 200."""
    port = free_port()
    process = subprocess.Popen(
        [*command, "--bind", f"{HOST}:{port}", "--log-level", "warning"],
        cwd=cwd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn stopped while starting; see {log}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url + "/health/", timeout=2) as response:
                if response.status == 200:
                    return Server(process, url)
        time.sleep(0.3)
    process.kill()
    sys.exit(f"gunicorn did not answer within 60 s; see {log}")


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total


@dataclass
class Result:
    label: str
    rps: float
    p50: float  # milliseconds
    p95: float
    p99: float
    cpu_ms: float | None  # server CPU per request, milliseconds


def check_url(url: str) -> None:
    """The page answers 200 before it is measured (warms the worker's caches too)."""
    for _ in range(3):
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                response.read()
        except urllib.error.HTTPError as error:
            sys.exit(f"{url} answered {error.code}; not measuring an error page")


def measure(wrk: str, lua: str, label: str, url: str, *, pids: list[int], args, check: bool = True) -> Result:
    """One wrk run of `url` with the script `lua`; with `check`, the URL must answer a GET with 200
    first (a script that POSTs is checked by its own non-2xx count instead)."""
    if check:
        check_url(url)
    before = cpu_ticks(pids) if pids else 0
    out = subprocess.run([wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s",
                          "--timeout", f"{args.timeout}s", "-s", lua, url],
                         capture_output=True, text=True, check=True).stdout
    after = cpu_ticks(pids) if pids else 0
    found = re.search(r"BENCH requests=(\d+) non2xx=(\d+) socket_errors=(\d+) duration_us=(\d+) "
                      r"p50=(\d+) p95=(\d+) p99=(\d+)", out)
    if not found:
        sys.exit(f"could not read wrk's output for {url}:\n{out}")
    requests, non2xx, socket_errors, duration_us, p50, p95, p99 = map(int, found.groups())
    if non2xx or not requests:
        sys.exit(f"{url}: {non2xx} non-2xx answers of {requests}; not a valid measurement")
    cpu = (after - before) * 1000 / CLK_TCK / requests if pids else None
    result = Result(label, requests / (duration_us / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, cpu)
    print(f"    {label:<34} {result.rps:8.1f} rps", flush=True)
    return result


def median_result(results: list[Result]) -> Result:
    """The run with the median requests per second (its latencies and CPU come with it)."""
    return sorted(results, key=lambda r: r.rps)[len(results) // 2]


def measure_rounds(wrk: str, lua: str, targets: list[tuple], args) -> list[Result]:
    """Measure every (label, url, pids) once per round, interleaved (A B C, A B C, ...), so that a
    burst of load from elsewhere hits all of them alike; keep each one's median run. A target may
    carry its own wrk script as a fourth item (e.g. a POST), measured without the GET check."""
    runs: dict[str, list[Result]] = {target[0]: [] for target in targets}
    for round_number in range(args.rounds):
        print(f"  round {round_number + 1}/{args.rounds}", flush=True)
        for label, url, pids, *script in targets:
            runs[label].append(measure(wrk, script[0] if script else lua, label, url, pids=pids, args=args,
                                       check=not script))
    return [median_result(runs[target[0]]) for target in targets]


def table(title: str, results: list[Result], reference: Result, *, target: float | None = None) -> str:
    """Rows of figures; `x ref` is requests per second over the reference's, `x ref CPU` the
    reference's CPU per request over this one's (less sensitive to load from elsewhere)."""
    lines = [title, f"{'':<34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} "
                    f"{'x ref':>6} {'x ref CPU':>9}"]
    for r in results:
        cpu = f"{r.cpu_ms:11.2f}" if r.cpu_ms is not None else f"{'n/a':>11}"
        ratio = r.rps / reference.rps
        cpu_ratio = f"{reference.cpu_ms / r.cpu_ms:9.2f}" if r.cpu_ms and reference.cpu_ms else f"{'n/a':>9}"
        targeted = target is not None and r.label in ("category page", "product page")
        mark = ("  ok" if ratio >= target else "  below target") if targeted else ""
        lines.append(f"{r.label:<34} {r.rps:8.1f} {r.p50:8.2f} {r.p95:8.2f} {r.p99:8.2f} {cpu} {ratio:6.2f} "
                     f"{cpu_ratio}{mark}")
    return "\n".join(lines)
