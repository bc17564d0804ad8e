"""`brokerql serve | exchange | db upgrade | seed --demo | import FORMAT FILE | export-schema | bootstrap |
persist-operations`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Any

from brokerql.cli_admin import add_commands
from brokerql.logs import configure_logging
from brokerql.monitor.heap import limit_arenas
from brokerql.settings import Environment, Settings, load_settings

log = logging.getLogger("brokerql")


def _migrate(settings: Settings) -> None:
    from brokerql.store.migrate import upgrade

    upgrade(settings.database_url)


async def _seed(settings: Settings) -> bool:
    from brokerql.container import make_passwords
    from brokerql.services.seed import seed_demo
    from brokerql.store.database import Database

    db = Database(settings.database_url)
    try:
        return await seed_demo(db, make_passwords(settings))
    finally:
        await db.dispose()


def _workers_refusal(settings: Settings, workers: int) -> str | None:
    """Why `--workers N` cannot run with these settings (N processes must share Redis and one exchange)."""
    if workers <= 1:
        return None
    if not settings.redis_url:
        return "--workers > 1 needs BROKERQL_REDIS_URL: the worker processes talk through Redis"
    if settings.embedded_exchange:
        return "--workers > 1 needs BROKERQL_EMBEDDED_EXCHANGE=0 and one `brokerql exchange` process"
    if settings.is_sqlite:
        return "--workers > 1 needs PostgreSQL (BROKERQL_DATABASE_URL=postgresql+asyncpg://...)"
    return None


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from brokerql.api.app import create_app

    if refusal := _workers_refusal(settings, args.workers):
        print(refusal, file=sys.stderr)
        return 2
    _migrate(settings)
    if settings.demo and asyncio.run(_seed(settings)):
        log.info("seeded demo data into the empty database")
    host, port = args.host or settings.host, args.port or settings.port
    where = f"http://{host}:{port}/graphql"
    log.info(
        "BrokerQL on %s (GraphiQL in a browser) - %s, %d worker process(es)",
        where,
        "Redis bus" if settings.redis_url else "in-process bus",
        args.workers,
    )
    if args.workers > 1:
        # uvicorn's workers: one listening socket, N processes, each building its app from the
        # environment (so CLI flags go there too) and setting up its own logging, restarted by the
        # supervisor if one dies.
        os.environ.update(BROKERQL_HOST=host, BROKERQL_PORT=str(port))
        app: Any = "brokerql.api.app:create_worker_app"
    else:
        app = create_app(settings, freeze_heap=True)
    uvicorn.run(
        app,
        factory=args.workers > 1,
        workers=args.workers if args.workers > 1 else None,
        host=host,
        port=port,
        ssl_certfile=args.ssl_certfile,  # TLS in the process itself when no proxy ends it (E1)
        ssl_keyfile=args.ssl_keyfile,
        log_config=None,  # our structured logging (brokerql/logs.py), not uvicorn's own formatters
        ws="websockets-sansio",
        # permessage-deflate costs ~70% more memory per socket; quotes are small and frequent.
        ws_per_message_deflate=False,
        log_level="info",  # uvicorn sets this on its loggers, hence its own switch for the access lines:
        access_log=settings.access_log,
        lifespan="on",
    )
    return 0


async def _run_exchange(settings: Settings) -> None:
    from brokerql.container import Container

    container = Container.build(settings, with_exchange=True)
    container.monitor.role = "exchange"  # serves no API: reports as the exchange on the monitor board
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await container.start()
    role = container.venue_host.role.value if container.venue_host is not None else "off"
    log.info("exchange process up (%d instruments): %s", len(container.instruments), role)
    try:
        await stop.wait()
    finally:
        await container.stop()


def cmd_exchange(settings: Settings, args: argparse.Namespace) -> int:
    if args.replay:
        from brokerql.exchange.replay import Replay, ReplayError

        try:  # read it now: a bad file is a usage error, not a crash later
            Replay.from_file(args.replay, args.speed)
        except (OSError, ReplayError) as exc:
            print(f"cannot replay {args.replay}: {exc}", file=sys.stderr)
            return 2
        settings = settings.model_copy(update={"market_replay_file": args.replay, "market_replay_speed": args.speed})
    _migrate(settings)
    asyncio.run(_run_exchange(settings))
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    _migrate(settings)
    print("database is at the latest migration")
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    if not args.demo:
        print("nothing to seed: pass --demo", file=sys.stderr)
        return 2
    if settings.env is Environment.PRODUCTION:
        print("refusing to seed demo data in production", file=sys.stderr)
        return 2
    _migrate(settings)
    print("seeded demo data" if asyncio.run(_seed(settings)) else "database not empty: nothing seeded")
    return 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from brokerql.services.research.imports import print_import

    try:
        text = open(args.file, encoding="utf-8-sig").read()  # noqa: SIM115 - before any loop runs
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    _migrate(settings)
    return asyncio.run(print_import(settings.database_url, args.format, text, args.source, not args.draft))


def cmd_export_schema(_settings: Settings | None, _args: argparse.Namespace) -> int:
    from brokerql.schema import build_schema

    sys.stdout.write(build_schema().as_str() + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="brokerql", description="BrokerQL: the broker's GraphQL backend.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate, seed demo data if asked and empty, serve the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers", type=int, default=1, help="API processes on the same port (scaled deployment: one per core)"
    )
    serve.add_argument("--ssl-certfile", help="serve HTTPS/WSS with this certificate (PEM)")
    serve.add_argument("--ssl-keyfile", help="the certificate's private key (PEM)")
    exchange = sub.add_parser("exchange", help="run the simulated exchange as its own process")
    exchange.add_argument("--replay", metavar="FILE.csv", help="also play recorded trades from this CSV file")
    exchange.add_argument("--speed", type=float, default=1.0, help="replay speed: 10 = ten times faster (default 1)")
    db = sub.add_parser("db", help="database commands")
    db.add_argument("action", choices=["upgrade"])
    seed = sub.add_parser("seed", help="insert demo data into an empty database")
    seed.add_argument("--demo", action="store_true")
    feed = sub.add_parser("import", help="import a feed file into articles (idempotent by source and item id)")
    feed.add_argument("format", choices=["vendor", "json", "markdown", "announcements"])
    feed.add_argument("file")
    feed.add_argument("--source", help="source name of the items (default: the format's name)")
    feed.add_argument("--draft", action="store_true", help="land new items as drafts instead of publishing them")
    sub.add_parser("export-schema", help="print the GraphQL SDL")
    admin_commands = add_commands(sub)
    args = parser.parse_args(argv)
    if args.command == "serve" and bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        parser.error("--ssl-certfile and --ssl-keyfile go together")
    if args.command == "export-schema":
        logging.basicConfig(level=logging.INFO)
        return cmd_export_schema(None, args)
    try:
        settings = load_settings()
    except ValueError as exc:
        print(f"invalid settings: {exc}", file=sys.stderr)
        return 2
    limit_arenas(settings.malloc_arena_max)  # early, before the app's threads (monitor/heap.py)
    configure_logging(settings)
    handlers = {"serve": cmd_serve, "exchange": cmd_exchange, "db": cmd_db, "seed": cmd_seed, "import": cmd_import}
    handlers.update(admin_commands)
    return handlers[args.command](settings, args)


if __name__ == "__main__":
    raise SystemExit(main())
