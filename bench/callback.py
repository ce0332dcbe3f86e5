"""Throughput and latency of the full safe-mode callback path, beside WeRoBot's echo robot in the same run.

    .venv/bin/python bench/callback.py [--rounds 3] [--seconds 8] [--concurrency 32] [--skip-postgres]

Needs the ``bench`` extra (WeRoBot, gunicorn) and Debian's ``wrk``. Targets, each started once and then
measured ``--rounds`` times in turn (medians reported):

* WeRoBot's echo robot (gunicorn, one sync worker), pinned to CPU 0;
* ``python -m bot serve`` on a fresh SQLite file, pinned to CPU 0;
* the same on a fresh PostgreSQL database (127.0.0.1:5432), pinned to CPU 0 (the PostgreSQL backends
  run wherever the kernel puts them: they share the machine with the load generator);
* with ``--baseline-tree DIR``: the service from another checkout (before a change), on both databases;
* two ``serve`` processes on that PostgreSQL database, unpinned, each loaded by its own wrk with half
  the connections (servers, PostgreSQL and wrk share both cores: the figure is bounded by the machine).

The load generator (wrk, pinned to CPU 1) replays pushes signed and encrypted in safe mode ahead of each
measurement: every push has its own MsgId; the questions are a few hundred real ones from
``knowledge/data/asked.tsv`` drawn Zipf-like (a few asked very often), from a couple of thousand users.
Each measurement sends ``rate × --seconds`` pushes (the rate comes from a warm-up) and every reply must be
an encrypted 200. After the two-process measurements the database must hold exactly one answered row per
distinct push sent (a few pushes were sent to both processes, as WeChat retries do): none lost or doubled.
Loopback only; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from serverproc import cpus, free_port, start_pinned, stop, wait_healthy  # noqa: E402

from bot.config import load_config  # noqa: E402
from bot.wechat import push  # noqa: E402
from bot.wechat.push import PushSigner  # noqa: E402

LUA = Path(__file__).resolve().parent / "replay.lua"
PG_ADMIN_DSN = os.environ.get("YCBOT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
START_DEADLINE_S = 120.0
ACCOUNT = "gh_bench"
QUESTIONS = 300
USERS = 2000
ZIPF_S = 1.1
RETRY_EVERY = 50  # two-process run: every 50th push is also sent to the other process


# ---- the pushes ------------------------------------------------------------------------------------------

def load_questions(count: int, seed: int = 14) -> list[str]:
    """``count`` distinct questions people asked (labelled or not), in a fixed shuffled order: rank 1 first."""
    seen: dict[str, None] = {}
    for line in (ROOT / "knowledge" / "data" / "asked.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        question = line.split("\t", 1)[1].strip()
        if question:
            seen.setdefault(question)
    questions = list(seen)
    random.Random(seed).shuffle(questions)
    return questions[:count]


@dataclass
class Mix:
    """Zipf-like draws of question and user; every push gets a fresh MsgId."""

    questions: list[str]
    rng: random.Random = field(default_factory=lambda: random.Random(1))

    def __post_init__(self) -> None:
        self.weights = [1 / (rank**ZIPF_S) for rank in range(1, len(self.questions) + 1)]

    def pushes(self, count: int, tag: str) -> list[tuple[str, str]]:
        """(xml, dedup key) for ``count`` new pushes."""
        now = int(time.time())
        chosen = self.rng.choices(self.questions, self.weights, k=count)
        out = []
        for question in chosen:
            openid = f"bench-{tag}-{self.rng.randrange(USERS)}"
            msg_id = push.next_msg_id()
            out.append((push.text_xml(ACCOUNT, openid, question, msg_id=msg_id, create_time=now),
                        f"m:{openid}:{msg_id}"))
        return out


def write_requests(signer: PushSigner, xmls: list[str], path: Path) -> Path:
    now = int(time.time())
    with path.open("w", encoding="utf-8") as out:
        for xml in xmls:
            signed = signer.request(xml, "safe", timestamp=now)
            out.write(f"/wechat?{urllib.parse.urlencode(signed.query)}\t{signed.body.decode('utf-8')}\n")
    return path


# ---- running wrk ------------------------------------------------------------------------------------------

@dataclass
class Figures:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float = 0.0  # the servers' CPU time per request (their process trees; not PostgreSQL's)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


async def run_wrk(url: str, requests_file: Path, concurrency: int, seconds: float,
                  client_cpus: set[int] | None) -> dict:
    cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(LUA), url, "--",
           str(requests_file)]
    if client_cpus:
        cmd = ["taskset", "-c", ",".join(map(str, sorted(client_cpus))), *cmd]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed ({proc.returncode}): {err.decode()[-500:]} {out.decode()[-500:]}")
    result = json.loads(lines[-1])
    if result["bad"] or result["socket_errors"]:
        raise SystemExit(f"{url}: not every push got an encrypted 200: {result}")
    return result


def figures(result: dict) -> Figures:
    return Figures(result["requests"], result["seconds"], result["p50_ms"], result["p99_ms"])


# ---- the targets -----------------------------------------------------------------------------------------

@dataclass
class Target:
    name: str
    urls: list[str]
    pinned: bool = True
    rate: float = 0.0  # from the warm-up: how many pushes make ``--seconds``
    runs: list[Figures] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants (gunicorn's worker is a child)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += tree_cpu_seconds(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def serve_config(tmp: Path, port: int, storage_url: str) -> Path:
    wechat = load_config(ROOT / "config.example.toml", env={}).wechat
    path = tmp / f"serve-{port}.toml"
    path.write_text(
        f'[server]\nhost = "127.0.0.1"\nport = {port}\nlog_level = "WARNING"\n'
        f'[wechat]\ntoken = "{wechat.token}"\napp_id = "{wechat.app_id}"\n'
        f'encoding_aes_key = "{wechat.encoding_aes_key}"\n'
        f'[storage]\nurl = "{storage_url}"\nmedia_dir = "{tmp}/media"\n'
        "[scheduler]\nenabled = false\n",
        encoding="utf-8",
    )
    return path


def serve_cmd(tmp: Path, port: int, storage_url: str) -> list[str]:
    return [sys.executable, "-m", "bot", "serve", "--config", str(serve_config(tmp, port, storage_url))]


async def create_pg_database(name: str) -> str:
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN_DSN.replace("postgresql://", "postgres://"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"


async def drop_pg_database(name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN_DSN.replace("postgresql://", "postgres://"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def stored_replies(pg_url: str, prefix: str) -> dict[str, str]:
    """dedup key → stored reply XML, for the keys starting with ``prefix``."""
    import asyncpg

    conn = await asyncpg.connect(pg_url.replace("postgresql://", "postgres://"))
    try:
        rows = await conn.fetch("SELECT dedup_key, reply_xml FROM processed_messages WHERE dedup_key LIKE $1",
                                prefix + "%")
    finally:
        await conn.close()
    return {row["dedup_key"]: row["reply_xml"] for row in rows}


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.server_cpus, self.client_cpus = cpus()
        wechat = load_config(ROOT / "config.example.toml", env={}).wechat
        self.signer = PushSigner(wechat.token, wechat.encoding_aes_key, wechat.app_id)
        self.mix = Mix(load_questions(QUESTIONS))
        self.files = 0
        self.pg_url = ""
        self.checked: list[str] = []
        self.processes: list[subprocess.Popen[bytes]] = []

    def next_file(self) -> Path:
        self.files += 1
        return self.tmp / f"requests-{self.files}.tsv"

    async def measure(self, target: Target, seconds: float, tag: str) -> Figures:
        """One timed measurement, the pushes spread over the target's servers (one wrk each)."""
        count = int(max(target.rate, 3000) * seconds * 2.0 / len(target.urls)) + 200  # never runs out
        paths = [write_requests(self.signer, [xml for xml, _key in self.mix.pushes(count, f"{tag}{n}")],
                                self.next_file()) for n in range(len(target.urls))]
        share = max(1, self.args.concurrency // len(target.urls))
        client = self.client_cpus if target.pinned else None
        cpu_before = sum(tree_cpu_seconds(pid) for pid in target.pids)
        results = await asyncio.gather(*(run_wrk(url, path, share, seconds, client)
                                         for url, path in zip(target.urls, paths, strict=True)))
        cpu_used = sum(tree_cpu_seconds(pid) for pid in target.pids) - cpu_before
        for result in results:
            if result["sent"] >= count:
                raise SystemExit(f"{target.name}: the {count} prepared pushes ran out; the figure would be wrong")
        requests = sum(r["requests"] for r in results)
        return Figures(requests, max(r["seconds"] for r in results), statistics.mean(r["p50_ms"] for r in results),
                       max(r["p99_ms"] for r in results), 1000 * cpu_used / max(1, requests))

    async def check_two(self, target: Target, count: int) -> None:
        """No lost or doubled push with two processes: ``count`` pushes over both servers at once, every
        ``RETRY_EVERY``-th sent to both (a WeChat retry landing on the other process); every copy must get
        the same reply, and the database must hold exactly one row per distinct push, with that reply."""
        pushes = self.mix.pushes(count, "check")
        jobs: list[tuple[str, str, str]] = []  # (url, xml, key)
        for i, (xml, key) in enumerate(pushes):
            jobs.append((target.urls[i % 2], xml, key))
            if i % RETRY_EVERY == 0:
                jobs.append((target.urls[(i + 1) % 2], xml, key))
        replies: dict[str, set[str]] = {}
        queue = iter(jobs)
        now = int(time.time())

        async def worker(http: aiohttp.ClientSession) -> None:
            for url, xml, key in queue:
                signed = self.signer.request(xml, "safe", timestamp=now)
                async with http.post(f"{url}/wechat", params=signed.query, data=signed.body) as resp:
                    body = await resp.text()
                    if resp.status != 200:
                        raise SystemExit(f"check: HTTP {resp.status}: {body[:200]}")
                replies.setdefault(key, set()).add(self.signer.open_reply(body))

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            await asyncio.gather(*(worker(http) for _ in range(self.args.concurrency)))
        stored = await stored_replies(self.pg_url, "m:bench-check-")
        problems = [key for _xml, key in pushes if len(replies.get(key, ())) != 1 or stored.get(key) is None
                    or not stored[key] or stored[key] not in replies[key]]
        if problems or len(stored) != len(pushes):
            raise SystemExit(f"two processes: {len(pushes)} distinct pushes, {len(stored)} stored rows, "
                             f"{len(problems)} lost, doubled or answered differently")
        self.checked.append(f"{len(pushes)} distinct pushes ({len(jobs)} requests, {len(jobs) - len(pushes)} "
                            f"sent to both processes): {len(stored)} rows, each with the reply every copy got")

    async def start(self, name: str, cmd: list[str], port: int, pinned: bool,
                    http: aiohttp.ClientSession, cwd: Path = ROOT) -> int:
        log = self.tmp / f"{port}.log"
        cpus_ = self.server_cpus if pinned else self.server_cpus | self.client_cpus
        began = time.monotonic()
        process = start_pinned(cmd, cpus_, log, cwd)
        self.processes.append(process)
        await wait_healthy(http, f"http://127.0.0.1:{port}", process, log, START_DEADLINE_S)
        print(f"  {name}: healthy {time.monotonic() - began:.1f} s after start", flush=True)
        return process.pid

    async def run(self) -> list[Target]:
        args = self.args
        python = sys.executable
        targets: list[Target] = []
        print(f"servers on CPU {sorted(self.server_cpus)}, wrk on CPU {sorted(self.client_cpus)}; "
              f"{args.rounds} rounds of ~{args.seconds:g} s per target, {args.concurrency} connections; "
              f"{len(self.mix.questions)} questions (Zipf s={ZIPF_S}), {USERS} users", flush=True)
        pg_name = f"ycbot_bench_{os.getpid()}"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
                port = free_port()
                gunicorn = [python, "-m", "gunicorn", "-w", "1", "-k", "sync", "-b", f"127.0.0.1:{port}",
                            "--chdir", str(ROOT), "--log-level", "warning", "bench.werobot_echo:app"]
                pid = await self.start("WeRoBot echo", gunicorn, port, True, http)
                targets.append(Target("WeRoBot echo (gunicorn sync)", [f"http://127.0.0.1:{port}"], pids=[pid]))
                stores = [("SQLite", f"sqlite:///{self.tmp}/bench.db")]
                if not args.skip_postgres:
                    self.pg_url = await create_pg_database(pg_name)
                    stores.append(("PostgreSQL", self.pg_url))
                if args.baseline_tree:  # the same service from another checkout (python -m bot runs from cwd)
                    tree = args.baseline_tree
                    for store, url in stores:
                        url = url.replace("bench.db", "baseline.db")
                        port = free_port()
                        pid = await self.start(f"baseline serve, {store}", serve_cmd(self.tmp, port, url), port,
                                               True, http, cwd=tree)
                        targets.append(Target(f"baseline {tree.name}, {store}", [f"http://127.0.0.1:{port}"],
                                              pids=[pid]))
                for store, url in stores:
                    port = free_port()
                    pid = await self.start(f"serve, {store}", serve_cmd(self.tmp, port, url), port, True, http)
                    targets.append(Target(f"full path, {store}", [f"http://127.0.0.1:{port}"], pids=[pid]))
                if self.pg_url:
                    ports, pids = [free_port(), free_port()], []
                    for n, port in enumerate(ports):
                        pids.append(await self.start(f"serve #{n + 1} of 2, PostgreSQL",
                                                     serve_cmd(self.tmp, port, self.pg_url), port, False, http))
                    targets.append(Target("2 processes, PostgreSQL", [f"http://127.0.0.1:{p}" for p in ports],
                                          pinned=False, pids=pids))

            for t_index, target in enumerate(targets):  # warm-up: code paths, caches, connections; the rate
                warm = await self.measure(target, args.warmup_seconds, f"w{t_index}-")
                target.rate = warm.rps
            for round_ in range(args.rounds):
                for t_index, target in enumerate(targets):
                    result = await self.measure(target, args.seconds, f"r{round_}t{t_index}-")
                    target.runs.append(result)
                    target.rate = result.rps
                    print(f"  round {round_ + 1} {target.name:<30}{result.rps:>8.0f} req/s  "
                          f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
                          f"{result.cpu_ms:5.2f} CPU ms/req", flush=True)
            if len(targets[-1].urls) == 2:
                await self.check_two(targets[-1], args.check)
        finally:
            for process in self.processes:
                stop(process)
            if self.pg_url:
                await drop_pg_database(pg_name)
        return targets


def report(targets: list[Target], checked: list[str], concurrency: int) -> None:
    echo = statistics.median(r.rps for r in targets[0].runs)
    echo_cpu = statistics.median(r.cpu_ms for r in targets[0].runs)
    print(f"\nmedians over {len(targets[0].runs)} rounds, {concurrency} connections; "
          f"1-minute load average now {os.getloadavg()[0]:.1f}")
    print(f"{'target':<32}{'req/s':>9}{'× echo':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>12}{'echo/CPU':>10}")
    for t in targets:
        rps = statistics.median(r.rps for r in t.runs)
        p50 = statistics.median(r.p50_ms for r in t.runs)
        p99 = statistics.median(r.p99_ms for r in t.runs)
        cpu = statistics.median(r.cpu_ms for r in t.runs)
        print(f"{t.name:<32}{rps:>9.0f}{rps / echo:>9.2f}{p50:>9.2f}{p99:>9.2f}{cpu:>12.2f}{echo_cpu / cpu:>10.2f}")
    print("(× echo: throughput against WeRoBot's echo in the same rounds; echo/CPU: the echo's CPU time per "
          "request over the target's, which other load on the machine does not skew)")
    for line in checked:
        print(f"no lost or doubled push: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="about how long each measurement lasts")
    parser.add_argument("--warmup-seconds", type=float, default=3.0, help="load per target before measuring")
    parser.add_argument("--check", type=int, default=2000, help="pushes in the two-process lost/doubled check")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--baseline-tree", metavar="DIR",
                        help="also measure the service from this checkout (e.g. the main branch's), same rounds")
    args = parser.parse_args()
    if not (1 <= args.rounds <= 20 and 1 <= args.seconds <= 60 and 1 <= args.warmup_seconds <= 60
            and 100 <= args.check <= 20000 and 2 <= args.concurrency <= 256):
        parser.error("--rounds 1..20, --seconds 1..60, --warmup-seconds 1..60, --check 100..20000, "
                     "--concurrency 2..256")
    if args.baseline_tree:
        args.baseline_tree = Path(args.baseline_tree).resolve()
        if not (args.baseline_tree / "bot" / "__main__.py").is_file():
            parser.error(f"--baseline-tree {args.baseline_tree}: no bot/__main__.py there")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="ycbot-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        targets = asyncio.run(bench.run())
    report(targets, bench.checked, args.concurrency)


if __name__ == "__main__":
    main()
