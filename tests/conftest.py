"""Fixtures for tests that drive a real browser against a real ASGI server (daphne)."""
from functools import partial

import pytest
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connection, connections


class LiveServer:
    """Where the daphne test server listens: `url` (http://...) and `ws_url` (ws://...)."""

    def __init__(self, host: str, port: int):
        self.url = f"http://{host}:{port}"
        self.ws_url = f"ws://{host}:{port}"


@pytest.fixture
def asgi_live_server(transactional_db):
    """daphne serving the whole ASGI app (HTTP, static files and WebSockets) on the test database,
    in a child process, as ChannelsLiveServerTestCase does."""
    assert not (connection.vendor == "sqlite" and connection.is_in_memory_db()), \
        "the browser tests need a file-based test database (see DATABASES TEST NAME in settings)"
    connections.close_all()  # the forked server must not inherit (and later close) our database sockets
    server = DaphneProcess("localhost", partial(make_application, static_wrapper=ASGIStaticFilesHandler))
    server.start()
    while not server.ready.wait(timeout=1):
        assert server.is_alive(), "the daphne test server stopped before it was ready"
    yield LiveServer("localhost", server.port.value)
    server.terminate()
    server.join(timeout=10)
