# iShop production image (issue 8). Multi-stage:
#   chartjs fetches Chart.js from the npm registry, checked against the Makefile's pinned sha256
#   build   compiles wheels for requirements.txt (build tools stay in this stage)
#   app     python:3.11-slim + the wheels + the code, static files collected at build time, runs as
#           the unprivileged user "shop"; the web, ws, worker and beat services run it with their
#           own command (docker-compose.yml, the same commands as the Procfile)
#   nginx   nginx with the collected static files and deploy/nginx.docker.conf
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM node:20-bookworm-slim AS chartjs
# The same pin and checksum as the Makefile's $(CHARTJS) target (one place: the Makefile).
COPY Makefile /tmp/Makefile
RUN set -e; cd /tmp; \
    version=$(sed -n 's/^CHARTJS_VERSION := //p' Makefile); sha=$(sed -n 's/^CHARTJS_SHA256 := //p' Makefile); \
    npm pack --silent "chart.js@${version}" >/dev/null; \
    echo "${sha}  chart.js-${version}.tgz" | sha256sum -c --quiet; \
    mkdir -p /chartjs && tar -xzf "chart.js-${version}.tgz" package/dist/chart.umd.js package/dist/chart.umd.js.map \
      package/LICENSE.md; \
    cp package/dist/chart.umd.js package/dist/chart.umd.js.map package/LICENSE.md /chartjs/

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt constraints.txt /tmp/
RUN pip wheel --wheel-dir /wheels -r /tmp/requirements.txt -c /tmp/constraints.txt

FROM ${PYTHON_IMAGE} AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_STATIC_ROOT=/app/staticfiles DJANGO_MEDIA_ROOT=/srv/media
# postgresql-client: pg_dump/pg_restore for `manage.py backup` and `restore`; curl: the healthcheck.
# The user "shop" has a fixed uid/gid (999, what --system gave it before): Kubernetes' runAsUser
# names it by number (deploy/k8s/base; shop/tests/test_k8s.py checks they agree).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 999 shop \
    && useradd --system --uid 999 --gid shop --home-dir /app --shell /usr/sbin/nologin shop
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/* && rm -rf /wheels
WORKDIR /app
COPY --chown=shop:shop . .
COPY --from=chartjs --chown=shop:shop /chartjs/ /app/static/vendor/chartjs/
# Static files are collected (hashed, compressed by whitenoise's manifest storage) into the image;
# the settings need a key and hosts to load with DJANGO_DEBUG=false, not the real ones.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-only-not-a-real-secret-key-000 \
    DJANGO_ALLOWED_HOSTS=build python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /srv/media && chown shop:shop /srv/media
USER shop
EXPOSE 8000 8001
# Liveness of the web process (the ws, worker and beat services override it in docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/health/ || exit 1
CMD ["gunicorn", "shop.wsgi:application", "--config", "deploy/gunicorn.conf.py", "--bind", "0.0.0.0:8000"]

FROM nginx:1.27-bookworm AS nginx
COPY --from=app /app/staticfiles /srv/static
COPY deploy/nginx.docker.conf /etc/nginx/nginx.conf
HEALTHCHECK --interval=15s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1/health/ || exit 1
