"""Privacy in chat: the notice (``隐私`` / the menu), ``我的数据`` and ``删除我的信息``.

They answer in any state: a reporter in the middle of a draft may ask; the draft stays where it was.
"""

from __future__ import annotations

from bot import menu, texts
from bot.context import Context
from bot.privacy import requests
from bot.privacy.notice import notice_text
from bot.routing import HandlerResult, Router, any_of, menu_key, text_is

router = Router("privacy")


@router.on(any_of(text_is(*texts.PRIVACY_WORDS), menu_key(menu.KEY_PRIVACY)))
async def privacy_notice(ctx: Context) -> HandlerResult:
    return notice_text(ctx.services.config)


@router.on(text_is(*texts.MY_DATA_WORDS))
async def my_data(ctx: Context) -> HandlerResult:
    request, _ = await requests.record_request(ctx.session, ctx.openid, "access", now=ctx.now)
    held = await requests.held_data(ctx.session, ctx.openid)
    await requests.answer_access(ctx.session, request, held, now=ctx.now)
    if not held.cases and not held.photos:
        return texts.MY_DATA_NONE
    shown = held.cases[:10] + (["…"] if len(held.cases) > 10 else [])
    return texts.MY_DATA.format(
        request_id=request.id,
        count=len(held.cases),
        cases="、".join(shown) or "无",
        real_name=held.real_name,
        photos=held.photos,
        pinned=held.pinned,
    )


@router.on(text_is(*texts.ERASE_WORDS))
async def erase_my_data(ctx: Context) -> HandlerResult:
    request, created = await requests.record_request(ctx.session, ctx.openid, "erasure", now=ctx.now)
    template = texts.ERASE_RECORDED if created else texts.ERASE_ALREADY
    return template.format(request_id=request.id)
