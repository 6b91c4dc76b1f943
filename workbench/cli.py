"""``freight serve`` and ``freight users``: the workbench's two commands.

``freight serve`` starts the web application on the embedded default (a SQLite file and
the result folders under ``./workbench-data``, a local Dask cluster) or on a PostgreSQL
URL (``--db``) and a Dask scheduler (``--scheduler``); ``freight users`` manages accounts
in the same database (the first admin is made here, on the server).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

DEFAULT_DATA_DIR = "workbench-data"
ENV_DB = "FREIGHT_WORKBENCH_DB"
ENV_DATA = "FREIGHT_WORKBENCH_DATA"
ENV_SCHEDULER = "FREIGHT_WORKBENCH_SCHEDULER"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both commands share: where the database and the data are."""
    parser.add_argument(
        "--db",
        default=os.environ.get(ENV_DB),
        help="database URL, e.g. postgresql+psycopg://user:pw@host/workbench (default: "
        f"${ENV_DB}, else a SQLite file in the data directory)",
    )
    parser.add_argument(
        "--data-dir",
        default=os.environ.get(ENV_DATA, DEFAULT_DATA_DIR),
        help=f"scenarios and result folders (default: ${ENV_DATA}, else ./{DEFAULT_DATA_DIR}); "
        "on a multi-machine Dask cluster, a folder every worker sees at the same path",
    )


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from workbench.app import Settings

    return Settings(
        data_dir=Path(args.data_dir).absolute(),
        db_url=args.db,
        scheduler=getattr(args, "scheduler", None),
        workers=getattr(args, "workers", None),
    )


def _redact(url: str) -> str:
    """A database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def serve(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy import func, select

    from workbench.app import create_app
    from workbench.db import User

    settings = _settings(args)
    app = create_app(settings)
    with app.state.sessions() as db:
        users = db.scalar(select(func.count(User.id))) or 0
    where = f"--data-dir {settings.data_dir}" + (
        f" --db '{_redact(settings.url)}'" if args.db else ""
    )
    print(
        f"workbench: database {_redact(settings.url)}; data in {settings.data_dir}; "
        f"jobs on {settings.scheduler or 'a local Dask cluster'}",
        file=sys.stderr,
    )
    if not users:
        print(
            "no users yet: create the first admin (in another terminal) with\n"
            f"  freight users add NAME --role admin {where}",
            file=sys.stderr,
        )
    print(f"open http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0


def users(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from workbench import auth
    from workbench.db import User, audit, make_engine, migrate, session_factory

    settings = _settings(args)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.url)
    migrate(engine)
    sessions = session_factory(engine)
    try:
        with sessions() as db, db.begin():
            if args.action == "list":
                for u in db.scalars(select(User).order_by(User.username)):
                    print(f"{u.username:<24}{u.role:<10}{'active' if u.active else 'disabled'}")
                return 0
            if not args.name:
                print("error: a user NAME is needed", file=sys.stderr)
                return 2
            if args.action == "add":
                password = _password(args)
                auth.add_user(db, args.name, password, args.role or "viewer", by="(command line)")
                audit(
                    db,
                    "(command line)",
                    "user.add",
                    f"user {args.name}",
                    f"role {args.role or 'viewer'}",
                )
                print(f"user {args.name} added ({args.role})")
            elif args.action == "set":
                u = db.scalar(select(User).where(User.username == args.name.strip().lower()))
                if u is None:
                    print(f"error: no user {args.name}", file=sys.stderr)
                    return 2
                if args.role:
                    u.role = auth.check_role(args.role)
                if args.password or args.password_stdin:
                    u.password_hash = auth.hash_password(_password(args))
                if args.disable:
                    u.active = False
                if args.enable:
                    u.active = True
                audit(
                    db,
                    "(command line)",
                    "user.change",
                    f"user {u.username}",
                    f"role {u.role}, active {u.active}",
                )
                print(f"user {u.username}: {u.role}, {'active' if u.active else 'disabled'}")
    except auth.AuthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("error: the two passwords differ")
    return first
