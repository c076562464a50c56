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

.PHONY: install browser run demo test bench bench-peer clean nginx prod prod-stop prod-status

# --- Chart.js for /staff/analytics/ (analytics issue): fetched from the npm registry at build time,
# checked against its sha256, never from a CDN and never committed (static/vendor/chartjs/ is ignored).
CHARTJS_VERSION := 4.4.9
CHARTJS_SHA256 := 2af62960ba6c9a8b459be41e7911a030eb68f4375ea6a3e0f513ef5dbb0f0aca
CHARTJS := static/vendor/chartjs/chart.umd.js
# --- The storefront's typeface (issue 23): Inter, self-hosted from the @fontsource-variable/inter npm
# package, fetched and checked the same way (static/vendor/inter/ is ignored). static/css/shop.css
# declares the two Latin subsets copied here.
INTER_VERSION := 5.2.5
INTER_SHA256 := 97a32fd5f42c2a2ac80aefd77f83166d652c4c3c30395d4c1816c81110864dae
INTER := static/vendor/inter/inter-latin-wght-normal.woff2
# Lora, the serif the admin's site settings offer (branding.models.FONTS), fetched the same way
# (static/vendor/lora/ is ignored).
LORA_VERSION := 5.2.8
LORA_SHA256 := 97d00e4ff08c49857a1402a21dbbc49d88b0acc524fbbbfc50240f609fd505d1
LORA := static/vendor/lora/lora-latin-wght-normal.woff2

install: $(VENV)/.installed $(CHARTJS) $(INTER) $(LORA)

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
	@# The real order history for /staff/analytics/ (analytics issue): once, then never again; its
	@# products go on sale (100 units each: the history has no stock) so that recommendations show.
	@if [ -f "$(ISHOP_DEMO_DATA)/online-retail/online_retail.csv.gz" ]; then \
	  $(PY) manage.py import_orders "$(ISHOP_DEMO_DATA)/online-retail/online_retail.csv.gz" --once --rebuild \
	    --publish-stock 100; \
	fi
	@# Recommendations (issue 27): similar products for the catalogue, also-bought from the history.
	$(PY) manage.py build_recommendations --if-empty
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
	$(PY) benchmarks/analytics.py

# Issue 22's peer run: iShop against django-oscar 4.2 (in its own venv, .bench/oscar-venv) on the Luma
# catalogue, same PostgreSQL, Redis and gunicorn; apt-installs wrk if missing. ~8 min once both shops
# are loaded (the first run loads them: 10-25 min more). Measure on a quiet machine.
bench-peer: install
	ISHOP_DEMO_DATA="$(ISHOP_DEMO_DATA)" $(PY) benchmarks/peer_oscar.py

# --- Production topology on this machine (issues 8, 21) ---------------------------------------------
# `make prod`: nginx on 127.0.0.1:$(PROD_PORT) in front of gunicorn (HTML, API), daphne (/ws/), a Celery
# worker and beat, with DJANGO_DEBUG=false and PostgreSQL/Redis from DATABASE_URL/REDIS_URL (defaults:
# the local ishop database and Redis db 0), under supervisord, which restarts any of them that dies on
# its own. Foreground; Ctrl-C or `make prod-stop` stops everything; `make prod-status` lists the
# processes; each one's log is in $(PROD_RUN_DIR)/log/.
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

prod-status:
	ISHOP_RUN_DIR=$(PROD_RUN_DIR) $(PY) deploy/prod.py --status

$(CHARTJS):
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed to fetch Chart.js: apt-get install npm"; exit 1; }
	rm -rf .chartjs && mkdir -p .chartjs static/vendor/chartjs
	cd .chartjs && npm pack --silent chart.js@$(CHARTJS_VERSION) >/dev/null
	echo "$(CHARTJS_SHA256)  .chartjs/chart.js-$(CHARTJS_VERSION).tgz" | sha256sum -c --quiet
	tar -xzf .chartjs/chart.js-$(CHARTJS_VERSION).tgz -C .chartjs package/dist/chart.umd.js package/dist/chart.umd.js.map package/LICENSE.md
	cp .chartjs/package/LICENSE.md static/vendor/chartjs/LICENSE.md
	# the source map too: the bundle names it, and collectstatic's manifest storage needs what is named
	cp .chartjs/package/dist/chart.umd.js.map static/vendor/chartjs/chart.umd.js.map
	cp .chartjs/package/dist/chart.umd.js $@
	rm -rf .chartjs

