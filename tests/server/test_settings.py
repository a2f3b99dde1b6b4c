import stat
from pathlib import Path

import pytest

from server.settings import ConfigError, Settings


def test_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"SECRET_KEY_FILE": str(tmp_path / "k")})
    assert settings.redis_url is None
    assert settings.max_frame_bytes == 65536
    assert settings.max_text_chars == 2000
    assert settings.history_max_messages == 200
    assert settings.history_max_age_s == 86400


def test_generated_key_is_kept_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "secret"
    first = Settings.from_env({"SECRET_KEY_FILE": str(path)})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Settings.from_env({"SECRET_KEY_FILE": str(path)})
    assert first.secret_keys == again.secret_keys


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": " , "}, "SECRET_KEY"),
        ({"MAX_TEXT_CHARS": "many"}, "MAX_TEXT_CHARS"),
        ({"MAX_FRAME_BYTES": "10"}, "MAX_FRAME_BYTES"),
        ({"ALLOWED_ORIGINS": "example.org"}, "ALLOWED_ORIGINS"),
        ({"ROOMS_FILE": "/no/such/file"}, "ROOMS_FILE"),
        ({"PRESENCE_TTL_SECONDS": "1", "PRESENCE_HEARTBEAT_SECONDS": "1"}, "PRESENCE_TTL"),
        ({"SEND_PER_SECOND": "fast"}, "SEND_PER_SECOND"),
        ({"IDENTITY_KEY": "short"}, "IDENTITY_KEY"),
        ({"IDENTITY_KEY": "a" * 16 + "," + "b" * 16}, "IDENTITY_KEY"),
        ({"REDIS_STATE_URL": "redis://state:6379/0"}, "REDIS_STATE_URL"),
        ({"REDIS_URL": "redis://a:6379/0", "REDIS_STATE_URL": "http://x"}, "REDIS_STATE_URL"),
        (
            {"REDIS_URL": "redis+cluster://a:7000/0", "REDIS_STATE_URL": "redis://b:6379/0"},
            "REDIS_STATE_URL",
        ),
        ({"PUBLIC_ORIGIN": "chat.example.org"}, "PUBLIC_ORIGIN"),
        ({"PUBLIC_ORIGIN": "ftp://chat.example.org"}, "PUBLIC_ORIGIN"),
        ({"PUBLIC_ORIGIN": "https://chat.example.org/chat"}, "PUBLIC_ORIGIN"),
        ({"PUBLIC_ORIGIN": "https://user@chat.example.org"}, "PUBLIC_ORIGIN"),
        ({"PUBLIC_ORIGIN": "https://chat.example.org:99999"}, "PUBLIC_ORIGIN"),
        ({"PUBLIC_ORIGIN": "https://"}, "PUBLIC_ORIGIN"),
        ({"TRUSTED_PROXIES": "nginx"}, "TRUSTED_PROXIES"),
        ({"TRUSTED_PROXIES": "10.0.0.0/8, *"}, "TRUSTED_PROXIES"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
        ({"METRICS_TOKEN": "has a space in it, long enough"}, "METRICS_TOKEN"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], name: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({"SECRET_KEY_FILE": str(tmp_path / "k"), **env})


def test_key_list_newest_first() -> None:
    settings = Settings.from_env({"SECRET_KEY": "n" * 16 + ", " + "o" * 16})
    assert settings.secret_keys == ("n" * 16, "o" * 16)


def test_identity_key_is_optional() -> None:
    assert Settings.from_env({"SECRET_KEY": "n" * 16}).identity_key is None
    env = {"SECRET_KEY": "n" * 16, "IDENTITY_KEY": " " + "i" * 16 + " "}
    assert Settings.from_env(env).identity_key == "i" * 16


def test_the_state_store_defaults_to_the_history_store(tmp_path: Path) -> None:
    base = {"SECRET_KEY_FILE": str(tmp_path / "k"), "REDIS_URL": "redis://a:6379/0"}
    assert Settings.from_env(base).redis_state_url is None  # the broker uses REDIS_URL
    same = Settings.from_env({**base, "REDIS_STATE_URL": "redis://a:6379/0"})
    assert same.redis_state_url is None
    split = Settings.from_env({**base, "REDIS_STATE_URL": "rediss://b:6380/1"})
    assert split.redis_state_url == "rediss://b:6380/1"


@pytest.mark.parametrize(
    ("raw", "origin"),
    [
        ("https://Chat.Example.org/", "https://chat.example.org"),
        ("https://chat.example.org:443", "https://chat.example.org"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://[2001:db8::1]:8080", "http://[2001:db8::1]:8080"),
    ],
)
def test_public_origin_is_normalised(raw: str, origin: str) -> None:
    settings = Settings.from_env({"SECRET_KEY": "n" * 16, "PUBLIC_ORIGIN": raw})
    assert settings.public_origin == origin


def test_trusted_proxies_are_addresses_or_networks() -> None:
    settings = Settings.from_env({"SECRET_KEY": "n" * 16, "TRUSTED_PROXIES": "10.0.0.0/8, ::1"})
    assert settings.trusted_proxies == ("10.0.0.0/8", "::1")
    assert Settings.from_env({"SECRET_KEY": "n" * 16}).trusted_proxies == ()
