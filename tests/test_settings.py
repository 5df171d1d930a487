"""Client configuration: precedence, token sources, private files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.core.settings import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("HOTLINE_") or key in {"LANG", "LC_ALL", "LC_MESSAGES"}:
            monkeypatch.delenv(key)


def write_private(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_defaults_without_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "missing.toml")
    assert settings.api_url == "http://127.0.0.1:8345"
    assert settings.resolve_token() is None
    assert settings.resolved_lang() == "en"


def test_precedence_option_over_env_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_private(
        tmp_path / "config.toml",
        'api_url = "http://file:1"\ndispatcher = "file-name"\nlang = "zh"\ncache_dir = "/from/file"\n',
    )
    monkeypatch.setenv("HOTLINE_API_URL", "http://env:2")
    monkeypatch.setenv("HOTLINE_DISPATCHER", "env-name")
    settings = load_settings(config, api_url="http://option:3", dispatcher=None)
    assert settings.api_url == "http://option:3"  # option beats env
    assert settings.dispatcher == "env-name"  # env beats file
    assert settings.lang == "zh"  # file beats default
    assert settings.cache_dir == Path("/from/file")


def test_config_path_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_private(tmp_path / "c.toml", 'api_url = "http://from-hotline-config:9"\n')
    monkeypatch.setenv("HOTLINE_CONFIG", str(config))
    assert load_settings().api_url == "http://from-hotline-config:9"


def test_token_from_env_and_from_private_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token_file = write_private(tmp_path / "token", "secret-from-file\n")
    monkeypatch.setenv("HOTLINE_TOKEN_FILE", str(token_file))
    assert load_settings(tmp_path / "none.toml").resolve_token() == "secret-from-file"
    monkeypatch.setenv("HOTLINE_TOKEN", "secret-from-env")
    assert load_settings(tmp_path / "none.toml").resolve_token() == "secret-from-env"


def test_token_file_readable_by_others_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token_file = write_private(tmp_path / "token", "secret\n", mode=0o644)
    monkeypatch.setenv("HOTLINE_TOKEN_FILE", str(token_file))
    with pytest.raises(ConfigError, match=r"readable by other users.*chmod 600"):
        load_settings(tmp_path / "none.toml").resolve_token()


def test_config_file_holding_a_token_must_be_private(tmp_path: Path) -> None:
    config = write_private(tmp_path / "config.toml", 'token = "abc"\n', mode=0o644)
    with pytest.raises(ConfigError, match="readable by other users"):
        load_settings(config)
    config.chmod(0o600)
    assert load_settings(config).resolve_token() == "abc"


@pytest.mark.parametrize("key", ["TOKEN", "Token", "toKEN"])
def test_the_token_check_reads_keys_as_the_loader_does(tmp_path: Path, key: str) -> None:
    """The loader takes `TOKEN = ...` as the token (keys in any case), so the check does too."""
    config = write_private(tmp_path / "config.toml", f'{key} = "abc"\n', mode=0o640)
    with pytest.raises(ConfigError, match=r"holds a token\) .* is readable by other users"):
        load_settings(config)
    config.chmod(0o600)
    assert load_settings(config).resolve_token() == "abc"
    other = write_private(tmp_path / "shared.toml", f'{key.replace("K", "k")}_file = "/x"\n', mode=0o644)
    assert load_settings(other).token_file == Path("/x")  # a token file's path is no secret


def test_a_private_certificate_authority_from_the_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_private(tmp_path / "config.toml", 'ca_file = "~/ca.pem"\n', mode=0o644)
    assert load_settings(config).ca_file == Path("~/ca.pem")
    monkeypatch.setenv("HOTLINE_CA_FILE", str(tmp_path / "env-ca.pem"))
    assert load_settings(config).ca_file == tmp_path / "env-ca.pem"
    assert load_settings(tmp_path / "none.toml").ca_file == tmp_path / "env-ca.pem"


def test_token_is_not_shown_in_errors(tmp_path: Path) -> None:
    config = write_private(tmp_path / "config.toml", 'token = "abc"\nlang = "fr"\n')
    with pytest.raises(ConfigError) as excinfo:
        load_settings(config)
    assert "lang" in str(excinfo.value)
    assert "abc" not in str(excinfo.value)


def test_unknown_key_and_malformed_file_are_clear(tmp_path: Path) -> None:
    typo = write_private(tmp_path / "typo.toml", 'api_ulr = "http://x"\n')
    with pytest.raises(ConfigError, match="api_ulr"):
        load_settings(typo)
    broken = write_private(tmp_path / "broken.toml", "api_url = \n")
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_settings(broken)


def test_language_follows_locale_unless_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert load_settings(tmp_path / "none.toml").resolved_lang() == "zh"
    monkeypatch.setenv("HOTLINE_LANG", "en")
    assert load_settings(tmp_path / "none.toml").resolved_lang() == "en"
    assert load_settings(tmp_path / "none.toml", lang="zh").resolved_lang() == "zh"
