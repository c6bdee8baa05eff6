"""Rubrics: one TOML file per assignment, loaded into frozen dataclasses and validated at load.

A rubric says which parts exist, their points, where each answer comes from (a value or a
function named in the assignment's contract), which reference computes the expected value,
how it is compared, and which points a person grades. See `rubrics/README.md` for the format.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

KINDS = ("number", "expression", "array", "sequence", "choice", "integer", "boolean", "predicate")
_PART_KEYS = {"id", "title", "points", "manual_points", "manual", "check", "chain", "figure", "figure_cells"}
_CHECK_KEYS = {
    "value", "function", "expected", "reference", "cases", "kind", "rtol", "atol",
    "hide_expected", "weight", "required", "accepted", "label", "random_cases", "misconception", "carried",
    "hints", "digits",
}
_MISCONCEPTION_KEYS = {"name", "expected", "hint", "credit"}
_CARRIED_KEYS = {"uses", "expected", "credit", "message"}
_TOP_KEYS = {"assignment", "title", "defaults", "limits", "part", "writeup"}
_DEFAULT_KEYS = {"rtol", "atol", "seed", "random_cases", "digits"}
_WRITEUP_KEYS = {"given"}
_LIMIT_KEYS = {"cell_timeout", "call_timeout", "submission_timeout", "memory_mb"}


class RubricError(ValueError):
    """A rubric that cannot be used; the message names the file, the key and the problem."""

    @classmethod
    def at(cls, path: Path, where: str, problem: str) -> "RubricError":
        return cls(f"{path}: {where}: {problem}")


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = 10.0
    call_timeout: float = 10.0
    submission_timeout: float = 120.0
    memory_mb: int = 2048


@dataclass(frozen=True)
class Misconception:
    """A likely wrong answer: when the student's value matches `expected` (same tolerance), the
    report names the mistake, gives the hint, and the check earns `credit` of its weight."""

    name: str
    expected: str  # "module:function", no arguments
    hint: str = ""
    credit: float = 0.0


@dataclass(frozen=True)
class Carried:
    """Error carried forward: the expected value recomputed from the student's own earlier answers."""

    uses: tuple[str, ...]  # contract names of the earlier answers, passed by name to `expected`
    expected: str  # "module:function"
    credit: float = 1.0
    message: str = ""


@dataclass(frozen=True)
class Check:
    """One answer the grader reads (a value) or calls (a function), and how it is compared."""

    kind: str
    reference: str  # "module:function" in the `reference` package
    value: str | None = None
    function: str | None = None
    cases: str | None = None
    rtol: float = 1e-6
    atol: float = 1e-9
    hide_expected: bool = False
    weight: float = 1.0
    required: bool = True
    accepted: dict[str, tuple[str, ...]] = field(default_factory=dict)
    label: str = ""
    random_cases: int = 4
    misconceptions: tuple[Misconception, ...] = ()
    carried: Carried | None = None
    hints: tuple[str, ...] = ()  # in a write-up: words or symbols written before this quantity ("L(b_1 - \epsilon)")
    digits: int = 3  # in a write-up: significant digits a rounded decimal needs to count as agreeing

    @property
    def name(self) -> str:
        return self.value or self.function or ""


@dataclass(frozen=True)
class Part:
    id: str
    points: float
    title: str = ""
    manual_points: float = 0.0
    manual: str = ""  # the TA's rubric text for the points graded by hand
    checks: tuple[Check, ...] = ()
    chain: bool = False  # the checks are successive steps: the report says where the work first departs
    figure: str = ""  # "module:function" in reference/, no arguments, returns PNG bytes shown beside the student's
    figure_cells: tuple[str, ...] = ()  # words: the student's figures from cells whose source mentions any of them

    @property
    def max_score(self) -> float:
        return self.points + self.manual_points


@dataclass(frozen=True)
class Rubric:
    assignment: str
    title: str
    parts: tuple[Part, ...]
    path: Path
    seed: int = 0
    limits: Limits = Limits()
    given: tuple[str, ...] = ()  # in a write-up: symbols of the problem's data (`\eta`), whose values are not answers

    @property
    def max_score(self) -> float:
        return sum(p.max_score for p in self.parts)

    def value_names(self) -> list[str]:
        return sorted({c.value for p in self.parts for c in p.checks if c.value})


