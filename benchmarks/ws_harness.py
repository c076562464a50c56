"""What benchmarks/ws_fanout.py measures with: process and socket helpers, the server processes it
starts, the WebSocket clients (each subscribed to one variant, reading every frame), and one
measurement (N clients, a series of stock changes, the latency from send to each client's read).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only address this benchmark ever connects to or listens on
# Redis pub/sub channels span every db, so each message carries this run's id and others are ignored.
RUN_ID = secrets.token_hex(4)


# --- helpers ---------------------------------------------------------------------------------

def raise_open_files_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, needed)
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # inherited by the subprocesses
    if want < needed:
        print(f"warning: open-files limit is {want} (hard limit {hard}); {needed} wanted", file=sys.stderr)
    return want


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (all threads) these processes have used so far, from /proc/<pid>/task/*/schedstat (ns)."""
    total = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def machine_busy_seconds() -> float:
    """CPU time all CPUs have spent busy since boot, from /proc/stat (USER_HZ ticks)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def open_sockets(pid: int) -> int:
    """How many sockets a process holds."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd).startswith("socket:")
    return count


def listening_socket() -> socket.socket:
    """A TCP socket listening on HOST at a free port, to be shared by several server processes."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


class Server:
    """A subprocess in its own session, killed (group-wide) on stop(); output to a log file."""

    def __init__(self, name: str, argv: list[str], env: dict, log_path: Path, port: int, pass_fds=()):
        self.name, self.port, self.log_path = name, port, log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, env=env, cwd=BASE_DIR, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, pass_fds=pass_fds)

    def wait_listening(self, timeout: float, log_marker: bytes | None = None) -> None:
        """Until the port accepts connections or, for a socket the server inherited (which accepts
        before the server is up), until its log shows `log_marker`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            if log_marker is not None:
                self.log.flush()
                if log_marker in self.log_path.read_bytes():
                    return
            else:
                with socket.socket() as s:
                    s.settimeout(0.5)
                    if s.connect_ex((HOST, self.port)) == 0:
                        return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not listen on {HOST}:{self.port} within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


# --- clients ------------------------------------------------------------------------------

@dataclass
class Inbox:
    """Every client's received stock frames, stamped on arrival; parsed only after a change."""
    frames: list = field(default_factory=list)  # (receive time.time(), raw text)
    target: int = 0
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, raw) -> None:
        self.frames.append((time.time(), raw))
        if len(self.frames) >= self.target:
            self.reached.set()


async def open_client(url: str, origin: str, variant: int, sem: asyncio.Semaphore, timeout: float):
    from websockets.asyncio.client import connect

    async with sem:
        started = time.perf_counter()
        ws = await connect(url, origin=origin, compression=None, ping_interval=None, proxy=None,
                           open_timeout=timeout, close_timeout=5, max_queue=None)
        try:
            await ws.send(json.dumps({"type": "subscribe", "variants": [variant]}))
            async with asyncio.timeout(timeout):
                while True:
                    msg = json.loads(await ws.recv())
                    if msg.get("type") == "subscribed":
                        break
                    if msg.get("type") == "error":
                        raise RuntimeError(f"subscribe refused: {msg}")
        except BaseException:
            ws.transport.abort()
            raise
        return ws, time.perf_counter() - started


async def read_frames(ws, inbox: Inbox) -> None:
    from websockets.exceptions import ConnectionClosed

    with contextlib.suppress(ConnectionClosed):
        while True:
            inbox.add(await ws.recv())


async def close_all(clients: list, timeout: float) -> None:
    async def close(ws) -> None:
        with contextlib.suppress(Exception):
            await ws.close()

    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(close(ws) for ws in clients))
    except TimeoutError:
        pass
    for ws in clients:
        ws.transport.abort()


# --- one measurement -------------------------------------------------------------------------

