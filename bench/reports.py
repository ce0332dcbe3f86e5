"""1,000 reporters filing through the whole report wizard at once, against one service process.

    .venv/bin/python bench/reports.py [--reporters 1000] [--concurrency 64] [--backend sqlite|postgres|both]

For each backend a fresh database is made and the real ``python -m bot serve`` is started as ONE process
(pinned to CPU 0; sandbox channels; scheduler off so that only the callback path is measured). This
process (CPU 1) plays WeChat's servers: every push is signed and encrypted in safe mode with a unique MsgId.
Each reporter is a coroutine that walks the wizard like a person — 举报, category, description, a location
pin, a photo, 完成, 匿名, 确认 — waiting for each reply, and then WeChat retries the 确认 push (same MsgId),
which must get the same reply and file nothing. All reporters start together, so all 1,000 dialogs are in
flight interleaved; ``--concurrency`` only bounds how many HTTP requests are open at one moment.

Before the crowd, 32 reporters warm the server up (pool, statement caches; not measured), then one
reporter walks the wizard alone, five times: its per-message latency is the baseline for the ratio.
Afterwards the database is counted: exactly one report per reporter, distinct case numbers, one photo
each, no draft left. Figures: throughput, p50/p99 per message, ratio to the baseline.
PostgreSQL: the server at ``YCBOT_TEST_PG`` (default postgresql://postgres@127.0.0.1:5432/test) is used
to create and drop a private database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from serverproc import cpus, free_port, start_pinned, stop, wait_healthy  # noqa: E402
from serverproc import percentile as pct  # noqa: E402

from bot.config import load_config  # noqa: E402
from bot.reports.geo import counties  # noqa: E402
from bot.wechat import push  # noqa: E402
from bot.wechat.messages import parse_xml  # noqa: E402
from bot.wechat.push import PushSigner  # noqa: E402

START_DEADLINE_S = 180.0
ACCOUNT = "gh_bench"
PG_ADMIN_DSN = os.environ.get("YCBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


# ---- the server -----------------------------------------------------------------------------------


# ---- one reporter ---------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    case_numbers: list[str] = field(default_factory=list)


class WeChatServer:
    """Signs, encrypts and posts pushes; opens the replies."""

    def __init__(self, http: aiohttp.ClientSession, url: str, signer: PushSigner, gate: asyncio.Semaphore) -> None:
        self.http, self.url, self.signer, self.gate = http, url, signer, gate

    async def post(self, xml: str, openid: str, stats: Stats) -> str:
        now = int(time.time())
        signed = self.signer.request(xml, "safe", timestamp=now, openid=openid)
        async with self.gate:
            began = time.perf_counter()
            async with self.http.post(f"{self.url}/wechat", params=signed.query, data=signed.body) as resp:
                body = await resp.text()
                status = resp.status
            stats.latencies_ms.append((time.perf_counter() - began) * 1000)
        if status != 200:
            stats.problems.append(f"HTTP {status}: {body[:120]}")
            return ""
        if not body or body == "success":
            return ""
        return str(parse_xml(self.signer.open_reply(body).encode("utf-8")).get("Content", ""))


async def reporter(server: WeChatServer, index: int, tag: str, stats: Stats, rng: random.Random) -> None:
    """One person filing one report, checking that each reply asks for the expected next thing."""
    openid = f"bench-{tag}-{index:05d}"
    seat = counties()[index % len(counties())]
    county = seat.name
    lat = round(seat.lat + rng.uniform(-0.05, 0.05), 6)
    lon = round(seat.lon + rng.uniform(-0.05, 0.05), 6)
    now = int(time.time())
    confirm_id = push.next_msg_id()
    steps: list[tuple[str, str]] = [
        (push.text_xml(ACCOUNT, openid, "举报", create_time=now), "第1步"),
        (push.text_xml(ACCOUNT, openid, str(1 + index % 7), create_time=now), "第2步"),
        (push.text_xml(ACCOUNT, openid, f"第{index}号线索：某工厂夜间通过暗管偷排废水", create_time=now), "第3步"),
        (
            push.location_xml(ACCOUNT, openid, lat, lon, f"山西省运城市{county}测试路{index}号", create_time=now),
            "第4步",
        ),
        (push.image_xml(ACCOUNT, openid, f"BENCH{tag}{index}", create_time=now), "第1张"),
        (push.text_xml(ACCOUNT, openid, "完成", create_time=now), "第5步"),
        (push.text_xml(ACCOUNT, openid, "匿名", create_time=now), "请核对"),
        (push.text_xml(ACCOUNT, openid, "确认", msg_id=confirm_id, create_time=now), "案件编号："),
    ]
    confirmation = ""
    for xml, expected in steps:
        content = await server.post(xml, openid, stats)
        if expected not in content:
            stats.problems.append(f"{openid}: expected {expected!r}, got {content[:80]!r}")
            return
        confirmation = content
    # WeChat did not see our answer in time and retries the very same push.
    retried = await server.post(steps[-1][0], openid, stats)
    if retried != confirmation:
        stats.problems.append(f"{openid}: the retried confirmation got a different reply")
    stats.case_numbers.append(confirmation.split("案件编号：")[1].split()[0])


# ---- counting ---------------------------------------------------------------------------------------


async def count_database(url: str, tag: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import Conversation, Report, ReportPhoto

    database = Database(url)
    try:
        async with database.session() as session:
            mine = Report.reporter_openid.like(f"bench-{tag}-%")
            return {
                "reports": int(await session.scalar(select(func.count(Report.id)).where(mine)) or 0),
                "case_numbers": int(
                    await session.scalar(select(func.count(func.distinct(Report.case_no))).where(mine)) or 0
                ),
                "reporters": int(
                    await session.scalar(select(func.count(func.distinct(Report.reporter_openid))).where(mine)) or 0
                ),
                "duplicates_linked": int(
                    await session.scalar(select(func.count(Report.id)).where(mine, Report.status == "duplicate")) or 0
                ),
                "photos": int(
                    await session.scalar(
                        select(func.count(ReportPhoto.id)).where(
                            ReportPhoto.reporter_openid.like(f"bench-{tag}-%"), ReportPhoto.report_id.is_not(None)
                        )
                    )
                    or 0
                ),
                "open_drafts": int(
                    await session.scalar(
                        select(func.count())
                        .select_from(Conversation)
                        .where(Conversation.openid.like(f"bench-{tag}-%"), Conversation.state.is_not(None))
                    )
                    or 0
                ),
            }
    finally:
        await database.dispose()


# ---- databases --------------------------------------------------------------------------------------


async def pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# ---- one backend ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    backend: str
    reporters: int
    messages: int
    seconds: float
    latencies_ms: list[float]
    baseline_ms: list[float]
    counts: dict[str, int]
    problems: list[str]


async def run_backend(
    backend: str, args: argparse.Namespace, signer: PushSigner, wechat_cfg: object, server_cpus: set[int]
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="ycbot-bench-reports-") as tmp:
        tmp_path = Path(tmp)
        pg_name = ""
        if backend == "sqlite":
            db_url = f"sqlite:///{tmp_path}/bench.db"
        else:
            pg_name = f"ycbot_bench_{os.getpid()}_{secrets.token_hex(3)}"
            await pg_admin(f'CREATE DATABASE "{pg_name}"')
            db_url = f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{pg_name}"
        port = free_port()
        config = tmp_path / "bench.toml"
        config.write_text(
            f'[server]\nhost = "127.0.0.1"\nport = {port}\nlog_level = "WARNING"\n'
            f'[wechat]\ntoken = "{wechat_cfg.token}"\napp_id = "{wechat_cfg.app_id}"\n'  # type: ignore[attr-defined]
            f'encoding_aes_key = "{wechat_cfg.encoding_aes_key}"\n'  # type: ignore[attr-defined]
            f'[channel]\nkind = "sandbox"\n'
            f'[storage]\nurl = "{db_url}"\nmedia_dir = "{tmp_path}/media"\n'
            "[scheduler]\nenabled = false\n[simulator]\nenabled = false\n",
            encoding="utf-8",
        )
        log = tmp_path / "server.log"
        url = f"http://127.0.0.1:{port}"
        process = start_pinned([sys.executable, "-m", "bot", "serve", "--config", str(config)], server_cpus, log)
        tag = secrets.token_hex(2)
        rng = random.Random(20261128)
        try:
            connector = aiohttp.TCPConnector(limit=args.concurrency)
            timeout = aiohttp.ClientTimeout(total=120)
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
                await wait_healthy(http, url, process, log, START_DEADLINE_S)
                server = WeChatServer(http, url, signer, asyncio.Semaphore(args.concurrency))
                warmup = Stats()  # fills the connection pool and the prepared-statement caches
                await asyncio.gather(*(reporter(server, 800_000 + i, f"{tag}w", warmup, rng) for i in range(32)))
                baseline = Stats()
                for i in range(5):  # one person alone, five times: the uncontended per-message latency
                    await reporter(server, 900_000 + i, f"{tag}b", baseline, rng)
                crowd = Stats()
                began = time.perf_counter()
                await asyncio.gather(*(reporter(server, i, tag, crowd, rng) for i in range(args.reporters)))
                seconds = time.perf_counter() - began
        finally:
            stop(process)
        counts = await count_database(db_url, tag)
        if pg_name:
            await pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        problems = warmup.problems + baseline.problems + crowd.problems
        if len(set(crowd.case_numbers)) != len(crowd.case_numbers):
            problems.append("two reporters were given the same case number")
        return Outcome(
            backend,
            args.reporters,
            len(crowd.latencies_ms),
            seconds,
            crowd.latencies_ms,
            baseline.latencies_ms,
            counts,
            problems,
        )


def print_outcome(o: Outcome) -> bool:
    c = o.counts
    ok = (
        c["reports"] == o.reporters
        and c["case_numbers"] == o.reporters
        and c["reporters"] == o.reporters
        and c["photos"] == o.reporters
        and c["open_drafts"] == 0
        and not o.problems
    )
    base50 = pct(o.baseline_ms, 0.5)
    print(f"\n== {o.backend}: {o.reporters} reporters, {o.messages} messages in {o.seconds:.1f} s")
    print(f"   throughput        {o.messages / o.seconds:8.1f} messages/s, {o.reporters / o.seconds:6.1f} reports/s")
    print(
        f"   latency per msg   p50 {pct(o.latencies_ms, 0.5):8.1f} ms   p99 {pct(o.latencies_ms, 0.99):8.1f} ms"
        f"   max {max(o.latencies_ms):8.1f} ms"
    )
    print(
        f"   baseline (alone)  p50 {base50:8.1f} ms   p99 {pct(o.baseline_ms, 0.99):8.1f} ms"
        f"   → crowd/alone p50 ratio {pct(o.latencies_ms, 0.5) / base50:.1f}"
    )
    print(
        f"   database          {c['reports']} reports, {c['case_numbers']} distinct case numbers, "
        f"{c['reporters']} reporters, {c['photos']} photos, {c['duplicates_linked']} linked as duplicates, "
        f"{c['open_drafts']} drafts left"
    )
    for problem in o.problems[:10]:
        print(f"   PROBLEM: {problem}")
    print(f"   {'OK: nothing lost, nothing doubled' if ok else 'FAILED'}")
    return ok


async def bench(args: argparse.Namespace) -> bool:
    server_cpus, client_cpus = cpus()
    os.sched_setaffinity(0, client_cpus)
    wechat_cfg = load_config(ROOT / "config.example.toml", env={}).wechat
    signer = PushSigner(wechat_cfg.token, wechat_cfg.encoding_aes_key, wechat_cfg.app_id)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(
        f"server on CPU {sorted(server_cpus)}, reporters on CPU {sorted(client_cpus)}; {args.reporters} reporters "
        f"× 9 pushes (8 steps + a WeChat retry of 确认), at most {args.concurrency} requests open at once",
        flush=True,
    )
    ok = True
    for backend in backends:
        outcome = await run_backend(backend, args, signer, wechat_cfg, server_cpus)
        ok = print_outcome(outcome) and ok
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reporters", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64, help="HTTP requests open at one moment")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    if not (1 <= args.reporters <= 20_000 and 1 <= args.concurrency <= 512):
        parser.error("--reporters 1..20000, --concurrency 1..512")
    sys.exit(0 if asyncio.run(bench(args)) else 1)


if __name__ == "__main__":
    main()
