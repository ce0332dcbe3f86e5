"""Log volume of a flood of malformed HTTP requests, with the service's log safety on and, as the
baseline, off (aiohttp's own logging: a traceback quoting the raw request for each one).

    .venv/bin/python bench/malformed_log.py [--requests 200]

Each mode runs in its own subprocess (the log setup is process-wide) against an aiohttp server on
loopback; half the requests have a Content-Length shorter than a 100 kB body, half a request line over
8 KB with an openid in the query string. Access-log lines are left out: `python -m bot serve` runs
without an access log. Prints bytes logged and whether the openid reached the log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import subprocess
import sys
from pathlib import Path

OPENID = b"oAbCdEfGhIjKlMnOpQrStUvWx-12"


async def flood(requests: int, safe: bool) -> tuple[int, bool]:
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from bot import logsafe

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    if safe:
        logsafe.install()
    app = web.Application()
    app.router.add_post("/wechat", lambda request: web.Response(text="ok"))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    body = b"<xml>" + b"A" * 100_000 + b"</xml>"
    payloads = (
        b"POST /wechat?openid=" + OPENID + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + body,
        b"GET /wechat?openid=" + OPENID + b"&x=" + b"B" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    for i in range(requests):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(payloads[i % 2])
        await writer.drain()
        with contextlib.suppress(ConnectionError, TimeoutError):
            await asyncio.wait_for(reader.read(4096), 5)
        writer.close()
    await server.close()
    text = "".join(line for line in stream.getvalue().splitlines(True) if "aiohttp.access" not in line)
    return len(text.encode()), OPENID.decode() in text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--mode", choices=("safe", "baseline"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        size, leaked = asyncio.run(flood(args.requests, args.mode == "safe"))
        print(f"{args.mode}: {args.requests} malformed requests -> {size:,} bytes of log; openid in log: {leaked}")
        return
    root = Path(__file__).resolve().parent.parent
    for mode in ("baseline", "safe"):
        command = [sys.executable, str(Path(__file__).resolve()), "--requests", str(args.requests), "--mode", mode]
        subprocess.run(command, check=True, cwd=root, env={"PYTHONPATH": str(root)})


if __name__ == "__main__":
    main()
