"""Outbound channels: the 公众号 API, the WeCom API and the local sandbox, behind one small interface."""

from bot.outbound.channels.base import Channel, ChannelError, Media, SendResult

__all__ = ["Channel", "ChannelError", "Media", "SendResult"]
