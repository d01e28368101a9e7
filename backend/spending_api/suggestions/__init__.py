"""Learned suggestions stored on the transactions, the review queue and rule proposals."""
