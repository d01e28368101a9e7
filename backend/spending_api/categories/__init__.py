"""Categories: the user's own, each with a kind (spending, income or transfer)."""
