"""Service-wide conversation pieces: subscribe, help, cancel, menu fallbacks and unsupported types."""

from __future__ import annotations

from sqlalchemy import update

from bot import menu, texts
from bot.context import Context
from bot.privacy.notice import welcome_text
from bot.routing import (
    ANY_STATE,
    NO_STATE,
    HandlerResult,
    Router,
    event,
    menu_key,
    msg_type,
    session_free,
    text_is,
)
from storage.models import WechatUser

router = Router("common")
fallback_router = Router("common-fallback")

CANCEL_WORDS = ("取消", "退出", "cancel", "算了", "不举报了")
HELP_WORDS = ("帮助", "help", "菜单", "？", "?", "使用说明")

SUPPORTED_TYPES = ("text", "voice", "image", "location", "event")


@router.on(event("subscribe"))
async def subscribe(ctx: Context) -> HandlerResult:
    await ctx.session.execute(
        update(WechatUser)
        .where(WechatUser.openid == ctx.openid)
        .values(subscribed=True, subscribed_at=ctx.now, unsubscribed_at=None)
    )
    return welcome_text(ctx.services.config)


@router.on(event("unsubscribe"))
async def unsubscribe(ctx: Context) -> HandlerResult:
    await ctx.session.execute(
        update(WechatUser).where(WechatUser.openid == ctx.openid).values(subscribed=False, unsubscribed_at=ctx.now)
    )
    ctx.conversation.clear()
    return None


@router.on(event("location", "view", "view_miniprogram", "scancode_push"))
@session_free
async def silent_event(ctx: Context) -> HandlerResult:
    """Pushes that need no answer (the location is kept by the pipeline)."""
    return None


@router.on(text_is(*CANCEL_WORDS), state=ANY_STATE)
@session_free
async def cancel(ctx: Context) -> HandlerResult:
    if ctx.conversation.state is None:
        return texts.NOTHING_TO_CANCEL
    ctx.conversation.clear()
    return texts.CANCELLED


@router.on(text_is(*HELP_WORDS), state=NO_STATE)
@session_free
async def help_text(ctx: Context) -> HandlerResult:
    return texts.HELP


@router.on(menu_key(menu.KEY_HELP))
@session_free
async def help_menu(ctx: Context) -> HandlerResult:
    return texts.HELP


@router.on(lambda ctx: ctx.incoming.msg_type not in SUPPORTED_TYPES)
@session_free
async def unsupported(ctx: Context) -> HandlerResult:
    return texts.UNSUPPORTED_TYPE


@fallback_router.on(event("click"))
@session_free
async def unknown_menu(ctx: Context) -> HandlerResult:
    return texts.MENU_UNKNOWN


@fallback_router.on(msg_type("voice"), lambda ctx: not ctx.incoming.text)
async def unrecognised_voice(ctx: Context) -> HandlerResult:
    """WeChat is retiring speech recognition: a voice message usually arrives without text."""
    return texts.VOICE_NOT_RECOGNISED


@fallback_router.on(msg_type("text"), lambda ctx: not ctx.incoming.text)
@session_free
async def empty_text(ctx: Context) -> HandlerResult:
    return texts.EMPTY_TEXT


@session_free
async def fallback(ctx: Context) -> HandlerResult:
    """Nothing else matched: point the user at what the account can do."""
    if ctx.incoming.is_event:
        return None
    if ctx.conversation.expired_state:
        return texts.CONVERSATION_EXPIRED + texts.HELP
    return texts.FALLBACK
