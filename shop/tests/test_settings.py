"""Settings come from the environment; production refuses unsafe defaults."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_check(**env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_production_refuses_to_start_without_secret_key_and_hosts():
    result = run_check(DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    result = run_check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode != 0 and "DJANGO_ALLOWED_HOSTS" in result.stderr
    result = run_check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 50, DJANGO_ALLOWED_HOSTS="shop.example")
    assert result.returncode == 0, result.stderr


def test_embedded_default_and_real_services_come_from_the_environment():
    code = ("from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], "
            "s.CACHES['default']['BACKEND'], s.CHANNEL_LAYERS['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER)")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "shop.settings"
    run = lambda **extra: subprocess.run(  # noqa: E731
        [sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, env={**env, **extra},
        capture_output=True, text=True, timeout=120).stdout.split()
    # The database backends are django-prometheus's wrappers (query counters) of Django's own.
    assert run() == ["django_prometheus.db.backends.sqlite3", "django.core.cache.backends.locmem.LocMemCache",
                     "channels.layers.InMemoryChannelLayer", "True"]
    assert run(DATABASE_URL="postgres://postgres@127.0.0.1:5432/ishop", REDIS_URL="redis://127.0.0.1:6379/0") == [
        "django_prometheus.db.backends.postgresql", "shop.cache.DegradingRedisCache",
        "channels_redis.pubsub.RedisPubSubChannelLayer", "False"]


def test_channel_layer_backend_is_chosen_by_name():
    code = "from django.conf import settings as s; print(s.CHANNEL_LAYERS['default']['BACKEND'])"
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, "DJANGO_SETTINGS_MODULE": "shop.settings",
           "REDIS_URL": "redis://127.0.0.1:6379/0", "CHANNEL_LAYER_BACKEND": "core"}
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "channels_redis.core.RedisChannelLayer"
    env["CHANNEL_LAYER_BACKEND"] = "fastest"
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "CHANNEL_LAYER_BACKEND='fastest'" in result.stderr
