"""The HTML reports, rendered from hand-built results (no grading run): escaping, charts, the
class page's counts, the instructor page's groups, and the student page's order."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from grader import charts, report
from grader.results import CheckResult, PartResult, SubmissionResult
from grader.rubric import Part, Rubric

ASSIGNMENT = "hw9"
RUBRIC = Rubric(ASSIGNMENT, "Homework 9", (
    Part("1", 4, title="Loss"),
    Part("2", 6, title="Gradient step"),
    Part("3", 0, title="Essay", manual_points=10, manual="explains it"),
    Part("4", 2, title="Hours spent"),
), path=Path("hw9.toml"))


def check(name: str, status: str, got: str = "", full: str = "", **extra: object) -> CheckResult:
    return CheckResult(name, "", status, f"{name} is {status}.", got=got, got_full=full or got, **extra)


def student(name: str, b_new: CheckResult | None = None, loss: str = "correct", hours: str = "10",
            stdout: str = "") -> SubmissionResult:
    """A hand-in: part 1 `loss`, part 2 `b_new` (right unless given), part 3 by hand, part 4 `hours`."""
    b_new = b_new or check("b_new", "correct", "[1 2]", "[1.0, 2.0]")
    parts = [
        PartResult("1", 4.0 if loss == "correct" else 0.0, 4.0, loss, f"loss is {loss}.", title="Loss",
                   checks=[check("loss", loss, "0.5" if loss == "correct" else "nan")]),
        PartResult("2", 6.0 if b_new.status == "correct" else 3.0 if b_new.status == "partial" else 0.0, 6.0,
                   b_new.status, b_new.message, title="Gradient step", checks=[b_new]),
        PartResult("3", 0.0, 10.0, "manual", "graded by hand", title="Essay", manual="explains it", pending_manual=10.0),
        PartResult("4", 2.0, 2.0, "correct", "hours given.", title="Hours spent", checks=[check("hours", "correct", hours)]),
    ]
    cells = [{"label": "cell 1 of hw.ipynb", "status": "ok", "source": "print(1)", "stdout": stdout,
              "notes": [], "error": None, "figures": []}]
    return SubmissionResult(name, ASSIGNMENT, sum(p.score for p in parts), 22.0, parts, files=["hw.ipynb"], cells=cells)


def wrong(value: str, misconception: str = "", status: str = "incorrect") -> CheckResult:
    return check("b_new", status, value, value + "0001", misconception=misconception)


def svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", page, re.S)]


def text(page: str) -> str:
    """What a reader sees: tags dropped, whitespace collapsed (entities left as they are)."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


