"""Values of a power of the unknown are steps, not answers; choices read from a write-up's conditions: a table of conditions and moves, and double inequalities
with γ in the middle, each answer the policy check its condition names (Duke 3B: left below 1/3,
right above)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.discover import Submission
from grader.expected import compute_expected
from grader.rubric import load_rubrics
from grader.runner import RunOutcome
from grader.score import score_submission
from grader.writeup import read_answers

RUBRIC = load_rubrics(Path(__file__).parent.parent / "rubrics")["duke-hw5-6"]


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory):
    return compute_expected(RUBRIC, tmp_path_factory.mktemp("expected"), "choices")


def policies(tmp_path: Path, expected, text: str) -> dict[str, tuple[str, str]]:
    path = tmp_path / "s.md"
    path.write_text(text, encoding="utf-8")
    outcome = RunOutcome(finished=True, ran_code=False)
    read_answers(Submission("duke-hw5-6", "s", path, (), (), (path,)), RUBRIC, expected.values, outcome)
    checks = {c.name: c for p in score_submission(RUBRIC, expected, outcome) for c in p.checks}
    return {name: (checks[name].status, checks[name].got) for name in ("policy_B_below", "policy_B_above")}


@pytest.mark.parametrize("rows, below, above", [
    (["| $0 < \\gamma < 1/3$ | left |", "| $1/3 < \\gamma < 1$ | right |"], "left", "right"),
    (["| $1/3 < \\gamma < 1$ | right |", "| $0 < \\gamma < 1/3$ | left |"], "left", "right"),  # either order
    (["| 0 < γ < 1/3 | right |", "| 1/3 < γ < 1 | left |"], "right", "left"),  # swapped: read as written
])
def test_a_table_of_conditions_answers_each_policy(tmp_path: Path, expected, rows, below, above) -> None:
    text = "## Problem 3\n\n### 3B\n\nγ = 3γ² gives γ = 1/3.\n\n| γ | best move |\n|---|---|\n" + "\n".join(rows) + "\n"
    got = policies(tmp_path, expected, text)
    assert got["policy_B_below"][1].strip("'") == below and got["policy_B_above"][1].strip("'") == above, got


def test_a_condition_written_with_gamma_on_the_right(tmp_path: Path, expected) -> None:
    text = "## Problem 3\n\n### 3B\n\nγ = 1/3. When 1/3 > γ go **left**; when 1/3 < γ go **right**.\n"
    got = policies(tmp_path, expected, text)
    assert got == {"policy_B_below": ("correct", got["policy_B_below"][1]),
                   "policy_B_above": ("correct", got["policy_B_above"][1])}, got


def test_a_table_keyed_by_gamma_answers_the_policies_of_3a(tmp_path: Path, expected) -> None:
    path = tmp_path / "a.md"
    path.write_text("## Problem 3\n\n### 3A\n\nStay earns 1, right earns 4γ².\n\n| γ | best move |\n|:-:|:-:|\n"
                    "| 1 | right |\n| 0 | stay |\n", encoding="utf-8")
    outcome = RunOutcome(finished=True, ran_code=False)
    read_answers(Submission("duke-hw5-6", "a", path, (), (), (path,)), RUBRIC, expected.values, outcome)
    checks = {c.name: c for p in score_submission(RUBRIC, expected, outcome) for c in p.checks}
    assert checks["policy_A_gamma1"].status == "correct", checks["policy_A_gamma1"].message
    assert checks["policy_A_gamma0"].status == "correct", checks["policy_A_gamma0"].message


def test_each_line_that_opens_a_condition_is_its_own_sentence(tmp_path: Path, expected) -> None:
    """A Word export: no full stops, one condition per line; each choice goes with its own line's."""
    text = "## Problem 3\n\n### 3B\n\nAnswer:\tγ = 1/3 ≈ 0.333\nFor γ below 1/3:\tleft is optimal\n" \
           "For γ above 1/3:\tright is optimal\n"
    got = policies(tmp_path, expected, text)
    assert got["policy_B_below"][0] == "correct" and got["policy_B_above"][0] == "correct", got


