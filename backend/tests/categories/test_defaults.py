"""The default category set is written twice (migration 0004 must not import app code):
the two copies stay equal."""

import importlib.util

from spending_api.categories.defaults import (
    DEFAULT_CATEGORIES,
    UNCATEGORIZED,
    UNCATEGORIZED_INCOME,
)
from spending_api.categories.repository import REQUIRED
from spending_api.settings import REPO_ROOT

MIGRATION = (
    REPO_ROOT / "backend" / "migrations" / "versions" / "0004_accounts_categories_corrections.py"
)


def _migration():
    spec = importlib.util.spec_from_file_location("migration_0004", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_0004_gives_existing_users_the_same_default_set():
    assert _migration().DEFAULT_CATEGORIES == DEFAULT_CATEGORIES


def test_the_required_categories_are_in_the_default_set_with_their_kinds():
    defaults = dict(DEFAULT_CATEGORIES)
    assert REQUIRED == {UNCATEGORIZED: "spending", UNCATEGORIZED_INCOME: "income"}
    assert all(defaults[name] == kind for name, kind in REQUIRED.items())
    assert len(defaults) == len(DEFAULT_CATEGORIES)  # no name twice
