# iShop: `make run` brings the shop up on the embedded default with the Luma demo catalogue;
# `make test` runs the whole test suite against PostgreSQL and Redis.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The real demo data lives beside the repo, never in it.
ISHOP_DEMO_DATA ?= ../shared/data
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/ishop)
TEST_REDIS_URL ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/0)

.PHONY: install browser run demo test bench clean nginx prod prod-stop

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

# The import queues no inline rendition work (eager off); process_images then makes the renditions
# of every photo on both cores.
demo: install
	$(PY) manage.py migrate --noinput
	@if [ -f "$(ISHOP_DEMO_DATA)/luma/products.csv" ]; then \
	  CELERY_TASK_ALWAYS_EAGER=false $(PY) manage.py import_catalog "$(ISHOP_DEMO_DATA)/luma/products.csv" \
	    --images "$(ISHOP_DEMO_DATA)/luma/images" && \
	  $(PY) manage.py import_reviews "$(ISHOP_DEMO_DATA)/luma/reviews.csv" && \
	  $(PY) manage.py process_images --missing --workers 2; \
	else \
	  echo "No demo data at $(ISHOP_DEMO_DATA)/luma: starting an empty shop."; \
	  echo "Import a catalogue with: $(PY) manage.py import_catalog PRODUCTS.csv --images IMAGES_DIR"; \
	fi
	$(PY) manage.py local_admin

run: demo
	@echo "iShop is at http://127.0.0.1:$(PORT)/  (Ctrl-C stops it)"
	$(VENV)/bin/daphne -b 127.0.0.1 -p $(PORT) shop.asgi:application

test: install browser nginx
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" $(VENV)/bin/pytest

clean:
	rm -rf $(VENV) db.sqlite3* media staticfiles .pytest_cache .prod

# Benchmarks print their figures against a reference measured in the same run (ws_fanout needs Redis).
bench: install
	$(PY) benchmarks/ws_fanout.py
	$(PY) benchmarks/images.py

# --- Production topology on this machine (issue 8) --------------------------------------------------
# `make prod`: nginx on 127.0.0.1:$(PROD_PORT) in front of gunicorn (HTML, API), daphne (/ws/), a Celery
# worker and beat, with DJANGO_DEBUG=false and PostgreSQL/Redis from DATABASE_URL/REDIS_URL (defaults:
# the local ishop database and Redis db 0). Foreground; Ctrl-C or `make prod-stop` stops everything.
PROD_PORT ?= 8080
PROD_RUN_DIR ?= .prod

# Debian's nginx (the light build: static files, proxying, gzip_static, realip).
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "Installing Debian's nginx for make prod..."; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx-light >/dev/null; }

prod: install nginx
	ISHOP_PROD_PORT=$(PROD_PORT) ISHOP_RUN_DIR=$(PROD_RUN_DIR) $(PY) deploy/prod.py

prod-stop:
	ISHOP_RUN_DIR=$(PROD_RUN_DIR) $(PY) deploy/prod.py --stop
