"""Categorizing transactions without the database: merchant keys, user rules, learned
suggestions. Callers feed plain `LedgerRow`s (from SQL) and store what comes back."""
