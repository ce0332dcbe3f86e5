"""Running the service as a real process for a benchmark: CPU pinning, ports, start, health, stop."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


def cpus() -> tuple[set[int], set[int]]:
    """(server CPUs, load-generator CPUs): one core each when there are two."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return {available[0]}, {available[0]}
    return {available[0]}, {available[1]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_pinned(
    cmd: list[str], server_cpus: set[int], log: Path, cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    """Start ``cmd`` pinned to ``server_cpus`` (set before exec), output to ``log``, without YCBOT_ overrides."""
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=lambda: os.sched_setaffinity(0, server_cpus),
            env={k: v for k, v in os.environ.items() if not k.startswith("YCBOT_")},
        )


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def wait_healthy(
    http: aiohttp.ClientSession, url: str, process: subprocess.Popen[bytes], log: Path, deadline_s: float
) -> None:
    """Poll /healthz until 200; fail with the server's output if it exits or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = await asyncio.to_thread(log.read_text, errors="replace")
            raise SystemExit(f"server exited with {process.returncode}:\n{output[-3000:]}")
        try:
            async with http.get(f"{url}/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit(f"{url} did not become healthy within {deadline_s} s")
