# Two commands set everything up on a fresh Linux machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
DATA   ?= ../shared/data/fer2013/fer2013.csv.gz
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test browser-deps audit bench-realtime bench-video worker clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

run: install
	$(PY) run.py --host $(HOST) --port $(PORT)

# Celery worker for video / photo-batch jobs (needs REDIS_URL, and the server's DATABASE_URL and DATA_DIR).
# Without REDIS_URL `make run` processes jobs in its own process pool and no worker is needed.
WORKER_CONCURRENCY ?= $(shell nproc 2>/dev/null || echo 1)
worker: install
	@test -n "$$REDIS_URL" || { echo "REDIS_URL is not set (e.g. export REDIS_URL=redis://127.0.0.1:6379/0)"; exit 2; }
	$(VENV)/bin/celery -A portal.jobs.celery_app worker --concurrency $(WORKER_CONCURRENCY) --loglevel INFO

# Video benchmark (bounded, a few minutes): frames/s per worker, where the time goes, room camera, memory
bench-video: install
	$(PY) -m realtime.video_bench

# The browser end-to-end test needs Debian's chromium + chromium-driver; install them when
# we can (root + apt), otherwise the test skips itself with a loud message.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	      || echo "WARNING: could not install chromium; the browser test will be skipped"; \
	  else echo "WARNING: chromium missing and apt-get unavailable; the browser test will be skipped"; fi; \
	fi

test: install browser-deps
	$(PY) -m pytest

audit: install
	$(PY) -m train audit $(DATA) --json artifacts/audit.json

clean:
	rm -rf $(VENV) .cache .pytest_cache
