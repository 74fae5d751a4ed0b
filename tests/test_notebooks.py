"""The notebooks are committed as valid nbformat v4 with outputs stripped (nbmake runs them)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_notebooks_are_there():
    """The three notebooks of issue #5 exist (a typo in a file name would skip them silently)."""
    names = {p.name for p in NOTEBOOKS}
    assert {
        "01_planners_week.ipynb",
        "02_comparing_scenarios.ipynb",
        "03_programme_evaluation.ipynb",
    } <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid_v4_without_outputs(path: Path):
    """Valid nbformat v4, no outputs, no execution counts and no widget state in git."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4, f"{path.name}: nbformat {nb.nbformat}, expected 4"
    nbformat.validate(nb)
    assert nb.cells, f"{path.name} has no cells"
    assert nb.cells[0].cell_type == "markdown", f"{path.name} should open with a markdown cell"
    dirty = [
        k
        for k, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; strip them"
    assert "widgets" not in nb.metadata, f"{path.name}: widget state in the notebook metadata"