$(INTER):
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed to fetch the Inter font: apt-get install npm"; exit 1; }
	rm -rf .inter && mkdir -p .inter static/vendor/inter
	cd .inter && npm pack --silent @fontsource-variable/inter@$(INTER_VERSION) >/dev/null
	echo "$(INTER_SHA256)  .inter/fontsource-variable-inter-$(INTER_VERSION).tgz" | sha256sum -c --quiet
	tar -xzf .inter/fontsource-variable-inter-$(INTER_VERSION).tgz -C .inter package/LICENSE \
	  package/files/inter-latin-wght-normal.woff2 package/files/inter-latin-ext-wght-normal.woff2
	cp .inter/package/LICENSE static/vendor/inter/LICENSE
	cp .inter/package/files/inter-latin-ext-wght-normal.woff2 static/vendor/inter/
	cp .inter/package/files/inter-latin-wght-normal.woff2 $@
	rm -rf .inter

$(LORA):
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed to fetch the Lora font: apt-get install npm"; exit 1; }
	rm -rf .lora && mkdir -p .lora static/vendor/lora
	cd .lora && npm pack --silent @fontsource-variable/lora@$(LORA_VERSION) >/dev/null
	echo "$(LORA_SHA256)  .lora/fontsource-variable-lora-$(LORA_VERSION).tgz" | sha256sum -c --quiet
	tar -xzf .lora/fontsource-variable-lora-$(LORA_VERSION).tgz -C .lora package/LICENSE \
	  package/files/lora-latin-wght-normal.woff2 package/files/lora-latin-ext-wght-normal.woff2
	cp .lora/package/LICENSE static/vendor/lora/LICENSE
	cp .lora/package/files/lora-latin-ext-wght-normal.woff2 static/vendor/lora/
	cp .lora/package/files/lora-latin-wght-normal.woff2 $@
	rm -rf .lora

# --- Lighthouse (issue 23): version 12.2.3 from npm into .lighthouse/ (git-ignored), Debian's Chromium,
# mobile preset, on home, category, product and cart of a running shop (LIGHTHOUSE_URL). README "The storefront theme".
.PHONY: lighthouse
LIGHTHOUSE_VERSION := 12.2.3
LIGHTHOUSE_URL ?= http://127.0.0.1:$(PORT)

.lighthouse/node_modules/.bin/lighthouse:
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed for Lighthouse: apt-get install npm"; exit 1; }
	mkdir -p .lighthouse && cd .lighthouse && npm install --no-audit --no-fund --silent lighthouse@$(LIGHTHOUSE_VERSION)

lighthouse: install browser .lighthouse/node_modules/.bin/lighthouse
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(PY) benchmarks/lighthouse.py "$(LIGHTHOUSE_URL)"

# --- Kubernetes (issue 30) ---------------------------------------------------------------------------
# `make k8s` prints the production overlay as `kubectl apply -k` would send it (K8S_OVERLAY=dev or
# staging for the others): kubectl's built-in kustomize, no cluster needed. README "Kubernetes".
.PHONY: k8s kubectl
KUBECTL ?= kubectl
K8S_OVERLAY ?= prod

kubectl:
	@command -v $(KUBECTL) >/dev/null 2>&1 || { \
	  echo "kubectl is missing: deploy/k8s is rendered with kubectl's built-in kustomize (kubectl v1.27+;" >&2; \
	  echo "install it from your Kubernetes distribution or cloud SDK, or set KUBECTL=/path/to/kubectl)." >&2; exit 1; }

k8s: kubectl
	@$(KUBECTL) kustomize deploy/k8s/overlays/$(K8S_OVERLAY)
