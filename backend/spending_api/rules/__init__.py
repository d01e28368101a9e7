"""The user's ordered categorization rules: stored, previewed, run at import and on request."""
