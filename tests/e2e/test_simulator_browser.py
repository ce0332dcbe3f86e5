"""The simulator in a real headless Chromium (Debian's /usr/bin/chromium) on a phone-sized screen.

The setup installs chromium with apt-get when it is missing (as root); the test is skipped, with the reason,
only where that is impossible. A screenshot of the finished chat is written to /tmp/simulator.png.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import texts
from bot.outbound.channels.base import ChannelError
from tests.conftest import RunningService
from tests.support.fonts import ensure_chinese_font

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/simulator.png")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WAIT_MS = 15_000  # upper bound for a reply to show; Playwright polls, the test never sleeps


def _apt_get(*args: str) -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        result = subprocess.run(["apt-get", *args], env=env, capture_output=True, timeout=1200, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def ensure_chromium() -> str | None:
    """Returns why Chromium is unavailable, or None once /usr/bin/chromium exists."""
    if CHROMIUM.exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get)"
    if not _apt_get("install", "-y", "chromium"):
        _apt_get("update")
        _apt_get("install", "-y", "chromium")
    return None if CHROMIUM.exists() else "apt-get install -y chromium failed"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    problem = ensure_chromium()
    if problem:
        pytest.skip(f"browser test skipped: {problem}")
    ensure_chinese_font()  # readable screenshots; the assertions do not depend on it
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("browser test skipped: the playwright package is not installed (pip install -e '.[dev]')")
    return str(CHROMIUM)


@pytest.fixture
async def phone(chromium_path: str, tmp_path: Path) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        context = await browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True,
            locale="zh-CN",
        )
        page = await context.new_page()
        try:
            yield page
        finally:
            await context.close()
            await browser.close()


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x40\xa0\x60" * 8 for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


async def test_chat_in_the_simulator(service: RunningService, phone, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import Page, expect

    page: Page = phone
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{service.url}/simulator")
    await expect(page.locator("#whoami")).to_contain_text("sim-", timeout=WAIT_MS)
    openid = (await page.locator("#openid").input_value()).strip()
    replies = page.locator('.msg.bot .bubble[data-kind="reply"]')

    # Subscribe from the ⊕ panel: the welcome text.
    await page.click("#tools-toggle")
    await page.click("#tool-subscribe")
    await expect(replies.last).to_contain_text(texts.WELCOME.splitlines()[0], timeout=WAIT_MS)

    # A text: 帮助.
    service.clock.advance(seconds=1)
    await page.fill("#text-input", "帮助")
    await page.click("#send-btn")
    await expect(page.locator(".msg.me .bubble").last).to_have_text("帮助")
    await expect(replies).to_have_count(2, timeout=WAIT_MS)
    await expect(replies.last).to_contain_text("使用说明")

    # A question in plain words gets an answer (the knowledge base, or the fallback while it is absent).
    await page.fill("#text-input", "PFOS还能用吗")
    await page.press("#text-input", "Enter")
    await expect(replies).to_have_count(3, timeout=WAIT_MS)
    assert (await replies.last.inner_text()).strip()

    # A menu click: 我的 → 使用帮助.
    service.clock.advance(seconds=1)
    await page.click(f".menu-top:has-text('{texts.MENU_MINE}')")
    await page.click(f".menu-item:has-text('{texts.MENU_HELP}')")
    await expect(page.locator(".notice").last).to_contain_text(texts.MENU_HELP)
    await expect(replies).to_have_count(4, timeout=WAIT_MS)
    await expect(replies.last).to_contain_text("使用说明")

    # A location, with Yuncheng filled in by default.
    await page.click("#tools-toggle")
    await page.click("#tool-location")
    await expect(page.locator("#lat")).to_have_value("35.03")
    await expect(page.locator("#lon")).to_have_value("111.01")
    await page.fill("#label", "运城市盐湖区 解放路")
    await page.click("#send-location")
    await expect(page.locator(".msg.me .bubble").last).to_contain_text("运城市盐湖区 解放路")
    await expect(replies).to_have_count(5, timeout=WAIT_MS)

    # A photo.
    await page.set_input_files("#photo-input", files=[{"name": "现场.png", "mimeType": "image/png",
                                                       "buffer": tiny_png()}])
    await expect(page.locator(".msg.me .bubble img")).to_have_count(1)
    await expect(replies).to_have_count(6, timeout=WAIT_MS)

    # Bad input is explained, not swallowed.
    await page.click("#tools-toggle")
    await page.click("#tool-location")
    await page.fill("#lat", "95")
    await page.click("#send-location")
    await expect(page.locator(".notice.error").last).to_contain_text(texts.SIM_BAD_LATITUDE, timeout=WAIT_MS)
    await expect(page.locator(".msg.me .bubble").last).to_have_class(re.compile(r"\bfailed\b"))
    await expect(page.locator(".msg.me .bubble.failed")).to_have_count(1)

    # Messages the service pushes later (customer-service text, a template message) appear by themselves.
    await service.services.channel("mp").send_text(openid, "您提交的举报已受理，编号 YC20261120001。")
    await service.services.channel("mp").send_template(
        openid, "sandbox-template", {"thing1": "新污染物调查评估", "time2": "2026-12-31 17:00"},
        url=f"{service.url}/t/1")
    pushed = page.locator('.bubble[data-kind="pushed"]')
    await expect(pushed).to_have_count(2, timeout=WAIT_MS)
    await expect(pushed.first).to_contain_text("YC20261120001")
    await expect(pushed.last).to_contain_text(texts.SIM_KIND_TEMPLATE)
    await expect(pushed.last).to_contain_text("事项：新污染物调查评估")
    # One WeChat would refuse (a template the account does not have) shows as refused, with WeChat's error.
    with pytest.raises(ChannelError):
        await service.services.channel("mp").send_template(openid, "TPL_UNKNOWN", {"thing1": "x"})
    refused = page.locator('.bubble[data-kind="refused"]')
    await expect(refused).to_have_count(1, timeout=WAIT_MS)
    await expect(refused).to_contain_text("40037")

    chat = page.locator("#chat")
    await chat.evaluate("el => { el.style.scrollBehavior = 'auto'; el.scrollTop = el.scrollHeight; }")
    await page.screenshot(path=str(SCREENSHOT), full_page=False)
    await chat.evaluate("el => { el.scrollTop = 0; }")
    await page.screenshot(path=str(SCREENSHOT.with_name("simulator-top.png")), full_page=False)
    assert len(await page.screenshot()) > 10_000  # something was drawn
    assert errors == []

    # Switching user starts another conversation; the new user's id is kept for the next visit.
    await page.click("#user-toggle")
    await page.fill("#openid", "official-demo-1")
    await page.click("#openid-apply")
    await expect(page.locator("#whoami")).to_contain_text("official-demo-1")
    await expect(pushed).to_have_count(0)
    await page.reload()
    await expect(page.locator("#whoami")).to_contain_text("official-demo-1", timeout=WAIT_MS)
