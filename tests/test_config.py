"""Settings precedence (flags > environment > file > defaults) and one-line errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediate.config import load_settings
from remediate.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("REMEDIATE_"):
            monkeypatch.delenv(key)


def test_defaults() -> None:
    s = load_settings()
    assert s.max_workers == 24
    assert s.output == "text"


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("max_workers = 5\nretry_attempts = 3\nesm_poll_interval = 9\n")
    s = load_settings(cfg)
    assert (s.max_workers, s.retry_attempts, s.esm_poll_interval) == (5, 3, 9)
    monkeypatch.setenv("REMEDIATE_MAX_WORKERS", "6")
    monkeypatch.setenv("REMEDIATE_RETRY_ATTEMPTS", "4")
    s = load_settings(cfg, retry_attempts=2)
    assert (s.max_workers, s.retry_attempts, s.esm_poll_interval) == (6, 2, 9)


def test_remediate_table_is_accepted(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[remediate]\nregion = 'eu-west-1'\n")
    assert load_settings(cfg).region == "eu-west-1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("max_workers = 'many'", "invalid setting 'max_workers' (in"),
        ("max_workers = 1", "invalid setting 'max_workers'"),
        ("output = 'yaml'", "invalid setting 'output'"),
        ("no_such_key = 1", "unknown key 'no_such_key'"),
        ("max_workers = [", "is not valid TOML"),
    ],
)
def test_bad_file_is_one_line_naming_the_key(tmp_path: Path, content: str, message: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(content)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDIATE_RETRY_ATTEMPTS", "lots")
    with pytest.raises(ConfigError, match="REMEDIATE_RETRY_ATTEMPTS"):
        load_settings()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_example_config_is_complete_and_valid() -> None:
    """config.example.toml documents every setting, and loads as it is."""
    import tomllib

    from remediate.config import Settings

    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    text = example.read_text()
    for name in Settings.model_fields:
        assert f"{name} =" in text, f"config.example.toml does not document {name}"
    data = tomllib.loads(text)
    assert set(data.get("remediate", data)) <= set(Settings.model_fields)
    load_settings(example)
