"""spending-admin: migrate, create users, seed demo data, import CSV files or an old SQLite file."""

import argparse
import getpass
import logging
import sys
from pathlib import Path

from spending_api.auth import repository as users
from spending_api.auth.security import hash_password
from spending_api.db import Database
from spending_api.embedded import database_url
from spending_api.migrate import upgrade
from spending_api.settings import get_settings

logger = logging.getLogger("spending_api.cli")


class CommandError(Exception):
    """A problem to report to the operator, with a non-zero exit."""


def _out(message: str) -> None:
    sys.stdout.write(message + "\n")


def cmd_init_db(args: argparse.Namespace) -> None:
    upgrade(database_url(get_settings()))
    _out("Database migrated to the latest schema.")


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat password: "):
            raise CommandError("The passwords do not match.")
    if not password:
        raise CommandError("The password must not be empty.")
    return password


def cmd_create_user(args: argparse.Namespace) -> None:
    username = args.username.strip()
    if not username or len(username) > 150:
        raise CommandError("The username must be 1 to 150 characters.")
    password = _read_password(args)
    database = Database.from_settings(get_settings())
    try:
        with database.session() as session:
            if users.get_user_by_username(session, username=username):
                raise CommandError(f"User {username!r} already exists.")
            user = users.create_user(
                session, username=username, password_hash=hash_password(password)
            )
            session.commit()
            _out(f"Created user {username!r} (id {user.id}).")
    finally:
        database.dispose()


def cmd_set_password(args: argparse.Namespace) -> None:
    """A new password for a user; every session of the user ends (its tokens get 401)."""
    password = _read_password(args)
    database = Database.from_settings(get_settings())
    try:
        with database.session() as session:
            user = users.get_user_by_username(session, username=args.username)
            if user is None:
                raise CommandError(f"No user named {args.username!r}.")
            users.set_password(session, user_id=user.id, password_hash=hash_password(password))
            session.commit()
            _out(f"Password of {args.username!r} changed; all of its sessions have ended.")
    finally:
        database.dispose()


def cmd_seed_demo(args: argparse.Namespace) -> None:
    from spending_api.demo import seed_demo_users

    settings = get_settings()
    if settings.environment == "production":
        # demo / demo, alex / alex, sam / sam are public knowledge.
        raise CommandError(
            "Demo users are refused with ENVIRONMENT=production (their passwords are public); "
            "create real users with `spending-admin create-user NAME`."
        )
    database = Database.from_settings(settings)
    try:
        with database.session() as session:
            if args.if_empty and users.any_user_exists(session):
                _out("Users exist already; demo data not seeded.")
                return
            for line in seed_demo_users(session):
                _out(line)
    finally:
        database.dispose()


def cmd_import_csv(args: argparse.Namespace) -> None:
    from spending_api.transactions.importer import (
        ImportFailed,
        ImportOptions,
        import_csv,
        mapping_from_json,
    )

    from spending_api.accounts.repository import account_id_by_name

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"No such file: {path}")
    account = (args.account or "").strip()
    if args.account is not None and not 1 <= len(account) <= 100:
        raise CommandError("--account needs a name of 1 to 100 characters.")
    database = Database.from_settings(get_settings())
    try:
        with database.session() as session:
            user = users.get_user_by_username(session, username=args.username)
            if user is None:
                raise CommandError(f"No user named {args.username!r}.")
            try:
                mapping = mapping_from_json(args.mapping)
            except ImportFailed as failed:
                raise CommandError(failed.describe()) from None
            options = ImportOptions(
                mapping=mapping,
                has_header=args.has_header,
                date_format=args.date_format,
                amount_sign=args.amount_sign,
                encoding=args.encoding,
            )
            account_id = (
                account_id_by_name(session, user_id=user.id, name=account) if account else None
            )
            with path.open("rb") as stream:
                try:
                    result = import_csv(
                        session,
                        user_id=user.id,
                        stream=stream,
                        options=options,
                        filename=path.name,
                        account_id=account_id,
                    )
                except ImportFailed as failed:
                    raise CommandError(failed.describe()) from None
            session.commit()
            _out(
                f"Imported {path.name}: {result.inserted} inserted, "
                f"{result.skipped_duplicates} skipped as duplicates."
            )
            for skipped in result.skipped_rows:
                _out(f"  line {skipped.line} left out: {skipped.reason}")
    finally:
        database.dispose()


def cmd_import_sqlite(args: argparse.Namespace) -> None:
    from spending_api.sqlite_import import LegacyImportError, import_sqlite_file

    path = Path(args.file)
    if args.if_found and not path.is_file():
        return
    database = Database.from_settings(get_settings())
    try:
        with database.session() as session:
            if args.if_found and users.any_user_exists(session):
                return  # copied before, or the database has its own users
            try:
                counts = import_sqlite_file(session, path=path)
            except LegacyImportError as error:
                raise CommandError(str(error)) from None
            session.commit()
            _out(
                f"Copied {counts.users} users and {counts.transactions} transactions "
                f"from {path} into PostgreSQL; the file is no longer used and may be deleted."
            )
    finally:
        database.dispose()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spending-admin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("init-db", help="apply the database migrations").set_defaults(
        handler=cmd_init_db
    )

    create = commands.add_parser("create-user", help="create a login")
    create.add_argument("username")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    create.set_defaults(handler=cmd_create_user)

    set_password = commands.add_parser(
        "set-password", help="set a user's password and end all of the user's sessions"
    )
    set_password.add_argument("username")
    set_password.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    set_password.set_defaults(handler=cmd_set_password)

    seed = commands.add_parser(
        "seed-demo", help="create the demo users with two years of data (idempotent)"
    )
    seed.add_argument(
        "--if-empty", action="store_true", help="only when the database has no users yet"
    )
    seed.set_defaults(handler=cmd_seed_demo)

    importer = commands.add_parser(
        "import-csv", help="import a bank export (CSV, OFX, QIF, CAMT.053)"
    )
    importer.add_argument("username")
    importer.add_argument("file")
    importer.add_argument("--date-format", default=None, help="e.g. %%d/%%m/%%Y")
    importer.add_argument(
        "--amount-sign",
        choices=["spend_positive", "spend_negative"],
        default=None,
        help="how the file writes money spent (default: detected from the file)",
    )
    importer.add_argument(
        "--mapping", default=None, help='JSON role -> column, e.g. \'{"date": 0, "amount": 2}\''
    )
    importer.add_argument(
        "--has-header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether the file has a header row (default: detected)",
    )
    importer.add_argument("--encoding", default=None, help="e.g. cp1252 (default: detected)")
    importer.add_argument(
        "--account",
        default=None,
        metavar="NAME",
        help="the account to import into, created if missing (default: the user's first)",
    )
    importer.set_defaults(handler=cmd_import_csv)

    legacy = commands.add_parser(
        "import-sqlite",
        help="copy the users and transactions of an older version's SQLite file (once)",
    )
    legacy.add_argument("file", help="e.g. data/spending.db")
    legacy.add_argument(
        "--if-found",
        action="store_true",
        help="do nothing when the file is missing or the database has users already",
    )
    legacy.set_defaults(handler=cmd_import_sqlite)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except CommandError as error:
        sys.stderr.write(f"spending-admin: {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