@dataclass
class Result:
    label: str
    n: int
    connect: list[float]                 # seconds per client
    latencies: list[float]               # seconds, every client x measured change
    last: list[float]                    # seconds per measured change: the slowest client
    first: list[float]                   # seconds per measured change: the fastest client
    send_call: list[float]               # seconds the send call itself took (layers only)
    missing: list[int]                   # per measured change: clients it never reached (within the timeout)
    server_cpu: list[float]              # seconds of server CPU per measured change (send -> idle again)
    sockets: list[int] = field(default_factory=list)  # client connections each server process took
    other_cpu: float = 0.0               # CPUs' worth used by other processes (Redis included) during the changes


async def measure(*, label: str, url: str, origin: str, n: int, changes: int, warmup: int, variant: int,
                  concurrency: int, timeout: float, gap: float, send, server_pids: list[int]) -> Result:
    """Connect n clients, make warmup + changes stock changes through `send(seq)` (a coroutine
    function returning (sent_at, seconds the send call took)) and collect the figures."""
    sem = asyncio.Semaphore(concurrency)
    sockets_before = [open_sockets(pid) for pid in server_pids]
    opened = await asyncio.gather(*(open_client(url, origin, variant, sem, timeout) for _ in range(n)),
                                  return_exceptions=True)
    clients = [o[0] for o in opened if not isinstance(o, BaseException)]
    errors = [o for o in opened if isinstance(o, BaseException)]
    try:
        if errors:
            raise RuntimeError(f"{len(errors)} of {n} clients failed to connect; first: {errors[0]!r}")
        connect = [o[1] for o in opened]
        sockets = [open_sockets(pid) - before for pid, before in zip(server_pids, sockets_before)]
        inbox = Inbox()
        readers = [asyncio.create_task(read_frames(ws, inbox)) for ws in clients]
        sent: dict[int, float] = {}
        send_call: list[float] = []
        server_cpu: list[float] = []
        ours = [os.getpid(), *server_pids]
        started, busy_before, ours_before = time.monotonic(), machine_busy_seconds(), cpu_seconds(ours)
        try:
            for seq in range(warmup + changes):
                inbox.target = len(inbox.frames) + n  # not n * (seq + 1): a lost frame must not stall later changes
                inbox.reached.clear()
                cpu_before = cpu_seconds(server_pids)
                sent_at, took = await send(seq)
                sent[seq] = sent_at
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await inbox.reached.wait()
                await asyncio.sleep(gap)  # let the server go idle before the next change
                if seq >= warmup:
                    send_call.append(took)
                    server_cpu.append(cpu_seconds(server_pids) - cpu_before)
        finally:
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        other_cpu = ((machine_busy_seconds() - busy_before) - (cpu_seconds(ours) - ours_before)) / (
            time.monotonic() - started)
        per_change: dict[int, list[float]] = {seq: [] for seq in sent}
        for received, raw in inbox.frames:
            msg = json.loads(raw)
            if msg.get("type") == "stock" and msg.get("run") == RUN_ID and msg.get("seq") in per_change:
                per_change[msg["seq"]].append(received - msg["sent_at"])
        measured = [per_change[seq] for seq in range(warmup, warmup + changes)]
        return Result(label=label, n=n, connect=connect,
                      latencies=[x for lat in measured for x in lat],
                      last=[max(lat) for lat in measured if lat],
                      first=[min(lat) for lat in measured if lat],
                      send_call=send_call, server_cpu=server_cpu,
                      missing=[n - len(lat) for lat in measured], sockets=sockets, other_cpu=max(other_cpu, 0.0))
    finally:
        await close_all(clients, timeout)


# --- reporting -------------------------------------------------------------------------------

def load_warning() -> None:
    """Timings on a busy machine are not worth much: say so where the figures are printed."""
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1) * 0.75:
        print(f"  warning: 1-minute load average {load:.1f} on {os.cpu_count()} CPUs: other processes compete "
              "for the CPU, so latencies are inflated and noisy (server CPU per change is less affected)")


def other_work(r: Result) -> str:
    """A warning when other processes took a real share of the CPUs while this run measured."""
    if r.other_cpu < 0.15:
        return ""
    return f"; WARNING: other processes used {r.other_cpu:.2f} CPUs meanwhile, figures inflated"


def ms(seconds: float) -> str:
    """Seconds as milliseconds, one decimal."""
    return f"{seconds * 1000:.1f}"
