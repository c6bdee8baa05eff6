"""Safe evaluation of arithmetic answers such as ``"6^(-1/3)"`` or ``"sqrt(2)/2"``.

Students often type a closed form instead of a decimal.  ``eval`` would run
arbitrary code in the grading process, so the text is parsed with :mod:`ast`
(mode ``"eval"``) and walked against an explicit whitelist: number literals,
``+ - * / **`` (``^`` is read as power), unary ``+``/``-``, calls of a few
one-argument functions, and the constants ``pi`` and ``e``.  Anything else is
rejected with an :class:`ExpressionError` that names the offending construct.

All arithmetic is done in floats.  Python ints grow without bound, so
``9**9**9`` on ints would run for minutes and exhaust memory; floats overflow
at about 1.8e308 instead, which is detected and reported.  Exponents are
additionally limited to ``|exponent| <= MAX_EXPONENT``, and every intermediate
result must be a finite real number, so an infinity cannot be hidden by a
later division (``1/(1e308*10)``) and ``(-8)**(1/3)`` is refused rather than
turned into a complex number.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

MAX_LENGTH = 200
MAX_EXPONENT = 1000.0

FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "ln": math.log,
    "log10": math.log10,
    "cbrt": math.cbrt,
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_ALLOWED = "numbers, + - * / ** ^, parentheses, " + ", ".join(FUNCTIONS) + ", pi and e"

_FRIENDLY_NAMES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.NamedExpr: "assignment (:=)",
}


class ExpressionError(ValueError):
    """The text is not an allowed arithmetic expression or has no finite real value."""


def evaluate(text: str) -> float:
    """Evaluate an arithmetic expression and return its value as a finite float."""
    if type(text) is not str:
        raise ExpressionError(f"expected an expression as text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    source = text.strip().replace("^", "**")
    if not source:
        raise ExpressionError("the expression is empty")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"could not parse {text.strip()!r}: {exc.msg}") from None
    except ValueError as exc:  # e.g. "source code string cannot contain null bytes"
        raise ExpressionError(f"could not parse the expression: {exc}") from None
    return _eval(tree.body)


def parse_number(value: object) -> float:
    """Read an exact int/float (never bool or a subclass) or a str expression as a float."""
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            raise ExpressionError("the integer is too large to be a floating-point number") from None
    if type(value) is float:
        return value
    if type(value) is str:
        return evaluate(value)
    raise ExpressionError(f"expected a number or an arithmetic expression, got {type(value).__name__}")


def _eval(node: ast.expr) -> float:
    """Evaluate one whitelisted node; anything not listed here is refused."""
    if isinstance(node, ast.Constant):
        return _constant(node.value)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise ExpressionError(f"unknown name {node.id!r}; the only names are pi, e and {', '.join(FUNCTIONS)}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _eval(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        return _binop(node.op, _eval(node.left), _eval(node.right))
    if isinstance(node, ast.Call):
        return _call(node)
    what = _FRIENDLY_NAMES.get(type(node), f"{type(node).__name__} syntax")
    raise ExpressionError(f"{what} is not allowed; use {_ALLOWED}")


def _constant(value: object) -> float:
    if type(value) is int or type(value) is float:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise ExpressionError("a number in the expression is too large")
        return number
    if type(value) is complex:
        raise ExpressionError("complex numbers are not allowed")
    raise ExpressionError(f"{value!r:.40} is not a number")


def _binop(op: ast.operator, left: float, right: float) -> float:
    if isinstance(op, ast.Add):
        return _finite(left + right, "the sum")
    if isinstance(op, ast.Sub):
        return _finite(left - right, "the difference")
    if isinstance(op, ast.Mult):
        return _finite(left * right, "the product")
    if isinstance(op, ast.Div):
        if right == 0.0:
            raise ExpressionError("division by zero")
        return _finite(left / right, "the quotient")
    if isinstance(op, ast.Pow):
        return _power(left, right)
    raise ExpressionError(f"operator {type(op).__name__} is not allowed; use {_ALLOWED}")


def _power(base: float, exponent: float) -> float:
    """``base ** exponent`` with the exponent bounded and real results only."""
    if abs(exponent) > MAX_EXPONENT:
        raise ExpressionError(f"exponent {exponent:.6g} is too large (limit is ±{MAX_EXPONENT:g})")
    if base == 0.0 and exponent < 0.0:
        raise ExpressionError("zero to a negative power (division by zero)")
    if base < 0.0 and not exponent.is_integer():
        raise ExpressionError(
            f"({base:.6g})**({exponent:.6g}) is not a real number (negative base, fractional exponent);"
            " use cbrt() for cube roots"
        )
    try:
        return _finite(math.pow(base, exponent), "the power")
    except OverflowError:
        raise ExpressionError(f"({base:.6g})**({exponent:.6g}) is too large") from None


def _call(node: ast.Call) -> float:
    func = node.func
    if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
        called = repr(func.id) if isinstance(func, ast.Name) else "this expression"
        raise ExpressionError(f"calling {called} is not allowed; the functions are {', '.join(FUNCTIONS)}")
    if node.keywords or len(node.args) != 1:
        raise ExpressionError(f"{func.id}() takes exactly one argument")
    argument = _eval(node.args[0])
    where = f"{func.id}({argument:.6g})"
    try:
        result = FUNCTIONS[func.id](argument)
    except ValueError:
        raise ExpressionError(f"{where} is undefined") from None
    except OverflowError:
        raise ExpressionError(f"{where} is too large") from None
    return _finite(result, where)


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise ExpressionError(f"{what} is not a finite number ({value})")
    return value