class Links(HTMLParser):
    """Every URL-valued attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("href", "src", "xlink:href", "action", "poster") and v]


def test_student_name_and_output_are_escaped() -> None:
    evil = student("<script>alert('name')</script>", b_new=wrong("<script>alert('got')</script>"),
                   stdout="\x1b[31m<script>alert('out')</script>\x1b[0m", hours="<img src=x onerror=alert(1)>")
    pages = [report.render_student(evil, RUBRIC), report.render_index([evil, student("ann")], {ASSIGNMENT: RUBRIC}),
             report.render_instructor([evil, student("ann")], {ASSIGNMENT: RUBRIC})]
    for page in pages:
        assert "<script" not in page and "<img src=x" not in page and "\x1b" not in page
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in pages[0]
    assert "&lt;script&gt;alert(&#39;out&#39;)&lt;/script&gt;" in pages[0]  # shown as text, colours stripped
    assert "&lt;script&gt;alert(&#39;got&#39;)&lt;/script&gt;" in pages[1]  # a common wrong answer
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[1]  # the hours they reported


def test_chart_labels_are_escaped_and_the_svg_parses() -> None:
    svg = charts.part_bars([("<b>&", 0.5, 0.25)])
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    (bar,) = ET.fromstring(svg).iter("g")
    assert bar.get("data-part") == "<b>&"


def test_histogram_bins_sum_to_the_students_and_there_is_a_bar_per_scored_part() -> None:
    results = [student(f"s{i}", b_new=wrong("[0 0]") if i % 3 else None, loss="correct" if i % 2 else "incorrect")
               for i in range(7)]
    page = report.render_index(results, {ASSIGNMENT: RUBRIC})
    histogram, bars = svgs(page)
    bins = histogram.findall(".//rect[@class='bin']")
    assert len(bins) == 10 and sum(int(b.get("data-count")) for b in bins) == len(results)
    groups = bars.findall(".//g[@class='bar']")
    assert [g.get("data-part") for g in groups] == ["1", "2", "4"]  # part 3 is graded only by hand
    track = float(groups[0].find("rect").get("width"))
    assert float(groups[0].find("rect[@class='correct']").get("width")) == round(track * 3 / 7, 1)
    assert float(groups[2].find("rect[@class='correct']").get("width")) == track


def test_bin_counts_include_the_maximum_and_clamp_outliers() -> None:
    assert charts.bin_counts([0, 9.99, 10, 95, 100, 130, -5], 100) == [3, 1, 0, 0, 0, 0, 0, 0, 0, 3]


def test_common_wrong_answers_are_counted_per_part_check_and_value() -> None:
    values = ["[-1 1]"] * 4 + ["[9 9]"] * 2 + ["[7 7]"] * 2 + ["[5 5]"]
    results = [student(f"s{i}", b_new=wrong(v, "gradient ascent" if v == "[-1 1]" else "")) for i, v in enumerate(values)]
    results += [student("right"), student("partly", b_new=wrong("[9 9]", status="partial")),
                student("nan", loss="incorrect")]
    by_part = dict((p.id, answers) for p, answers in report.common_wrong_answers(results, RUBRIC))
    assert set(by_part) == {"1", "2"}
    assert [(a.check, a.got, a.count) for a in by_part["1"]] == [("loss", "nan", 1)]
    assert [(a.got, a.count, a.misconception) for a in by_part["2"]] == [
        ("[-1 1]", 4, "gradient ascent"), ("[9 9]", 3, ""), ("[7 7]", 2, "")]  # top 3; ties keep first seen
    page = text(report.render_index(results, {ASSIGNMENT: RUBRIC}))
    assert "4 students b_new Likely mistake: gradient ascent [-1 1]" in page
    assert "[5 5]" not in page


def test_hours_show_each_answer_and_the_median_of_first_numbers() -> None:
    results = [student(n, hours=h) for n, h in [("a", "12"), ("b", "'about 30 hours'"), ("c", "'20-25'"), ("d", "'lots'")]]
    hours = report.hours_reported(results)
    assert hours is not None and hours.median == 20 and hours.numbers == 3
    page = text(report.render_index(results, {ASSIGNMENT: RUBRIC}))
    assert "Median 20 hours" in page and "1 gave no number" in page and "&#39;about 30 hours&#39;" in page


def test_instructor_page_groups_two_students_with_an_unusual_value_but_not_a_common_one() -> None:
    results = [student("pat", b_new=wrong("[3.14 2.72]")), student("sam", b_new=wrong("[3.14 2.72]"))]
    results += [student(f"common{i}", b_new=wrong("[0 0]")) for i in range(5)]  # half the class
    results += [student("mis1", b_new=wrong("[-1 1]", "gradient ascent")),
                student("mis2", b_new=wrong("[-1 1]", "gradient ascent")), student("alone", b_new=wrong("[8 8]"))]
    (group,) = report.shared_unusual_values(results)
    assert (group.part, group.check, group.got) == ("2", "b_new", "[3.14 2.72]")
    assert [r.student for r, _ in group.students] == ["pat", "sam"]
    page = report.render_instructor(results, {ASSIGNMENT: RUBRIC})
    assert "pat" in page and "sam" in page and "[3.14 2.72]" in page
    assert "[0 0]" not in page and "common0" not in page and "mis1" not in page and "alone" not in page
    assert "Instructor only" in page


def test_a_class_of_five_has_no_unusual_pairs_and_says_why() -> None:
    results = [student("pat", b_new=wrong("[3 3]")), student("sam", b_new=wrong("[3 3]"))] + \
        [student(f"s{i}") for i in range(3)]
    assert report.shared_unusual_values(results) == []
    assert "no value two students share can be unusual" in report.render_instructor(results, {ASSIGNMENT: RUBRIC})


def test_student_page_leads_with_the_score_then_what_to_fix_first() -> None:
    result = student("kim", b_new=wrong("[-1 1]", "gradient ascent"), loss="incorrect")
    result.parts[0].checks.append(check("loss_new", "correct", "2.5", carried=True))
    page = text(report.render_student(result, RUBRIC))
    score, fix, parts = page.index("2 / 22 points"), page.index("What to fix first"), page.index("Parts Part")
    assert score < fix < parts
    assert page[fix:parts].startswith("What to fix first Part 2: Gradient step — 6 points lost "
                                      "Likely mistake: gradient ascent b_new is incorrect.")
    assert "Credit carried forward" in page


def test_fix_first_skips_hand_graded_parts_and_is_empty_when_nothing_was_lost() -> None:
    assert report.fix_first(student("full")) is None
    assert "Nothing to fix" in report.render_student(student("full"), RUBRIC)
    position, part = report.fix_first(student("nan", loss="incorrect"))
    assert (position, part.id) == (1, "1")  # part 3 lost more in all, but is graded by hand


def test_values_are_rounded_with_full_precision_at_hand() -> None:
    page = report.render_student(student("kim", b_new=wrong("[0.1 0.2]")), RUBRIC)
    assert '<pre class="value">[0.1 0.2]</pre>' in page
    details = page[page.index("<summary>Full precision</summary>"):]
    assert "<pre>[0.1 0.2]0001</pre>" in details[:details.index("</details>")]


def test_pages_reference_nothing_off_the_machine(tmp_path: Path) -> None:
    results = [student("ann"), student("bob", b_new=wrong("[3 3]"))]
    report.write_class_page(tmp_path, results, {ASSIGNMENT: RUBRIC})
    for result in results:
        report.write_student_page(tmp_path, result, RUBRIC)
    pages = sorted(tmp_path.rglob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "instructor.html", "written.html"} and len(pages) == 5
    for page in pages:
        raw = page.read_text()
        parser = Links()
        parser.feed(raw)
        for url in parser.urls:
            assert urlsplit(url).scheme in ("", "data") and not urlsplit(url).netloc, (page, url)
        assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", raw), page
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?://""", raw, re.I), page


def test_only_the_class_page_links_the_instructor_page(tmp_path: Path) -> None:
    results = [student("ann")]
    index = report.render_index(results, {ASSIGNMENT: RUBRIC})
    assert 'href="instructor.html"' in index and "For the instructor only" in index
    assert "instructor.html" not in report.render_student(results[0], RUBRIC)
