"""Notebooks executed in a real Jupyter kernel (nbclient + ipykernel): helpers the tests of this folder share."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "notebooks" / "xor_from_scratch.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def execute(nb: Any, cwd: Path, timeout: int = 180) -> Any:
    """Run every cell of ``nb`` in a fresh python3 kernel (this interpreter, this PYTHONPATH); returns ``nb``."""
    pytest.importorskip("ipykernel")
    from nbclient import NotebookClient

    env = dict(os.environ)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}},
                            store_widget_state=True)
    client.execute(env=env)
    return nb


def widget_states(nb: Any) -> dict[str, dict[str, Any]]:
    """model id -> the widget's last state, as nbclient stored it in the notebook's metadata."""
    stored = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return {key: value["state"] for key, value in stored.get("state", {}).items()}


def outputs(cell: Any) -> list[dict[str, Any]]:
    return [dict(o) for o in cell.get("outputs", [])]
