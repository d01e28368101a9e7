"""Transfers: money out of one of the user's accounts paired with the same amount into another."""