@pytest.mark.parametrize("text, status, got", [
    # γ² = 1/3 on the way to a wrong γ: the 1/3 is not the answer, the final 1/√3 ≈ .58 is
    ("$1 = 3\\gamma^2 \\iff \\gamma^2 = \\tfrac13 \\iff \\gamma^* = \\tfrac{1}{\\sqrt 3} \\approx .58$", "incorrect", "0.577"),
    ("110γ⁹⁹ = 1 gives the equation; I did not solve it.", "missing", ""),  # set up, left unsolved
    ("Equal when $\\gamma = 3\\gamma^2$, so $\\gamma = 1/3$.", "correct", "0.333"),
])
def test_a_power_of_gamma_is_a_step_not_the_answer(tmp_path: Path, expected, text: str, status: str, got: str) -> None:
    path = tmp_path / "p.md"
    path.write_text(f"## Problem 3\n\n### 3B\n\n{text}\n", encoding="utf-8")
    outcome = RunOutcome(finished=True, ran_code=False)
    read_answers(Submission("duke-hw5-6", "p", path, (), (), (path,)), RUBRIC, expected.values, outcome)
    check = next(c for p in score_submission(RUBRIC, expected, outcome) for c in p.checks if c.name == "gamma_B")
    assert check.status == status and got in check.got, (check.status, check.got, check.message)


def checks_of(tmp_path: Path, expected, name: str, text: str, rubric=RUBRIC) -> dict:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    outcome = RunOutcome(finished=True, ran_code=False)
    read_answers(Submission(rubric.assignment, "s", path, (), (), (path,)), rubric, expected.values, outcome)
    return {c.name: c for p in score_submission(rubric, expected, outcome) for c in p.checks}


def test_a_choice_followed_by_its_return_is_no_conclusion(tmp_path: Path, expected) -> None:
    text = ("## Problem 3\n\n### 3B\n\ny = 1/3\n  y < 1/3 : left is better\n  y > 1/3 : right is better\n"
            "  check y = 0.5 : left 0.5 , right 0.75\n")
    got = policies(tmp_path, expected, text)
    assert got["policy_B_below"][0] == "correct" and got["policy_B_above"][0] == "correct", got


def test_a_condition_wrapped_onto_the_next_line_stays_with_its_choice(tmp_path: Path, expected) -> None:
    text = ("## Problem 3\n\n### 3B\n\nThey are equal at γ = 1/3. Checking one value on each side, I find that\n"
            "for γ below 1/3 the best choice is to **go left**, and for γ above\n1/3 it is to **go right**.\n")
    got = policies(tmp_path, expected, text)
    assert got["policy_B_below"][0] == "correct" and got["policy_B_above"][0] == "correct", got


def test_an_expression_evaluated_to_another_number_is_marked_by_that_number(tmp_path: Path, expected) -> None:
    text = ("## Problem 3\n\n### 3C\n\n- top: $6\\gamma^3 = 1 \\Rightarrow \\gamma = 6^{-1/3}$, so γ ≈ 0.5503.\n"
            "- bottom: $110\\gamma^{99} = 1 \\Rightarrow \\gamma = \\exp(-\\log(110)/99) = \\exp(-0.02062)$, so γ ≈ 0.9796.\n")
    checks = checks_of(tmp_path, expected, "c.md", text)
    assert checks["gamma_C_top"].status == "correct", checks["gamma_C_top"].message
    assert checks["gamma_C_bottom"].status == "incorrect" and checks["gamma_C_bottom"].got.startswith("0.979")


def test_decimal_commas_ocr_digits_and_box_drawing_tables(tmp_path: Path, expected) -> None:
    text = ("Esercizio 3\n\n(B) γ = 3γ², quindi γ = 1/3 = 0,3333\n\n(C)\n┌──────┬──────────┐\n│ task │ γ │\n"
            "├──────┼──────────┤\n│ top  │ 0,5503   │\n│ bottom │ 11O^(-1/99) ≈ 0,9536 │\n└──────┴──────────┘\n")
    checks = checks_of(tmp_path, expected, "e.txt", text)
    assert [checks[n].status for n in ("gamma_B", "gamma_C_top", "gamma_C_bottom")] == ["correct"] * 3, \
        [(n, checks[n].message) for n in ("gamma_B", "gamma_C_top", "gamma_C_bottom")]


