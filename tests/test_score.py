"""Scoring a part from a run's outcome: all right, missing, wrong, optional, partial, predicate.

Policy under test (grader/score.py's docstring): partial credit is proportional to the weights
of the checks that are right, and a function check is right only when it is right on every input.
"""

from __future__ import annotations

import json

from pathlib import Path

import pytest

from grader.codec import Unreadable
from grader.codec import decode_args
from grader.expected import Expected, compute_expected
from grader.rubric import Rubric, RubricError, load_rubric
from grader.runner import CallRecord, CellRecord, RunOutcome
from grader.score import score_part, score_submission

RUBRIC = """\
assignment = "hw-score"
[defaults]
seed = 7
random_cases = 2

[[part]]
id = "3A.iii"
points = 5
[[part.check]]
value = "gamma_A"
expected = "rl:spec_gamma_A"
kind = "expression"
[[part.check]]
function = "discounted_return"
reference = "rl:discounted_return"
cases = "rl:discounted_return_cases"
kind = "number"

[[part]]
id = "3B"
points = 6
[[part.check]]
function = "breakeven_gamma"
required = true
reference = "rl:breakeven_gamma"
cases = "rl:breakeven_gamma_cases"
kind = "number"

[[part]]
id = "3B.all"
points = 6
[[part.check]]
value = "gamma_B"
expected = "rl:spec_gamma_B"
kind = "expression"
weight = 2
[[part.check]]
function = "breakeven_gamma"
required = true
reference = "rl:breakeven_gamma"
cases = "rl:breakeven_gamma_cases"
kind = "number"

[[part]]
id = "5B"
points = 2.5
[[part.check]]
value = "pledge"
expected = "bookkeeping:check_pledge"
kind = "predicate"

[[part]]
id = "3D"
manual_points = 4
manual = "dense rewards give a signal every step"
"""

GAMMA_A = 0.5  # the spec: staying earns 1, moving right earns 4γ², so 1 = 4γ²
GAMMA_B = 1 / 3  # the spec: left earns γ, right earns 3γ², so γ = 3γ²
PLEDGE = "I adhered to the Duke Community Standard in the completion of this assignment. J.D."


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Rubric, Expected]:
    folder = tmp_path_factory.mktemp("score")
    path = folder / "hw-score.toml"
    path.write_text(RUBRIC, encoding="utf-8")
    rubric = load_rubric(path)
    return rubric, compute_expected(rubric, folder / "work", "digest")


def part(rubric: Rubric, part_id: str):
    return next(p for p in rubric.parts if p.id == part_id)


def discounted(rewards: list[float], gamma: float) -> float:
    return sum(r * gamma**k for k, r in enumerate(rewards))


def inputs(expected: Expected, function: str) -> list[dict]:
    """The hidden inputs as the student's function receives them (decoded from the workers' calls file)."""
    return [decode_args(c) for c in json.loads(Path(expected.calls_file).read_text())[function]]


def right_calls(expected: Expected, function: str) -> list[CallRecord]:
    return [CallRecord("ok", case.expected) for case in expected.cases[function]]


def all_right(expected: Expected) -> RunOutcome:
    return RunOutcome(
        values={"gamma_A": GAMMA_A, "gamma_B": GAMMA_B, "pledge": PLEDGE},
        defined={"discounted_return", "breakeven_gamma"},
        calls={"discounted_return": [CallRecord("ok", discounted(**kwargs))
                                     for kwargs in inputs(expected, "discounted_return")],
               "breakeven_gamma": right_calls(expected, "breakeven_gamma")},
        finished=True,
    )


def test_expected_values_agree_with_the_spec(graded: tuple[Rubric, Expected]) -> None:
    _, expected = graded
    assert expected.values["rl:spec_gamma_A"] == pytest.approx(GAMMA_A)
    assert expected.values["rl:spec_gamma_B"] == pytest.approx(GAMMA_B)
    # each expected γ really makes the two returns equal
    for case, kwargs in zip(expected.cases["breakeven_gamma"], inputs(expected, "breakeven_gamma")):
        gamma = case.expected
        assert 0 < gamma < 1
        assert discounted(kwargs["rewards_a"], gamma) == pytest.approx(discounted(kwargs["rewards_b"], gamma), abs=1e-9)
    assert len(expected.cases["breakeven_gamma"]) == 4 + 2  # the spec's four pairs, then random_cases
    assert "bookkeeping:check_pledge" not in expected.values  # a predicate has nothing to precompute


