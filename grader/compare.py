"""Compare a student's decoded answer with the reference answer.

This runs in the grading (parent) process on plain data already decoded from
the sandboxed child: exact builtins (None, bool, int, float, str, list) or
numeric ``numpy.ndarray``.  Every check branches on the *exact* type of the
student's value and never applies ``==`` to an arbitrary object, so an
unexpected type yields a verdict naming that type instead of an exception or a
surprising coercion (``True`` is not the number 1 here).

Numbers and array entries pass when ``|got - expected| <= atol + rtol*|expected|``
(the ``numpy.isclose`` rule): ``atol`` lets answers near zero pass, ``rtol``
scales with the size of the answer.  Messages state the formula and its value.

With ``hide_expected=True`` a verdict carries nothing from which the expected
value could be rebuilt: no expected value, no error size (``max_error`` is
None) and only the tolerance formula, not its value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from grader.expr import ExpressionError, parse_number

SHOWN_LIMIT = 300
STRING_LIMIT = 200
_QUOTES = "'\"`‘’“” "


@dataclass(frozen=True)
class Verdict:
    """Outcome of one comparison, ready to show to the student."""

    ok: bool
    message: str  # a sentence a student can act on
    max_error: float | None = None  # largest |got - expected| where meaningful
    shown_got: str = ""  # short rendering of the student's value
    shown_expected: str = ""  # short rendering of the expected value ("" when hidden)


class _Rejected(Exception):
    """The student's value has the wrong type or form; the text is the verdict message."""


def compare_number(
    got: object, expected: float, *, rtol: float, atol: float, hide_expected: bool = False
) -> Verdict:
    """Pass when ``|got - expected| <= atol + rtol*|expected|``.

    ``got`` may be an int or float (never a bool), a numpy number, a size-1
    array, a list of one number, or a str expression such as ``"6^(-1/3)"``.
    """
    target, formula = float(expected), _formula(rtol, atol)
    if not math.isfinite(target):
        raise ValueError(f"the reference value must be finite, got {target}")
    verdict = _maker(got, target, hide_expected)
    try:
        value = _number_from(got)
    except _Rejected as exc:
        return verdict(False, str(exc))
    if type(got) is str:
        verdict = partial(verdict, shown_got=f"{render(got)} = {render(value)}")
    if not math.isfinite(value):
        kind = "NaN" if math.isnan(value) else "infinite"
        return verdict(False, f"Your value is {kind}; a finite number is needed.")
    error, tolerance = abs(value - target), atol + rtol * abs(target)
    ok = error <= tolerance
    if hide_expected:
        return verdict(ok, f"Correct: within tolerance {formula}." if ok else
                       f"Your value {render(value)} is not within tolerance {formula} of the expected value.")
    detail = f"off by {_sci(error)}; tolerance is {formula} = {_sci(tolerance)}"
    message = f"Correct: {detail}." if ok else f"Your value {render(value)} is {detail}; expected {render(target)}."
    return verdict(ok, message, error)


