"""The app factory: ``create_app(config, deps=None)``.

Resources are opened and closed in ``cleanup_ctx``: the database (migrated on start when behind), the
knowledge index (loaded before the server answers /healthz with 200), the outbound channels and the
scheduler. Pass ``deps`` to supply your own ``Services`` (tests, the simulator, benchmarks).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy import text

from bot import logsafe, metrics
from bot.callback import CallbackView
from bot.config import Config, ConfigError
from bot.console import setup_console
from bot.console.favicon import add_routes as add_favicon_routes
from bot.logging_setup import request_logging
from bot.metrics_web import setup_metrics
from bot.outbound.channels.factory import build_services, close_channels
from bot.outbound.fates import on_failed_fate, remove_failed_fate_hook
from bot.outbound.worker import on_dead, remove_dead_hook
from bot.pipeline import MessagePipeline
from bot.privacy.web import setup_privacy_page
from bot.questions.live import WATCHER, KnowledgeWatcher, load_live_knowledge, version_of
from bot.reminders.coverage import covered_until_iso
from bot.reminders.page import setup_reminders
from bot.reminders.planner import seed_tasks
from bot.reports.case_page import setup_case_page
from bot.reports.keymaps import key_map_problems
from bot.reports.notice_fates import dead_notice_hook, failed_fate_hook
from bot.services import READY, SCHEDULER, SERVICES, Services
from bot.simulator import setup_simulator
from bot.wechat.crypto import MessageCrypto
from bot.wechat.replay_guard import ReplayGuard
from bot.wechat.secrets_check import secret_problems
from handlers import build_dispatcher
from knowledge.duties import duties
from scheduler.jobs import register_jobs
from scheduler.runner import ServiceScheduler
from storage.departments import seed_departments
from storage.job_ticks import TickRecorder
from storage.migrate import ensure_schema

log = logging.getLogger(__name__)


def build_crypto(config: Config, *, previous: bool = False) -> MessageCrypto | None:
    """The crypto of ``[wechat] encoding_aes_key`` (or of ``previous_encoding_aes_key``), None when unset."""
    key = config.wechat.previous_encoding_aes_key if previous else config.wechat.encoding_aes_key
    if not key:
        return None
    return MessageCrypto(config.wechat.token, key, config.wechat.app_id)


def startup_problems(config: Config) -> list[str]:
    """Reasons to refuse to start: key maps that WeChat would refuse, published secrets outside the sandbox."""
    return [*key_map_problems(config), *secret_problems(config), *config.knowledge.problems()]


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if not request.app[READY].is_set():
        return web.json_response({"status": "starting"}, status=503)
    try:
        async with services.database.session() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # the database is down: say so, do not crash
        return web.json_response({"status": "database unavailable", "error": type(exc).__name__}, status=503)
    kb = services.knowledge
    return web.json_response(
        {
            "status": "ok",
            "sandbox": services.config.uses_sandbox,
            "knowledge_entries": getattr(kb, "entry_count", 0),
            "knowledge_passages": getattr(kb, "passage_count", 0),
            "knowledge_version": version_of(kb),
            "calendar_covered_until": covered_until_iso(services),
        }
    )


def create_app(config: Config, deps: Services | None = None) -> web.Application:
    if problems := startup_problems(config):
        raise ConfigError("; ".join(problems))
    logsafe.install()
    app = web.Application(client_max_size=max(config.server.max_body_bytes, 16 * 1024 * 1024))
    owns_services = deps is None
    services = deps or build_services(config)
    app[SERVICES] = services
    app[READY] = asyncio.Event()
    scheduler = ServiceScheduler(config.reminders.timezone)
    app[SCHEDULER] = scheduler
    pipeline = MessagePipeline(services, build_dispatcher())
    view = CallbackView(
        token=config.wechat.token,
        crypto=build_crypto(config),
        pipeline=pipeline,
        max_body_bytes=config.server.max_body_bytes,
        max_skew_seconds=config.wechat.max_clock_skew_seconds,
        require_encryption=config.wechat.encryption_required,
        wall_clock=lambda: services.now().timestamp(),
        previous_crypto=build_crypto(config, previous=True),
        replay_guard=ReplayGuard(services.database, config.wechat.max_clock_skew_seconds, services.now),
    )
    app.router.add_get("/wechat", view.verify)
    app.router.add_post("/wechat", view.receive)
    app.router.add_get("/healthz", healthz)
    add_favicon_routes(app)
    setup_privacy_page(app, config)
    setup_case_page(app)
    setup_console(app)
    setup_metrics(app, services)
    app.middlewares.insert(0, request_logging(config.logging.access_log, metrics.was_busy))
    setup_reminders(app)
    if config.simulator.enabled and config.uses_sandbox:
        setup_simulator(app)

    dead_notice = dead_notice_hook(services)  # a department's case notice that died alerts the coordinator
    failed_fate = failed_fate_hook(services)  # … and so does one WeChat reports failed; a reporter's waits

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        on_dead("notice", dead_notice)
        on_failed_fate(failed_fate)
        if await ensure_schema(services.database):
            log.info("database schema upgraded")
        if added := await seed_departments(services.database, duties().units):
            log.info("added %d departments from duties.toml", added)
        if seeded := await seed_tasks(services.database, config, services.now()):
            log.info("loaded %d tasks from %s", seeded, config.reminders.seed_file)
        if services.knowledge is None:
            services.knowledge = await load_live_knowledge(services.database)
        await pipeline.prepare()
        watcher = KnowledgeWatcher(services, config.knowledge.poll_seconds)
        services.extras[WATCHER] = watcher
        watcher.start()
        if config.scheduler.enabled:
            scheduler.observers.append(TickRecorder(services.database))
            register_jobs(scheduler, services)
            scheduler.start()
        app[READY].set()
        yield
        await watcher.stop()
        remove_dead_hook("notice", dead_notice)
        remove_failed_fate_hook(failed_fate)
        scheduler.shutdown()
        metrics.mark_process_dead()
        await close_channels(services.channels)
        if owns_services:
            await services.database.dispose()

    app.cleanup_ctx.append(lifecycle)
    return app
