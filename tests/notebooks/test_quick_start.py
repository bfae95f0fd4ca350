"""The README's quick start in a notebook, run headlessly: what Jupyter shows is the heatmap HTML.

The notebook is built here with ``nbformat`` and run by ``nbclient`` on a kernel of the running
interpreter, described by a kernel spec written to a temporary ``JUPYTER_PATH`` (nothing is
installed for the user). Its ``text/html`` outputs must hold the words, the header and the legend.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
kernelspec = pytest.importorskip("ipykernel.kernelspec")

KERNEL = "limelight-tests"

QUICK_START = """\
import limelight

model, tokenizer = limelight.demo_model()
pair = limelight.explain(model, tokenizer, [
    "The movie was one of those amazing movies",
    "The movie was one of those terrible movies",
], target="positive")
pair"""


@pytest.fixture
def kernel_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernel spec for this interpreter in a temporary Jupyter data directory."""
    kernelspec.write_kernel_spec(tmp_path / "jupyter" / "kernels" / KERNEL, overrides={"display_name": "limelight tests"})
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return KERNEL


def _html(cell: dict) -> str:
    """The ``text/html`` of a cell's result (fails when it has none)."""
    shown = [output["data"]["text/html"] for output in cell["outputs"] if "text/html" in output.get("data", {})]
    assert shown, f"cell {cell['source'][:40]!r} showed no HTML: {cell['outputs']}"
    return "".join(shown)


@pytest.mark.slow
def test_quick_start_notebook_shows_the_heatmap(kernel_name: str, tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(QUICK_START),
        nbformat.v4.new_code_cell("pair[1]"),
        nbformat.v4.new_code_cell('limelight.viz.save_html("pair.html", pair)'),
    ]
    work = tmp_path / "work"
    work.mkdir()
    client = nbclient.NotebookClient(notebook, kernel_name=kernel_name, timeout=600, resources={"metadata": {"path": str(work)}})
    client.execute()

    both, second = _html(notebook.cells[0]), _html(notebook.cells[1])
    for word in ("The", "movie", "amazing", "terrible", "movies"):
        assert f">{word}<" in both
    assert "positive" in both and "delta" in both  # the header: target and convergence evidence
    assert both.count('class="ll-legend"') == 1 and "shared scale" in both and "over all 2 texts" in both
    assert "colour bar from" in both  # the legend's numeric colour bar
    assert ">terrible<" in second and ">amazing<" not in second
    assert "<script" not in both  # the view is self-contained and scriptless
    saved = (work / "pair.html").read_text(encoding="utf-8")
    assert ">amazing<" in saved and ">terrible<" in saved
