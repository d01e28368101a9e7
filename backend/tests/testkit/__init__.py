"""What several test modules share, imported as `testkit.<module>` (pytest's `pythonpath`
puts backend/tests on the path; the tests run in importlib mode, so test modules cannot
import each other): server processes, the ledger-lock helpers, the real-export figures,
the rollup check and the plain-Python /metrics."""
