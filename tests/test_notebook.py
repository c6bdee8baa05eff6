"""Reading hand-ins into code cells: numbering, IPython magics, .py files, and files that cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat import v3, v4

from grader.notebook import SourceError, read_cells, to_python


def write_notebook(path: Path, cells: list) -> Path:
    path.write_text(nbformat.writes(v4.new_notebook(cells=cells)), encoding="utf-8")
    return path


def source_error(path: Path, name: str) -> str:
    with pytest.raises(SourceError) as info:
        read_cells(path, name)
    return str(info.value)


class Recorder:
    """A stand-in for get_ipython() that records what the transformed code asks for."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, method: str):
        return lambda *args, **kwargs: self.calls.append((method, *args))


def run_with_fake_ipython(code: str) -> list[tuple]:
    recorder = Recorder()
    exec(compile(code, "<cell>", "exec"), {"get_ipython": lambda: recorder})
    return recorder.calls


# ---------------------------------------------------------------- notebooks


def test_markdown_and_raw_cells_are_skipped(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "hw.ipynb", [
        v4.new_markdown_cell("# Problem 1\n$x = 1$"),
        v4.new_code_cell("a = 1"),
        v4.new_raw_cell("raw text = 3"),
        v4.new_code_cell("b = 2"),
    ])
    cells = read_cells(path, "hw.ipynb")
    assert [c.source for c in cells] == ["a = 1", "b = 2"]
    assert [c.file for c in cells] == ["hw.ipynb", "hw.ipynb"]


def test_cell_numbers_count_empty_code_cells_as_a_student_does(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "hw.ipynb", [
        v4.new_code_cell("a = 1"),      # code cell 1
        v4.new_markdown_cell("notes"),  # not counted
        v4.new_code_cell(""),           # code cell 2, empty: not run, but counted
        v4.new_code_cell("   \n\n"),    # code cell 3, blank
        v4.new_code_cell("b = 2"),      # code cell 4
    ])
    cells = read_cells(path, "sub/hw.ipynb")
    assert [(c.number, c.source) for c in cells] == [(1, "a = 1"), (4, "b = 2")]
    assert cells[1].label == "cell 4 of sub/hw.ipynb"


def test_source_given_as_a_list_of_lines_is_joined(tmp_path: Path) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": ["x = 1\n", "y = x + 1\n"]}],
    }), encoding="utf-8")
    (cell,) = read_cells(path, "hw.ipynb")
    assert cell.source == "x = 1\ny = x + 1\n"
    namespace: dict = {}
    exec(cell.code, namespace)
    assert namespace["y"] == 2


def test_line_magic_becomes_a_get_ipython_call(tmp_path: Path) -> None:
    source = "%matplotlib inline\nx = 3\n"
    path = write_notebook(tmp_path / "hw.ipynb", [v4.new_code_cell(source)])
    (cell,) = read_cells(path, "hw.ipynb")
    assert cell.source == source  # what the student wrote is kept for the report
    assert "%" not in cell.code
    assert run_with_fake_ipython(cell.code) == [("run_line_magic", "matplotlib", "inline")]


def test_shell_command_becomes_a_get_ipython_call(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "hw.ipynb", [v4.new_code_cell("!pip install x\ny = 1")])
    (cell,) = read_cells(path, "hw.ipynb")
    assert run_with_fake_ipython(cell.code) == [("system", "pip install x")]


def test_plain_python_is_left_alone_by_to_python() -> None:
    code = "def f(x):\n    return x % 2\n"
    namespace: dict = {}
    exec(to_python(code), namespace)
    assert namespace["f"](7) == 1


def test_cell_with_a_syntax_error_is_kept_for_compile_to_report(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "hw.ipynb", [v4.new_code_cell("def f(:\n    pass")])
    (cell,) = read_cells(path, "hw.ipynb")
    with pytest.raises(SyntaxError):
        compile(cell.code, cell.label, "exec")


def test_notebook_with_no_cells_gives_no_cells(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "hw.ipynb", [])
    assert read_cells(path, "hw.ipynb") == []


