"""Passive replies rendered as WeChat XML, with ``]]>`` escaped inside CDATA."""

from __future__ import annotations

from dataclasses import dataclass


def cdata(text: str) -> str:
    """Wrap text in CDATA; a ``]]>`` inside is split across two sections so it cannot close the first."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass(frozen=True)
class TextReply:
    content: str

    def render(self, to_user: str, from_user: str, create_time: int) -> str:
        return (
            f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content>{cdata(self.content)}</Content></xml>"
        )


@dataclass(frozen=True)
class NewsReply:
    """One article (WeChat shows only one for a reply to a user message)."""

    title: str
    description: str
    url: str
    pic_url: str = ""

    def render(self, to_user: str, from_user: str, create_time: int) -> str:
        return (
            f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[news]]></MsgType>"
            f"<ArticleCount>1</ArticleCount><Articles><item><Title>{cdata(self.title)}</Title>"
            f"<Description>{cdata(self.description)}</Description><PicUrl>{cdata(self.pic_url)}</PicUrl>"
            f"<Url>{cdata(self.url)}</Url></item></Articles></xml>"
        )


Reply = TextReply | NewsReply
