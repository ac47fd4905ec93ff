# Playroom — two commands: `make run` and `make test`.
# Everything it needs is installed by these targets on a fresh Debian machine.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
APT_PKGS   := redis-server chromium nginx

.PHONY: run test setup test-deps fonts clean catalogs i18n

run: setup fonts
	$(PY) app.py

setup: $(PY_STAMP) $(NODE_STAMP) catalogs

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# The message catalogs (issue 16) compiled from their .po files at every set-up
# (cheap); `make i18n` extracts the messages from the sources into every .po.
catalogs: $(PY_STAMP)
	@$(PY) -m rooms.web.i18n compile

i18n: $(PY_STAMP)
	$(PY) -m rooms.web.i18n extract
	$(PY) -m rooms.web.i18n compile

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The PDFs (activities/contract/pdfdoc.py) embed DejaVu Sans: Debian's fonts-dejavu-core,
# installed only when missing (or set PLAYROOM_FONT_DIR to a folder holding it).
fonts:
	@[ -n "$$PLAYROOM_FONT_DIR" ] || [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	    echo "installing fonts-dejavu-core from Debian's packages (the PDFs embed it)"; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fonts-dejavu-core >/dev/null; \
	  else echo "the PDFs need DejaVu Sans: install it or set PLAYROOM_FONT_DIR"; exit 1; fi; }

# Debian packages the tests drive for real: redis-server (storage contract, several
# processes), chromium (browser end-to-end), nginx (in front of two processes,
# tests/integration/test_nginx.py) and poppler-utils (pdftotext and pdftoppm read
# the PDFs as a person's tools do, tests/pdftools.py). Installed only when missing.
test-deps: fonts
	@missing=""; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	    echo "installing$$missing from Debian's packages"; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing$$missing and no apt-get: install them yourself"; exit 1; fi; \
	fi

test: setup test-deps
	$(VENV)/bin/ruff check --no-cache .
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules instance test-artifacts

# Benchmark (bench/run.py): relay sweep vs a minimal Node socket.io relay, late join,
# export, idle memory, per async mode. Results in bench/results/ (git-ignored).
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_REF   := bench/reference/node_modules/.installed

$(BENCH_STAMP): bench/requirements.txt $(PY_STAMP)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

$(BENCH_REF): bench/reference/package.json bench/reference/package-lock.json
	cd bench/reference && npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: bench bench-quick
bench: setup $(BENCH_STAMP) $(BENCH_REF)
	$(PY) bench/run.py $(BENCH_ARGS)

bench-quick: setup $(BENCH_STAMP) $(BENCH_REF)
	$(PY) bench/run.py --quick $(BENCH_ARGS)

# Hostile-client fuzzer (tests/hostile/runner.py): FUZZ_EVENTS events per async mode
# against a real server (`make test` runs a bounded one); prints a summary line per
# mode and the first offending examples, and fails if any mode had a failure.
FUZZ_EVENTS ?= 50000
FUZZ_SEED   ?= 1
FUZZ_MODES  ?= gevent eventlet threading

.PHONY: fuzz
fuzz: setup
	FUZZ_EVENTS=$(FUZZ_EVENTS) FUZZ_SEED=$(FUZZ_SEED) $(PY) -m tests.hostile.runner $(foreach m,$(FUZZ_MODES),--mode $(m))

# Protocol conformance (tests/conformance/README.md): the official Engine.IO v4 and
# Socket.IO v5 suites against the patched server in every async mode and against
# the unpatched libraries; fails on a failure the libraries alone do not have.
# The suites' test dependencies come from the npm registry; the suites themselves
# from CONFORMANCE_SUITES (see the README: no registry carries them).
CONF_STAMP := tests/conformance/node_modules/.installed

$(CONF_STAMP): tests/conformance/package.json tests/conformance/package-lock.json
	cd tests/conformance && npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: conformance
conformance: setup $(CONF_STAMP)
	$(PY) tests/conformance/run.py $(CONFORMANCE_ARGS)
