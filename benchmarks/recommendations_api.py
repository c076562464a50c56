"""POST /api/v1/recommendations under wrk (issue 27: p95 < 20 ms at 16 connections), against the
bare view (/health/) in the same gunicorn, on a database that holds the Luma catalogue, the Online
Retail history and the built recommendations (e.g. `make demo` with DATABASE_URL pointing at it,
or the steps below).

    createdb -h 127.0.0.1 -U postgres ishop_reco
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ishop_reco .venv/bin/python manage.py migrate
    ... import_catalog ../shared/data/luma/products.csv --images ../shared/data/luma/images
    ... import_orders ../shared/data/online-retail/online_retail.csv.gz --once --rebuild
    ... build_recommendations
    .venv/bin/python benchmarks/recommendations_api.py --database-url postgres://postgres@127.0.0.1:5432/ishop_reco

Measured: the cheapest authenticated API call (GET /api/v1/auth/me: the same middleware, DRF,
JWT and throttle, no recommendation), item-to-item (hybrid, beside the visible product with the most stored recommendations) and
personal (for the imported customer with the most purchases), each as a staff caller with a JWT,
interleaved with the bare view over --rounds rounds; the median run of each is kept. Any non-2xx
answer fails the run.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path

from wrk_harness import WRK_LUA, ensure_wrk, measure_rounds, serve, table

BASE_DIR = Path(__file__).resolve().parent.parent
GUNICORN = str(BASE_DIR / ".venv" / "bin" / "gunicorn")
TARGET_P95_MS = 20.0
SECRET = "bench-recommendations-" + secrets.token_urlsafe(40)  # signs the JWT here and checks it in gunicorn


def post_lua(body: dict, token: str) -> str:
    """A wrk script POSTing `body` as JSON with a bearer token, reporting like WRK_LUA."""
    return (f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {token}"\n' + WRK_LUA)


def get_lua(token: str) -> str:
    """A wrk script GETting with a bearer token, reporting like WRK_LUA."""
    return f'wrk.headers["Authorization"] = "Bearer {token}"\n' + WRK_LUA


def seeds(database_url: str) -> tuple[str, int, int]:
    """(a staff JWT, the product with the most recommendations, the customer with the most purchases)."""
    os.environ.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="shop.settings", DJANGO_SECRET_KEY=SECRET)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from rest_framework_simplejwt.tokens import RefreshToken

    from orders.models import Order
    from recommendations.models import Recommendation

    staff, _ = get_user_model().objects.get_or_create(email="bench-staff@example.com",
                                                      defaults={"is_staff": True})
    product = (Recommendation.objects.filter(product__is_visible=True).values("product_id")
               .annotate(n=Count("pk")).order_by("-n")
               .values_list("product_id", flat=True).first())
    customer = (Order.objects.exclude(customer=None).values("customer_id").annotate(n=Count("pk")).order_by("-n")
                .values_list("customer_id", flat=True).first())
    if product is None or customer is None:
        sys.exit("No recommendations or no customer orders in that database: import and build them first.")
    return str(RefreshToken.for_user(staff).access_token), product, customer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/ishop_reco")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per URL; the median is kept")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--timeout", type=int, default=2, help="wrk's per-request timeout in seconds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2: the cores here)")
    args = parser.parse_args()

    wrk = ensure_wrk()
    token, product, customer = seeds(args.database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SHOP_", "API_THROTTLE"))}
    env.update(DATABASE_URL=args.database_url, DJANGO_DEBUG="false", DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_CONN_MAX_AGE="60",
        DJANGO_LOG_LEVEL="WARNING", API_THROTTLE_USER="100000000/minute", API_THROTTLE_ANON="100000000/minute",
        PYTHONPATH=str(BASE_DIR))
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        (scratch / "health.lua").write_text(WRK_LUA)
        (scratch / "me.lua").write_text(get_lua(token))
        (scratch / "item.lua").write_text(post_lua({"product_id": product, "limit": 10}, token))
        (scratch / "personal.lua").write_text(post_lua({"user_id": customer, "algorithm": "personal", "limit": 10},
                                                        token))
        server = serve([GUNICORN, "shop.wsgi:application", "--workers", str(args.workers)], cwd=BASE_DIR, env=env,
                       log=scratch / "gunicorn.log")
        try:
            pids, url = server.pids(), server.url
            results = measure_rounds(wrk, str(scratch / "health.lua"), [
                ("bare view (/health/)", url + "/health/", pids),
                ("GET /api/v1/auth/me (JWT, throttle)", url + "/api/v1/auth/me", pids, str(scratch / "me.lua")),
                (f"item-to-item (product {product})", url + "/api/v1/recommendations", pids, str(scratch / "item.lua")),
                (f"personal (customer {customer})", url + "/api/v1/recommendations", pids,
                 str(scratch / "personal.lua"))], args)
        finally:
            server.stop()
    print(table(f"POST /api/v1/recommendations, {args.connections} connections, {args.workers} workers",
                results, results[0]))
    for result in results[2:]:
        verdict = "ok" if result.p95 < TARGET_P95_MS else "above target"
        print(f"{result.label}: p95 {result.p95:.1f} ms (target < {TARGET_P95_MS:.0f} ms): {verdict}")


if __name__ == "__main__":
    main()
