"""Client configuration: command-line option > environment > config file > default.

Environment keys: HOTLINE_API_URL, HOTLINE_TOKEN, HOTLINE_TOKEN_FILE, HOTLINE_DISPATCHER,
HOTLINE_CACHE_DIR, HOTLINE_LANG, HOTLINE_KEYS (JSON), HOTLINE_ANNOUNCE_URGENT, HOTLINE_MOUSE,
HOTLINE_CA_FILE, HOTLINE_COLUMNS (a JSON list or names separated by commas) (and HOTLINE_CONFIG for
the file's path). The file is TOML in the XDG config dir (`~/.config/hotline/config.toml`) with
the same keys in lower case (read in any case).

A token is never taken from the command line (other users of a shared server can read
/proc/*/cmdline). A token file, and a config file that holds a token, must not be readable by
group or others.
"""

from __future__ import annotations

import json
import os
import stat
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tui.core.queue.layout import Column, columns_from_names

APP_NAME = "hotline"
DEFAULT_PORT = 8345
DEFAULT_API_URL = f"http://127.0.0.1:{DEFAULT_PORT}"

_config_file: ContextVar[Path | None] = ContextVar("hotline_config_file", default=None)


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to fix."""


def default_config_file() -> Path:
    explicit = os.environ.get("HOTLINE_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


class Settings(BaseSettings):
    """What the client needs to reach its central API and keep its cache."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="forbid", hide_input_in_errors=True)

    api_url: str = DEFAULT_API_URL
    token: SecretStr | None = None
    token_file: Path | None = None
    dispatcher: str = ""
    cache_dir: Path | None = None
    lang: Literal["zh", "en"] | None = None
    #: Key bindings by id, e.g. {"request.dispatch": "D"} (the help screen lists the ids).
    keys: dict[str, str] = Field(default_factory=dict)
    #: Notify (and ring the bell) when a new 2-hour or vulnerable request arrives.
    announce_urgent: bool = True
    #: Let the terminal report the mouse (off by default: over SSH every move repaints).
    mouse: bool = False
    #: A private certificate authority (PEM) that the central API's https certificate chains to.
    ca_file: Path | None = None
    #: The queue table's columns, in order (`tui.core.queue.layout.Column`); none: chosen by width.
    columns: Annotated[tuple[Column, ...] | None, NoDecode] = None

    @field_validator("columns", mode="before")
    @classmethod
    def _column_names(cls, value: object) -> object:
        """Names as the file (a list) or the environment (JSON, or names and commas) give them."""
        if value is None:
            return None
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if not isinstance(value, list | tuple) or not all(isinstance(name, str) for name in value):
            raise ValueError('a list of column names, e.g. ["id", "due", "state", "text"]')
        return columns_from_names(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_file.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None and path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def resolve_token(self) -> str | None:
        """The bearer token: HOTLINE_TOKEN, else the token file (checked to be private)."""
        if self.token is not None:
            return self.token.get_secret_value().strip() or None
        if self.token_file is None:
            return None
        path = self.token_file.expanduser()
        try:
            check_private(path, what="token file")
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the token file {path}: {exc.strerror or exc}") from exc
        return text or None

    def resolved_lang(self) -> Literal["zh", "en"]:
        """The interface language: the setting, else the locale (zh_* gives Chinese)."""
        if self.lang is not None:
            return self.lang
        for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
            value = os.environ.get(key, "")
            if value:
                return "zh" if value.lower().startswith("zh") else "en"
        return "en"


def check_private(path: Path, *, what: str) -> None:
    """Refuse a file that group or others may read or write."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"the {what} {path} is readable by other users (mode {stat.S_IMODE(mode):04o}); "
            f"run: chmod 600 {path}"
        )


def load_settings(config_file: Path | None = None, **options: Any) -> Settings:
    """Settings from `options` (the command line; None values are ignored), the environment,
    then the config file."""
    path = config_file if config_file is not None else default_config_file()
    given = {k: v for k, v in options.items() if v is not None}
    token = _config_file.set(path)
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration ({path}): {problems}") from None
    except ValueError as exc:  # a malformed TOML file
        raise ConfigError(f"cannot read the config file {path}: {exc}") from None
    finally:
        _config_file.reset(token)
    if path.is_file() and _setting_key("token") in {_setting_key(key) for key in _toml_keys(path)}:
        check_private(path, what="config file (it holds a token)")
    return settings


def _setting_key(key: str) -> str:
    """A key as the settings loader matches it to a field (`case_sensitive` off: lower-cased)."""
    return key if Settings.model_config.get("case_sensitive") else key.lower()


def _toml_keys(path: Path) -> set[str]:
    import tomllib

    try:
        with path.open("rb") as handle:
            return set(tomllib.load(handle))
    except (OSError, tomllib.TOMLDecodeError):
        return set()
