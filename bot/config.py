"""Configuration: a TOML file (tomllib) with environment overrides for secrets.

Every key may be overridden by an environment variable named ``YCBOT_<SECTION>_<KEY>`` in upper case,
e.g. ``YCBOT_WECHAT_APP_SECRET`` or ``YCBOT_STORAGE_URL``; operators keep secrets out of the file that way.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.knowledge_config import KnowledgeConfig
from bot.storage_config import StorageConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config.toml"
EXAMPLE_CONFIG_PATH = PROJECT_ROOT / "config.example.toml"
ENV_PREFIX = "YCBOT_"
# The plan's calendar: case numbers, console dates, exports and deadlines are in this zone unless configured.
DEFAULT_TIMEZONE = "Asia/Shanghai"
LOCAL_TZ = ZoneInfo(DEFAULT_TIMEZONE)


class ConfigError(ValueError):
    """The configuration file or an override cannot be used; the message says which key and why."""


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    public_base_url: str = "http://127.0.0.1:8080"
    max_body_bytes: int = 64 * 1024
    log_level: str = "INFO"
    # serve on uvloop's event loop (cheaper sockets and scheduling); false: asyncio's own loop
    uvloop: bool = True


@dataclass
class WechatConfig:
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    encoding_aes_key: str = ""
    # The key before a rotation: pushes still encrypted with it are read, and answered with it.
    previous_encoding_aes_key: str = ""
    api_base_url: str = "https://api.weixin.qq.com"
    # With an EncodingAESKey configured, plaintext pushes are refused unless this is set to false.
    require_encryption: bool = True
    max_clock_skew_seconds: int = 300
    http_timeout_seconds: float = 10.0

    @property
    def encryption_required(self) -> bool:
        """Plaintext pushes are refused unless ``require_encryption = false`` is set, once a key exists."""
        return self.require_encryption and bool(self.encoding_aes_key)


@dataclass
class WecomConfig:
    corp_id: str = ""
    secret: str = ""
    agent_id: int = 0
    api_base_url: str = "https://qyapi.weixin.qq.com"
    duplicate_check_interval: int = 1800


@dataclass
class RedisConfig:
    url: str = ""
    key_prefix: str = "ycbot:"


@dataclass
class ChannelConfig:
    kind: str = "auto"  # auto | sandbox | wechat


@dataclass
class ConversationConfig:
    timeout_minutes: int = 30


@dataclass
class OutboxConfig:
    poll_seconds: float = 1.0
    batch_size: int = 50
    max_attempts: int = 8
    lease_seconds: int = 300
    retry_base_seconds: int = 30
    retry_max_seconds: int = 3600
    waiting_max_hours: int = 168


@dataclass
class SchedulerConfig:
    enabled: bool = True


@dataclass
class SimulatorConfig:
    enabled: bool = True


@dataclass
class ReportsConfig:
    max_per_day: int = 3
    draft_expiry_hours: int = 24
    max_photos: int = 9
    max_photo_bytes: int = 10 * 1024 * 1024
    duplicate_radius_m: float = 300.0
    duplicate_window_days: int = 7
    blocked_openids: list[str] = field(default_factory=list)
    min_description_hanzi: int = 5
    max_description_chars: int = 500
    max_address_chars: int = 200
    border_ratio: float = 1.3
    seat_radius_km: float = 6.0
    pending_attachment_minutes: int = 60
    photo_max_attempts: int = 8
    photo_retry_seconds: int = 30
    media_poll_seconds: float = 5.0
    # Case clocks (bot.cases.clock): calendar days to decide on acceptance, then to resolve once accepted.
    accept_days: int = 15
    complete_days: int = 60
    max_extension_days: int = 30
    clock_basis: str = (
        "《信访工作条例》：收到之日起15日内告知是否受理；受理之日起60日内办结，"
        "情况复杂的经批准可适当延长，延长不超过30日"
    )
    category_clocks: dict[str, Any] = field(default_factory=dict)
    overdue_digest_weekday: int = 1  # the coordinator's weekly digest of overdue cases: ISO weekday, 0 = off
    reply_templates_file: str = ""  # standard public replies per category and outcome ("" = the one in bot/cases)


@dataclass
class RemindersConfig:
    channel: str = "template"  # template | wecom
    template_id: str = ""
    before_working_days: list[int] = field(default_factory=lambda: [30, 7, 1])
    escalate_after_working_days: int = 3
    slow_cadence_working_days: int = 5
    quiet_start: str = "20:00"
    quiet_end: str = "08:30"
    send_hour: str = "09:00"
    timezone: str = DEFAULT_TIMEZONE
    catch_up_grace_days: int = 1
    coordinator_department: str = "市生态环境局"
    # Template field keys, in order: 事项, 截止时间, 状态, 单位 (match the template picked in the admin).
    template_keys: list[str] = field(default_factory=lambda: ["thing1", "time2", "thing3", "thing4"])
    dispatch_interval_seconds: int = 120
    batch_size: int = 200
    seed_file: str = "knowledge/data/tasks.toml"
    bind_max_failures_per_openid: int = 5
    bind_max_failures_total: int = 50
    bind_window_minutes: int = 60

    def validate(self) -> None:
        """Checks the keys the reminder ladder depends on; raises ConfigError naming the key."""
        import re
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        for key in ("quiet_start", "quiet_end", "send_hour"):
            value = getattr(self, key)
            if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
                raise ConfigError(f"[reminders] {key}: expected HH:MM, got {value!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"[reminders] timezone: unknown time zone {self.timezone!r}") from None
        if not all(isinstance(n, int) and n > 0 for n in self.before_working_days):
            raise ConfigError("[reminders] before_working_days: a list of positive whole numbers, e.g. [30, 7, 1]")
        for key in (
            "escalate_after_working_days",
            "slow_cadence_working_days",
            "dispatch_interval_seconds",
            "batch_size",
            "bind_max_failures_per_openid",
            "bind_max_failures_total",
            "bind_window_minutes",
        ):
            if getattr(self, key) < 1:
                raise ConfigError(f"[reminders] {key}: must be at least 1")
        if self.catch_up_grace_days < 0:
            raise ConfigError("[reminders] catch_up_grace_days: must be 0 or more")
        if not self.template_keys or not all(re.fullmatch(r"[A-Za-z]\w{0,31}", k) for k in self.template_keys):
            raise ConfigError("[reminders] template_keys: template field names such as thing1, time2")


REPORT_KEYS = {"case_no": "character_string1", "status": "phrase2", "unit": "thing3", "time": "time4"}
CASE_KEYS = {"case_no": "character_string1", "category": "thing2", "county": "thing3", "time": "time4"}


@dataclass
class NoticesConfig:
    """Templates of the notices to reporters and to departments; keys map each value to a template key."""

    report_template_id: str = ""
    report_template_keys: dict[str, str] = field(default_factory=lambda: dict(REPORT_KEYS))
    subscribe_template_id: str = ""  # 订阅通知 offered on the case page; same value names as the template
    subscribe_template_keys: dict[str, str] = field(default_factory=lambda: dict(REPORT_KEYS))
    case_template_id: str = ""
    case_template_keys: dict[str, str] = field(default_factory=lambda: dict(CASE_KEYS))


@dataclass
class ConsoleConfig:
    secret_key: str = ""
    session_max_age_seconds: int = 8 * 3600
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    max_failed_logins_per_ip: int = 20
    trust_forwarded_for: bool = False
    page_size: int = 20
    export_max_rows: int = 50000
    map_link_template: str = "https://uri.amap.com/marker?position={lon},{lat}&name={label}&coordinate=gaode"
    open311_coordinate_decimals: int = 3
    open311_max_requests: int = 1000


@dataclass
class MetricsConfig:
    enabled: bool = True
    # Bearer token for GET /metrics; empty: only loopback callers (nginx does not forward /metrics).
    token: str = ""


@dataclass
class LoggingConfig:
    format: str = "text"  # text | json
    access_log: bool = True


@dataclass
class PrivacyConfig:
    """How long personal data is kept (days). A closed case is one no longer open: resolved, closed,
    rejected or duplicate; its clock starts at its last change."""

    closed_identity_days: int = 180
    closed_photo_days: int = 365
    closed_location_days: int = 365
    conversation_days: int = 7
    dedup_days: int = 7
    sent_outbox_days: int = 30
    question_log_days: int = 365
    housekeeping_time: str = "03:30"

    def validate(self) -> None:
        import re

        for key in (
            "closed_identity_days",
            "closed_photo_days",
            "closed_location_days",
            "conversation_days",
            "dedup_days",
            "sent_outbox_days",
            "question_log_days",
        ):
            value = getattr(self, key)
            if not 1 <= value <= 36500:
                raise ConfigError(f"[privacy] {key}: a number of days from 1 to 36500, got {value}")
        if self.dedup_days < 2:
            # WeChat retries within seconds, but a push can arrive late; keep at least two days.
            raise ConfigError("[privacy] dedup_days: at least 2 (retried pushes must still be recognised)")
        if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", self.housekeeping_time):
            raise ConfigError(f"[privacy] housekeeping_time: expected HH:MM, got {self.housekeeping_time!r}")


@dataclass
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    wechat: WechatConfig = field(default_factory=WechatConfig)
    wecom: WecomConfig = field(default_factory=WecomConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    conversation: ConversationConfig = field(default_factory=ConversationConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    simulator: SimulatorConfig = field(default_factory=SimulatorConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    notices: NoticesConfig = field(default_factory=NoticesConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    knowledge: KnowledgeConfig = field(default_factory=KnowledgeConfig)
    source_path: Path | None = None

    @property
    def uses_sandbox(self) -> bool:
        """True when outbound messages are recorded locally instead of sent to WeChat."""
        if self.channel.kind == "sandbox":
            return True
        if self.channel.kind == "wechat":
            return False
        return not (self.wechat.app_id and self.wechat.app_secret)

    def media_path(self) -> Path:
        path = Path(self.storage.media_dir)
        return path if path.is_absolute() else PROJECT_ROOT / path


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Convert a TOML or environment value to the type of the field's default."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            return value.lower() in {"1", "true", "yes", "on"}
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}") from None
    if isinstance(default, float):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if isinstance(default, list):
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",") if item.strip()]
            element = default[0] if default else ""
            return [_coerce(item, element, where) for item in items]
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if isinstance(default, dict):
        if isinstance(value, str):  # an environment override: "name=key, name=key"
            pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ConfigError(f"{where}: expected name=key pairs separated by commas, got {value!r}")
            return {name.strip(): key.strip() for name, key in pairs}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{where}: expected a table of names to template keys, got {value!r}")
        return dict(value)
    return value


# Accepted with no effect, so an old config file still loads: reminder digests are sent by the outbox worker.
RETIRED_KEYS = {("reminders", key) for key in ("max_attempts", "retry_base_seconds", "claim_seconds")}


def _build_section(cls: type, raw: dict[str, Any], section: str, env: dict[str, str]) -> Any:
    instance = cls()
    known = {f.name for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in known and (section, key) not in RETIRED_KEYS:
            raise ConfigError(f"[{section}] {key}: unknown key (known: {', '.join(sorted(known))})")
    for f in dataclasses.fields(cls):
        default = getattr(instance, f.name)
        env_name = f"{ENV_PREFIX}{section}_{f.name}".upper()
        if env_name in env:
            setattr(instance, f.name, _coerce(env[env_name], default, env_name))
        elif f.name in raw:
            setattr(instance, f.name, _coerce(raw[f.name], default, f"[{section}] {f.name}"))
    return instance


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read the configuration.

    Without a path: ``config.toml`` at the project root if present, else ``config.example.toml``
    (which runs the sandbox with no credentials).
    """
    env = dict(os.environ) if env is None else env
    if path is None:
        candidate = env.get(f"{ENV_PREFIX}CONFIG")
        if candidate:
            path = Path(candidate)
        elif DEFAULT_CONFIG_PATH.exists():
            path = DEFAULT_CONFIG_PATH
        elif EXAMPLE_CONFIG_PATH.exists():
            path = EXAMPLE_CONFIG_PATH
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such configuration file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    config = Config(source_path=path)
    sections = {f.name: f for f in dataclasses.fields(Config) if f.name != "source_path"}
    for name in raw:
        if name not in sections:
            raise ConfigError(f"[{name}]: unknown section (known: {', '.join(sorted(sections))})")
    for name in sections:
        section_raw = raw.get(name, {})
        if not isinstance(section_raw, dict):
            raise ConfigError(f"[{name}] must be a table")
        section_cls = type(getattr(config, name))
        setattr(config, name, _build_section(section_cls, section_raw, name, env))
    _validate(config)
    return config


def _validate(config: Config) -> None:
    key = config.wechat.encoding_aes_key
    if key and len(key) != 43:
        raise ConfigError("[wechat] encoding_aes_key: must be the 43 characters shown on the WeChat admin page")
    if config.channel.kind not in {"auto", "sandbox", "wechat"}:
        raise ConfigError("[channel] kind: must be auto, sandbox or wechat")
    if config.reminders.channel not in {"template", "wecom"}:
        raise ConfigError("[reminders] channel: must be template or wecom")
    config.reminders.validate()
    config.privacy.validate()
    if problems := config.storage.problems():
        raise ConfigError(problems[0])
    if config.logging.format not in {"text", "json"}:
        raise ConfigError("[logging] format: must be text or json")
    if not 0 < config.server.port < 65536:
        raise ConfigError("[server] port: must be between 1 and 65535")