def compare_array(
    got: object, expected: np.ndarray, *, rtol: float, atol: float, hide_expected: bool = False
) -> Verdict:
    """Same shape, all entries finite, and every entry within ``atol + rtol*|expected|``.

    Shapes must match exactly (no silent squeezing or broadcasting), since a
    (3, 1) answer for a (3,) reference usually hides a real bug; a transposed
    answer gets a hint.
    """
    reference, formula = np.asarray(expected, dtype=np.float64), _formula(rtol, atol)
    if not np.isfinite(reference).all():
        raise ValueError("the reference array must be finite")
    verdict = _maker(got, reference, hide_expected)
    try:
        values = _array_from(got)
    except _Rejected as exc:
        return verdict(False, str(exc))
    if values.shape != reference.shape:
        transposed = values.ndim >= 2 and values.T.shape == reference.shape
        hint = "; it looks transposed (your array's .T has the expected shape)" if transposed else ""
        return verdict(False, f"Expected shape {reference.shape}, got {values.shape}{hint}.")
    bad = ~np.isfinite(values)
    if bad.any():
        nans, infs = int(np.isnan(values).sum()), int(np.isinf(values).sum())
        where = _index(np.argwhere(bad)[0])
        return verdict(False, f"Your array has {nans} NaN and {infs} infinite entries (first at index {where}).")
    with np.errstate(over="ignore"):
        errors = np.abs(values - reference)
    tolerances = atol + rtol * np.abs(reference)
    wrong = ~(errors <= tolerances)
    max_error = None if hide_expected else (float(errors.max()) if errors.size else 0.0)
    largest = "" if max_error is None else f"; largest error {_sci(max_error)}"
    if not wrong.any():
        return verdict(True, f"Correct: all {values.size} entries within tolerance {formula}{largest}.", max_error)
    at = tuple(np.argwhere(wrong)[0])
    summary = (f"{int(wrong.sum())} of {values.size} entries are outside tolerance {formula}; "
               f"first at index {_index(at)}")
    if hide_expected:
        return verdict(False, f"{summary}, where you have {render(values[at])}.")
    return verdict(False, f"{summary}: got {render(values[at])}, expected {render(reference[at])} (off by "
                          f"{_sci(float(errors[at]))}, tolerance there {_sci(float(tolerances[at]))}){largest}.",
                   max_error)


def compare_sequence(
    got: object, expected: list | tuple, *, rtol: float, atol: float, hide_expected: bool = False
) -> Verdict:
    """A list of arrays (e.g. several feature maps), each checked with :func:`compare_array`."""
    total = len(expected)
    verdict = _maker(got, list(expected), hide_expected)
    if type(got) is not list and type(got) is not tuple:
        return verdict(False, f"Expected a list of {total} arrays, got {_kind_of(got)}.")
    if len(got) != total:
        return verdict(False, f"Expected a list of {total} arrays, got {len(got)} items.")
    verdicts = [compare_array(item, np.asarray(reference), rtol=rtol, atol=atol, hide_expected=hide_expected)
                for item, reference in zip(got, expected)]
    errors = [v.max_error for v in verdicts if v.max_error is not None]
    max_error = max(errors) if errors and len(errors) == total else None
    failed = [(i, v.message) for i, v in enumerate(verdicts) if not v.ok]
    if not failed:
        return verdict(True, f"Correct: all {total} arrays match.", max_error)
    i, first = failed[0]
    also = f" {len(failed)} of {total} elements are wrong." if len(failed) > 1 else ""
    return verdict(False, f"Element {i + 1} of {total} (index {i}): {first[0].lower()}{first[1:]}{also}", max_error)


def compare_choice(
    got: object, expected: str, *, accepted: Mapping[str, Sequence[str]] | None = None, hide_expected: bool = False
) -> Verdict:
    """Text answer, ignoring case, spacing, surrounding quotes and a trailing period.

    ``accepted`` maps a canonical choice to further phrasings that count as it.
    """
    verdict = _maker(got, expected, hide_expected)
    if type(got) is not str:
        return verdict(False, f"Expected a text answer, got {_kind_of(got)}.")
    wanted = _normalise(expected)
    phrasings = {wanted}
    for canonical, extras in (accepted or {}).items():
        if _normalise(canonical) == wanted:
            phrasings.update(_normalise(extra) for extra in extras)
    if _normalise(got) in phrasings:
        return verdict(True, "Correct.")
    if hide_expected:
        return verdict(False, f"{render(got)} is not the expected answer.")
    return verdict(False, f"Expected {render(expected)}, got {render(got)} (case, spacing and quotes are ignored).")


