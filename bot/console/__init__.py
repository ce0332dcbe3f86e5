"""The staff console at /console and the Open311 GeoReport v2 read API at /open311/v2.

``setup_console(app)`` mounts both on the service's app: the console as a sub-application with its own
middleware (session, CSRF, error pages), Open311 as a second one answering JSON errors.
"""

from __future__ import annotations

from aiohttp import web

from bot.cases.clock import ClockConfigError, clock_rules
from bot.config import ConfigError
from bot.console import (
    audit,
    auth,
    clocks,
    deliveries,
    exports,
    knowledge_edits,
    privacy,
    questions,
    reports,
    stats,
    tasks,
)
from bot.console.common import CONSOLE, Console, build_environment, console_middleware, static_file
from bot.console.open311 import build_open311_app
from bot.services import SERVICES


def _check(config) -> None:  # type: ignore[no-untyped-def]
    cfg = config.console
    for name in (
        "session_max_age_seconds",
        "max_failed_logins",
        "lockout_minutes",
        "max_failed_logins_per_ip",
        "page_size",
        "export_max_rows",
        "open311_max_requests",
    ):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"[console] {name}: must be at least 1")
    try:
        clock_rules(config)
    except ClockConfigError as exc:
        raise ConfigError(str(exc)) from None
    if not 0 <= cfg.open311_coordinate_decimals <= 6:
        raise ConfigError("[console] open311_coordinate_decimals: must be between 0 and 6")


def build_console_app(services) -> web.Application:  # type: ignore[no-untyped-def]
    console_app = web.Application(middlewares=[console_middleware])
    console_app[CONSOLE] = Console(
        services=services,
        env=build_environment(),
        secure_cookies=services.config.server.public_base_url.lower().startswith("https://"),
    )
    router = console_app.router
    router.add_get("/", reports.home)
    router.add_get("/login", auth.login_page)
    router.add_post("/login", auth.login_submit)
    router.add_post("/logout", auth.logout)
    router.add_get("/reports", reports.report_list)
    router.add_get("/reports/export.{fmt}", exports.export_reports)
    router.add_get("/reports/{case_no}", reports.report_page)
    router.add_post("/reports/{case_no}/action", reports.report_action)
    router.add_post("/reports/{case_no}/reveal", reports.reveal_identity)
    router.add_post("/reports/{case_no}/extend", clocks.extend_deadline)
    router.add_get("/deadlines", clocks.deadlines_page)
    router.add_get("/photos/{token}", reports.photo)
    router.add_get("/tasks", tasks.task_list)
    router.add_get("/tasks/export.{fmt}", exports.export_tasks)
    router.add_get("/tasks/{task_id}", tasks.task_page)
    router.add_post("/tasks/{task_id}/done", tasks.task_done)
    router.add_get("/stats", stats.stats_page)
    router.add_get("/stats/export.{fmt}", stats.stats_export)
    router.add_get("/questions", questions.questions_page)
    router.add_post("/questions/out-of-scope", questions.out_of_scope)
    knowledge_edits.add_routes(router)
    router.add_get("/audit", audit.audit_page)
    router.add_get("/deliveries", deliveries.deliveries_page)
    router.add_post("/deliveries/{source}/{row_id}/{action}", deliveries.delivery_action)
    router.add_get("/privacy", privacy.requests_page)
    router.add_post("/privacy/{request_id}/erase", privacy.erase)
    router.add_get("/static/{name}", static_file)
    return console_app


def setup_console(app: web.Application) -> None:

    services = app[SERVICES]
    _check(services.config)

    async def to_console(request: web.Request) -> web.Response:
        return web.Response(status=303, headers={"Location": "/console/"})

    app.router.add_get("/console", to_console)
    app.add_subapp("/console", build_console_app(services))
    app.add_subapp("/open311/v2", build_open311_app(services))
