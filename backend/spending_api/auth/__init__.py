"""Users, password hashing, JWT access tokens and the login limiter."""