def compare_integer(got: object, expected: int, hide_expected: bool = False) -> Verdict:
    """Exact integer; an integral float (12.0) or a numpy integer (scalar or 0-d) also counts."""
    verdict = _maker(got, expected, hide_expected)
    try:
        value = _integer_from(got)
    except _Rejected as exc:
        return verdict(False, str(exc))
    if value == int(expected):
        return verdict(True, "Correct.")
    return verdict(False, f"{value} is not the expected value." if hide_expected else
                   f"Expected {int(expected)}, got {value}.")


def compare_boolean(got: object, expected: bool, hide_expected: bool = False) -> Verdict:
    """Exact bool, ``numpy.bool_`` or a 0-d bool array; 0 and 1 are not booleans."""
    verdict = _maker(got, expected, hide_expected)
    is_bool_array = isinstance(got, np.ndarray) and got.ndim == 0 and got.dtype.kind == "b"
    if not (is_bool_array or type(got) is bool or isinstance(got, np.bool_)):
        return verdict(False, f"Expected True or False, got {_kind_of(got)}.")
    value = bool(got)
    if value == bool(expected):
        return verdict(True, "Correct.")
    return verdict(False, f"{value} is not the expected answer." if hide_expected else
                   f"Expected {bool(expected)}, got {value}.")


def render(value: object) -> str:
    """Short rendering for reports: 6 significant digits, summarised arrays, capped text."""
    return _cap(_render(value, 0), SHOWN_LIMIT)


_COMPARATORS: dict[str, Callable[..., Verdict]] = {
    "number": compare_number, "expression": compare_number, "array": compare_array, "sequence": compare_sequence,
    "choice": compare_choice, "integer": compare_integer, "boolean": compare_boolean,
}


def compare(kind: str, got: object, expected: object, **options: object) -> Verdict:
    """Dispatch on the rubric's answer kind; an unknown kind is a rubric error (ValueError)."""
    if kind not in _COMPARATORS:
        raise ValueError(f"unknown comparison kind {kind!r}; known kinds are {', '.join(_COMPARATORS)}")
    return _COMPARATORS[kind](got, expected, **options)


def _number_from(got: object) -> float:
    if type(got) is list:
        if len(got) != 1:
            raise _Rejected(f"Expected a single number, got a list of {len(got)} items.")
        got = got[0]
    if isinstance(got, np.ndarray):
        if got.size != 1:
            raise _Rejected(f"Expected a single number, got an array of shape {got.shape}.")
        return float(_numeric(got).reshape(-1)[0])
    if type(got) is bool or isinstance(got, np.bool_):
        raise _Rejected(f"Expected a number, got a bool ({bool(got)}); True/False are not numbers here.")
    if isinstance(got, (np.integer, np.floating)):
        return float(got)
    if type(got) is int or type(got) is float or type(got) is str:
        try:
            return parse_number(got)
        except ExpressionError as exc:
            raise _Rejected(f"Could not read your answer as a number: {exc}.") from None
    raise _Rejected(f"Expected a number, got {_kind_of(got)}.")


def _array_from(got: object) -> np.ndarray:
    if isinstance(got, np.ndarray):
        return _numeric(got).astype(np.float64)
    if type(got) is not list and type(got) is not tuple:
        if _is_number(got):
            return np.asarray(float(got))
        raise _Rejected(f"Expected an array of numbers, got {_kind_of(got)}.")
    pending = [got]  # the decoder bounds size and depth, and JSON-like data has no cycles
    while pending:
        item = pending.pop()
        if type(item) is list or type(item) is tuple:
            pending.extend(item)
        elif isinstance(item, np.ndarray):
            _numeric(item)
        elif not _is_number(item):
            raise _Rejected(f"Could not read your value as an array of numbers: it contains {_kind_of(item)}.")
    try:
        return np.asarray(got, dtype=np.float64)
    except (ValueError, TypeError, OverflowError) as exc:
        reason = "ragged nesting (rows of different lengths)" if "inhomogeneous" in str(exc) else str(exc)
        raise _Rejected(f"Could not read your value as an array of numbers: {reason}.") from None


