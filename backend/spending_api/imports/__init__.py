"""Imports: each stored import of a file, and the options that worked for a bank's layout."""
