"""Transactions: filters, listing, import and export."""
