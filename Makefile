# Two commands set everything up on a fresh Linux machine: `make run` (the app only: requirements.txt,
# no torch) and `make test` (the app + training/test packages: requirements-train.txt, then pytest).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
DATA   ?= $(or $(FER2013_CSV),../shared/data/fer2013/fer2013.csv.gz)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install train-deps run test browser-deps nginx pdf-fonts audit bench-video worker clean gpu-pack

install: $(VENV)/.installed pdf-fonts

# the app: requirements.txt (onnxruntime, MediaPipe, OpenCV, Gradio, Flask, ...; no torch)
$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# training, export, research tools and the tests: requirements-train.txt (includes the app's)
train-deps: $(VENV)/.installed-train

$(VENV)/.installed-train: $(VENV)/.installed requirements-train.txt
	$(PY) -m pip install --quiet -r requirements-train.txt
	touch $@

run: install
	$(PY) run.py --host $(HOST) --port $(PORT)

# Celery worker for video / photo-batch jobs (needs REDIS_URL, and the server's DATABASE_URL and DATA_DIR).
# Without REDIS_URL `make run` processes jobs in its own process pool and no worker is needed.
# `python -m celery`, not the `celery` script: only the former puts the project on sys.path for good
# (with the script every job failed with "No module named 'db'"; tests/jobs/test_make_worker.py).
WORKER_CONCURRENCY ?= $(shell nproc 2>/dev/null || echo 1)
worker: install
	@test -n "$$REDIS_URL" || { echo "REDIS_URL is not set (e.g. export REDIS_URL=redis://127.0.0.1:6379/0)"; exit 2; }
	$(PY) -m celery -A portal.jobs.celery_app worker --concurrency $(WORKER_CONCURRENCY) --loglevel INFO

# Video benchmark (bounded, a few minutes): frames/s per worker, where the time goes, room camera, memory
bench-video: install
	$(PY) -m realtime.research.video_bench

# The browser end-to-end test needs Debian's chromium + chromium-driver; install them when
# we can (root + apt), otherwise the test skips itself with a loud message.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	      || echo "WARNING: could not install chromium; the browser test will be skipped"; \
	  else echo "WARNING: chromium missing and apt-get unavailable; the browser test will be skipped"; fi; \
	fi

# The reverse-proxy test (tests/jobs/test_nginx.py: two app processes + two workers behind
# nginx, docs/deploy/nginx-two-apps.conf) needs Debian's nginx; install it when we can (root + apt).
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null) \
	      || echo "WARNING: could not install nginx; the reverse-proxy test will be skipped"; \
	  else echo "WARNING: nginx missing and not root (or no apt-get); the reverse-proxy test will be skipped"; fi; \
	fi

# PDF reports draw CJK and emoji with Debian's Noto fonts when present (otherwise such
# characters show a visible replacement mark); install them when we can (root + apt).
pdf-fonts:
	@if [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk fonts-noto-color-emoji >/dev/null) \
	      || echo "WARNING: could not install the Noto fonts; PDFs mark CJK/emoji characters instead"; \
	  else echo "WARNING: Noto fonts missing and apt-get unavailable; PDFs mark CJK/emoji characters instead"; fi; \
	fi

test: install train-deps browser-deps nginx
	$(PY) -m pytest

# A GPU when lent (issue 17): pack the faces and votes to travel with the tree (artifacts/gpu, ~56 MB), then run
# `bash train/gpu_teacher.sh` on the device machine (docs/REPORT.md, "A GPU when lent").
FERPLUS ?= ../shared/data/ferplus/ferplus_votes.csv.gz
gpu-pack: train-deps
	$(PY) -m train pack $(DATA) --out artifacts/gpu/fer2013-train-val.npz.xz --usage Training --usage PublicTest
	cp $(FERPLUS) artifacts/gpu/ferplus_votes.csv.gz

audit: train-deps
	$(PY) -m train audit $(DATA) --json artifacts/audit.json

clean:
	rm -rf $(VENV) .cache .pytest_cache
