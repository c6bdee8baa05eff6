"""Rubrics: TOML loaded into frozen dataclasses, every mistake a RubricError naming file and key."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from grader.rubric import RubricError, load_rubric, load_rubrics

ROOT = Path(__file__).resolve().parents[1]
RUBRICS = ROOT / "rubrics"

MINIMAL = """\
assignment = "hw-test"

[[part]]
id = "q1"
points = 2
[[part.check]]
value = "gamma_A"
expected = "rl:spec_gamma_A"
kind = "expression"
"""


def write(tmp_path: Path, text: str, name: str = "hw-test.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rubric_error(path: Path) -> str:
    with pytest.raises(RubricError) as info:
        load_rubric(path)
    return str(info.value)


def without_path(message: str, path: Path) -> str:
    """The message with the file name cut out, so a key is never found inside the tmp path."""
    return message.replace(str(path), "<file>")


# ---------------------------------------------------------------- valid rubrics


def test_minimal_rubric_loads_into_frozen_dataclasses(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    rubric = load_rubric(path)
    assert rubric.assignment == "hw-test"
    assert rubric.title == "hw-test"  # the title falls back to the assignment id
    assert rubric.path == path
    assert [p.id for p in rubric.parts] == ["q1"]
    part = rubric.parts[0]
    assert part.points == 2.0 and part.manual_points == 0.0 and part.max_score == 2.0
    (check,) = part.checks
    assert (check.value, check.function, check.kind, check.reference) == ("gamma_A", None, "expression", "rl:spec_gamma_A")
    assert check.required is True  # values are required unless the rubric says otherwise
    assert rubric.max_score == 2.0
    assert rubric.value_names() == ["gamma_A"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rubric.parts[0].points = 100  # type: ignore[misc]


def test_function_check_is_optional_by_default_and_defaults_apply(tmp_path: Path) -> None:
    path = write(tmp_path, """\
