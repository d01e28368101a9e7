"""Stable `detail` strings of the API's errors; tests and clients rely on them."""

INCORRECT_CREDENTIALS = "Incorrect username or password"
TOO_MANY_ATTEMPTS = "Too many failed login attempts; try again later"
NOT_AUTHENTICATED = "Not authenticated"
INVALID_TOKEN = "Could not validate credentials"
DATABASE_UNAVAILABLE = "Database unavailable"
TRANSACTION_NOT_FOUND = "Transaction not found"
UPLOAD_TOO_LARGE = "Upload too large"
INCORRECT_CURRENT_PASSWORD = "The current password is incorrect"
SESSION_TOO_OLD = "The session is too old to refresh; log in again"
BAD_MAPPING = (
    "mapping must be a JSON object of role -> header text or 0-based column index "
    '(or a list of them), e.g. {"date": "Booking date", "amount": 3}'
)
RULE_NOT_FOUND = "Rule not found"
NO_SUGGESTION = "The transaction has no suggestion to accept"
# Corrections (MODEL.md): a code each, as the clients match them.
UNKNOWN_CATEGORY = "unknown_category"
IMPORTED_FIELD_LOCKED = "imported_field_locked"
IMPORT_NOT_FOUND = "import_not_found"
TRANSFER_NOT_FOUND = "transfer_not_found"
# Accounts (GET/POST/PATCH/DELETE /accounts).
ACCOUNT_NOT_FOUND = "account_not_found"
ACCOUNT_NAME_TAKEN = "account_name_taken"
ACCOUNT_HAS_TRANSACTIONS = "account_has_transactions"
LAST_ACCOUNT = "last_account"
# Categories (GET/POST/PATCH/DELETE /categories, POST /categories/{id}/merge).
CATEGORY_NOT_FOUND = "category_not_found"
PARENT_CATEGORY_NOT_FOUND = "parent_category_not_found"
TARGET_CATEGORY_NOT_FOUND = "target_category_not_found"
CATEGORY_NAME_TAKEN = "category_name_taken"
CATEGORY_IN_USE = "category_in_use"
CATEGORY_REQUIRED = "category_required"
CATEGORY_PARENT_CYCLE = "category_parent_cycle"
CATEGORY_MERGE_INTO_ITSELF = "category_merge_into_itself"
