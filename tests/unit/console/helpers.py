"""Shared by the console tests: seeding staff and reports, and a browser-like HTTP client."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from bot.reports.filing import ReportDraft, create_report
from bot.services import Services
from storage.models import WechatUser
from storage.models.reports import ReportPhoto
from storage.staff import add_staff

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def sample_jpeg(color: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (64, 48)) -> bytes:
    """A small real JPEG (the browser test checks that it decodes)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


async def make_staff(
    services: Services, username: str, department: str, *, admin: bool = False, password: str = PASSWORD
) -> None:
    async with services.database.session() as session:
        await add_staff(session, username, password, department=department, is_admin=admin, now=services.now())
        await session.commit()


def store_photo_file(media_dir: Path, data: bytes) -> str:
    """Put a photo where the media job stores it (by content hash) and return the hash."""
    from bot.reports.photos import photo_path

    digest = hashlib.sha256(data).hexdigest()
    path = photo_path(media_dir, digest, "jpg")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


async def seed_report(
    services: Services,
    *,
    openid: str = "o-reporter-1",
    category: str = "discharge",
    description: str = "河边有工厂夜里偷排黑色废水，气味刺鼻",
    latitude: float | None = 35.0312,
    longitude: float | None = 110.9876,
    address: str = "山西省运城市盐湖区解放路100号附近",
    county: str | None = "盐湖区",
    real_name: bool = False,
    name: str = "",
    phone: str = "",
    photos: tuple[bytes, ...] = (),
    at: datetime | None = None,
) -> str:
    """A filed report (through the reports API) with stored photos; the reporter wrote to us just now."""
    now = at or services.now()
    async with services.database.session() as session:
        user = await session.get(WechatUser, openid)
        if user is None:
            session.add(WechatUser(openid=openid, subscribed=True, last_message_at=services.now(), created_at=now))
        draft = ReportDraft(
            draft_id=uuid.uuid4().hex,
            category=category,
            description=description,
            latitude=latitude,
            longitude=longitude,
            address=address,
            location_source="pin" if latitude is not None else "typed",
            county=county,
            county_method="label" if county else "",
            real_name=real_name,
            reporter_name=name,
            reporter_phone=phone,
        )
        report = await create_report(session, services, draft, openid=openid, now=now)
        for position, data in enumerate(photos, start=1):
            digest = store_photo_file(services.config.media_path(), data)
            session.add(
                ReportPhoto(
                    report_id=report.id,
                    reporter_openid=openid,
                    position=position,
                    media_id=f"MEDIA{position}",
                    status="stored",
                    sha256=digest,
                    size=len(data),
                    content_type="image/jpeg",
                    received_at=now,
                    stored_at=now,
                )
            )
        await session.commit()
        assert report.case_no is not None
        return report.case_no


class ConsoleClient:
    """A cookie-keeping HTTP client that fills in the CSRF token like a browser form would."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def close(self) -> None:
        await self.http.close()

    def _remember(self, text: str) -> None:
        match = CSRF_RE.search(text)
        if match:
            self.csrf = match.group(1)

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.http.get(self.base + path, allow_redirects=False, **kwargs) as response:
            body = await response.read()
            text = body.decode("utf-8", "replace")
            if response.content_type == "text/html":
                self._remember(text)
            response.body_bytes = body  # type: ignore[attr-defined]
            return response.status, text, response

    async def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        async with self.http.post(self.base + path, data=form, allow_redirects=False, **kwargs) as response:
            text = await response.text()
            if response.content_type == "text/html":
                self._remember(text)
            return response.status, text, response

    async def login(self, username: str, password: str = PASSWORD) -> int:
        await self.get("/console/login")
        status, _text, _response = await self.post("/console/login", {"username": username, "password": password})
        if status == 303:
            await self.get("/console/reports")
        return status


TASKS_TOML = """
[[task]]
id = "T01"
citation = "（三）1"
title = "制定新污染物环境风险筛查工作计划"
lead_unit = "市生态环境局"
lead_named = true
co_units = ["市工信局"]
local_units = "none"
deadline = 2025-12-31
deadline_text = "2025年底前"

[[task]]
id = "T02"
citation = "（四）2"
title = "=规范农药包装废弃物回收"
lead_unit = "市农业农村局"
lead_named = true
co_units = ["市生态环境局"]
local_units = "none"
deadline = 2027-06-30
deadline_text = "2027年6月底前"

[[task]]
id = "T03"
citation = "（五）1"
title = "抗菌药物临床应用监测"
lead_unit = "市卫健委"
lead_named = true
local_units = "none"
recurrence = "yearly"
due = "12-31"
deadline_text = "每年年底前"
"""


async def seed_tasks(services: Services) -> None:
    from bot.tasks.planfile import _department_names, import_tasks, parse_tasks_text

    async with services.database.session() as session:
        names, local_names = await _department_names(session)
        specs = parse_tasks_text(TASKS_TOML, "test-tasks.toml", names, local_names)
        await import_tasks(session, specs, source="test-tasks.toml", now=services.now())
        await session.commit()
