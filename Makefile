# Storia — `make run` serves the demo, `make test` runs the suite. See README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: setup run test bench translations babel-extract babel-update clean

setup: $(VENV)/.installed static/vendor/.installed translations

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Storia needs Python 3.11 or newer"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create a virtual environment (on Debian: apt install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

static/vendor/.installed: package.json package-lock.json app/icons.json tools/icons.mjs
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js \
	   node_modules/htmx-ext-sse/dist/sse.min.js \
	   node_modules/@picocss/pico/css/pico.min.css static/vendor/
	node tools/icons.mjs
	@touch $@

translations: $(VENV)/.installed
	@$(BIN)/pybabel -q compile -d app/translations

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask search rebuild
	$(BIN)/flask demo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m tests.benchmark $(BENCH_ARGS)
	$(BIN)/python -m tests.benchmark_documents
	$(BIN)/python -m tests.benchmark_sales

babel-extract: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs='.* __pycache__ node_modules instance' -o app/translations/messages.pot --no-location --sort-output .

babel-update: babel-extract
	$(BIN)/pybabel -q update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) node_modules static/vendor
