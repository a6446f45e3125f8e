# fieldsync: `make run` starts a town node on demo data; `make test` runs every test.
PYTHON ?= python3
INSTANCE ?= instance-demo
PORT ?= 8080

.PHONY: run install test soak bench lint clean i18n

run: install
	$(PYTHON) -m fieldsync --instance $(INSTANCE) demo --reset
	$(PYTHON) -m fieldsync --instance $(INSTANCE) serve --port $(PORT)

install:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'

test: install
	$(PYTHON) -m pytest

soak: install
	FIELDSYNC_SOAK=1 $(PYTHON) -m pytest -m soak

bench: install
	$(PYTHON) bench/checkin_bench.py
	$(PYTHON) bench/sync_bench.py

# Re-extract every _() string from Python and templates, merge into the zh and en
# catalogues (new strings arrive untranslated: tests/server/test_i18n.py fails until
# zh has them), then compile the .mo files that are committed beside the .po files.
i18n:
	mkdir -p build
	pybabel extract -F babel.cfg -o build/messages.pot --no-location --sort-output \
		--project fieldsync --copyright-holder "fieldsync developers" -w 100 .
	pybabel update -i build/messages.pot -d fieldsync/translations \
		--no-fuzzy-matching --ignore-pot-creation-date -w 100
	pybabel compile -d fieldsync/translations --statistics

lint:
	$(PYTHON) -m ruff check fieldsync tests bench

clean:
	rm -rf $(INSTANCE) build dist *.egg-info .pytest_cache
