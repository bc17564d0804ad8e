"""Administrative commands: `brokerql bootstrap` and `brokerql persist-operations DIR` (E1).

- bootstrap: in an empty production database, the first ADMIN operator with a generated password printed
  once (it is never stored in clear; change it after the first login). Refused once any operator exists.
- persist-operations: register every operation of a client build's .graphql files (api/persisted.py),
  so that a deployment with BROKERQL_PERSISTED_QUERIES_ONLY runs them and nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from sqlalchemy import func, select

from brokerql.settings import Settings


async def bootstrap(settings: Settings, username: str, name: str) -> str | None:
    """Create the first ADMIN operator; its password, or None when operators already exist."""
    from brokerql.container import make_passwords
    from brokerql.services.identity.onboarding import one_time_password
    from brokerql.store.columns import new_id
    from brokerql.store.database import Database
    from brokerql.store.tables import OperatorRow

    db = Database(settings.database_url)
    try:
        password = one_time_password()
        password_hash = await asyncio.to_thread(make_passwords(settings).hash, password)
        async with db.transaction() as uow:
            if await uow.session.scalar(select(func.count()).select_from(OperatorRow)):
                return None
            uow.session.add(
                OperatorRow(id=new_id("op"), username=username, name=name, password_hash=password_hash, roles=["ADMIN"])
            )
        return password
    finally:
        await db.dispose()


def cmd_bootstrap(settings: Settings, args: argparse.Namespace) -> int:
    from brokerql.store.migrate import upgrade

    upgrade(settings.database_url)
    password = asyncio.run(bootstrap(settings, args.username, args.name))
    if password is None:
        print("operators already exist: nothing bootstrapped", file=sys.stderr)
        return 2
    print(f"created operator {args.username!r} (ADMIN). One-time password, shown only now:")
    print(password)
    print("Log in with operatorLogin and change it at once with changePassword.")
    return 0


async def persist(settings: Settings, sources: list[str], client_name: str) -> list[tuple[str, str | None]]:
    from brokerql.api.persisted import register_sources
    from brokerql.store.database import Database

    db = Database(settings.database_url)
    try:
        return await register_sources(db, sources, client_name)
    finally:
        await db.dispose()


def cmd_persist_operations(settings: Settings, args: argparse.Namespace) -> int:
    from graphql import GraphQLError

    from brokerql.store.migrate import upgrade

    directory = Path(args.directory)
    if not directory.is_dir():
        print(f"{directory} is not a directory", file=sys.stderr)
        return 2
    upgrade(settings.database_url)
    try:
        sources = [path.read_text(encoding="utf-8") for path in sorted(directory.rglob("*.graphql"))]
        registered = asyncio.run(persist(settings, sources, args.client))
    except GraphQLError as exc:
        print(f"cannot read the operations: {exc.message}", file=sys.stderr)
        return 2
    for digest, name in registered:
        print(f"{digest}  {name or '(anonymous)'}")
    print(f"{len(registered)} operations registered for {args.client!r}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> dict:  # type: ignore[type-arg]
    boot = sub.add_parser("bootstrap", help="create the first ADMIN operator and print its one-time password")
    boot.add_argument("--username", default="admin")
    boot.add_argument("--name", default="Administrator")
    persist_ = sub.add_parser("persist-operations", help="register a client build's .graphql operations")
    persist_.add_argument("directory", help="a folder searched for *.graphql files")
    persist_.add_argument("--client", default="web", help="the client build's name, kept with each operation")
    return {"bootstrap": cmd_bootstrap, "persist-operations": cmd_persist_operations}
