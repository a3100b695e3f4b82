"""`videoretalk serve`, `videoretalk worker` and `videoretalk keys create|list|revoke`.

`add_commands(subparsers)` plugs them into the main `videoretalk` parser;
`python -m videoretalk.api …` runs them on their own.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InvalidParameter

__all__ = ["add_commands", "main"]


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for name in ("host", "port", "workers", "public_base_url"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    if args.data_dir is not None:
        overrides["data_dir"] = Path(args.data_dir)
    return Settings.from_env(**overrides)


def add_commands(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve", help="run the DashScope-compatible API with its workers (no external servers)"
    )
    serve.add_argument("--host", help="bind address (VIDEORETALK_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (VIDEORETALK_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (VIDEORETALK_WORKERS)")
    serve.add_argument(
        "--public-base-url", help="URL clients reach this service at, for video_url and upload_host"
    )
    serve.add_argument("--data-dir", help="tasks, keys, results (VIDEORETALK_DATA_DIR)")
    serve.set_defaults(command=_cmd_serve)

    worker = subparsers.add_parser(
        "worker", help="run a cluster worker node (needs VIDEORETALK_CLUSTER_* settings)"
    )
    worker.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="tasks run at once by this node (default 1; one per GPU)",
    )
    worker.add_argument("--data-dir", help="working folders for tasks (VIDEORETALK_DATA_DIR)")
    worker.set_defaults(command=_cmd_worker)

    keys = subparsers.add_parser("keys", help="manage API keys")
    keys.add_argument("--data-dir", help="as for serve (VIDEORETALK_DATA_DIR)")
    actions = keys.add_subparsers(dest="keys_action", required=True)
    create = actions.add_parser("create", help="create a key and print it (shown only once)")
    create.add_argument("--name", default="default", help="a label for the key")
    create.add_argument("--rate", type=float, help="submissions per second (default: setting)")
    create.add_argument(
        "--max-active", type=int, help="tasks PENDING or RUNNING at once (default: setting)"
    )
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(command=_cmd_keys_create)
    listing = actions.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(command=_cmd_keys_list)
    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(command=_cmd_keys_revoke)


def _cmd_serve(args: argparse.Namespace) -> int:
    from .server import serve

    serve(_settings(args))
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    from ..tasks.cluster import run_worker_node

    run_worker_node(_settings(args), concurrency=args.concurrency)
    return 0


def _key_store(args: argparse.Namespace) -> Any:
    from ..tasks.backends import DB_FILE
    from .keys import KeyStore

    settings = _settings(args)
    if settings.cluster.database_url:  # the keys every API node shares
        from ..tasks.accounts_sql import SQLKeyStore
        from ..tasks.sql_schema import open_engine

        return SQLKeyStore(open_engine(settings.cluster.database_url))
    return KeyStore(Path(settings.data_dir) / DB_FILE)


def _cmd_keys_create(args: argparse.Namespace) -> int:
    if args.rate is not None and args.rate <= 0:
        raise InvalidParameter("--rate must be > 0")
    if args.max_active is not None and args.max_active < 1:
        raise InvalidParameter("--max-active must be >= 1")
    key, secret = _key_store(args).create(args.name, args.rate, args.max_active)
    if args.json:
        print(json.dumps({"key_id": key.key_id, "name": key.name, "api_key": secret}))
    else:
        print(f"{secret}\n(key id {key.key_id}; store the key now, it cannot be shown again)")
    return 0


def _cmd_keys_list(args: argparse.Namespace) -> int:
    keys = _key_store(args).list()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "key_id": k.key_id,
                        "name": k.name,
                        "hint": k.hint,
                        "created": k.created,
                        "revoked": k.revoked,
                    }
                    for k in keys
                ]
            )
        )
        return 0
    for k in keys:
        state = "revoked" if k.revoked else "active"
        created = datetime.fromtimestamp(k.created).strftime("%Y-%m-%d %H:%M")
        print(f"{k.key_id}  {k.hint:<10}  {state:<7}  {created}  {k.name}")
    return 0


def _cmd_keys_revoke(args: argparse.Namespace) -> int:
    if not _key_store(args).revoke(args.key_id):
        raise InvalidParameter(f"no active key with id {args.key_id!r}")
    print(f"revoked {args.key_id}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m videoretalk.api")
    add_commands(parser.add_subparsers(dest="subcommand", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.command(args))
    except InvalidParameter as error:
        print(f"error: {error.code}: {error.message}", file=sys.stderr)
        return 2
