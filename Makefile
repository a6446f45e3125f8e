# fieldsync: `make run` starts a town node on demo data; `make test` runs every test.
# Both install into a virtual environment of the project's own (.venv), never into the
# Python that runs make: a newcomer's Python is left as it was.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTANCE ?= instance-demo
PORT ?= 8080

.PHONY: run install test soak bench lint clean i18n docs

run: install
	$(PY) -m fieldsync --instance $(INSTANCE) demo --reset
	$(PY) -m fieldsync --instance $(INSTANCE) serve --port $(PORT)

install: $(VENV)/installed

# Installed again only when pyproject.toml is newer than the stamp (or .venv is gone).
$(VENV)/installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# The suite in parallel, one worker per core (pytest-xdist; decision 0200): most tests wait on
# servers, browsers and SQLite, so two workers on two cores still gain. Each file stays in one
# worker, so its module fixtures are built once. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto

# Then the hub's suites again with every test hub on PostgreSQL (decision 0300), when a server is
# given: FIELDSYNC_TEST_POSTGRES=postgresql://… (`eval "$$(.ci/postgres start)"` starts a
# throwaway one; .ci/run does). Without one they are skipped, and say so, unless
# FIELDSYNC_REQUIRE_POSTGRES=1 (CI), which makes that a failure.
POSTGRES_SUITES ?= tests/sync tests/reports tests/fault tests/server/test_hub_pages.py \
	tests/server/test_hub_screens.py tests/server/test_hub_review_pages.py tests/server/test_hub_attention.py \
	tests/security/test_hub.py tests/security/test_hub_units.py tests/security/test_review_queue_units.py

test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --maxprocesses 8 --dist loadfile
	@if [ -n "$$FIELDSYNC_TEST_POSTGRES" ]; then \
		echo "== the hub suites again, every hub on PostgreSQL =="; \
		FIELDSYNC_TEST_BACKEND=postgresql $(PY) -m pytest -n $(TEST_WORKERS) --maxprocesses 8 --dist loadfile \
			$(POSTGRES_SUITES); \
	elif [ "$$FIELDSYNC_REQUIRE_POSTGRES" = 1 ]; then \
		echo "FIELDSYNC_REQUIRE_POSTGRES=1 but no FIELDSYNC_TEST_POSTGRES: start one with .ci/postgres start"; exit 1; \
	else \
		echo "(hub suites on PostgreSQL skipped: no FIELDSYNC_TEST_POSTGRES; see .ci/postgres)"; \
	fi

soak: install
	FIELDSYNC_SOAK=1 $(PY) -m pytest -m soak

bench: install
	$(PY) bench/checkin_bench.py
	$(PY) bench/sync_bench.py

# Re-extract every _() string from Python and templates, merge into the zh and en
# catalogues (new strings arrive untranslated: tests/server/test_i18n.py fails until
# zh has them), then compile the .mo files that are committed beside the .po files.
i18n: install
	mkdir -p build
	$(VENV)/bin/pybabel extract -F babel.cfg -o build/messages.pot --no-location --sort-output \
		--project fieldsync --copyright-holder "fieldsync developers" -w 100 .
	$(VENV)/bin/pybabel update -i build/messages.pot -d fieldsync/translations \
		--no-fuzzy-matching --ignore-pot-creation-date -w 100
	$(VENV)/bin/pybabel compile -d fieldsync/translations --statistics

lint: install
	$(PY) -m ruff check fieldsync tests bench tools

clean:
	rm -rf $(INSTANCE) build dist *.egg-info .pytest_cache $(VENV)

# docs/cli.md is generated from the commands' own help (tests/test_docs.py checks it).
docs: install
	$(PY) -m tools.cli_reference
