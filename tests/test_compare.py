"""Behaviour of the answer comparisons run in the grading process."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader.compare import (
    SHOWN_LIMIT,
    Verdict,
    compare,
    compare_array,
    compare_boolean,
    compare_choice,
    compare_integer,
    compare_number,
    compare_sequence,
    render,
)

TOL = {"rtol": 1e-4, "atol": 1e-6}


class Hostile:
    """Stands for any unexpected object: comparing it with == would blow up."""

    def __eq__(self, other: object) -> bool:
        raise AssertionError("== must never be applied to a student's object")

    __hash__ = None  # type: ignore[assignment]


# ---------------------------------------------------------------- numbers

def test_number_passes_exactly_at_the_tolerance_boundary_and_fails_just_beyond() -> None:
    expected, rtol, atol = 2.0, 0.125, 0.25
    tolerance = 0.5  # atol + rtol*|expected|, all exactly representable
    for inside in (expected + tolerance, expected - tolerance):
        assert compare_number(inside, expected, rtol=rtol, atol=atol).ok
    for outside in (np.nextafter(expected + tolerance, math.inf), np.nextafter(expected - tolerance, -math.inf)):
        assert not compare_number(float(outside), expected, rtol=rtol, atol=atol).ok


def test_number_failure_states_the_error_and_the_tolerance_formula_with_its_value() -> None:
    verdict = compare_number(0.5, 0.532, **TOL)
    assert not verdict.ok
    assert "off by 3.2e-2" in verdict.message
    assert "tolerance is 1e-6 + 1e-4·|expected| = 5.4e-5" in verdict.message  # 1e-6 + 1e-4*0.532 = 5.42e-5
    assert verdict.max_error == pytest.approx(0.032)
    assert verdict.shown_got == "0.5" and verdict.shown_expected == "0.532"


def test_number_pass_message_also_states_the_tolerance() -> None:
    verdict = compare_number(1.00001, 1.0, **TOL)
    assert verdict.ok and "1e-6 + 1e-4·|expected|" in verdict.message


@pytest.mark.parametrize("got", [True, False, np.bool_(True), np.array(True), [True]])
def test_bool_is_not_a_number(got: object) -> None:
    verdict = compare_number(got, 1.0, **TOL)
    assert not verdict.ok and "bool" in verdict.message


@pytest.mark.parametrize(
    ("got", "word"),
    [(math.nan, "NaN"), (math.inf, "infinite"), (-math.inf, "infinite"), (np.array([math.nan]), "NaN")],
)
def test_number_nan_and_inf_fail_with_a_message_saying_so(got: object, word: str) -> None:
    verdict = compare_number(got, 1.0, **TOL)
    assert not verdict.ok and word in verdict.message


@pytest.mark.parametrize("got", ["6^(-1/3)", "6**(-1/3)", " 0.5503212081491045 "])
def test_number_accepts_a_string_expression(got: str) -> None:
    verdict = compare_number(got, 6 ** (-1 / 3), **TOL)
    assert verdict.ok
    assert verdict.shown_got.startswith(repr(got)) and "= 0.550321" in verdict.shown_got


def test_number_reports_an_unreadable_expression() -> None:
    verdict = compare_number("__import__('os')", 1.0, **TOL)
    assert not verdict.ok and verdict.message.startswith("Could not read your answer as a number")


@pytest.mark.parametrize("got", [3, 3.0, np.float32(3.0), np.int64(3), np.array(3.0), np.array([[3]]), [3.0], ["3"]])
def test_number_accepts_single_number_forms(got: object) -> None:
    assert compare_number(got, 3.0, **TOL).ok


@pytest.mark.parametrize(
    ("got", "fragment"),
    [
        ({"a": 1}, "got a dict"),
        (None, "got None"),
        ([1.0, 2.0], "a list of 2 items"),
        (np.zeros(3), "an array of shape (3,)"),
        (Hostile(), "got a Hostile"),
    ],
)
def test_number_rejects_unexpected_types_naming_the_type(got: object, fragment: str) -> None:
    verdict = compare_number(got, 1.0, **TOL)
    assert not verdict.ok and fragment in verdict.message


def test_hidden_expected_number_reveals_neither_value_nor_error() -> None:
    verdict = compare_number(0.5, 0.532, **TOL, hide_expected=True)
    assert not verdict.ok
    assert "0.532" not in verdict.message and "3.2e-2" not in verdict.message
    assert "1e-6 + 1e-4·|expected|" in verdict.message
    assert verdict.shown_expected == "" and verdict.max_error is None


def test_negative_tolerance_is_a_rubric_error() -> None:
    with pytest.raises(ValueError):
        compare_number(1.0, 1.0, rtol=-1.0, atol=0.0)


# ---------------------------------------------------------------- arrays

EXPECTED = np.arange(6.0).reshape(3, 2)


def test_array_passes_for_a_nested_list_and_an_integer_array() -> None:
    assert compare_array(EXPECTED.tolist(), EXPECTED, **TOL).ok
    assert compare_array(EXPECTED.astype(np.int32), EXPECTED, **TOL).ok


def test_array_elementwise_tolerance_boundary() -> None:
    expected = np.array([0.0, 4.0, -8.0])
    rtol, atol = 0.25, 0.5
    tolerance = atol + rtol * np.abs(expected)  # [0.5, 1.5, 2.5]
    assert compare_array(expected + tolerance, expected, rtol=rtol, atol=atol).ok
    beyond = expected + tolerance
    beyond[2] = np.nextafter(beyond[2], math.inf)
    verdict = compare_array(beyond, expected, rtol=rtol, atol=atol)
    assert not verdict.ok and "1 of 3 entries" in verdict.message and "index (2,)" in verdict.message


def test_wrong_shape_fails_with_both_shapes_and_a_transpose_hint() -> None:
    verdict = compare_array(EXPECTED.T, EXPECTED, **TOL)
    assert not verdict.ok
    assert "Expected shape (3, 2), got (2, 3)" in verdict.message and "looks transposed" in verdict.message


def test_size_one_axes_are_not_squeezed_silently() -> None:
    verdict = compare_array(np.zeros((3, 1)), np.zeros(3), **TOL)
    assert not verdict.ok and "Expected shape (3,), got (3, 1)" in verdict.message
    assert "transposed" not in verdict.message


def test_ragged_list_is_reported_clearly() -> None:
    verdict = compare_array([[1.0, 2.0], [3.0]], EXPECTED, **TOL)
    assert not verdict.ok
    assert "could not read your value as an array of numbers: ragged nesting" in verdict.message.lower()


@pytest.mark.parametrize(
    ("got", "fragment"),
    [
        ([[0, 1], [2, "3"], [4, 5]], "contains a str"),
        ([[0, 1], [2, None], [4, 5]], "contains None"),
        ([[0, 1], [2, True], [4, 5]], "contains a bool"),
        (np.ones((3, 2), dtype=bool), "dtype bool"),
        ({"a": 1}, "got a dict"),
        ("[[0, 1]]", "got a str"),
    ],
)
def test_array_rejects_non_numeric_values_naming_the_type(got: object, fragment: str) -> None:
    verdict = compare_array(got, EXPECTED, **TOL)
    assert not verdict.ok and fragment in verdict.message


def test_array_nan_and_inf_are_counted_with_the_first_index() -> None:
    got = EXPECTED.copy()
    got[1, 0], got[2, 1] = math.nan, math.inf
    verdict = compare_array(got, EXPECTED, **TOL)
    assert not verdict.ok
    assert "1 NaN and 1 infinite" in verdict.message and "index (1, 0)" in verdict.message


def test_array_failure_names_count_first_index_values_and_largest_error() -> None:
    got = EXPECTED.copy()
    got[1, 0] += 0.1
    got[2, 1] += 1.0
    verdict = compare_array(got, EXPECTED, **TOL)
    assert not verdict.ok
    assert "2 of 6 entries" in verdict.message and "index (1, 0)" in verdict.message
    assert "got 2.1, expected 2" in verdict.message
    assert "1e-6 + 1e-4·|expected|" in verdict.message and "largest error 1.0e0" in verdict.message
    assert verdict.max_error == pytest.approx(1.0)


def test_hidden_expected_array_shows_only_the_students_entry() -> None:
    got = EXPECTED + 0.5
    verdict = compare_array(got, EXPECTED, **TOL, hide_expected=True)
    assert not verdict.ok and "where you have 0.5" in verdict.message
    assert "expected 0" not in verdict.message and verdict.shown_expected == "" and verdict.max_error is None


# ---------------------------------------------------------------- sequences

def test_sequence_passes_when_every_element_matches() -> None:
    maps = [EXPECTED, EXPECTED * 2, EXPECTED * 3]
    assert compare_sequence([m.tolist() for m in maps], maps, **TOL).ok


def test_sequence_names_the_failing_element() -> None:
    maps = [EXPECTED, EXPECTED, EXPECTED]
    verdict = compare_sequence([EXPECTED, EXPECTED.T, EXPECTED], maps, **TOL)
    assert not verdict.ok
    assert verdict.message.startswith("Element 2 of 3 (index 1): expected shape (3, 2), got (2, 3)")


def test_sequence_counts_several_failing_elements() -> None:
    verdict = compare_sequence([EXPECTED + 1, EXPECTED, EXPECTED + 1], [EXPECTED] * 3, **TOL)
    assert verdict.message.startswith("Element 1 of 3") and "2 of 3 elements are wrong" in verdict.message


@pytest.mark.parametrize(
    ("got", "fragment"),
    [([EXPECTED, EXPECTED], "Expected a list of 3 arrays, got 2 items"), (EXPECTED, "got an array")],
)
def test_sequence_rejects_wrong_length_or_type(got: object, fragment: str) -> None:
    verdict = compare_sequence(got, [EXPECTED] * 3, **TOL)
    assert not verdict.ok and fragment in verdict.message


# ---------------------------------------------------------------- choices, integers, booleans

@pytest.mark.parametrize("got", ["Adam", "adam", "  ADAM  ", "'Adam'", '"Adam".', "Adam.", "“Adam”"])
def test_choice_ignores_case_spacing_quotes_and_a_trailing_period(got: str) -> None:
    assert compare_choice(got, "adam").ok


def test_choice_collapses_internal_whitespace() -> None:
    assert compare_choice("gradient   \n descent", "Gradient descent").ok


def test_choice_accepts_listed_phrasings_of_the_expected_choice_only() -> None:
    accepted = {"SGD": ["stochastic gradient descent"], "Adam": ["adaptive moments"]}
    assert compare_choice("Stochastic  Gradient Descent.", "sgd", accepted=accepted).ok
    assert not compare_choice("adaptive moments", "sgd", accepted=accepted).ok


def test_choice_failure_and_type_messages() -> None:
    verdict = compare_choice("sgd", "Adam")
    assert not verdict.ok and "Expected 'Adam', got 'sgd'" in verdict.message
    hidden = compare_choice("sgd", "Adam", hide_expected=True)
    assert "Adam" not in hidden.message and hidden.shown_expected == ""
    for got, fragment in ((1, "got an int"), (None, "got None"), (Hostile(), "got a Hostile")):
        verdict = compare_choice(got, "Adam")
        assert not verdict.ok and fragment in verdict.message


@pytest.mark.parametrize("got", [12, 12.0, np.int64(12), np.array(12), np.float32(12.0)])
def test_integer_accepts_integral_forms(got: object) -> None:
    assert compare_integer(got, 12).ok


@pytest.mark.parametrize(
    ("got", "fragment"),
    [(13, "Expected 12, got 13"), (12.5, "got 12.5"), (True, "got a bool"), ("12", "got a str"),
     (math.nan, "got nan"), (np.array([12]), "shape (1,)"), (Hostile(), "got a Hostile")],
)
def test_integer_rejects_other_values_with_a_message(got: object, fragment: str) -> None:
    verdict = compare_integer(got, 12)
    assert not verdict.ok and fragment in verdict.message


@pytest.mark.parametrize("got", [True, np.bool_(True), np.array(True)])
def test_boolean_accepts_bool_forms(got: object) -> None:
    assert compare_boolean(got, True).ok


@pytest.mark.parametrize(("got", "fragment"), [(False, "Expected True, got False"), (1, "got an int"),
                                                ("True", "got a str"), (Hostile(), "got a Hostile")])
def test_boolean_rejects_wrong_values_and_non_bools(got: object, fragment: str) -> None:
    verdict = compare_boolean(got, True)
    assert not verdict.ok and fragment in verdict.message


# ---------------------------------------------------------------- rendering and dispatch

def test_render_is_short_and_readable() -> None:
    assert render(math.pi) == "3.14159"
    assert render(None) == "None" and render(True) == "True" and render({"a": 1}) == "<dict>"
    assert render(np.arange(100.0)).count("...") == 1
    assert render("x" * 1000).endswith("…") and len(render("x" * 1000)) <= 205
    assert len(render([list(range(1000))] * 1000)) <= SHOWN_LIMIT
    assert "bit integer" in render(10**400)


@pytest.mark.parametrize(
    ("kind", "got", "expected", "options"),
    [
        ("number", 0.5, 0.5, TOL),
        ("expression", "1/2", 0.5, TOL),
        ("array", [[1.0]], np.ones((1, 1)), TOL),
        ("sequence", [[1.0]], [np.ones(1)], TOL),
        ("choice", "Yes", "yes", {}),
        ("integer", 3, 3, {}),
        ("boolean", False, False, {}),
    ],
)
def test_compare_dispatches_on_kind(kind: str, got: object, expected: object, options: dict) -> None:
    verdict = compare(kind, got, expected, **options)
    assert isinstance(verdict, Verdict) and verdict.ok


def test_compare_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown comparison kind 'tensor'"):
        compare("tensor", 1, 1)


def test_verdict_is_immutable() -> None:
    verdict = Verdict(True, "Correct.")
    with pytest.raises(AttributeError):
        verdict.ok = False  # type: ignore[misc]