def resolve(name: str) -> Callable[..., Any]:
    """Import `module:function` from the reference package."""
    module_name, _, func_name = name.partition(":")
    module = importlib.import_module(f"reference.{module_name}")
    return getattr(module, func_name)


def _check_keys(path: Path, where: str, table: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise RubricError.at(path, where, f"unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")


def _typed(path: Path, where: str, table: dict[str, Any], key: str, types: tuple[type, ...], default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    if type(value) not in types:
        names = " or ".join(t.__name__ for t in types)
        raise RubricError.at(path, f"{where}.{key}", f"must be {names}, got {value!r}")
    return value


@functools.cache
def _reference_functions(module_name: str) -> frozenset[str] | None:
    """The functions a reference module defines, read from its source without importing it
    (importing reference/cnn.py imports torch: seconds that the workers' start-up can hide)."""
    spec = importlib.util.find_spec(f"reference.{module_name}") if module_name.isidentifier() else None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    return frozenset(node.name for node in tree.body if isinstance(node, ast.FunctionDef))


def _reference(path: Path, where: str, name: Any) -> str:
    if type(name) is not str or name.count(":") != 1:
        raise RubricError.at(path, where, f"must be 'module:function' in reference/, got {name!r}")
    module_name, func_name = name.split(":")
    functions = _reference_functions(module_name)
    if functions is None:
        raise RubricError.at(path, where, f"cannot find reference {name!r}: there is no reference/{module_name}.py")
    if func_name not in functions:
        raise RubricError.at(path, where, f"cannot find reference {name!r}: reference/{module_name}.py defines no function {func_name!r}")
    return name


def _credit(path: Path, where: str, raw: dict[str, Any], default: float) -> float:
    credit = float(_typed(path, where, raw, "credit", (int, float), default))
    if not 0 <= credit <= 1:
        raise RubricError.at(path, f"{where}.credit", f"must be a fraction of the check's weight in [0, 1], got {credit}")
    return credit


def _parse_misconception(path: Path, where: str, raw: Any) -> Misconception:
    if type(raw) is not dict:
        raise RubricError.at(path, where, "must be a table ([[part.check.misconception]])")
    _check_keys(path, where, raw, _MISCONCEPTION_KEYS)
    name = _typed(path, where, raw, "name", (str,), "")
    if not name:
        raise RubricError.at(path, f"{where}.name", "a misconception needs a name the report can show")
    return Misconception(name, _reference(path, f"{where}.expected", raw.get("expected")),
                         _typed(path, where, raw, "hint", (str,), ""), _credit(path, where, raw, 0.0))


def _parse_carried(path: Path, where: str, raw: Any) -> Carried:
    if type(raw) is not dict:
        raise RubricError.at(path, where, "must be a table ([part.check.carried])")
    _check_keys(path, where, raw, _CARRIED_KEYS)
    uses = _typed(path, where, raw, "uses", (list,), [])
    if not uses or not all(type(u) is str and u.isidentifier() for u in uses):
        raise RubricError.at(path, f"{where}.uses", "must list the contract names of the earlier answers")
    return Carried(tuple(uses), _reference(path, f"{where}.expected", raw.get("expected")),
                   _credit(path, where, raw, 1.0), _typed(path, where, raw, "message", (str,), ""))


def _parse_check(path: Path, where: str, raw: Any, defaults: dict[str, Any]) -> Check:
    if type(raw) is not dict:
        raise RubricError.at(path, where, f"must be a table ([[part.check]]), got {raw!r}")
    _check_keys(path, where, raw, _CHECK_KEYS)
    value, function = raw.get("value"), raw.get("function")
    if (value is None) == (function is None):
        raise RubricError.at(path, where, "needs exactly one of 'value' or 'function'")
    name = value if value is not None else function
    if type(name) is not str or not name.isidentifier():
        raise RubricError.at(path, where, f"the contract name must be a Python identifier, got {name!r}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise RubricError.at(path, f"{where}.kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "predicate" and value is None:
        raise RubricError.at(path, f"{where}.kind", "'predicate' judges a value; a function check needs a comparison kind")
    if value is not None:
        if "cases" in raw or "reference" in raw:
            raise RubricError.at(path, where, "a value check takes 'expected', not 'reference'/'cases'")
        if "expected" not in raw:
            raise RubricError.at(path, where, "a value check needs 'expected' (a reference function)")
        reference = _reference(path, f"{where}.expected", raw["expected"])
        cases = None
    else:
        if "expected" in raw:
            raise RubricError.at(path, where, "a function check takes 'reference' and 'cases', not 'expected'")
        for key in ("reference", "cases"):
            if key not in raw:
                raise RubricError.at(path, where, f"a function check needs {key!r}")
        reference = _reference(path, f"{where}.reference", raw["reference"])
        cases = _reference(path, f"{where}.cases", raw["cases"])
    accepted_raw = _typed(path, where, raw, "accepted", (dict,), {})
    accepted: dict[str, tuple[str, ...]] = {}
    for choice, phrasings in accepted_raw.items():
        if type(phrasings) is not list or not all(type(p) is str for p in phrasings):
            raise RubricError.at(path, f"{where}.accepted.{choice}", "must be a list of strings")
        accepted[choice] = tuple(phrasings)
    weight = float(_typed(path, where, raw, "weight", (int, float), 1))
    if not math.isfinite(weight) or weight <= 0:
        raise RubricError.at(path, f"{where}.weight", "must be positive")
    misconceptions = tuple(_parse_misconception(path, f"{where}.misconception[{i}]", m)
                           for i, m in enumerate(_typed(path, where, raw, "misconception", (list,), [])))
    carried = _parse_carried(path, f"{where}.carried", raw["carried"]) if "carried" in raw else None
    if (misconceptions or carried) and (value is None or kind == "predicate"):
        raise RubricError.at(path, where, "misconceptions and carried credit apply to value checks compared by value")
    return Check(
        misconceptions=misconceptions,
        carried=carried,
        kind=kind,
        reference=reference,
        value=value,
        function=function,
        cases=cases,
        rtol=float(_typed(path, where, raw, "rtol", (int, float), defaults.get("rtol", 1e-6))),
        atol=float(_typed(path, where, raw, "atol", (int, float), defaults.get("atol", 1e-9))),
        hide_expected=_typed(path, where, raw, "hide_expected", (bool,), False),
        weight=weight,
        required=_typed(path, where, raw, "required", (bool,), value is not None),
        accepted=accepted,
        label=_typed(path, where, raw, "label", (str,), ""),
        random_cases=_typed(path, where, raw, "random_cases", (int,), defaults.get("random_cases", 4)),
        hints=_strings(path, f"{where}.hints", _typed(path, where, raw, "hints", (list,), [])),
        digits=_typed(path, where, raw, "digits", (int,), defaults.get("digits", 3)),
    )


def _strings(path: Path, where: str, items: list[Any]) -> tuple[str, ...]:
    if not all(type(item) is str and item.strip() for item in items):
        raise RubricError.at(path, where, f"must be a list of non-empty strings, got {items!r}")
    return tuple(items)


def _parse_figure(path: Path, where: str, raw: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """A part's reference figure and the words that pick the student's figures: both or neither."""
    if "figure" not in raw and "figure_cells" not in raw:
        return "", ()
    if "figure" not in raw:
        raise RubricError.at(path, f"{where}.figure_cells", "needs 'figure', the reference figure shown beside them")
    figure = _reference(path, f"{where}.figure", raw["figure"])
    cells = raw.get("figure_cells")
    if type(cells) is not list or not cells or not all(type(w) is str and w.strip() for w in cells):
        raise RubricError.at(path, f"{where}.figure_cells",
                             f"must list the words that pick the student's figures (non-empty strings), got {cells!r}")
    return figure, tuple(w.strip() for w in cells)


def _parse_part(path: Path, index: int, raw: Any, defaults: dict[str, Any]) -> Part:
    where = f"part[{index}]"
    if type(raw) is not dict:
        raise RubricError.at(path, where, "must be a table")
    _check_keys(path, where, raw, _PART_KEYS)
    part_id = raw.get("id")
    if type(part_id) is not str or not part_id:
        raise RubricError.at(path, f"{where}.id", f"must be a non-empty string, got {part_id!r}")
    where = f"part {part_id!r}"
    points = float(_typed(path, where, raw, "points", (int, float), 0))
    manual_points = float(_typed(path, where, raw, "manual_points", (int, float), 0))
    if not (math.isfinite(points) and math.isfinite(manual_points)) or points < 0 or manual_points < 0:
        raise RubricError.at(path, where, "points must be finite and not negative")
    checks_raw = _typed(path, where, raw, "check", (list,), [])
    checks = tuple(_parse_check(path, f"{where}.check[{i}]", c, defaults) for i, c in enumerate(checks_raw))
    manual = _typed(path, where, raw, "manual", (str,), "")
    if points > 0 and not checks:
        raise RubricError.at(path, where, "has auto points but no [[part.check]]; use manual_points for hand grading")
    if manual_points > 0 and not manual:
        raise RubricError.at(path, where, "has manual_points but no 'manual' rubric text for the TA")
    if points + manual_points <= 0:
        raise RubricError.at(path, where, "is worth no points")
    figure, figure_cells = _parse_figure(path, where, raw)
    return Part(
        id=part_id,
        points=points,
        title=_typed(path, where, raw, "title", (str,), ""),
        manual_points=manual_points,
        manual=manual,
        checks=checks,
        chain=_typed(path, where, raw, "chain", (bool,), False),
        figure=figure,
        figure_cells=figure_cells,
    )


def load_rubric(path: str | Path) -> Rubric:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RubricError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise RubricError(f"{path}: not UTF-8 text (byte {exc.start}); save the rubric as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{path}: not valid TOML: {exc}") from None
    _check_keys(path, "top level", data, _TOP_KEYS)
    assignment = data.get("assignment")
    if type(assignment) is not str or not assignment:
        raise RubricError.at(path, "assignment", "must be the assignment id, a non-empty string")
    defaults = _typed(path, "top level", data, "defaults", (dict,), {})
    _check_keys(path, "defaults", defaults, _DEFAULT_KEYS)
    for key, types in (("rtol", (int, float)), ("atol", (int, float)), ("seed", (int,)), ("random_cases", (int,)),
                       ("digits", (int,))):
        _typed(path, "defaults", defaults, key, types, None)
    writeup = _typed(path, "top level", data, "writeup", (dict,), {})
    _check_keys(path, "writeup", writeup, _WRITEUP_KEYS)
    given = _strings(path, "writeup.given", _typed(path, "writeup", writeup, "given", (list,), []))
    limits_raw = _typed(path, "top level", data, "limits", (dict,), {})
    _check_keys(path, "limits", limits_raw, _LIMIT_KEYS)
    limits = Limits(**{k: _typed(path, "limits", limits_raw, k, (int, float), getattr(Limits, k)) for k in limits_raw})
    parts_raw = _typed(path, "top level", data, "part", (list,), [])
    if not parts_raw:
        raise RubricError.at(path, "part", "the rubric lists no parts")
    parts = tuple(_parse_part(path, i, raw, defaults) for i, raw in enumerate(parts_raw))
    seen: set[str] = set()
    for part in parts:
        if part.id in seen:
            raise RubricError.at(path, f"part {part.id!r}", "the id appears twice")
        seen.add(part.id)
    return Rubric(
        assignment=assignment,
        title=_typed(path, "top level", data, "title", (str,), assignment),
        parts=parts,
        path=path,
        seed=_typed(path, "defaults", defaults, "seed", (int,), 0),
        limits=limits,
        given=given,
    )


def load_rubrics(folder: str | Path) -> dict[str, Rubric]:
    """Every `*.toml` rubric in a folder, keyed by assignment id."""
    rubrics: dict[str, Rubric] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        rubric = load_rubric(path)
        if rubric.assignment in rubrics:
            raise RubricError.at(path, "assignment", f"{rubric.assignment!r} is also defined by {rubrics[rubric.assignment].path}")
        rubrics[rubric.assignment] = rubric
    return rubrics
