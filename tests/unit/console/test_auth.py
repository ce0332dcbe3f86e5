"""Log-in, log-out, sessions, CSRF and lock-out, over real HTTP."""

from __future__ import annotations

from http.cookies import SimpleCookie

from sqlalchemy import select

from bot.console.session import COOKIE_NAME, ConsoleSession, SessionCodec
from storage.models.console import AuditEntry
from storage.staff import remove_staff, reset_password
from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.unit.console.helpers import ConsoleClient, make_staff


async def test_login_logout_roundtrip(console_service: RunningService, client_factory) -> None:
    await make_staff(console_service.services, "wang", "市生态环境局")
    client = await client_factory()
    status, _text, response = await client.get("/console/reports")
    assert status == 303 and response.headers["Location"] == "/console/login?next=%2Fconsole%2Freports"
    assert await client.login("wang") == 303
    status, text, _ = await client.get("/console/reports")
    assert status == 200 and "wang" in text and "举报案件" in text
    status, _text, response = await client.post("/console/logout")
    assert status == 303 and response.headers["Location"] == "/console/login"
    status, text, _ = await client.get("/console/login")
    assert "您已退出登录" in text
    status, _text, _ = await client.get("/console/reports")
    assert status == 303


async def test_cookie_flags(console_service: RunningService, client_factory) -> None:
    await make_staff(console_service.services, "wang", "市生态环境局")
    client = await client_factory()
    await client.get("/console/login")
    status, _text, response = await client.post(
        "/console/login", {"username": "wang", "password": "correct horse battery"}
    )
    assert status == 303
    header = next(v for v in response.headers.getall("Set-Cookie") if v.startswith(COOKIE_NAME))
    lowered = header.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/console" in lowered
    assert "secure" not in lowered.replace("samesite", "")


async def test_secure_cookie_when_public_url_is_https(tmp_path, sqlite_url, clock) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, sqlite_url, YCBOT_SERVER_PUBLIC_BASE_URL="https://bot.example.cn")
    running = await start_service(config, object(), clock)
    client = ConsoleClient(running.url)
    try:
        _status, _text, response = await client.get("/console/login")
        header = next(v for v in response.headers.getall("Set-Cookie") if v.startswith(COOKIE_NAME))
        assert "; secure" in header.lower()
    finally:
        await client.close()
        await stop_service(running)


async def test_bad_password_then_lockout(console_service: RunningService, client_factory) -> None:
    await make_staff(console_service.services, "wang", "市生态环境局")
    client = await client_factory()
    await client.get("/console/login")
    limit = console_service.config.console.max_failed_logins
    for _ in range(limit - 1):
        status, text, _ = await client.post("/console/login", {"username": "wang", "password": "nope nope"})
        assert status == 401 and "用户名或密码不正确" in text
    status, text, _ = await client.post("/console/login", {"username": "wang", "password": "nope nope"})
    assert status == 429 and "已暂时锁定" in text
    status, text, _ = await client.post("/console/login", {"username": "wang", "password": "correct horse battery"})
    assert status == 429
    console_service.clock.advance(minutes=console_service.config.console.lockout_minutes, seconds=1)
    assert await client.login("wang") == 303
    async with console_service.services.database.session() as db:
        actions = (await db.scalars(select(AuditEntry.action))).all()
    assert "lockout" in actions and actions.count("login_failed") == limit


async def test_login_without_csrf_is_refused(console_service: RunningService, client_factory) -> None:
    await make_staff(console_service.services, "wang", "市生态环境局")
    client = await client_factory()
    status, text, _ = await client.post(
        "/console/login", {"username": "wang", "password": "correct horse battery"}, csrf=False
    )
    assert status == 403 and "表单校验失败" in text


