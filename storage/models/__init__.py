"""All tables. Each area keeps its tables in its own module; importing this package registers them all."""

from storage.models.base import Base, utcnow
from storage.models.cases import ReportExtension  # noqa: F401
from storage.models.console import AuditEntry, ConsoleSecret, LoginThrottle, StaffAccount  # noqa: F401
from storage.models.core import (
    AccessToken,
    Conversation,
    Department,
    OutboxMessage,
    ProcessedMessage,
    SandboxMessage,
    WechatUser,
)
from storage.models.knowledge import KnowledgeChange, KnowledgeVersion  # noqa: F401
from storage.models.notices import (  # noqa: F401
    CasePage,
    EventWindow,
    NoticeDelivery,
    PushNonce,
    SubscriptionGrant,
)
from storage.models.ops import JobTick  # noqa: F401
from storage.models.privacy import DataRequest, RevokedSession  # noqa: F401
from storage.models.questions import QuestionLog, QuestionTriage  # noqa: F401
from storage.models.reminders import Contact, ContactAddress, ReminderDelivery, ReminderMessage, Task  # noqa: F401
from storage.models.reports import Report, ReportEvent, ReportPendingLocation, ReportPhoto  # noqa: F401

__all__ = [
    "AccessToken",
    "Base",
    "Conversation",
    "Department",
    "OutboxMessage",
    "ProcessedMessage",
    "SandboxMessage",
    "WechatUser",
    "utcnow",
]
