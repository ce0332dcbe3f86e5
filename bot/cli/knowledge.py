"""``python -m bot kb …`` commands on the database's knowledge edits (the rest of ``kb`` is knowledge/cli.py).

* ``kb drafts``: the drafted changes waiting for an administrator, and the live knowledge version;
* ``kb publish ID``: the console's publish, gated by the sealed batches (the figures are printed; exit 1 when
  the change is refused). Running processes pick the new version up at their next look;
* ``kb export DIR``: the published edits written back as entry data files (``DIR/entries/*.toml``).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot import texts
from bot.cli.common import fail, open_services, os_actor
from bot.questions.edits import DRAFT, changes, current_version, published_edits
from bot.questions.publish import PUBLISHED_NOW, publish_change
from knowledge import cli as kb
from knowledge.export import export_edits


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    sub = kb.register(subparsers, parents)
    drafts = sub.add_parser("drafts", parents=parents, help="drafted knowledge changes, not yet published")
    drafts.set_defaults(func=cmd_drafts)
    publish = sub.add_parser(
        "publish", parents=parents, help="publish a drafted change if the sealed evaluation batches allow it"
    )
    publish.add_argument("change_id", type=int, metavar="ID", help="the draft's number (kb drafts)")
    publish.set_defaults(func=cmd_publish)
    export = sub.add_parser("export", parents=parents, help="write the published edits as data files into DIR")
    export.add_argument("dir", type=Path, metavar="DIR", help="e.g. knowledge/data, to review the edits in git")
    export.set_defaults(func=cmd_export)


def cmd_drafts(args: argparse.Namespace) -> int:
    return asyncio.run(_drafts(args))


async def _drafts(args: argparse.Namespace) -> int:
    async with open_services(args) as services, services.database.session() as db:
        version = await current_version(db)
        rows = await changes(db, DRAFT)
    print(f"knowledge version {version}; {len(rows)} draft(s)")
    for c in rows:
        print(f"{c.id}\t{c.kind}\t{c.entry_id}\t{c.question}\t{c.created_by}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    return asyncio.run(_publish(args))


async def _publish(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        outcome = await publish_change(services.database, args.change_id, actor=os_actor(), now=services.now(),
                                       eval_dir=services.config.knowledge.eval_path())  # fmt: skip
    for line in outcome.figure_lines():
        print(line)
    if outcome.status == PUBLISHED_NOW:
        print(texts.KB_PUBLISHED.format(version=outcome.version))
        return 0
    return fail(texts.KB_PUBLISH_OUTCOMES[outcome.status] + "；".join(outcome.problems))


def cmd_export(args: argparse.Namespace) -> int:
    if args.dir.exists() and not args.dir.is_dir():
        return fail(f"{args.dir}: not a directory", 2)
    return asyncio.run(_export(args))


async def _export(args: argparse.Namespace) -> int:
    async with open_services(args) as services, services.database.session() as db:
        version, edits = await published_edits(db)
    written = export_edits(edits, args.dir)
    for path in written:
        print(path)
    print(f"knowledge version {version}: {len(edits)} published edit(s), {len(written)} file(s) written")
    return 0