assignment = "hw-test"
[defaults]
rtol = 1e-3
atol = 0.5
seed = 11
random_cases = 7
[limits]
cell_timeout = 3
[[part]]
id = "3A"
points = 4
manual_points = 1
manual = "explains the break-even"
[[part.check]]
function = "breakeven_gamma"
reference = "rl:breakeven_gamma"
cases = "rl:breakeven_gamma_cases"
kind = "number"
[[part.check]]
value = "gamma_B"
expected = "rl:spec_gamma_B"
kind = "expression"
rtol = 1e-9
weight = 2
""")
    rubric = load_rubric(path)
    function_check, value_check = rubric.parts[0].checks
    assert function_check.required is False
    assert (function_check.rtol, function_check.atol, function_check.random_cases) == (1e-3, 0.5, 7)
    assert function_check.cases == "rl:breakeven_gamma_cases"
    assert value_check.rtol == 1e-9 and value_check.atol == 0.5 and value_check.weight == 2.0
    assert rubric.seed == 11
    assert rubric.limits.cell_timeout == 3
    assert rubric.parts[0].max_score == 5.0
    assert [c.function for p in rubric.parts for c in p.checks if c.function] == ["breakeven_gamma"]


def test_manual_only_part_loads(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '\n[[part]]\nid = "essay"\nmanual_points = 5\nmanual = "a paragraph on LSTMs"\n')
    rubric = load_rubric(path)
    essay = rubric.parts[1]
    assert essay.checks == () and essay.points == 0 and essay.max_score == 5
    assert rubric.max_score == 7


# ---------------------------------------------------------------- mistakes

CHECK_HEAD = 'assignment = "hw-test"\n[[part]]\nid = "q1"\npoints = 2\n[[part.check]]\n'
VALUE_CHECK = 'value = "gamma_A"\nexpected = "rl:spec_gamma_A"\nkind = "expression"\n'
FUNCTION_CHECK = 'function = "breakeven_gamma"\nreference = "rl:breakeven_gamma"\ncases = "rl:breakeven_gamma_cases"\nkind = "number"\n'

MISTAKES = {
    "unknown check key": (CHECK_HEAD + VALUE_CHECK + "tolerance = 0.1\n", "tolerance"),
    "unknown part key": (MINIMAL.replace("points = 2", "points = 2\npionts = 3"), "pionts"),
    "unknown top-level key": ('titel = "x"\n' + MINIMAL, "titel"),
    "unknown defaults key": (MINIMAL.replace('[[part]]', '[defaults]\nrtoll = 1e-3\n[[part]]', 1), "rtoll"),
    "unknown limits key": (MINIMAL.replace('[[part]]', '[limits]\ncell_timout = 3\n[[part]]', 1), "cell_timout"),
    "points of the wrong type": (MINIMAL.replace("points = 2", 'points = "two"'), "points"),
    "boolean points": (MINIMAL.replace("points = 2", "points = true"), "points"),
    "weight of the wrong type": (CHECK_HEAD + VALUE_CHECK + 'weight = "heavy"\n', "weight"),
    "hide_expected of the wrong type": (CHECK_HEAD + VALUE_CHECK + 'hide_expected = "yes"\n', "hide_expected"),
    "accepted phrasings not a list": (CHECK_HEAD + VALUE_CHECK.replace("expression", "choice")
                                      + 'accepted = { right = "move right" }\n', "accepted"),
    "limit of the wrong type": (MINIMAL.replace('[[part]]', '[limits]\ncell_timeout = "5s"\n[[part]]', 1), "cell_timeout"),
    "unknown kind": (CHECK_HEAD + VALUE_CHECK.replace('"expression"', '"float"'), "kind"),
    "value check without expected": (CHECK_HEAD + 'value = "gamma_A"\nkind = "expression"\n', "expected"),
    "value check with reference": (CHECK_HEAD + 'value = "gamma_A"\nreference = "rl:spec_gamma_A"\nkind = "number"\n',
                                   "reference"),
    "function check without cases": (CHECK_HEAD + FUNCTION_CHECK.replace('cases = "rl:breakeven_gamma_cases"\n', ""),
                                     "cases"),
    "function check without reference": (CHECK_HEAD + FUNCTION_CHECK.replace('reference = "rl:breakeven_gamma"\n', ""),
                                         "reference"),
    "function check with expected": (CHECK_HEAD + FUNCTION_CHECK + 'expected = "rl:spec_gamma_A"\n', "expected"),
    "reference that does not exist": (CHECK_HEAD + VALUE_CHECK.replace("rl:spec_gamma_A", "rnn:nope"), "rnn:nope"),
    "reference module that does not exist": (CHECK_HEAD + VALUE_CHECK.replace("rl:spec_gamma_A", "nomodule:f"),
                                             "nomodule:f"),
    "cases that do not exist": (CHECK_HEAD + FUNCTION_CHECK.replace("rl:breakeven_gamma_cases", "rl:nope_cases"),
                                "rl:nope_cases"),
    "reference without a colon": (CHECK_HEAD + VALUE_CHECK.replace("rl:spec_gamma_A", "rl.spec_gamma_A"), "expected"),
    "both value and function": (CHECK_HEAD + VALUE_CHECK + 'function = "f"\n', "value"),
    "contract name not an identifier": (CHECK_HEAD + VALUE_CHECK.replace('"gamma_A"', '"gamma A"'), "gamma A"),
    "duplicate part id": (MINIMAL + MINIMAL.split("\n", 2)[2], "'q1'"),
    "no parts": ('assignment = "hw-test"\ntitle = "nothing"\n', "part"),
    "empty part id": (MINIMAL.replace('id = "q1"', 'id = ""'), "id"),
    "missing assignment": (MINIMAL.replace('assignment = "hw-test"', 'title = "t"'), "assignment"),
    "manual_points without manual": (MINIMAL.replace("points = 2", "points = 2\nmanual_points = 3"), "manual"),
    "auto points without checks": ('assignment = "hw-test"\n[[part]]\nid = "q1"\npoints = 2\n', "check"),
    "part worth nothing": ('assignment = "hw-test"\n[[part]]\nid = "q1"\nmanual = "x"\n', "no points"),
    "negative points": (MINIMAL.replace("points = 2", "points = -2"), "negative"),
    "zero weight": (CHECK_HEAD + VALUE_CHECK + "weight = 0\n", "weight"),
}


@pytest.mark.parametrize("text, key", list(MISTAKES.values()), ids=list(MISTAKES))
def test_each_mistake_names_the_file_and_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    message = rubric_error(path)
    assert message.startswith(f"{path}:"), message
    assert key in without_path(message, path), message


def test_unknown_kind_lists_the_allowed_kinds(tmp_path: Path) -> None:
    path = write(tmp_path, CHECK_HEAD + VALUE_CHECK.replace('"expression"', '"float"'))
    message = without_path(rubric_error(path), path)
    assert "'float'" in message and "number" in message and "predicate" in message


def test_mistake_in_second_part_names_that_part(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '[[part]]\nid = "q2"\npoints = 1\n[[part.check]]\nvalue = "x"\n'
                                     'expected = "rnn:nope"\nkind = "number"\n')
    message = without_path(rubric_error(path), path)
    assert "'q2'" in message and "'q1'" not in message and "rnn:nope" in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'assignment = "hw-test\n[[part]\n')
    message = rubric_error(path)
    assert message.startswith(f"{path}:")
    assert "TOML" in without_path(message, path)


def test_missing_file_is_a_rubric_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    assert rubric_error(path).startswith(f"{path}:")


def test_two_files_for_one_assignment_name_the_second_file(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "a.toml")
    second = write(tmp_path, MINIMAL, "b.toml")
    with pytest.raises(RubricError) as info:
        load_rubrics(tmp_path)
    assert str(info.value).startswith(f"{second}:")
    assert "hw-test" in without_path(str(info.value), second)


def test_non_utf8_rubric_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(MINIMAL.replace("hw-test", "hw-t\xe9st").encode("latin-1"))
    assert rubric_error(path).startswith(f"{path}:")


def test_check_list_of_numbers_is_a_rubric_error(tmp_path: Path) -> None:
    path = write(tmp_path, 'assignment = "hw-test"\n[[part]]\nid = "q1"\npoints = 2\ncheck = [1]\n')
    assert "check" in without_path(rubric_error(path), path)


def test_defaults_tolerance_of_the_wrong_type_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace('[[part]]', '[defaults]\nrtol = "tight"\n[[part]]', 1))
    message = rubric_error(path)
    assert message.startswith(f"{path}:") and "rtol" in without_path(message, path)


def test_defaults_random_cases_of_the_wrong_type_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace('[[part]]', '[defaults]\nrandom_cases = "4"\n[[part]]', 1))
    assert "random_cases" in without_path(rubric_error(path), path)


def test_nan_points_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("points = 2", "points = nan"))
    assert "points" in without_path(rubric_error(path), path)


# ---------------------------------------------------------------- the real rubrics


def _homework_folder() -> Path:
    for candidate in (ROOT / "shared" / "homework", ROOT.parent / "shared" / "homework"):
        if candidate.is_dir():
            return candidate
    pytest.skip("the homework specs (shared/homework) are not beside this checkout")


def _spec_ids(spec: Path) -> tuple[str, list[str]]:
    text = spec.read_text(encoding="utf-8")
    assignment = re.search(r"Assignment id:\s*`([^`]+)`", text)
    parts = re.search(r"Part ids:\s*`([^`]+)`", text)
    assert assignment and parts, f"{spec} has no 'Assignment id:' / 'Part ids:' line"
    return assignment.group(1), parts.group(1).split()


def test_real_rubrics_load_and_cover_exactly_the_spec_part_ids() -> None:
    specs = sorted(_homework_folder().glob("*.md"))
    assert specs, "no homework specs found"
    rubrics = load_rubrics(RUBRICS)
    assert len(rubrics) == len(list(RUBRICS.glob("*.toml")))
    for spec in specs:
        assignment, ids = _spec_ids(spec)
        assert assignment in rubrics, f"no rubric for {assignment} ({spec.name})"
        rubric_ids = [p.id for p in rubrics[assignment].parts]
        assert len(rubric_ids) == len(set(rubric_ids))
        assert sorted(rubric_ids) == sorted(ids), f"{assignment}: rubric parts differ from the spec's Part ids"
    assert sorted(rubrics) == sorted(_spec_ids(s)[0] for s in specs)


@pytest.mark.parametrize("path", sorted(RUBRICS.glob("*.toml")), ids=lambda p: p.stem)
def test_each_real_rubric_loads_with_positive_points(path: Path) -> None:
    rubric = load_rubric(path)
    assert rubric.assignment == path.stem
    assert rubric.max_score > 0
    assert all(p.max_score > 0 for p in rubric.parts)
