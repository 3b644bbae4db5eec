"""`sangkien review …`: load the org tree, set up campaigns. The transaction boundary is here."""

from __future__ import annotations

import argparse
import time

import redis

from services.review import deadletters, leaderboard, publisher
from services.review.accounts.demo import seed_demo_officers
from services.review.config import ReviewSettings
from services.review.console import fingerprints
from services.review.console.demo import DEMO_EMAIL_DOMAIN, seed_demo_console
from services.review.retention import job as retention_job
from services.review.retention.client import ReportingPurgeClient
from services.review.service import CAMPAIGN_2021, DEMO_CAMPAIGN, ensure_campaigns, load_tree
from services.review.workflow.seed import seed_workflows
from shared.db import TenantScope, make_engine, make_sessionmaker, tenant_scope
from shared.logging import get_logger
from shared.orgtree import read_tree
from shared.pii import PiiCipher
from shared.timeutil import now


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="sangkien review")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("load-tree", help="nạp cây tổ chức từ data/orgtree/<mã> (chạy lại an toàn)")
    p.add_argument("tree", nargs="+")
    p = sub.add_parser("seed", help="tạo chương trình 2021 (và bản demo đang mở), công bố danh mục cho intake")
    p.add_argument("--demo", action="store_true")
    sub.add_parser("seed-officers", help="tạo tài khoản cán bộ demo (Thanh Hóa, Cao Bằng) và in cách đăng nhập")
    sub.add_parser("seed-demo", help="tạo CĐCS, cán bộ và sáng kiến mẫu (Thanh Hóa, Cao Bằng) cho bàn làm việc")
    p = sub.add_parser("seed-workflow", help="cấu hình quy trình xét chọn của Thanh Hóa và Cao Bằng (chạy lại an toàn)")
    p.add_argument("--campaign", action="append", default=[], help="mã chương trình (mặc định: 75k-2021, 75k-demo)")
    p = sub.add_parser("fingerprints", help="tính dấu vân tay văn bản (MinHash) còn thiếu để phát hiện mô tả gần trùng")
    p.add_argument("--tenant", action="append", default=[], help="mã đơn vị (mặc định: mọi đơn vị)")
    sub.add_parser(
        "publish-directory", help="công bố danh mục đợt phát động, đơn vị và bảng xếp hạng lên Redis cho intake"
    )
    p = sub.add_parser(
        "retention", help="xoá dữ liệu cá nhân của các chương trình đã hết thời hạn lưu trữ (chạy hằng ngày)"
    )
    p.add_argument("--tenant", action="append", default=[], help="mã đơn vị (mặc định: mọi đơn vị)")
    p.add_argument("--campaign", action="append", default=[], help="mã chương trình (mặc định: mọi chương trình)")
    p.add_argument("--every", type=float, default=0, help="chạy lại sau mỗi ngần ấy giây (make run: 86400); 0: một lần")
    p = sub.add_parser("dead-letters", help="xem và gửi lại các tin lỗi của luồng tiếp nhận")
    p.add_argument("--replay", metavar="ID", action="append", default=[], help="gửi lại tin lỗi ID (lặp lại được)")
    p.add_argument("--replay-all", action="store_true")
    args = ap.parse_args(argv)

    settings = ReviewSettings()
    # The loader connects as the app role on purpose: row-level security binds it like any
    # request, so a loader bug cannot write one tenant's units into another.
    engine = make_engine(settings.runtime_database_url, pool_size=2)
    factory = make_sessionmaker(engine)
    log = get_logger("review.cli")

    scope = tenant_scope(factory)

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    try:
        if args.cmd == "dead-letters":
            _dead_letters(client, settings, args.replay, args.replay_all)
            return
        if args.cmd == "retention":
            _retention(scope, client, settings, args.tenant, args.campaign, args.every)
            return
        if args.cmd == "seed-officers":
            _seed_officers(scope, settings)
            return
        if args.cmd == "seed-demo":
            _seed_demo(scope, settings)
            return
        if args.cmd == "fingerprints":
            signed = fingerprints.backfill(scope, tenant_codes=args.tenant or None)
            print(f"Đã tính dấu vân tay cho {signed.total} mô tả sáng kiến.")
            for code, n in signed.signed.items():
                print(f"  {code}: {n}")
            return
        if args.cmd == "seed-workflow":
            created = seed_workflows(scope, args.campaign or [CAMPAIGN_2021, DEMO_CAMPAIGN])
            log.info("workflows seeded", rounds_created=created)
            return
        if args.cmd == "publish-directory":
            changed = publisher.publish(client, publisher.build_snapshot(scope))
            log.info("directory published", changed=changed)
            changed = leaderboard.publish(client, leaderboard.build_leaderboard(scope))
            log.info("leaderboard published", changed=changed)
            return
        if args.cmd == "load-tree":
            for code in args.tree:
                report = load_tree(scope, read_tree(code))
                log.info("org tree loaded", **report.__dict__)
        else:
            with scope(None) as s:
                made = ensure_campaigns(s, tree_code="2021", now=now(), demo=args.demo)
                log.info("campaigns ready", campaigns=[c.code for c in made])
            try:
                publisher.publish(client, publisher.build_snapshot(scope))
            except redis.RedisError as exc:
                log.warning("directory not published; the ingester will publish it", error=type(exc).__name__)
    finally:
        engine.dispose()
        client.close()


