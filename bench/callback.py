"""Throughput and latency of the full safe-mode callback path on one core, beside a bare aiohttp handler.

    .venv/bin/python bench/callback.py [--requests 2000] [--concurrency 16]

Each server runs in its own subprocess pinned to CPU 0; this process (the load generator: it signs and
encrypts every push like WeChat's servers would, with a unique MsgId) runs on CPU 1. The full service is
started with the real ``python -m bot serve`` on a fresh SQLite file database (the default deployment),
sandbox channels, scheduler off. The question is a knowledge question when the knowledge base is
installed, else "帮助". Loopback only; a bounded number of requests; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from serverproc import cpus, free_port, start_pinned, stop, wait_healthy  # noqa: E402

from bot.config import load_config  # noqa: E402
from bot.wechat import push  # noqa: E402
from bot.wechat.messages import parse_xml  # noqa: E402
from bot.wechat.push import PushSigner, SignedRequest  # noqa: E402

BENCH_SCRIPT = str(Path(__file__).resolve())
START_DEADLINE_S = 120.0
KNOWLEDGE_QUESTION = "PFOS还能用吗"
FALLBACK_QUESTION = "帮助"


# ---- the bare baseline server (run as a subprocess of this script) ---------------------------------

def run_bare_server(port: int) -> None:
    from aiohttp import web

    async def wechat(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="success", content_type="text/plain")

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/wechat", wechat)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# ---- driving a server ---------------------------------------------------------------------------------

@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def load(http: aiohttp.ClientSession, url: str, requests: list[SignedRequest], concurrency: int,
               name: str) -> tuple[Result, list[str]]:
    latencies: list[float] = []
    bodies: list[str] = []
    queue = iter(requests)

    async def worker() -> None:
        for signed in queue:
            began = time.perf_counter()
            async with http.post(f"{url}/wechat", params=signed.query, data=signed.body) as resp:
                body = await resp.text()
                if resp.status != 200:
                    raise SystemExit(f"{name}: HTTP {resp.status}: {body[:200]}")
            latencies.append((time.perf_counter() - began) * 1000)
            bodies.append(body)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, len(requests), time.perf_counter() - began, latencies), bodies


def build_requests(signer: PushSigner, question: str, count: int, tag: str) -> list[SignedRequest]:
    """Fresh timestamps, a unique MsgId and a few distinct users, signed and encrypted in safe mode."""
    now = int(time.time())
    return [
        signer.request(push.text_xml("gh_bench", f"bench-{tag}-{i % 50}", question, create_time=now), "safe",
                       timestamp=now)
        for i in range(count)
    ]


async def bench(args: argparse.Namespace) -> list[Result]:
    server_cpus, client_cpus = cpus()
    os.sched_setaffinity(0, client_cpus)
    question = KNOWLEDGE_QUESTION if importlib.util.find_spec("knowledge.answerer") else FALLBACK_QUESTION
    wechat = load_config(ROOT / "config.example.toml", env={}).wechat
    signer = PushSigner(wechat.token, wechat.encoding_aes_key, wechat.app_id)
    results: list[Result] = []
    print(f"server on CPU {sorted(server_cpus)}, load generator on CPU {sorted(client_cpus)}; "
          f"{args.requests} requests per target after {args.warmup} warm-up, concurrency {args.concurrency}; "
          f"question {question!r}", flush=True)

    with tempfile.TemporaryDirectory(prefix="ycbot-bench-") as tmp:
        tmp_path = Path(tmp)
        bare_port, full_port = free_port(), free_port()
        config = tmp_path / "bench.toml"
        config.write_text(
            f'[server]\nhost = "127.0.0.1"\nport = {full_port}\nlog_level = "WARNING"\n'
            f'[wechat]\ntoken = "{wechat.token}"\napp_id = "{wechat.app_id}"\n'
            f'encoding_aes_key = "{wechat.encoding_aes_key}"\n'
            f'[storage]\nurl = "sqlite:///{tmp_path}/bench.db"\nmedia_dir = "{tmp_path}/media"\n'
            "[scheduler]\nenabled = false\n",
            encoding="utf-8",
        )
        targets = [
            ("bare aiohttp handler", [sys.executable, BENCH_SCRIPT, "--bare-server", str(bare_port)],
             f"http://127.0.0.1:{bare_port}"),
            ("full safe-mode callback", [sys.executable, "-m", "bot", "serve", "--config", str(config)],
             f"http://127.0.0.1:{full_port}"),
        ]
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
            for name, cmd, url in targets:
                log = tmp_path / f"{url.rsplit(':', 1)[1]}.log"
                process = start_pinned(cmd, server_cpus, log)
                try:
                    await wait_healthy(http, url, process, log, START_DEADLINE_S)
                    await load(http, url, build_requests(signer, question, args.warmup, "warm"),
                               args.concurrency, name)
                    result, bodies = await load(http, url, build_requests(signer, question, args.requests, "run"),
                                                args.concurrency, name)
                finally:
                    stop(process)
                if name.startswith("full"):
                    sample = check_replies(signer, bodies).replace("\n", " ")
                    print(f"sample reply: {sample[:70]}…", flush=True)
                results.append(result)
    return results


def check_replies(signer: PushSigner, bodies: list[str]) -> str:
    """Every measured request must have been a real answer, not an error page; returns the first one."""
    contents = [str(parse_xml(signer.open_reply(body).encode("utf-8")).get("Content", "")) for body in bodies]
    if not all(contents):
        raise SystemExit("a reply had no content")
    return contents[0]


def report(results: list[Result]) -> None:
    bare, full = results
    print()
    print(f"{'target':<26}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for r in results:
        print(f"{r.name:<26}{r.rps:>10.0f}{r.pct(0.50):>10.2f}{r.pct(0.99):>10.2f}")
    print(f"{'ratio full / bare':<26}{full.rps / bare.rps:>10.3f}{full.pct(0.5) / bare.pct(0.5):>10.1f}"
          f"{full.pct(0.99) / bare.pct(0.99):>10.1f}")
    print(f"\nfull path mean {statistics.mean(full.latencies_ms):.2f} ms; "
          f"{full.requests} requests in {full.seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per target (max 100000)")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        run_bare_server(args.bare_server)
        return
    if not (1 <= args.requests <= 100_000 and 0 <= args.warmup <= 10_000 and 1 <= args.concurrency <= 256):
        parser.error("--requests 1..100000, --warmup 0..10000, --concurrency 1..256")
    report(asyncio.run(bench(args)))


if __name__ == "__main__":
    main()
