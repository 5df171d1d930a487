"""`tui.cli` imports neither Textual nor FastAPI until a command needs them: importing it, setting up
the parser for `status` and `sync`, and running the offline `status` leave them out of
`sys.modules` (each in a fresh interpreter); `hotline --help` and `python -m tui.cli --help` work."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

#: What the headless commands must not load.
HEAVY = ("textual", "fastapi", "uvicorn")

PROBE = f"""
import json, sys

def loaded():
    return sorted(name for name in {HEAVY!r} if name in sys.modules)

import tui.cli

seen = {{"import": loaded()}}
parser = tui.cli.build_parser()
commands = [parser.parse_args([name]).command for name in ("status", "sync")]
seen["parser"] = loaded()
status = tui.cli.main(["status"])
seen["status"] = loaded()
print(json.dumps({{"seen": seen, "commands": commands, "status": status}}))
"""


def hotline_command() -> list[str]:
    """The installed console script (next to this interpreter), as a user would run it."""
    script = Path(sys.executable).parent / "hotline"
    if script.exists():
        return [str(script)]
    found = shutil.which("hotline")
    assert found, "the hotline command is not installed: pip install ."
    return [found]


def offline_env(tmp_path: Path) -> dict[str, str]:
    """No config file, a private cache dir and a dispatcher name: `status` needs no network."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("HOTLINE_")}
    env["HOTLINE_CONFIG"] = str(tmp_path / "none.toml")
    env["HOTLINE_CACHE_DIR"] = str(tmp_path / "cache")
    env["HOTLINE_DISPATCHER"] = "probe"
    return env


def test_the_headless_commands_import_no_textual_or_fastapi(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        env=offline_env(tmp_path),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["commands"] == ["status", "sync"]
    assert answer["status"] == 0 and "dispatcher  probe" in result.stdout
    assert answer["seen"] == {"import": [], "parser": [], "status": []}


def test_help_works_from_the_script_and_the_module(tmp_path: Path) -> None:
    for command in (hotline_command(), [sys.executable, "-m", "tui.cli"]):
        result = subprocess.run(
            [*command, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            env=offline_env(tmp_path),
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("usage: hotline ")
        for name in ("serve", "token", "demo", "whoami", "sync", "status", "report", "rules"):
            assert name in result.stdout
