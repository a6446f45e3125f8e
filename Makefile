# fieldsync: `make run` starts a town node on demo data; `make test` runs every test.
PYTHON ?= python3
INSTANCE ?= instance-demo
PORT ?= 8080

.PHONY: run install test soak bench lint clean

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

lint:
	$(PYTHON) -m ruff check fieldsync tests bench

clean:
	rm -rf $(INSTANCE) build dist *.egg-info .pytest_cache
