"""The layer rules of `[tool.importlinter]` in pyproject.toml, checked by import-linter's `lint-imports`.

The tree must keep every contract; and each contract must catch what it forbids: a throwaway module
breaking it, written into a copy of the packages in a temp dir (never into the tree), fails it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = REPO / "pyproject.toml"
PACKAGES = ("api_client", "central_api", "local_cache", "tui")
#: The console script of import-linter, installed beside this interpreter.
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def contract_names() -> dict[str, str]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    return {contract["id"]: contract["name"] for contract in config["contracts"]}


def lint_imports(cwd: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the packages found in `cwd` (it puts `cwd` first on sys.path), with the
    project's config and no cache (which it would write into `cwd`)."""
    selected = [arg for contract in contracts for arg in ("--contract", contract)]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", *selected, str(PYPROJECT)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_tree_keeps_every_layer_contract() -> None:
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS} is missing: install the test extra (import-linter)"
    result = lint_imports(REPO)
    report = flat(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in contract_names().values():
        assert f"{flat(name)} KEPT" in report


PROBES = [
    # (package folder, the probe's source, the contract it breaks)
    ("local_cache", "import tui.ui.app\n", "cache"),
    ("local_cache", "import central_api.app\n", "cache"),
    ("central_api", "from local_cache.outbox import Outbox\n", "server"),
    ("central_api", "import tui.core.queue.model\n", "server"),
    ("api_client", "import textual.app\n", "client"),
    ("api_client/domain", "import local_cache.paths\n", "client"),
    ("api_client/domain", "import httpx\n", "pure-http"),
    ("tui/core", "import rich.text\n", "pure"),
    ("tui/core", "import sqlalchemy\n", "pure"),
    ("tui/core", "import httpx\n", "no-direct-http"),
    ("tui/core", "from api_client.client import HotlineClient\n", "pure-http"),
    ("tui/core", "from tui.ui.text import clean\n", "core-ui"),
    ("tui/cli", "from rich.console import Console\n", "cli"),
    ("tui/ui", "import central_api.server\n", "ui-server"),
    ("tui/ui/screens", "from tui.ui.app import HotlineApp\n", "screens-app"),
    ("tui/ui/widgets", "def later() -> None:\n    import tui.ui.app\n", "screens-app"),
]


@pytest.mark.parametrize(
    ("folder", "source", "contract"), PROBES, ids=[f"{c}:{f}:{n}" for n, (f, _s, c) in enumerate(PROBES)]
)
def test_a_module_breaking_a_rule_fails_its_contract(
    tmp_path: Path, folder: str, source: str, contract: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / folder / "_probe.py").write_text(source, encoding="utf-8")
    probe = f"{folder.replace('/', '.')}._probe"

    result = lint_imports(tmp_path, contract)

    report = flat(result.stdout)
    assert result.returncode != 0, result.stdout + result.stderr
    assert f"{flat(contract_names()[contract])} BROKEN" in report, result.stdout
    assert f"{probe} ->" in report, result.stdout  # the chain starts at the probe
