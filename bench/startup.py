"""Start-up: seconds from ``python -m bot serve`` to the first ``/healthz`` 200.

    .venv/bin/python bench/startup.py [--starts 5]

One fresh SQLite database and a fresh knowledge cache folder: the first start migrates the database and
builds the knowledge snapshot; every later start is a restart of an installed service (schema current,
snapshot matching the data). Each start is pinned to one CPU; besides wall-clock seconds it reports the
CPU seconds the server had used by then, which other load on the machine does not inflate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serverproc import cpus, free_port, start_pinned, stop

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_S = 180.0
POLL_S = 0.02


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_start(tmp: Path, port: int, server_cpus: set[int]) -> tuple[float, float]:
    config = tmp / "startup.toml"
    config.write_text(
        f'[server]\nhost = "127.0.0.1"\nport = {port}\nlog_level = "WARNING"\n'
        f'[storage]\nurl = "sqlite:///{tmp}/startup.db"\nmedia_dir = "{tmp}/media"\n'
        "[scheduler]\nenabled = false\n",
        encoding="utf-8",
    )
    os.environ["KB_CACHE_DIR"] = str(tmp / "kb-cache")
    log = tmp / "serve.log"
    began = time.monotonic()
    process = start_pinned([sys.executable, "-m", "bot", "serve", "--config", str(config)], server_cpus, log)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            while time.monotonic() - began < DEADLINE_S:
                if process.poll() is not None:
                    raise SystemExit(f"serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        if resp.status == 200:
                            return time.monotonic() - began, cpu_seconds(process.pid)
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(POLL_S)
        raise SystemExit(f"/healthz not 200 within {DEADLINE_S} s")
    finally:
        stop(process)


async def main_async(starts: int) -> None:
    server_cpus, _ = cpus()
    with tempfile.TemporaryDirectory(prefix="ycbot-startup-") as tmp:
        results = []
        for n in range(starts):
            wall, cpu = await one_start(Path(tmp), free_port(), server_cpus)
            kind = "first start (migrate, build snapshot)" if n == 0 else "restart"
            print(f"  {kind:<40} {wall:6.2f} s to /healthz 200   ({cpu:5.2f} CPU s)", flush=True)
            results.append((wall, cpu))
    if len(results) > 1:
        walls, cpus_used = [w for w, _ in results[1:]], [c for _, c in results[1:]]
        print(f"restarts: median {statistics.median(walls):.2f} s to /healthz 200 "
              f"(median {statistics.median(cpus_used):.2f} CPU s); 1-minute load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    if not 2 <= args.starts <= 20:
        parser.error("--starts 2..20")
    asyncio.run(main_async(args.starts))


if __name__ == "__main__":
    main()
