"""Real HTTP receivers on 127.0.0.1 (a ThreadingHTTPServer on a free port, in a thread) that
record every request and answer from a script: a list of statuses (the last one repeats), or a
delay in seconds before answering (a receiver that hangs)."""
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    """A receiver that takes a burst of connections (socketserver's listen backlog is 5: a worker
    sending hundreds of events was sometimes refused, and the delivery waited for a retry)."""

    request_queue_size = 128


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0  # seconds before answering
    delays: list[float] = field(default_factory=list)  # per request (the last one repeats); else `delay`
    location: str = ""  # sent with a 3xx
    requests: list[Received] = field(default_factory=list)

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                  body, time.monotonic()))
                delays = receiver.delays or [receiver.delay]
                time.sleep(delays[min(len(receiver.requests), len(delays)) - 1])
                index = min(len(receiver.requests), len(receiver.statuses)) - 1
                self.send_response(receiver.statuses[index])
                if receiver.location:
                    self.send_header("Location", receiver.location)
                answer = b"ok " * 1000  # 3 KB: only the first 1 KB is kept
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                try:
                    self.wfile.write(answer)
                except OSError:
                    pass  # the sender hung up (timeout)

            def log_message(self, *args):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