def _integer_from(got: object) -> int:
    if isinstance(got, np.ndarray):
        if got.ndim != 0:
            raise _Rejected(f"Expected a single integer, got an array of shape {got.shape}.")
        got = got[()]
    if type(got) is bool or isinstance(got, np.bool_):
        raise _Rejected(f"Expected an integer, got a bool ({bool(got)}).")
    if type(got) is int or isinstance(got, np.integer):
        return int(got)
    if type(got) is float or isinstance(got, np.floating):
        if float(got).is_integer():
            return int(got)
        raise _Rejected(f"Expected an integer, got {render(got)}.")
    raise _Rejected(f"Expected an integer, got {_kind_of(got)}.")


def _is_number(value: object) -> bool:
    """int/float of exact type or a numpy number; bool and numpy.bool_ are excluded."""
    return type(value) is int or type(value) is float or isinstance(value, (np.integer, np.floating))


def _numeric(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind not in "iuf":
        raise _Rejected(f"Expected numbers, got an array of dtype {array.dtype}.")
    return array


def _normalise(text: str) -> str:
    text = " ".join(text.split()).casefold().strip(_QUOTES)
    return text.removesuffix(".").strip(_QUOTES)


def _maker(got: object, expected: object, hide_expected: bool) -> Callable[..., Verdict]:
    """A Verdict constructor with both renderings filled in (expected blank when hidden)."""
    return partial(Verdict, shown_got=render(got), shown_expected="" if hide_expected else render(expected))


def _kind_of(value: object) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _formula(rtol: float, atol: float) -> str:
    if not (rtol >= 0.0 and atol >= 0.0):
        raise ValueError(f"rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    return f"{_compact(atol)} + {_compact(rtol)}·|expected|"


def _compact(x: float) -> str:
    """Tolerance parameters as typed in a rubric: 0.5, 1e-6."""
    if x == 0.0 or 1e-3 <= abs(x) < 1e4:
        return f"{x:g}"
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _sci(x: float) -> str:
    """Two significant digits, short exponent: 3.2e-2."""
    if not math.isfinite(x):
        return str(x)
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _index(position: tuple | np.ndarray) -> str:
    return str(tuple(int(i) for i in position))


def _render(value: object, depth: int) -> str:
    if value is None:
        return "None"
    if type(value) is bool or isinstance(value, np.bool_):
        return str(bool(value))
    if type(value) is int or isinstance(value, np.integer):
        number = int(value)
        return str(number) if number.bit_length() <= 256 else f"<a {number.bit_length()}-bit integer>"
    if type(value) is float or isinstance(value, np.floating):
        return f"{float(value):.6g}"
    if type(value) is str:
        return repr(value[:STRING_LIMIT]) + ("…" if len(value) > STRING_LIMIT else "")
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            return f"<array of dtype {value.dtype}, shape {value.shape}>"
        return _array_text(value)
    if type(value) is list or type(value) is tuple:
        if depth >= 3:
            return "[…]"
        items = [_render(item, depth + 1) for item in value[:10]] + (["…"] if len(value) > 10 else [])
        return "[" + ", ".join(items) + "]"
    return f"<{type(value).__name__}>"


# numpy's printing is slow (tens of microseconds), and most students write the same arrays as the
# expected ones: small arrays are printed once per content
_PRINTED: dict[tuple[str, tuple[int, ...], bytes], str] = {}


def _array_text(value: np.ndarray) -> str:
    if value.size > 64:
        return np.array2string(value, precision=6, threshold=20)
    key = (value.dtype.str, value.shape, value.tobytes())
    if key not in _PRINTED:
        if len(_PRINTED) > 4096:
            _PRINTED.clear()
        _PRINTED[key] = np.array2string(value, precision=6, threshold=20)
    return _PRINTED[key]


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