def test_everything_right_earns_full_points(graded: tuple[Rubric, Expected]) -> None:
    rubric, expected = graded
    results = {r.id: r for r in score_submission(rubric, expected, all_right(expected))}
    assert [p.id for p in rubric.parts] == list(results)
    for part_id, points in (("3A.iii", 5.0), ("3B", 6.0), ("3B.all", 6.0), ("5B", 2.5)):
        assert results[part_id].score == points and results[part_id].max_score == points
        assert results[part_id].status == "correct", results[part_id].message
    manual = results["3D"]
    assert (manual.score, manual.max_score, manual.status, manual.pending_manual) == (0.0, 4.0, "manual", 4.0)


def test_value_given_as_an_expression_string_is_right(graded: tuple[Rubric, Expected]) -> None:
    rubric, expected = graded
    outcome = all_right(expected)
    outcome.values["gamma_A"] = "1/2"
    result = score_part(part(rubric, "3A.iii"), expected, outcome)
    assert result.score == 5.0 and result.status == "correct"


def test_missing_value_is_status_missing_and_named(graded: tuple[Rubric, Expected]) -> None:
    rubric, expected = graded
    outcome = RunOutcome(finished=True)
    result = score_part(part(rubric, "3A.iii"), expected, outcome)
    assert result.status == "missing" and result.score == 0.0
    assert "gamma_A" in result.message


def test_missing_value_points_at_the_cell_that_failed_to_define_it(graded: tuple[Rubric, Expected]) -> None:
    rubric, expected = graded
    failed = CellRecord("cell 4 of hw.ipynb", "gamma_A = 1 / 0\n", status="error",
                        error={"type": "ZeroDivisionError", "message": "division by zero", "traceback": ""})
    fine = CellRecord("cell 5 of hw.ipynb", "other = 1\n", status="ok")
    result = score_part(part(rubric, "3A.iii"), expected, RunOutcome(cells=[failed, fine]))
    assert "cell 4 of hw.ipynb" in result.message and "ZeroDivisionError" in result.message
    assert "cell 5" not in result.message


def test_wrong_value_is_incorrect(graded: tuple[Rubric, Expected]) -> None:
    rubric, expected = graded
    outcome = RunOutcome(values={"gamma_A": 0.7}, finished=True)
    result = score_part(part(rubric, "3A.iii"), expected, outcome)
    assert result.status == "incorrect" and result.score == 0.0
    (value_check, function_check) = result.checks
    assert value_check.status == "incorrect" and value_check.fraction == 0.0
    assert "gamma_A" in result.message


def test_unreadable_value_is_incorrect_with_a_reason(graded: tuple[Rubric, Expected]) -> None:
    rubric, expected = graded
    outcome = RunOutcome(values={"gamma_A": Unreadable("an object of type builtins.dict")}, finished=True)
    result = score_part(part(rubric, "3A.iii"), expected, outcome)
    assert result.status == "incorrect" and result.score == 0.0
    assert "builtins.dict" in result.message


def test_optional_function_not_defined_is_graded_on_values_alone(graded: tuple[Rubric, Expected]) -> None:
    rubric, expected = graded
    outcome = RunOutcome(values={"gamma_A": GAMMA_A}, finished=True)  # discounted_return not defined
    result = score_part(part(rubric, "3A.iii"), expected, outcome)
    assert result.score == 5.0 and result.status == "correct"
    function_check = next(c for c in result.checks if c.name == "discounted_return")
    assert function_check.counted is False


def test_optional_function_defined_but_wrong_counts(graded: tuple[Rubric, Expected]) -> None:
    rubric, expected = graded
    outcome = all_right(expected)
    outcome.calls["discounted_return"] = [CallRecord("ok", discounted(**kwargs) + 1.0)
                                          for kwargs in inputs(expected, "discounted_return")]
    result = score_part(part(rubric, "3A.iii"), expected, outcome)
    assert result.score == 2.5  # one of two equally weighted checks right
    assert result.status == "partial"


def test_required_function_not_defined_is_missing(graded: tuple[Rubric, Expected]) -> None:
    rubric, expected = graded
    result = score_part(part(rubric, "3B"), expected, RunOutcome(finished=True))
    assert result.status == "missing" and result.score == 0.0
    assert "breakeven_gamma" in result.message


def wrong_after(expected: Expected, right: int) -> list[CallRecord]:
    """Right on the first `right` cases, off by 0.25 on the others."""
    return [CallRecord("ok", case.expected if i < right else case.expected + 0.25)
            for i, case in enumerate(expected.cases["breakeven_gamma"])]


