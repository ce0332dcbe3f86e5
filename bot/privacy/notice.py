"""The privacy notice (个人信息保护说明) with the configured retention periods filled in."""

from __future__ import annotations

from bot import texts
from bot.config import Config


def notice_text(config: Config) -> str:
    cfg = config.privacy
    return texts.PRIVACY_NOTICE.format(
        identity_days=cfg.closed_identity_days,
        photo_days=cfg.closed_photo_days,
        location_days=cfg.closed_location_days,
        conversation_days=cfg.conversation_days,
    )


def welcome_text(config: Config) -> str:
    """What a new follower reads: what the account does, then the privacy notice."""
    return f"{texts.WELCOME}\n\n{notice_text(config)}"
