"""`sangkien review …`: load the org tree, set up campaigns. The transaction boundary is here."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from services.review.config import ReviewSettings
from services.review.service import ensure_campaigns, load_tree
from shared.db import make_engine, make_sessionmaker, tenant_session
from shared.logging import get_logger
from shared.orgtree import read_tree
from shared.timeutil import now


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="sangkien review")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("load-tree", help="nạp cây tổ chức từ data/orgtree/<mã> (chạy lại an toàn)")
    p.add_argument("tree", nargs="+")
    p = sub.add_parser("seed", help="tạo chương trình 2021 (và bản demo đang mở)")
    p.add_argument("--demo", action="store_true")
    args = ap.parse_args(argv)

    settings = ReviewSettings()
    # The loader connects as the app role on purpose: row-level security binds it like any
    # request, so a loader bug cannot write one tenant's units into another.
    engine = make_engine(settings.runtime_database_url, pool_size=2)
    factory = make_sessionmaker(engine)
    log = get_logger("review.cli")

    @contextmanager
    def scope(tenant_id: int | None) -> Iterator[Session]:
        with tenant_session(factory, tenant_id) as s:
            yield s

    try:
        if args.cmd == "load-tree":
            for code in args.tree:
                report = load_tree(scope, read_tree(code))
                log.info("org tree loaded", **report.__dict__)
        else:
            with scope(None) as s:
                made = ensure_campaigns(s, tree_code="2021", now=now(), demo=args.demo)
                log.info("campaigns ready", campaigns=[c.code for c in made])
    finally:
        engine.dispose()
