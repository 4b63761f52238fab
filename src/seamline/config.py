"""One typed settings object, read from SEAMLINE_* variables and seamline.toml.

Built by the CLI or the app factory, never at import time.  Every setting has a
default that works on a laptop.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Windows(BaseModel):
    """Metric windows (SPEC §3).  All windows are closed intervals."""

    journey_gap_hours: float = 48.0
    friction_minutes: float = 30.0
    repeat_contact_days: float = 7.0
    landmark_days: int = 30
    ces_easy_min: int = 5


class Rule(BaseModel):
    """A conflicting-message rule: a template (one SQL file) plus its parameters.

    Templates:
    - ``after_trigger``: an outbound message matching ``message`` within
      ``window_hours`` after the same customer's ``trigger_type`` event whose
      attrs ``match`` the message's attrs.
    - ``during_open_case``: an outbound message matching ``message`` while the
      customer has a case opened by a ``contact`` on ``case_topic`` with no
      ``resolution`` yet.
    - ``contradiction``: two outbound messages on different channels within
      ``window_hours`` with the same ``same`` attr and a different ``differ`` attr.
    """

    name: str
    template: str
    window_hours: float = 0.0
    message: dict[str, str] = Field(default_factory=dict)
    trigger_type: str = ""
    match: list[str] = Field(default_factory=list)
    case_topic: str = ""
    same: str = ""
    differ: str = ""
    enabled: bool = True

    @field_validator("template")
    @classmethod
    def _known_template(cls, value: str) -> str:
        if value not in RULE_TEMPLATES:
            raise ValueError(f"unknown rule template {value!r}; use one of {', '.join(RULE_TEMPLATES)}")
        return value


RULE_TEMPLATES = ("after_trigger", "during_open_case", "contradiction")

DEFAULT_RULES = [
    Rule(name="promo_after_purchase", template="after_trigger", window_hours=14 * 24,
         message={"kind": "promo"}, trigger_type="purchase", match=["product"]),
    Rule(name="promo_during_open_complaint", template="during_open_case",
         message={"kind": "promo"}, case_topic="complaint"),
    Rule(name="contradictory_status", template="contradiction", window_hours=24,
         same="subject", differ="status"),
]


class Settings(BaseSettings):
    """Seamline configuration.  Environment: ``SEAMLINE_<NAME>``; file: ``seamline.toml``."""

    model_config = SettingsConfigDict(env_prefix="SEAMLINE_", extra="ignore")

    data_dir: Path = Field(default=Path(".seamline"), description="where the embedded warehouse, metadata DB and sample data live")
    warehouse: str = Field(default="", description="ClickHouse DSN; default chdb:///<data_dir>/warehouse")
    warehouse_database: str = Field(default="seamline", description="ClickHouse database holding Seamline's tables")
    metadata_url: str = Field(default="", description="SQLAlchemy URL; default sqlite:///<data_dir>/metadata.db")
    cluster: str = Field(default="", description="ClickHouse cluster name: renders ON CLUSTER and Replicated engines")
    hash_salt: str = Field(default="seamline-default-salt", description="salt for the SHA-256 of emails and phones")
    load_batch_rows: int = Field(default=200_000, description="rows per load batch (memory bound)")
    freshness_target_s: float = Field(default=300.0, description="default p95 lag target per source-hour (seconds)")
    freshness_targets: dict[str, float] = Field(default_factory=dict, description="per-source p95 lag targets (seconds)")
    windows: Windows = Field(default_factory=Windows)
    rules: list[Rule] = Field(default_factory=lambda: list(DEFAULT_RULES), description="conflicting-message rules")
    lookback_minutes: float = Field(default=10.0, description="job watermark look-back for rows committed late")
    schedules: dict[str, str] = Field(default_factory=dict, description="cron overrides per job name")
    targets: dict[str, float] = Field(default_factory=dict, description="KPI targets shown on the dashboard")
    auth_user: str = Field(default="", description="HTTP basic auth user for the dashboard")
    auth_password: str = Field(default="", description="HTTP basic auth password for the dashboard")
    auth_token: str = Field(default="", description="bearer token accepted by the dashboard")
    display_timezone: str = Field(default="UTC", description="default display time zone of the dashboard")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("SEAMLINE_CONFIG", "seamline.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    # Derived values -----------------------------------------------------
    @property
    def data_path(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def warehouse_dsn(self) -> str:
        return self.warehouse or f"chdb://{self.data_path / 'warehouse'}"

    @property
    def is_embedded(self) -> bool:
        return self.warehouse_dsn.startswith("chdb:")

    @property
    def metadata_dsn(self) -> str:
        return self.metadata_url or f"sqlite:///{self.data_path / 'metadata.db'}"

    def target_for(self, source: str) -> float:
        return float(self.freshness_targets.get(source, self.freshness_target_s))

    def active_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.enabled]
