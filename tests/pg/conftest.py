"""The town laptops' templates of the sync suite (tests/sync/conftest.py), for the PostgreSQL tests
that run laptops against a hub."""

from tests.sync.conftest import empty_template, town_b_template  # noqa: F401 -- fixtures shared with tests/sync
