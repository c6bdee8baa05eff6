"""Feedback that teaches: named misconceptions, error carried forward, where a chain of steps departs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.expected import compute_expected
from grader.rubric import RubricError, load_rubric
from grader.runner import RunOutcome
from grader.score import score_part

B = np.array([-1.0, 1.0])
RUBRIC = """
assignment = "toy"
[[part]]
id = "3.4"
points = 5
[[part.check]]
value = "b_new"
expected = "rnn:spec_b_new"
kind = "array"
[[part.check.misconception]]
name = "gradient ascent"
expected = "rnn:spec_b_new_ascent"
hint = "Subtract the gradient."
credit = 0.2
[part.check.carried]
uses = ["grad_b_bptt"]
expected = "rnn:step_from_gradient"
message = "your step is right for your gradient"

[[part]]
id = "3.5"
points = 4
[[part.check]]
value = "loss_new"
expected = "rnn:spec_loss_new"
kind = "number"
[part.check.carried]
uses = ["b_new"]
expected = "rnn:loss_at_b"
credit = 0.5

[[part]]
id = "3.2"
points = 4
chain = true
[[part.check]]
value = "loss_b_minus"
expected = "rnn:spec_loss_b_minus"
kind = "array"
[[part.check]]
value = "grad_b_fd"
expected = "rnn:spec_grad_b_fd"
kind = "array"
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("feedback")
    (folder / "toy.toml").write_text(RUBRIC)
    rubric = load_rubric(folder / "toy.toml")
    return rubric, compute_expected(rubric, folder / "cache", "digest")


def part(rubric, part_id):
    return next(p for p in rubric.parts if p.id == part_id)


def truth(expected, name):
    """The reference's value (these tests are about the grader's use of it, not the value itself)."""
    import reference.rnn

    return getattr(reference.rnn, f"spec_{name}")()


def test_a_gradient_ascent_step_is_named_and_gets_the_rubric_credit(graded) -> None:
    rubric, expected = graded
    gradient = truth(expected, "grad_b_bptt")
    outcome = RunOutcome(values={"b_new": B + 0.01 * gradient, "grad_b_bptt": gradient})
    result = score_part(part(rubric, "3.4"), expected, outcome)
    assert result.checks[0].misconception == "gradient ascent"
    assert "gradient ascent" in result.message and "Subtract the gradient." in result.message
    assert result.score == pytest.approx(5 * 0.2)


def test_a_step_from_the_students_own_wrong_gradient_earns_carried_credit(graded) -> None:
    rubric, expected = graded
    wrong_gradient = np.array([0.3, -0.4])
    outcome = RunOutcome(values={"b_new": B - 0.01 * wrong_gradient, "grad_b_bptt": wrong_gradient})
    result = score_part(part(rubric, "3.4"), expected, outcome)
    assert result.checks[0].carried and result.score == 5 and result.status == "correct"
    assert "your step is right for your gradient" in result.message and "grad_b_bptt" in result.message


def test_carried_credit_is_the_fraction_the_rubric_sets(graded) -> None:
    rubric, expected = graded
    b_new = np.array([-0.9, 1.1])
    from reference.rnn import loss_at_b  # the reference itself: what "right for your b" means

    outcome = RunOutcome(values={"loss_new": loss_at_b(b_new), "b_new": b_new})
    result = score_part(part(rubric, "3.5"), expected, outcome)
    assert result.score == pytest.approx(2.0) and result.status == "partial"


def test_a_missing_upstream_answer_is_graded_against_the_true_value(graded) -> None:
    rubric, expected = graded
    outcome = RunOutcome(values={"loss_new": 1.234})
    result = score_part(part(rubric, "3.5"), expected, outcome)
    assert result.score == 0 and not result.checks[0].carried


def test_an_upstream_answer_of_the_wrong_shape_gives_no_carried_credit_and_no_crash(graded) -> None:
    rubric, expected = graded
    outcome = RunOutcome(values={"b_new": [1.0, 2.0], "grad_b_bptt": "not a gradient"})
    result = score_part(part(rubric, "3.4"), expected, outcome)
    assert result.score == 0 and result.status == "incorrect"


def test_a_chain_says_where_the_work_first_departs(graded) -> None:
    rubric, expected = graded
    outcome = RunOutcome(values={"loss_b_minus": truth(expected, "loss_b_minus"), "grad_b_fd": [0.0, 0.0]})
    result = score_part(part(rubric, "3.2"), expected, outcome)
    assert "right up to loss_b_minus; the first to depart from the reference is grad_b_fd" in result.message
    assert result.score == 2


def test_right_values_get_no_misconception(graded) -> None:
    rubric, expected = graded
    outcome = RunOutcome(values={"b_new": truth(expected, "b_new"), "grad_b_bptt": truth(expected, "grad_b_bptt")})
    result = score_part(part(rubric, "3.4"), expected, outcome)
    assert result.score == 5 and not result.checks[0].misconception and not result.checks[0].carried


@pytest.mark.parametrize("snippet, key", [
    ('[[part.check.misconception]]\nexpected = "rnn:spec_b_new_ascent"\n', "name"),
    ('[[part.check.misconception]]\nname = "x"\nexpected = "rnn:nope"\n', "expected"),
    ('[[part.check.misconception]]\nname = "x"\nexpected = "rnn:spec_b_new_ascent"\ncredit = 2\n', "credit"),
    ('[part.check.carried]\nuses = []\nexpected = "rnn:loss_at_b"\n', "uses"),
])
def test_a_bad_misconception_or_carried_table_names_file_and_key(tmp_path: Path, snippet: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('assignment = "t"\n[[part]]\nid = "1"\npoints = 1\n[[part.check]]\nvalue = "x"\n'
                    'expected = "rnn:spec_loss"\nkind = "number"\n' + snippet)
    with pytest.raises(RubricError) as error:
        load_rubric(path)
    assert str(path) in str(error.value) and key in str(error.value)
