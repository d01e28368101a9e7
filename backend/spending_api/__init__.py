"""spending-dashboard API: authentication, transactions and spending metrics."""

__version__ = "0.1.0"
