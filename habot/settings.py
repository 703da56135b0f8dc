"""Settings from the environment (and .env): Slack's own variable names, HABOT_* for the rest."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from habot.errors import ConfigError


class SlackMode(StrEnum):
    SOCKET = "socket"  # SLACK_APP_TOKEN set: no public URL needed
    HTTP = "http"  # Slack POSTs to /slack/events, signed with SLACK_SIGNING_SECRET


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(
        "https://slack.com/api/", validation_alias="HABOT_SLACK_API_URL", pattern=r"^https?://.+/$"
    )
    config: Path = Field(
        Path("/etc/habot/habot.yaml"), validation_alias=AliasChoices("HABOT_CONFIG")
    )
    db: Path = Field(Path("/var/lib/habot/habot.sqlite3"), validation_alias="HABOT_DB")
    database_url: SecretStr | None = Field(None, validation_alias="HABOT_DATABASE_URL")
    http_host: str = Field("127.0.0.1", validation_alias="HABOT_HTTP_HOST")
    http_port: int = Field(3000, ge=0, le=65535, validation_alias="HABOT_HTTP_PORT")
    # /healthz, /readyz and /metrics: on an address and port of their own, never on the port
    # Slack calls (public in HTTP mode)
    probes_host: str = Field("127.0.0.1", validation_alias="HABOT_PROBES_HOST")
    probes_port: int = Field(9102, ge=0, le=65535, validation_alias="HABOT_PROBES_PORT")
    alerts: bool = Field(True, validation_alias="HABOT_ALERTS")
    # Clusters this replica leads (polls and follows) at most; 0: as many as it wins. With
    # more clusters than one replica holds, each replica takes up to this many and leaves
    # the rest's leases to the others.
    max_clusters: int = Field(0, ge=0, validation_alias="HABOT_MAX_CLUSTERS")
    log_level: str = Field(
        "INFO", validation_alias="HABOT_LOG_LEVEL", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$"
    )
    log_format: str = Field("text", validation_alias="HABOT_LOG_FORMAT", pattern=r"^(text|json)$")

    @property
    def slack_mode(self) -> SlackMode:
        return SlackMode.HTTP if _blank(self.slack_app_token) else SlackMode.SOCKET

    @property
    def database(self) -> str:
        """Where the store lives: HABOT_DATABASE_URL (sqlite:///path or postgresql://...),
        else the SQLite file HABOT_DB."""
        if _blank(self.database_url):
            return str(self.db)
        assert self.database_url is not None
        return self.database_url.get_secret_value()

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: SecretStr | None) -> SecretStr | None:
        url = "" if value is None else value.get_secret_value().strip()
        if url and not url.startswith(("sqlite://", "postgresql://", "postgres://")):
            raise ValueError("a sqlite:///PATH or postgresql://USER@HOST/DB URL")
        return value

    def require_slack(self) -> None:
        """What `habot serve` needs: a bot token, and an app token or a signing secret."""
        if _blank(self.slack_bot_token):
            raise ConfigError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)")
        if self.slack_mode is SlackMode.HTTP and _blank(self.slack_signing_secret):
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set or empty (needed in HTTP mode; set "
                "SLACK_APP_TOKEN instead for Socket Mode)"
            )


def _blank(secret: SecretStr | None) -> bool:
    return secret is None or not secret.get_secret_value().strip()


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        first = e.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"setting {name.upper()}: {first['msg']}") from e