@pytest.mark.parametrize("right", [1, 3, 5])
def test_function_right_on_some_cases_earns_nothing_and_says_how_many(graded: tuple[Rubric, Expected],
                                                                      right: int) -> None:
    rubric, expected = graded
    total = len(expected.cases["breakeven_gamma"])
    outcome = all_right(expected)
    outcome.calls["breakeven_gamma"] = wrong_after(expected, right)
    result = score_part(part(rubric, "3B"), expected, outcome)
    assert result.status == "incorrect" and result.score == 0.0
    assert f"{right} of {total}" in result.message
    wrong_lines = [line for line in result.checks[0].details if "right" != line.rsplit(": ", 1)[-1]]
    assert len(wrong_lines) == total - right  # every case it got wrong is listed


@pytest.mark.parametrize("value_right, function_right, points, status", [
    (True, True, 6.0, "correct"),
    (True, False, 4.0, "partial"),   # the value's weight 2 of 3
    (False, True, 2.0, "partial"),   # the function's weight 1 of 3
    (False, False, 0.0, "incorrect"),
])
def test_part_points_are_proportional_to_the_weights_of_right_checks(
        graded: tuple[Rubric, Expected], value_right: bool, function_right: bool, points: float, status: str) -> None:
    rubric, expected = graded
    outcome = all_right(expected)
    outcome.values["gamma_B"] = GAMMA_B if value_right else 0.4
    if not function_right:
        outcome.calls["breakeven_gamma"] = wrong_after(expected, 5)  # right on all but the last input
    result = score_part(part(rubric, "3B.all"), expected, outcome)
    assert result.score == pytest.approx(points) and result.status == status


def test_errors_timeouts_and_unrun_calls_are_reported(graded: tuple[Rubric, Expected]) -> None:
    rubric, expected = graded
    outcome = all_right(expected)
    calls = right_calls(expected, "breakeven_gamma")
    calls[1] = CallRecord("error", error={"type": "ValueError", "message": "no root", "traceback": ""})
    calls[2] = CallRecord("timeout")
    calls[3] = CallRecord("not run")
    outcome.calls["breakeven_gamma"] = calls
    result = score_part(part(rubric, "3B"), expected, outcome)
    assert result.score == 0.0 and result.status == "error"
    details = "\n".join(result.checks[0].details)
    assert "ValueError: no root" in details and "time limit" in details and "not run" in details
    assert f"{len(calls) - 3} of {len(calls)}" in result.message


def test_function_that_always_raises_is_an_error(graded: tuple[Rubric, Expected]) -> None:
    rubric, expected = graded
    outcome = all_right(expected)
    outcome.calls["breakeven_gamma"] = [CallRecord("error", error={"type": "NameError", "message": "np"})
                                        for _ in expected.cases["breakeven_gamma"]]
    result = score_part(part(rubric, "3B"), expected, outcome)
    assert result.status == "error" and result.score == 0.0


def test_predicate_passes_on_a_signed_pledge(graded: tuple[Rubric, Expected]) -> None:
    rubric, expected = graded
    result = score_part(part(rubric, "5B"), expected, RunOutcome(values={"pledge": PLEDGE.lower()}))
    assert result.status == "correct" and result.score == 2.5


@pytest.mark.parametrize("pledge", ["I promise I did it myself. J.D.",
                                    "I adhered to the Duke Community Standard in the completion of this assignment"])
def test_predicate_fails_without_the_words_or_the_initials(graded: tuple[Rubric, Expected], pledge: str) -> None:
    rubric, expected = graded
    result = score_part(part(rubric, "5B"), expected, RunOutcome(values={"pledge": pledge}))
    assert result.status == "incorrect" and result.score == 0.0


@pytest.mark.parametrize("value", [5, True, ["I adhered"]], ids=["int", "bool", "list"])
def test_predicate_on_a_value_that_is_not_text_is_incorrect(graded: tuple[Rubric, Expected], value: object) -> None:
    rubric, expected = graded
    result = score_part(part(rubric, "5B"), expected, RunOutcome(values={"pledge": value}))
    assert result.status == "incorrect" and result.score == 0.0


def test_function_check_of_kind_predicate_is_rejected_or_scored(tmp_path: Path) -> None:
    path = tmp_path / "hw.toml"
    path.write_text('assignment = "hw"\n[[part]]\nid = "p"\npoints = 1\n[[part.check]]\nfunction = "sign"\n'
                    'reference = "bookkeeping:check_pledge"\ncases = "rl:breakeven_gamma_cases"\n'
                    'kind = "predicate"\n', encoding="utf-8")
    try:
        rubric = load_rubric(path)
    except RubricError:
        return  # rejecting it at load is one right answer
    expected = compute_expected(rubric, tmp_path, "digest")
    outcome = RunOutcome(defined={"sign"}, calls={"sign": [CallRecord("ok", "x")]})
    assert score_part(rubric.parts[0], expected, outcome).status in ("incorrect", "partial", "correct")