async def test_empty_fields_and_long_input(console_service: RunningService, client_factory) -> None:
    client = await client_factory()
    await client.get("/console/login")
    status, text, _ = await client.post("/console/login", {"username": "", "password": ""})
    assert status == 400 and "请填写用户名和密码" in text
    status, text, _ = await client.post("/console/login", {"username": "x" * 5000, "password": "y" * 5000})
    assert status == 401


async def test_next_is_followed_only_inside_the_console(console_service: RunningService, client_factory) -> None:
    await make_staff(console_service.services, "wang", "市生态环境局")
    for target, expected in (
        ("/console/tasks", "/console/tasks"),
        ("https://evil.example/", "/console/reports"),
        ("//evil.example/console/", "/console/reports"),
        ("/console/login", "/console/reports"),
    ):
        client = await client_factory()
        await client.get("/console/login")
        status, _text, response = await client.post(
            "/console/login", {"username": "wang", "password": "correct horse battery", "next": target}
        )
        assert status == 303 and response.headers["Location"] == expected


async def test_session_expires_after_max_age(console_service: RunningService, client_factory) -> None:
    await make_staff(console_service.services, "wang", "市生态环境局")
    client = await client_factory()
    await client.login("wang")
    console_service.clock.advance(seconds=console_service.config.console.session_max_age_seconds + 1)
    status, _text, _ = await client.get("/console/reports")
    assert status == 303
    _status, text, _ = await client.get("/console/login")
    assert "登录已过期" in text


async def test_password_reset_and_removal_end_sessions(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "wang", "市生态环境局")
    await make_staff(services, "li", "市生态环境局")
    first, second = await client_factory(), await client_factory()
    await first.login("wang")
    await second.login("li")
    async with services.database.session() as db:
        await reset_password(db, "wang", "brand new secret", now=services.now())
        await remove_staff(db, "li")
        await db.commit()
    assert (await first.get("/console/reports"))[0] == 303
    assert (await second.get("/console/reports"))[0] == 303


async def test_forged_or_tampered_cookie_is_anonymous(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "wang", "市生态环境局", admin=True)
    forged = SessionCodec("another key", 3600).dumps(
        ConsoleSession(csrf="x", issued_at=services.now().timestamp(), staff_id=1, version=1)
    )
    client = await client_factory()
    for value in (forged, "garbage", "a" * 5000, forged[:-3] + "abc"):
        cookie = SimpleCookie()
        cookie[COOKIE_NAME] = value
        status, _text, _ = await client.get("/console/reports", headers={"Cookie": cookie.output(header="").strip()})
        assert status == 303


def test_codec_roundtrip_and_expiry(clock) -> None:  # type: ignore[no-untyped-def]
    codec = SessionCodec("k", 60)
    session = ConsoleSession.fresh(clock())
    session.staff_id, session.version = 7, 2
    session.flash("保存好了")
    loaded = codec.loads(codec.dumps(session), clock())
    assert loaded is not None and (loaded.staff_id, loaded.version, loaded.csrf) == (7, 2, session.csrf)
    assert loaded.pop_flashes() == [("info", "保存好了")]
    clock.advance(seconds=61)
    assert codec.loads(codec.dumps(session), clock()) is None
    assert not session.csrf_matches("") and not session.csrf_matches(None) and session.csrf_matches(session.csrf)


async def test_generated_key_is_shared_through_the_database(tmp_path, sqlite_url, clock) -> None:  # type: ignore[no-untyped-def]
    """Without [console] secret_key, two processes on one database accept each other's cookies."""
    config = make_config(tmp_path, sqlite_url, YCBOT_CONSOLE_SECRET_KEY="")
    first = await start_service(config, object(), clock)
    second = await start_service(config, object(), clock)
    client = ConsoleClient(first.url)
    try:
        await make_staff(first.services, "wang", "市生态环境局")
        assert await client.login("wang") == 303
        client.base = second.url.rstrip("/")
        status, text, _ = await client.get("/console/reports")
        assert status == 200 and "wang" in text
    finally:
        await client.close()
        await stop_service(first)
        await stop_service(second)