def _seed_officers(scope: TenantScope, settings: ReviewSettings) -> None:
    report = seed_demo_officers(scope, environment=settings.environment)
    made = sum(a.created for a in report.accounts)
    print(f"Tài khoản cán bộ demo: {made} tạo mới, {len(report.accounts) - made} đã có.")
    print(f"Đăng nhập tại /console/dang-nhap của dịch vụ review, mật khẩu chung: {report.password}")
    width = max(len(a.login_name) for a in report.accounts)
    for a in report.accounts:
        print(f"  {a.login_name:<{width}}  {a.role_label} — {a.unit_name}")
    for name in report.without_grassroots:
        print(f"  ({name}: cây tổ chức chưa có công đoàn cơ sở nào, nên chưa có tài khoản cấp cơ sở)")


def _seed_demo(scope: TenantScope, settings: ReviewSettings) -> None:
    report = seed_demo_console(scope, PiiCipher.from_settings(settings), environment=settings.environment, now=now())
    print(
        f"Dữ liệu mẫu của bàn làm việc: {report.units_created} CĐCS mẫu, "
        f"{report.submissions_created} sáng kiến mẫu tạo mới (chạy lại không tạo thêm)."
    )
    if report.emails_set:
        print(
            f"  {report.emails_set} đơn vị chưa có địa chỉ email được gán địa chỉ mẫu <mã đơn vị>@{DEMO_EMAIL_DOMAIN}."
        )
    if report.officers is not None:
        for a in report.officers.accounts:
            if a.unit_name in report.units:
                print(f"  {a.login_name}  {a.role_label} — {a.unit_name} (mật khẩu: {report.officers.password})")


def _dead_letters(client: redis.Redis, settings: ReviewSettings, ids: list[str], everything: bool) -> None:
    letters = deadletters.list_letters(client, count=10_000)
    if everything:
        ids = [d.id for d in letters]
    for letter_id in ids:
        print(f"gửi lại {letter_id} → {deadletters.replay(client, settings, letter_id)}")
    if ids:
        return
    print(f"{deadletters.count_letters(client)} tin lỗi")
    for d in letters:
        when = d.failed_at.strftime("%H:%M %d/%m/%Y") if d.failed_at else "?"
        print(f"{d.id}\t{when}\t{d.tracking_code or '-'}\t{d.tenant or '-'}/{d.subunit or '-'}\t{d.reason}")


def _retention(
    scope: TenantScope,
    client: redis.Redis,
    settings: ReviewSettings,
    tenants: list[str],
    campaigns: list[str],
    every: float,
) -> None:
    """Once (the CronJob), or every ``every`` seconds until stopped (make run). A run that could
    not finish a campaign says why and exits non-zero once; the next run finishes it."""
    reporting = ReportingPurgeClient(settings.reporting_url, settings.service_token_key)
    log = get_logger("review.retention")
    while True:
        try:
            report = retention_job.run(
                scope, client, reporting, tenant_codes=tenants or None, campaign_codes=campaigns or None
            )
        except Exception as exc:
            if every <= 0:
                raise
            # make run's loop outlives a database or Redis restart: the next day's run finishes.
            log.warning("retention_run_failed", error=type(exc).__name__)
            time.sleep(every)
            continue
        for c in report.campaigns:
            state = "xong" if c.finished and not c.problem else f"chưa xong: {c.problem or 'lần chạy khác đã ghi'}"
            print(
                f"{c.tenant_code}/{c.campaign_code}: xoá dữ liệu cá nhân của {c.submissions} sáng kiến, "
                f"{c.objects} tệp hồ sơ, {c.tracking_records} bản ghi theo dõi, {c.dead_letters} tin lỗi ({state})"
            )
        if not report.campaigns:
            print(f"Ngày {report.today:%d/%m/%Y}: không có chương trình nào cần xoá dữ liệu cá nhân.")
        if every <= 0:
            if report.failed:
                raise SystemExit(1)
            return
        # What could not finish (reporting still starting, say) is tried again within the minute.
        time.sleep(min(every, 60) if report.failed else every)
