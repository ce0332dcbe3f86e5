"""Pushes about notices: delivery results of template and subscription messages, subscription choices.

None of them is a user's message: they open no window and get no reply.
"""

from __future__ import annotations

from bot.context import Context
from bot.reports import notice_fates
from bot.routing import HandlerResult, Router, event

router = Router("notices")


@router.on(event("templatesendjobfinish"))
async def template_finished(ctx: Context) -> HandlerResult:
    await notice_fates.template_finished(ctx.session, ctx.services, ctx.incoming.raw, ctx.now)
    return None


@router.on(event("subscribe_msg_sent_event"))
async def subscription_sent(ctx: Context) -> HandlerResult:
    await notice_fates.subscriptions_sent(ctx.session, ctx.services, ctx.incoming.raw, ctx.now)
    return None


@router.on(event("subscribe_msg_popup_event"))
async def subscription_chosen(ctx: Context) -> HandlerResult:
    await notice_fates.store_grants(ctx.session, ctx.openid, ctx.incoming.raw, ctx.now)
    return None
