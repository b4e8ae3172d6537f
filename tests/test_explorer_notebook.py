"""The example notebook, executed headlessly with nbclient (ipympl widget backend)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "explorer.ipynb"

pytestmark = pytest.mark.slow


def test_example_notebook_runs_with_ipympl(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    # The kernel inherits this environment: it must import this checkout.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": tmp_path}},
    ).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    # The canvas is an ipympl widget (a live figure, not a static image).
    canvas = code[1].outputs[-1]["data"]
    assert "application/vnd.jupyter.widget-view+json" in canvas
    assert code[2].outputs[-1]["data"]["text/plain"] == "'Adam(learning_rate=0.02)'"
    refused = code[3].outputs[-1]["data"]["text/plain"]
    assert "must be > 0" in refused
    assert refused.startswith("(False,")
    spec = "".join(o.get("text", "") for o in code[4].outputs)
    assert 'text = "Adam(learning_rate=0.02)"' in spec
    assert not any(tmp_path.iterdir()), os.listdir(tmp_path)  # it wrote nothing
