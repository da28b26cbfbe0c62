"""Runtime settings: a YAML file, overridden by ``YUJING_*`` environment variables.

Nested keys use ``__`` in the environment: ``YUJING_MQTT__URL=mqtt://10.0.0.5:1883``. Relative
paths in a settings file are resolved against that file's folder. Secrets are never inline:
``*_file`` keys name a file holding them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from yujing.config.alerting import (
    AlertingSettings,
    AlertmanagerSettings,
    ApiSettings,
    CapSettings,
    EmailSettings,
    Scope,
    SmsSettings,
    resolve_paths,
)
from yujing.config.storage import StorageSettings
from yujing.config.yamlfile import config_error, from_validation_error, read_yaml


class MqttSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = "mqtt://127.0.0.1:1883"
    client_id: str = "yujing-runtime"
    username: str | None = None
    password_file: Path | None = None
    topic_prefix: str = "yujing/v1"
    qos: Literal[0, 1, 2] = 1
    keepalive_s: int = Field(default=30, ge=5)
    start_broker: Literal["auto", "never"] = Field(
        default="auto",
        description="auto: start mosquitto (or in-process amqtt) when nothing answers at url",
    )
    receiver: Literal["process", "thread"] = Field(
        default="process",
        description="embedded runtime: paho in a child process (its receive and acks on the "
        "other core) or on a thread of the runtime's process",
    )


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_payload_bytes: int = Field(default=256 * 1024, gt=0)
    future_tolerance_s: float = Field(default=300.0, ge=0)
    allowed_lateness_s: float = Field(default=3600.0, ge=0)
    dead_letter_path: Path = Path("var/dead-letters.jsonl")
    dead_letter_topic: str | None = "yujing/v1/_dead"
    batch_max: int = Field(default=2000, gt=0)


class RecoverySettings(BaseModel):
    """How the embedded runtime keeps detector state across a crash (yujing/runtime/recovery.py)."""

    model_config = ConfigDict(extra="forbid")

    checkpoint_s: float = Field(default=60.0, gt=0, description="full snapshot at most this often")
    checkpoint_mb: float = Field(default=64.0, gt=0, description="...or at this much input log")
    fsync: bool = Field(default=True, description="fsync the input log before each broker ack")
    fork: bool = Field(default=True, description="write checkpoints in a forked child")


class KafkaSettings(BaseModel):
    """The scale-out runtime (``yujing bridge``, ``yujing worker``; docs/operations.md)."""

    model_config = ConfigDict(extra="forbid")

    brokers: str = Field(default="127.0.0.1:9092", description="host:port[,host:port...]")
    app_id: str = "yujing"
    topic_prefix: str = "yujing"
    partitions: int = Field(default=8, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    commit_interval_s: float = Field(default=1.0, gt=0)
    checkpoint_every_s: float = Field(default=1.0, ge=0)
    delivery_timeout_s: float = Field(default=120.0, gt=0)

    def topic(self, name: str) -> str:
        """Full name of one of the runtime's topics (``readings``, ``findings``, …)."""
        return f"{self.topic_prefix}-{name}"


class MetricsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=9108, ge=0, le=65535, description="0 disables the endpoint")


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "webhook"
    url: str
    secret_file: Path | None = None
    timeout_s: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    scope: Scope = "station"
    public: bool = False


class NotifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    console: bool = True
    console_scope: Scope = "station"
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    sms: list[SmsSettings] = Field(default_factory=list)
    email: list[EmailSettings] = Field(default_factory=list)
    alertmanager: list[AlertmanagerSettings] = Field(default_factory=list)
    cap: list[CapSettings] = Field(default_factory=list)


class Settings(BaseSettings):
    """Everything the runtime needs to start."""

    model_config = SettingsConfigDict(
        env_prefix="YUJING_", env_nested_delimiter="__", extra="forbid"
    )

    registry: Path = Path("configs/demo/stations.yaml")
    ladders: Path = Path("configs/ladders")
    quantities: Path = Path("configs/quantities.yaml")
    state_dir: Path = Path("var")
    tick_s: float = Field(default=1.0, gt=0, description="how often time-driven work runs")
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    recovery: RecoverySettings = Field(default_factory=RecoverySettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    alerting: AlertingSettings = Field(default_factory=AlertingSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the environment overrides the file (passed as init values)
        return (env_settings, init_settings)

    def resolved(self, base: Path) -> Settings:
        """A copy with relative paths made absolute against ``base``."""

        def fix(p: Path | None) -> Path | None:
            return None if p is None or p.is_absolute() else (base / p).resolve()

        update: dict[str, Any] = {}
        for name in ("registry", "ladders", "quantities", "state_dir"):
            fixed = fix(getattr(self, name))
            if fixed is not None:
                update[name] = fixed
        letters = self.ingest.dead_letter_path
        ingest = self.ingest.model_copy(update={"dead_letter_path": fix(letters) or letters})
        update["ingest"] = ingest
        hooks = [
            h.model_copy(update={"secret_file": fix(h.secret_file) or h.secret_file})
            for h in self.notify.webhooks
        ]
        alerting = resolve_paths(self, fix)  # alerting, api and officer-channel paths
        notify = {"webhooks": hooks, **alerting.pop("notify")}
        update["notify"] = self.notify.model_copy(update=notify)
        update.update(alerting)
        if self.storage.token_file is not None:
            update["storage"] = self.storage.model_copy(
                update={"token_file": fix(self.storage.token_file) or self.storage.token_file}
            )
        if self.mqtt.password_file is not None:
            update["mqtt"] = self.mqtt.model_copy(
                update={"password_file": fix(self.mqtt.password_file) or self.mqtt.password_file}
            )
        return self.model_copy(update=update)


def load_settings(path: Path | None) -> Settings:
    """Settings from ``path`` (if given) overridden by the environment, paths resolved."""
    if path is None:
        return Settings().resolved(Path.cwd())
    data, lines = read_yaml(path)
    if data is not None and not isinstance(data, dict):
        raise config_error(path, lines, (), "a settings file must be a mapping")
    try:
        settings = Settings(**(data or {}))
    except ValidationError as exc:
        raise from_validation_error(exc, path, lines) from None
    return settings.resolved(path.resolve().parent)
