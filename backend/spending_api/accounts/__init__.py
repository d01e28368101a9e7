"""Accounts: where a user's money is kept. Every transaction belongs to one."""