def test_nbformat_3_notebook_still_reads(tmp_path: Path) -> None:
    old = v3.new_notebook(worksheets=[v3.new_worksheet(cells=[
        v3.new_code_cell(input="x = 1"),
        v3.new_text_cell("markdown", source="## words"),
        v3.new_code_cell(input="%matplotlib inline\ny = 2"),
    ])])
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(old, version=3), encoding="utf-8")
    assert json.loads(path.read_text())["nbformat"] == 3  # really the old format on disk
    cells = read_cells(path, "old.ipynb")
    assert [(c.number, c.source) for c in cells] == [(1, "x = 1"), (2, "%matplotlib inline\ny = 2")]
    assert run_with_fake_ipython(cells[1].code) == [("run_line_magic", "matplotlib", "inline")]


# ---------------------------------------------------------------- .py files


def test_py_file_is_one_cell_and_is_not_transformed(tmp_path: Path) -> None:
    text = "import numpy as np\n\n# !not a shell command here\nx = 5 % 3\n\ndef f():\n    return x\n"
    path = tmp_path / "solution.py"
    path.write_text(text, encoding="utf-8")
    cells = read_cells(path, "solution.py")
    assert len(cells) == 1
    (cell,) = cells
    assert cell.number == 1 and cell.source == text and cell.code == text
    assert cell.label == "solution.py"


def test_py_file_with_a_magic_line_is_not_turned_into_python(tmp_path: Path) -> None:
    text = "%matplotlib inline\n"
    path = tmp_path / "solution.py"
    path.write_text(text, encoding="utf-8")
    (cell,) = read_cells(path, "solution.py")
    assert cell.code == text


def test_empty_py_file_gives_no_cells(tmp_path: Path) -> None:
    path = tmp_path / "empty.py"
    path.write_text("\n  \n", encoding="utf-8")
    assert read_cells(path, "empty.py") == []


def test_utf8_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.py"
    path.write_bytes("\ufeffx = 'é'\n".encode("utf-8"))
    (cell,) = read_cells(path, "bom.py")
    assert cell.code == "x = 'é'\n"


# ---------------------------------------------------------------- files that cannot be read


def test_broken_json_raises_source_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_text('{"cells": [ {"cell_type": "code", "source": "x = 1",, } ]}', encoding="utf-8")
    message = source_error(path, "Jane's hw.ipynb")
    assert "Jane's hw.ipynb" in message and "JSON" in message


def test_truncated_notebook_raises_source_error(tmp_path: Path) -> None:
    full = nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell("x = 1\n" * 20)]))
    path = tmp_path / "hw.ipynb"
    path.write_text(full[: len(full) // 2], encoding="utf-8")
    message = source_error(path, "hw.ipynb")
    assert "hw.ipynb" in message and "truncated" in message


def test_empty_notebook_file_raises_source_error(tmp_path: Path) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_bytes(b"")
    assert "hw.ipynb" in source_error(path, "hw.ipynb")


@pytest.mark.parametrize("payload", [[1, 2], "just a string", {"cells": "x = 1"}], ids=["list", "string", "cells-text"])
def test_json_that_is_not_a_notebook_raises_source_error(tmp_path: Path, payload: object) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_text(json.dumps(payload), encoding="utf-8")
    assert "hw.ipynb" in source_error(path, "hw.ipynb")


def test_code_cell_whose_source_is_not_text_raises_source_error(tmp_path: Path) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": 42}]}), encoding="utf-8")
    assert "hw.ipynb" in source_error(path, "hw.ipynb")


@pytest.mark.parametrize("suffix", [".ipynb", ".py"])
def test_non_utf8_bytes_raise_source_error_naming_the_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"hw{suffix}"
    path.write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    message = source_error(path, f"folder/Jane Doe{suffix}")
    assert f"folder/Jane Doe{suffix}" in message and "UTF-8" in message


@pytest.mark.parametrize("version", ["4", None])
def test_notebook_with_a_non_numeric_nbformat_raises_source_error(tmp_path: Path, version: object) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_text(json.dumps({"nbformat": version, "cells": [{"cell_type": "code", "source": "x = 1"}]}),
                    encoding="utf-8")
    try:
        cells = read_cells(path, "hw.ipynb")
    except SourceError:
        return  # refusing it with a message is fine
    assert [c.source for c in cells] == ["x = 1"]  # so is reading it