def test_two_columns_from_pdftotext_layout_are_read_one_after_the_other() -> None:
    from grader.writeup import _columns

    left = [f"left column line {i} with enough words to fill the column ab" for i in range(12)]
    right = [f"right column line {i} also long enough to reach the margin" for i in range(12)]
    page = "\n".join(f"{a:<62}{b}" for a, b in zip(left, right))
    sources = _columns("r.txt", page + "\f" + page)
    assert [name for name, _ in sources] == ["r.txt, page 1, left column", "r.txt, page 1, right column",
                                              "r.txt, page 2, left column", "r.txt, page 2, right column"]
    assert sources[1][1].split("\n")[0] == "right column line 0 also long enough to reach the margin"
    table = "\n".join(f"3.{i}  L(b{i} - eps) = 9.4348{i}          L(b{i} + eps) = 9.4349{i}" + " " * 40 + "x" for i in range(12))
    assert _columns("t.txt", table) == [("t.txt", table)]  # aligned labels and values are no two columns


def test_the_question_before_answer_is_not_the_students(tmp_path: Path, expected) -> None:
    text = ("Question 3(B)\nleft goes to state 0, right goes to state 2. Which choice is optimal below and above it?\n\n"
            "Answer: γ = 1/3. For γ below 1/3 go right; for γ above 1/3 go left.\n")
    got = policies(tmp_path, expected, text)
    assert got["policy_B_below"][1].strip("'") == "right" and got["policy_B_above"][1].strip("'") == "left", got


def test_answers_in_front_matter_under_the_contract_names_are_the_students(tmp_path: Path, expected) -> None:
    text = ("---\ntitle: HW\nanswers:\n  \"3B\":\n    gamma_B: \"1/3\"   # break-even\n    policy_B_below: left\n"
            "  \"3C\":\n    gamma_C_bottom: \"110**(-1/100)\"\n---\n\n# Problem 3\n\n## 3B\n\nγ = 0 also solves it.\n")
    checks = checks_of(tmp_path, expected, "y.md", text)
    assert checks["gamma_B"].status == "correct" and checks["policy_B_below"].status == "correct"
    assert checks["gamma_C_bottom"].misconception == "an exponent off by one", checks["gamma_C_bottom"].message


def test_struck_out_values_and_later_revisions_give_way_to_the_corrected_answer(tmp_path: Path, expected) -> None:
    text = ("## Problem 3\n\n### 3B\n\nγ = 3γ² so γ = ~~0~~ 1/3.\n\n### 3C\n\ntop: \\st{0.6389} 0.5503\n"
            "bottom: 0.9541 -- no wait, 0.9536\n\n## Problem 5\n\nhours: 12\n\n"
            "Update after office hours: 3B -- below 1/3 go left, above 1/3 go right.\n")
    checks = checks_of(tmp_path, expected, "u.md", text)
    names = ("gamma_B", "gamma_C_top", "gamma_C_bottom", "policy_B_below", "policy_B_above")
    assert [checks[n].status for n in names] == ["correct"] * 5, [(n, checks[n].message) for n in names]


def test_a_label_before_each_choice_and_two_parts_under_one_heading(tmp_path: Path, expected) -> None:
    text = ("## Problem 3\n\n**3A.** γ = 1/2.\n\n**3B and 3C.** They tie at γ = 3γ², γ* = 1/3 ≈ 0.3333 (4 s.f.)\n"
            "below: left, above: right\nFor C: 1 = 6γ³ gives γ* ≈ 0.5503 (4 s.f.) on top, and 1 = 110γ⁹⁹ gives 0.9536 below it.\n")
    checks = checks_of(tmp_path, expected, "t.md", text)
    names = ("gamma_B", "policy_B_below", "policy_B_above", "gamma_C_top", "gamma_C_bottom")
    assert [checks[n].status for n in names] == ["correct"] * 5, [(n, checks[n].message) for n in names]
