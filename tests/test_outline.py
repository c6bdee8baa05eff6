"""How a write-up's texts are cut into parts: what the report shows for a part keeps the student's order."""

from __future__ import annotations

import json

from grader.outline import build_outline
from grader.writeup import _markdown_cells, written_text


def test_a_part_over_many_notebook_cells_reads_in_cell_order_not_name_order() -> None:
    cells = [{"cell_type": "markdown", "source": f"note {n}"} for n in range(8)]
    cells += [{"cell_type": "markdown", "source": "## Problem 2.7\nA diagram:"},
              {"cell_type": "code", "source": "plot()"},
              {"cell_type": "markdown", "source": "The caption is encoded first."}]
    sources = _markdown_cells(json.dumps({"cells": cells}), "hw.ipynb")
    assert [name for name, _ in sources][-2:] == ["hw.ipynb, cell 9", "hw.ipynb, cell 11"]  # "11" sorts before "9" as text
    lines, inherited = build_outline(sources, ["2.7", "3A"]).lines("2.7")
    assert not inherited
    assert written_text(lines) == "## Problem 2.7\nA diagram:\nThe caption is encoded first."
