"""Spending aggregates: totals, averages, top categories, spend over time."""
