# Deltager: `make run` serves the demo, `make test` runs the suite. Both are idempotent.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
FLASK  := $(BIN)/flask --app wsgi
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PO     := $(wildcard deltager/translations/*/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)

.PHONY: run setup test test-sqlite test-postgres bench translations extract clean

run: setup
	@$(FLASK) demo --if-empty
	@echo "E-mails are written to $(CURDIR)/instance/outbox/ (no SMTP server is configured)."
	@echo "Serving Deltager at http://127.0.0.1:5000  (Ctrl-C stops it)"
	@$(FLASK) run --host 127.0.0.1 --port 5000

setup: $(STAMP) translations
	@mkdir -p instance
	@$(FLASK) init-db

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Deltager needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Deltager and its dependencies into $(VENV) (log: $(VENV)/install.log) …"
	@$(BIN)/python -m pip install --disable-pip-version-check --upgrade pip > $(VENV)/install.log 2>&1 \
		&& $(BIN)/python -m pip install --disable-pip-version-check -e ".[test,prod]" >> $(VENV)/install.log 2>&1 \
		|| { tail -n 40 $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

translations: $(STAMP) $(MO)

%.mo: %.po
	@$(BIN)/pybabel -q compile --use-fuzzy -i $< -o $@ -l da

# Refresh the Danish catalogs' entries from the code (development; edit the .po files after).
extract: $(STAMP)
	@$(BIN)/pybabel extract -F babel.cfg -k N_ -k lazy_gettext -o /tmp/deltager-messages.pot . >/dev/null
	@echo "Messages extracted to /tmp/deltager-messages.pot"

test: $(STAMP) translations
	@bash scripts/ensure-chromium.sh
	@$(MAKE) --no-print-directory test-sqlite
	@if $(BIN)/python scripts/pg_available.py "$(PG_URL)"; then \
		$(MAKE) --no-print-directory test-postgres; \
	else \
		echo "No PostgreSQL server answers at 127.0.0.1:5432: ran the suite on SQLite only."; \
	fi

test-sqlite: $(STAMP) translations
	@echo "== Test suite on SQLite"
	@$(BIN)/pytest -q

# The second pass covers everything that touches the database; the browser tests and the pure
# modules (allocation, PDFs) do not depend on it and ran in the first pass.
test-postgres: $(STAMP) translations
	@echo "== Test suite on PostgreSQL ($(PG_URL))"
	@DELTAGER_TEST_DATABASE_URL="$(PG_URL)" $(BIN)/pytest -q -m "not browser" \
		--ignore=tests/browser --ignore=tests/allocation --ignore=tests/pdf

bench: $(STAMP) translations
	@$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache
