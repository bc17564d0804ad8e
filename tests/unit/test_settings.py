"""Settings come from BROKERQL_* variables, and production mode refuses unsafe defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from brokerql.settings import load_settings


def test_defaults_match_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BROKERQL_HOST", "BROKERQL_PORT", "BROKERQL_REDIS_URL", "BROKERQL_HEARTBEAT_SECONDS", "BROKERQL_ENV"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (settings.host, settings.port, settings.redis_url) == ("127.0.0.1", 8000, None)
    assert settings.heartbeat_seconds == 5
    assert settings.env == "development"
    assert settings.is_sqlite and "var/" in settings.database_url


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROKERQL_PORT", "9001")
    monkeypatch.setenv("BROKERQL_REDIS_URL", "redis://127.0.0.1:6379/3")
    settings = load_settings()
    assert settings.port == 9001 and settings.redis_url == "redis://127.0.0.1:6379/3"


def test_production_needs_a_real_secret_and_no_demo_data() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        load_settings(env="production", secret_key=None)
    with pytest.raises(ValidationError, match="DEMO"):
        load_settings(env="production", secret_key="x" * 40, demo=True)
    strict = {"allowed_origins": ["https://terminal.broker.example"], "metrics_token": "m" * 20}
    assert load_settings(env="production", secret_key="x" * 40, **strict).signing_key == "x" * 40


def test_production_needs_an_origin_allow_list_and_a_metrics_token() -> None:
    with pytest.raises(ValidationError, match="ALLOWED_ORIGINS"):
        load_settings(env="production", secret_key="x" * 40, metrics_token="m" * 20)
    with pytest.raises(ValidationError, match="METRICS_TOKEN"):
        load_settings(env="production", secret_key="x" * 40, allowed_origins=["https://a.example"])


def test_development_secret_is_generated_once_and_shared(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    first = load_settings(secret_key=None).signing_key
    assert len(first) >= 32
    assert load_settings(secret_key=None).signing_key == first
    assert (tmp_path / "var" / "secret_key").read_text().strip() == first


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        load_settings(port=0)
    with pytest.raises(ValidationError):
        load_settings(heartbeat_seconds=0)
