"""Where an uncached storefront page's CPU goes (issue 22's guard): the whole request through the
middleware stack, against the same page's views run directly and their templates rendered
afterwards, beside the bare view (/health/) measured in the same run. In-process, Django's test
client and RequestFactory, page cache off, on a database holding the Luma catalogue (as `make demo`
or benchmarks/recommendations_api.py set it up):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ishop_reco REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python benchmarks/page_split.py

Prints, per page, the CPU milliseconds of: the whole request; the view (its reads, up to an
unrendered TemplateResponse); rendering its templates (no query runs there, which the script
checks); and each as a multiple of the bare view's whole request. Issue 22's uncached guard
(>= 0.15x the bare view in throughput) allows a whole page about 6.7x the bare view's cost.
Rounds are interleaved; the median is kept.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PAGES = ["/c/men/tops/jackets/", "/p/beaumont-summit-kit/", "/search/?q=jacket"]


def setup() -> None:
    """Django in this process as production runs it (DEBUG off), with the page cache off."""
    os.environ.setdefault("DJANGO_SECRET_KEY", "page-split-" + "x" * 40)
    os.environ.setdefault("DJANGO_STATIC_ROOT", tempfile.mkdtemp(prefix="ishop-page-split-"))  # as pages.py
    os.environ.update(DJANGO_SETTINGS_MODULE="shop.settings", DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="*",
                      DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_CONN_MAX_AGE="60", DJANGO_LOG_LEVEL="WARNING",
                      SHOP_PAGE_CACHE_SECONDS="0")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def cpu_ms(call, n: int) -> float:
    """CPU milliseconds of one call of `call`, averaged over `n`."""
    started = time.process_time()
    for _ in range(n):
        call()
    return (time.process_time() - started) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="requests per page and round")
    args = parser.parse_args()
    setup()
    from django.contrib.auth.models import AnonymousUser
    from importlib import import_module

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.urls import resolve

    call_command("collectstatic", interactive=False, verbosity=0)  # the hashed names pages link to
    client, factory = Client(), RequestFactory()
    SessionStore = import_module(settings.SESSION_ENGINE).SessionStore

    def view_response(path: str):
        request = factory.get(path)
        request.user, request.session = AnonymousUser(), SessionStore()
        match = resolve(request.path_info)
        return match.func(request, *match.args, **match.kwargs)

    def view_and_render(path: str) -> tuple[float, float]:
        """CPU ms of the view and of rendering its response, each request one after the other."""
        view = render = 0.0
        for _ in range(args.requests):
            started = time.process_time()
            response = view_response(path)
            viewed = time.process_time()
            response.render()
            view, render = view + viewed - started, render + time.process_time() - viewed
        return view / args.requests * 1000, render / args.requests * 1000

    for path in ["/health/", *PAGES]:  # warm up, and check that each answers and renders without a query
        assert client.get(path).status_code == 200, path
        if path != "/health/":
            response = view_response(path)
            with CaptureQueriesContext(connection) as queries:
                response.render()
            assert not queries, f"{path}: rendering ran {len(queries)} queries"
    figures: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        figures.setdefault(("/health/", "whole"), []).append(cpu_ms(lambda: client.get("/health/"), args.requests))
        for path in PAGES:
            figures.setdefault((path, "whole"), []).append(cpu_ms(lambda: client.get(path), args.requests))
            view, render = view_and_render(path)
            figures.setdefault((path, "view"), []).append(view)
            figures.setdefault((path, "render"), []).append(render)
    median = {key: statistics.median(values) for key, values in figures.items()}
    bare = median[("/health/", "whole")]
    print(f"bare view /health/, whole request: {bare:.2f} ms CPU (the reference, 1.0x)")
    print(f"{'page':28} {'whole ms':>9} {'x bare':>7} {'view ms':>8} {'x bare':>7} {'render ms':>10} {'x bare':>7}")
    for path in PAGES:
        whole, view, render = (median[(path, part)] for part in ("whole", "view", "render"))
        print(f"{path:28} {whole:9.2f} {whole / bare:7.1f} {view:8.2f} {view / bare:7.1f} {render:10.2f} "
              f"{render / bare:7.1f}")
    print("issue 22's uncached guard (0.15x the bare view's throughput) allows a whole page about 6.7x the bare view")


if __name__ == "__main__":
    main()
