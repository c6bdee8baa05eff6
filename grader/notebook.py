"""Reading hand-ins into code cells, in the grader's process (reading is safe; running is not).

IPython syntax (`%matplotlib inline`, `!pip install ...`, `x?`) is turned into plain Python
calls on `get_ipython()` by IPython's own transformer, so a cell with magics still compiles;
the sandboxed child provides a `get_ipython()` that decides what each call does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager

_TRANSFORMER = TransformerManager()


@dataclass(frozen=True)
class Cell:
    file: str  # the file's name relative to the student's folder
    number: int  # 1-based among the file's code cells, as a student counts them
    source: str  # what the student wrote
    code: str  # plain Python to run

    @property
    def label(self) -> str:
        return f"cell {self.number} of {self.file}" if self.file.endswith(".ipynb") else self.file


class SourceError(ValueError):
    """A file that cannot be read as code; the message is for the student."""


_IPYTHON_SYNTAX = re.compile(r"^\s*[%!?]|[?]\s*$|=\s*[%!]", re.MULTILINE)


def to_python(source: str) -> str:
    """IPython syntax to plain Python; source IPython cannot transform is left for compile() to report."""
    if not _IPYTHON_SYNTAX.search(source):
        return source  # the common case, and the transformer is slow
    try:
        return _TRANSFORMER.transform_cell(source)
    except (SyntaxError, ValueError, IndexError):
        return source


def _decode(path: Path, name: str) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{name} is not UTF-8 text (byte {exc.start} is {data[exc.start]:#x}); save it as UTF-8 and hand it in again"
        ) from None


def _notebook_cells(text: str, name: str) -> list[str]:
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{name} is not a valid notebook (broken JSON at line {exc.lineno}: {exc.msg}); it may be truncated") from None
    if type(nb) is not dict or type(nb.get("cells", [])) is not list:
        if type(nb) is dict and "worksheets" in nb:  # nbformat 3 and older keep cells elsewhere
            return _old_notebook_cells(text, name)
        raise SourceError(f"{name} is not a Jupyter notebook (no list of cells)")
    version = nb.get("nbformat", 4)
    if type(version) is not int:
        raise SourceError(f"{name} is not a Jupyter notebook (its nbformat version is {version!r})")
    if version < 4:
        return _old_notebook_cells(text, name)
    sources = []
    for cell in nb.get("cells", []):
        if type(cell) is not dict or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if type(source) is list:
            source = "".join(s for s in source if type(s) is str)
        if type(source) is not str:
            raise SourceError(f"{name} has a code cell whose source is not text")
        sources.append(source)
    return sources


def _old_notebook_cells(text: str, name: str) -> list[str]:
    import nbformat  # only for notebooks older than format 4: it knows how to upgrade them

    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises many types for bad input; all mean "cannot read"
        raise SourceError(f"{name} is an old-format notebook that could not be read: {exc}") from None
    return [c.source for c in nb.cells if c.cell_type == "code"]


def read_cells(path: Path, name: str) -> list[Cell]:
    """The code cells of a notebook, or a `.py` file as one cell."""
    text = _decode(path, name)
    if path.suffix.lower() != ".ipynb":
        return [Cell(name, 1, text, text)] if text.strip() else []
    sources = _notebook_cells(text, name)
    return [Cell(name, i, s, to_python(s)) for i, s in enumerate(sources, start=1) if s.strip()]
