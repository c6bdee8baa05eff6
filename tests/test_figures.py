"""Reference figures beside the student's: the reference functions, the rubric keys, the choice of
the student's figures by `figure_cells`, the cache, and the student page."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import matplotlib.image
import pytest

from grader import report
from grader.expected import compute_expected
from grader.results import PartResult, SubmissionResult
from grader.rubric import Part, Rubric, RubricError, load_rubric
from grader.runner import CellRecord, RunOutcome
from grader.score import MAX_STUDENT_FIGURES, score_part
from reference import figures

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = ("filters_png", "feature_maps_png", "shifted_png", "occlusion_png")

RUBRIC = """\
assignment = "hw-fig"

[[part]]
id = "1.1"
points = 2
figure = "figures:filters_png"
figure_cells = ["conv_filters", "Filter"]
[[part.check]]
value = "gamma_A"
expected = "rl:spec_gamma_A"
kind = "expression"

[[part]]
id = "2"
manual_points = 3
manual = "a plot"
"""


def png_b64(tag: int) -> str:
    """A distinct tiny 'PNG' per tag (the signature is all the pipeline looks at)."""
    return base64.b64encode(PNG_MAGIC + bytes([tag])).decode()


@pytest.fixture(scope="module")
def drawn() -> dict[str, bytes]:
    return {name: getattr(figures, name)() for name in FIGURES}


@pytest.mark.parametrize("name", FIGURES)
def test_reference_figure_is_a_small_valid_png(drawn: dict[str, bytes], name: str) -> None:
    png = drawn[name]
    assert png.startswith(PNG_MAGIC)
    assert len(png) < 100_000  # pages stay light
    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    height, width = image.shape[:2]
    assert 60 <= height <= 800 and 150 <= width <= 800


@pytest.mark.parametrize("name", FIGURES)
def test_reference_figure_is_deterministic(drawn: dict[str, bytes], name: str) -> None:
    assert getattr(figures, name)() == drawn[name]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hw-fig.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rubric_reads_figure_and_figure_cells(tmp_path: Path) -> None:
    part = load_rubric(write(tmp_path, RUBRIC)).parts[0]
    assert part.figure == "figures:filters_png"
    assert part.figure_cells == ("conv_filters", "Filter")


@pytest.mark.parametrize("figure, problem", [
    ('"figures:no_such_png"', "defines no function 'no_such_png'"),
    ('"nowhere:filters_png"', "there is no reference/nowhere.py"),
    ('"filters_png"', "must be 'module:function'"),
])
def test_bad_figure_reference_names_the_file_and_the_key(tmp_path: Path, figure: str, problem: str) -> None:
    path = write(tmp_path, RUBRIC.replace('"figures:filters_png"', figure))
    with pytest.raises(RubricError) as info:
        load_rubric(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "part '1.1'.figure:" in message and problem in message


@pytest.mark.parametrize("cells, key", [
    ("[]", "figure_cells"),
    ('"conv_filters"', "figure_cells"),
    ('["", "x"]', "figure_cells"),
])
def test_bad_figure_cells_names_the_key(tmp_path: Path, cells: str, key: str) -> None:
    path = write(tmp_path, RUBRIC.replace('["conv_filters", "Filter"]', cells))
    with pytest.raises(RubricError, match=rf"part '1.1'\.{key}:"):
        load_rubric(path)


def test_figure_and_figure_cells_go_together(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match=r"part '1.1'\.figure_cells:"):
        load_rubric(write(tmp_path, RUBRIC.replace('figure = "figures:filters_png"\n', "")))
    with pytest.raises(RubricError, match=r"part '1.1'\.figure_cells:"):
        load_rubric(write(tmp_path, RUBRIC.replace('figure_cells = ["conv_filters", "Filter"]\n', "")))


def test_reference_figure_is_computed_once_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rubric = load_rubric(write(tmp_path, RUBRIC))
    calls = []
    monkeypatch.setattr(figures, "filters_png", lambda: calls.append(1) or PNG_MAGIC + b"ref")
    first = compute_expected(rubric, tmp_path / "cache", "digest")
    drawn = first.figures  # drawn in the background; cached once done
    second = compute_expected(rubric, tmp_path / "cache", "digest")
    assert calls == [1]
    assert drawn == second.figures == {"figures:filters_png": base64.b64encode(PNG_MAGIC + b"ref").decode()}
    (cached,) = (tmp_path / "cache").glob("figures-*.json")
    assert "figures:filters_png" in json.loads(cached.read_text())
    assert not list((tmp_path / "cache").glob("calls-*.json"))  # the figure never goes to the workers


def test_reference_in_a_child_process_gives_what_this_process_computes(tmp_path: Path) -> None:
    """`grader run` computes the values and draws the figures in fresh processes; they must be the
    ones computed here (the real rl value and the real conv-filter figure), and cached as usual."""
    rubric = load_rubric(write(tmp_path, RUBRIC))
    here = compute_expected(rubric, tmp_path / "here", "digest")
    there = compute_expected(rubric, tmp_path / "child", "digest", in_child=True)
    assert there.values == here.values and there.values["rl:spec_gamma_A"] is not None
    assert there.figures == here.figures and set(there.figures) == {"figures:filters_png"}
    assert base64.b64decode(there.figures["figures:filters_png"]).startswith(PNG_MAGIC)
    # one process computed both (it said "values" first, then drew), and wrote nothing to its log
    assert {p.name.split("-")[0] for p in (tmp_path / "child").iterdir()} == {"expected", "figures", "reference"}
    assert next((tmp_path / "child").glob("reference-*.log")).read_text() == ""


def test_figures_missing_beside_cached_values_are_drawn_by_a_child_process(tmp_path: Path) -> None:
    rubric = load_rubric(write(tmp_path, RUBRIC))
    first = compute_expected(rubric, tmp_path / "a", "digest", in_child=True)
    (tmp_path / "b").mkdir()
    for cached in (tmp_path / "a").glob("expected-*.json"):  # the values only, as if the figures were lost
        (tmp_path / "b" / cached.name).write_bytes(cached.read_bytes())
    again = compute_expected(rubric, tmp_path / "b", "digest", in_child=True)
    assert again.values == first.values and again.figures == first.figures
    assert list((tmp_path / "b").glob("figures-*.json"))


def test_a_reference_that_fails_in_the_child_process_says_so(tmp_path: Path) -> None:
    rubric = load_rubric(write(tmp_path, RUBRIC))
    rubric.path.write_text("not a rubric = [")  # the child reads the rubric again, and fails on it
    with pytest.raises(RuntimeError, match=r"(?s)the reference code failed .*Error"):
        compute_expected(rubric, tmp_path / "child", "digest", in_child=True)


def test_scoring_picks_the_students_figures_by_figure_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rubric = load_rubric(write(tmp_path, RUBRIC))
    monkeypatch.setattr(figures, "filters_png", lambda: PNG_MAGIC + b"ref")
    expected = compute_expected(rubric, tmp_path / "cache", "digest")
    cells = [
        CellRecord("cell 1", "def conv_filters(model, layer): ...", "ok", figures=[png_b64(1)]),
        CellRecord("cell 2", "plt.plot(losses)", "ok", figures=[png_b64(2)]),  # another part's figure
        CellRecord("cell 3", "# Plot each FILTER of layer 2\nplt.imshow(w)", "ok", figures=[png_b64(3), png_b64(4)]),
        CellRecord("cell 4", "show_filters(model)", "ok", figures=[png_b64(5), png_b64(6)]),
        CellRecord("cell 5", "conv_filters(model, 3)", "ok"),  # no figure
    ]
    outcome = RunOutcome(cells=cells, values={"gamma_A": "1/2"})
    with_figure, manual = (score_part(p, expected, outcome) for p in rubric.parts)
    assert with_figure.student_figures == [png_b64(i) for i in (1, 3, 4, 5)][:MAX_STUDENT_FIGURES]
    assert with_figure.reference_figure == "figures/1.1.png"  # written once per run beside the pages
    assert with_figure.status == "correct" and with_figure.public().keys() == {"id", "score", "max_score", "status", "message"}
    assert (manual.reference_figure, manual.student_figures) == ("", [])
    none_drawn = score_part(rubric.parts[0], expected, RunOutcome(cells=cells[1:2], values={"gamma_A": "1/2"}))
    assert none_drawn.student_figures == []


def test_older_cache_entries_without_figures_still_load() -> None:
    result = SubmissionResult("ann", "hw-fig", 2.0, 5.0, [PartResult("1.1", 2.0, 2.0, "correct", "ok")])
    data = result.to_dict()
    for part in data["parts"]:
        del part["reference_figure"], part["student_figures"]
    back = SubmissionResult.from_dict(json.loads(json.dumps(data)))
    assert back == result and back.parts[0].student_figures == [] and back.parts[0].reference_figure == ""


def page_for(student_figures: list[str]) -> str:
    rubric = Rubric("hw-fig", "Homework fig", (Part("1.1", 2, title="Filters", figure="figures:filters_png",
                                                     figure_cells=("filter",)),), path=Path("hw-fig.toml"))
    part = PartResult("1.1", 2.0, 2.0, "correct", "ok", title="Filters", reference_figure="figures/1.1.png",
                      student_figures=student_figures)
    return report.render_student(SubmissionResult("ann", "hw-fig", 2.0, 2.0, [part]), rubric)


def test_student_page_shows_both_figures_in_the_parts_box() -> None:
    page = page_for([png_b64(1)])
    box = re.search(r'<section class="card" id="part-1">.*?</section>', page, re.S).group()
    assert "Your figure" in box and "Reference" in box
    assert f'src="data:image/png;base64,{png_b64(1)}"' in box
    assert 'src="figures/1.1.png"' in box
    assert "You drew no figure" not in box
    assert re.findall(r'<img[^>]*\ssrc="([^"]*)"', page) and all(  # the student's inline, the reference a local file
        src.startswith("data:image/png;base64,") or src == "figures/1.1.png"
        for src in re.findall(r'<img[^>]*\ssrc="([^"]*)"', page))


def test_student_page_says_when_the_student_drew_no_figure() -> None:
    page = page_for([])
    box = re.search(r'<section class="card" id="part-1">.*?</section>', page, re.S).group()
    assert "You drew no figure" in box and 'src="figures/1.1.png"' in box


def test_part_without_a_figure_shows_no_figure_box() -> None:
    rubric = Rubric("hw-fig", "Homework fig", (Part("1", 2),), path=Path("hw-fig.toml"))
    page = report.render_student(SubmissionResult("ann", "hw-fig", 2.0, 2.0,
                                                  [PartResult("1", 2.0, 2.0, "correct", "ok")]), rubric)
    assert "Your figure" not in page and 'class="figures"' not in page


def test_a_run_writes_each_reference_figure_once_beside_the_pages(tmp_path: Path) -> None:
    from grader.pipeline import write_reference_figures
    from grader.rubric import load_rubrics

    rubrics = load_rubrics(Path(__file__).resolve().parent.parent / "rubrics")
    result = SubmissionResult("ann", "cap5619-hw3", 0.0, 100.0, [])
    write_reference_figures(tmp_path, [result], rubrics)
    written = sorted(p.name for p in (tmp_path / "cap5619-hw3" / "figures").iterdir())
    assert written == ["1.1.png", "1.2.png", "1.3.png", "2.1.png"]
    assert all((tmp_path / "cap5619-hw3" / "figures" / name).read_bytes().startswith(PNG_MAGIC) for name in written)
