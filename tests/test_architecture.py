"""House rules that a test can check: layers and no import cycles, docs in step with code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "cityhall"


def test_import_layers_and_no_cycles() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_models_never_import_services() -> None:
    for path in SRC.rglob("models.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and "services" in node.module:
                raise AssertionError(f"{path.relative_to(ROOT)} imports {node.module}")


def test_configuration_docs_are_generated_from_code() -> None:
    from cityhall.core.env import render_markdown

    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "docs/configuration.md drifted: run `make docs`"
