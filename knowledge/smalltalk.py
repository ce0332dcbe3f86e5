"""Greetings, thanks and good-byes: recognised so they get a short friendly reply, not a knowledge answer.

A greeting in front of a real question ("你好，PFOS还能用吗") is stripped and the question answered.
"""

from __future__ import annotations

import re

GREETING, THANKS, BYE, IDENTITY = "greeting", "thanks", "bye", "identity"

_GREETINGS = (
    "你好呀", "你好啊", "你好", "您好", "你们好", "大家好", "哈喽", "哈罗", "嗨", "hello", "hi", "hey",
    "在吗", "在不在", "有人吗", "有人在吗", "早上好", "上午好", "中午好", "下午好", "晚上好", "早安",
    "早", "喂", "老师好", "领导好", "小助手", "客服", "机器人", "老师", "领导", "同志",
)
_THANKS = (
    "非常感谢", "十分感谢", "万分感谢", "谢谢你们", "谢谢你", "谢谢您", "谢谢啦", "谢谢", "多谢", "感谢",
    "谢了", "thank you", "thanks", "thx", "3q", "辛苦了", "辛苦", "好的", "好滴", "好嘞", "好", "ok",
    "okay", "明白了", "明白", "知道了", "懂了", "了解了", "了解", "收到", "嗯嗯", "嗯", "行", "可以",
    "点赞", "赞", "不错", "棒", "很有帮助", "有帮助", "帮大忙了", "太好了", "厉害",
)
_FILLER_WORDS = ("你们", "你", "您", "很", "真", "啦", "了", "的", "哈", "呀", "啊", "哦", "噢")
_IDENTITY = re.compile(
    r"^(你|您)?(到底)?(是|是不是)(谁|哪位|人还是机器人|机器人|真人|人工|ai|人工智能|自动回复|人)(吗|呀|啊)?$"
    r"|^(你|您)(叫|叫做)(什么|啥)(名字)?$|^(是)?(真人|人工|机器人)(吗|回复吗|在回复吗)$"
)
_BYES = ("再见", "拜拜", "bye", "byebye", "回见", "下次见", "晚安")
_POLITE_PREFIX = ("请问一下", "请问", "麻烦问一下", "麻烦问下", "麻烦", "问一下", "问下", "打扰一下", "打扰了", "打扰")
_LEAD_ACKS = ("好的", "嗯嗯", "嗯", "ok", "谢谢", "那么", "另外", "还有")
_STRIP_CHARS = " ,，。.!！~～、:：;；"
_THANKS_EMOJI = "👍🙏👌💪❤♥🌹👏🤝"
_FILL = re.compile(r"[\s,，。.!！~～?？、…:：;；\-—]+")


def _words_only(text: str, vocabulary: tuple[str, ...]) -> bool:
    rest = _FILL.sub("", text)
    if not rest:
        return False
    for word in sorted(vocabulary, key=len, reverse=True):
        rest = rest.replace(word, "")
    return not _FILL.sub("", rest)


def classify(text: str) -> str | None:
    """GREETING / THANKS / BYE / IDENTITY when the whole (normalized) message is small talk, else None."""
    if len(text) > 40:
        return None
    if _IDENTITY.match(_FILL.sub("", text)):
        return IDENTITY
    if _words_only(text, _BYES):
        return BYE
    if _words_only(text, _GREETINGS + _BYES):
        return GREETING
    without_greetings = text
    for word in sorted(_GREETINGS, key=len, reverse=True):
        without_greetings = without_greetings.replace(word, "")
    if _words_only(without_greetings, _THANKS + _BYES + _FILLER_WORDS) and any(
        w in without_greetings for w in _THANKS
    ):
        return THANKS
    stripped = "".join(ch for ch in text if not ch.isspace())
    if stripped and all(ch in _THANKS_EMOJI or ch == "\ufe0f" for ch in stripped):
        return THANKS
    return None


def strip_greeting(text: str) -> str:
    """Remove leading greetings or politeness phrases: "您好，请问PFOS还能用吗" → "PFOS还能用吗"."""
    prefixes = sorted(_GREETINGS + _POLITE_PREFIX + _LEAD_ACKS, key=len, reverse=True)
    changed = True
    while changed:
        changed = False
        for word in prefixes:
            if not text.startswith(word) or len(text) == len(word):
                continue
            rest = text[len(word) :]
            if word.isascii() and rest[:1].isascii() and rest[:1].isalnum():
                continue  # "hi" must not eat the start of "hipster"
            text = rest.lstrip(_STRIP_CHARS)
            changed = True
            break
    return text
