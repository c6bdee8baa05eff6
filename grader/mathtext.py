"""Candidate answers in a part's text: numbers, LaTeX math, vectors and matrices.

Math (`$...$`, `$$...$$`, `\\[...\\]`, `\\(...\\)`, equation/align environments) is parsed with
pylatexenc into nodes and turned into arithmetic for the grader's own safe evaluator
(`grader.expr`): `\\frac`, `\\sqrt`, `\\sqrt[n]{}`, powers, `\\times 10^{-4}`, `\\left( \\right)`,
bmatrix/pmatrix and `[a, b]` lists. Each statement is split at its relations (`=`, `\\approx`,
`<`, ...); a side that evaluates to a number is a candidate, and the sides and words before it
are its context (`L(b_1 - \\epsilon) = 9.43`: the context says which quantity 9.43 is). Prose is
read the same way, with unicode (`γ`, `−`, `≈`, `×10⁻⁴`, `√3`) normalised first.

A written decimal keeps its significant digits: `9.4348` means "to the fourth decimal", so it is
compared to the digits shown, while `\\sqrt[3]{1/6}` is exact and compared at the rubric's
tolerance.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pylatexenc import latexwalker, macrospec

from grader.dialects import closing_brace
from grader.expr import ExpressionError, evaluate

Value = float | tuple  # a number, or nested tuples of numbers (a vector, a matrix)

MAX_MATH = 4000  # characters of one math block that are parsed; the rest is shown, not read
MAX_EXPRESSION = 400
_MATRIX_ENVS = {"bmatrix", "pmatrix", "Bmatrix", "vmatrix", "Vmatrix", "matrix", "smallmatrix", "array"}
_RELATIONS = {"approx", "simeq", "cong", "equiv", "sim", "to", "rightarrow", "mapsto", "leq", "geq", "le", "ge",
              "lt", "gt", "coloneqq", "triangleq", "doteq", "neq", "ne"}
_BREAKS = {"\\", "quad", "qquad", "implies", "Rightarrow", "Longrightarrow", "therefore", "iff", "text", "textbf",
           "mbox", "hbox", "textit", "intertext", "newline", "cr", "hline", "and", "forall", "ldots", "dots"}
_SKIP = {"graderboxed", "left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr", "bigg", "Bigg", "biggl", "biggr",
         "displaystyle", "textstyle", ",", ";", ":", "!", " ", "nonumber", "notag", "mathopen", "mathclose",
         "label", "tag"}
_TAG = re.compile(r"\\(?:tag|label)\*?\s*\{[^{}]*\}")
_TEXT_NUMBER = re.compile(r"\\text(?:bf|rm|it|normal)?\{([-+\d.,/\s]*\d[-+\d.,/\s]*)\}")
_BINARY = {"cdot": "*", "times": "*", "ast": "*", "div": "/"}
_FUNCTIONS = {"exp", "ln", "log"}
_CONTEXT_DB = latexwalker.get_default_latex_context_db()
_CONTEXT_DB.add_context_category("grader", prepend=True, macros=[
    macrospec.MacroSpec(name, "{") for name in ("boxed", "mathrm", "mathbf", "operatorname", "mathit", "textbf", "bm", "boldsymbol")
] + [macrospec.MacroSpec(name, "{{") for name in ("dfrac", "tfrac", "cfrac")], environments=[])

_DECIMAL = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)(?:\s*(?:[eE]|\*\s*10\s*\*\*\s*\(?)\s*([-+]?\d+)\)?)?\s*$")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_UNICODE = [("−", "-"), ("–", "-"), ("×", "*"), ("·", "*"), ("⋅", "*"), ("÷", "/"), ("π", "pi"), ("≈", " ≈ "),
            ("≃", " ≈ "), ("→", " → "), ("⇒", " ; "), ("∗", "*"), ("⁄", "/"),
            *((f, f" ({n}/{d}) ") for f, (n, d) in {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4),
                                                     "⅕": (1, 5), "⅙": (1, 6), "⅛": (1, 8)}.items())]  # Word's ½


class NotANumber(Exception):
    """A side of a statement with symbols in it: context, not a candidate."""


@dataclass(frozen=True)
class Candidate:
    value: Value
    text: str  # as the student wrote it
    context: str  # what was written before it in the same clause, for the report
    subject: str  # the first side of its equation ("L(b_1 - \\epsilon)"), "" when it stands alone
    source: str
    line: int
    unit: float = 0.0  # the last written decimal place (0.001 for 9.434); 0 for an exact expression
    digits: int = 0  # significant digits written; 0 for an exact expression
    emphasis: bool = False  # boxed or bold: a final answer
    near: str = ""  # the words and symbols between the previous candidate and this one

    @property
    def label(self) -> str:
        """What the rubric's label hints are looked for in: the quantity it is said to be."""
        return f"{self.subject} {self.near}"

    @property
    def where(self) -> str:
        return f"{self.source}, line {self.line}"


def decimal_precision(text: str) -> tuple[float, int]:
    """(unit of the last written place, significant digits) of a written decimal; (0, 0) when exact."""
    m = _DECIMAL.match(text)
    if not m or ("." not in m.group(1) and not m.group(2)):
        return 0.0, 0  # an integer or an expression is exact
    mantissa, exponent = m.group(1), int(m.group(2) or 0)
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    digits = len(mantissa.replace(".", "").lstrip("0")) or 1
    return 10.0 ** (exponent - decimals), digits


def parse_value(text: str) -> Value:
    """Evaluate arithmetic, or a bracketed list of them ('(0.1, 0.2)' after '[' became '(');
    NotANumber when it is neither."""
    text = text.strip().rstrip(".,; ")  # "γ = 1/2." ends a sentence
    if len(text) > MAX_EXPRESSION:
        raise NotANumber
    inner = _bracketed(text)
    if inner is not None:
        items = _split_top(inner, ",")
        if len(items) == 1 and " " in inner.strip() and re.fullmatch(r"[\s\d.eE+\-()]+", inner):
            items = inner.split()  # numpy prints [-1.01  0.99]
        if len(items) > 1:
            return tuple(parse_value(item) for item in items)
    try:
        return evaluate(_implicit_products(text).replace("**", "^"))
    except ExpressionError:
        raise NotANumber from None


def _bracketed(text: str) -> str | None:
    if len(text) < 2 or text[0] != "(" or text[-1] != ")":
        return None
    depth = 0
    for index, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if depth == 0 and index < len(text) - 1:
            return None
    return text[1:-1]


def _split_top(text: str, separators: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += (char in "([{") - (char in ")]}")
        if depth == 0 and char in separators:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _implicit_products(text: str) -> str:
    """'2sqrt(3)', '(1)(2)' and '2pi' as products; '3e-2' stays a number."""
    text = re.sub(r"(?<=[\d)])\s*(?=\(|sqrt|cbrt|exp|log|ln|pi\b)", "*", text)
    return re.sub(r"(?<=\))\s*(?=\d)", "*", text)


# ------------------------------------------------------------------------------------------------ LaTeX


_PHANTOM = re.compile(r"\\[hv]?phantom\{[^{}]*\}")  # \phantom{-}0.517: space that aligns a column, not a sign
_BOX = re.compile(r"\\(boxed|fbox|framebox)\{")


def _unbox(latex: str) -> str:
    """'\\boxed{\\gamma = 1/2}' -> '\\gamma = 1/2 \\graderboxed': the box may hold a whole equation,
    and the mark makes the last side (the value) the emphasised one. \\fbox{$...$} is the same box, its
    inner $ signs dropped (inside display math they only switch back to math)."""
    while (m := _BOX.search(latex)) is not None:
        index = closing_brace(latex, m.end())
        index = len(latex) - 1 if index is None else index  # never closed: the box runs to the end
        inside = latex[m.end():index].replace("$", " ") if m.group(1) != "boxed" else latex[m.end():index]
        latex = latex[:m.start()] + inside + " \\graderboxed " + latex[index + 1:]
    return latex


# a transposed vector is the same numbers: (0.9492, 0.05078)^\top, [1, 2]^T
_TRANSPOSED = re.compile(r"(?<=[)\]}])\s*\^\s*(?:\{\s*(?:\\top|\\intercal|T|\\mathsf\{T\}|\\mathrm\{T\})\s*\}|\\top\b|\\intercal\b|T\b)")


def _nodes(latex: str) -> list:
    latex = _TRANSPOSED.sub(" ", _unbox(_PHANTOM.sub("", latex[:MAX_MATH])))
    walker = latexwalker.LatexWalker(latex, latex_context=_CONTEXT_DB, tolerant_parsing=True)
    try:
        return walker.get_latex_nodes()[0] or []
    except latexwalker.LatexWalkerError:
        return []


def _arg(node, index: int) -> list:
    args = node.nodeargd.argnlist if node.nodeargd else []
    arg = args[index] if index < len(args) else None
    if arg is None:
        return []
    return arg.nodelist if isinstance(arg, latexwalker.LatexGroupNode) else [arg]


def _arith(nodes: list) -> str:
    """LaTeX nodes to the evaluator's arithmetic; NotANumber when a symbol is in the way."""
    out: list[str] = []
    pending_group_is_arg = False
    for node in nodes:
        if isinstance(node, latexwalker.LatexCharsNode):
            out.append(node.chars.replace("[", "(").replace("]", ")").replace("{", "(").replace("}", ")"))
        elif isinstance(node, latexwalker.LatexGroupNode):
            inner = _arith(node.nodelist)
            out.append(f"{inner}" if pending_group_is_arg else f"({inner})")
        elif isinstance(node, latexwalker.LatexMacroNode):
            out.append(_macro(node))
        elif isinstance(node, latexwalker.LatexSpecialsNode):
            if node.specials_chars not in ("&", "~"):
                raise NotANumber
            out.append(" ")
        elif isinstance(node, latexwalker.LatexCommentNode):
            continue
        else:
            raise NotANumber
    return "".join(out)


def _macro(node) -> str:
    name = node.macroname
    if name in ("frac", "dfrac", "tfrac", "cfrac"):
        return f"(({_arith(_arg(node, 0))})/({_arith(_arg(node, 1))}))"
    if name == "sqrt":
        index, radicand = _arg(node, 0), _arith(_arg(node, 1))
        return f"(({radicand})**(1/({_arith(index)})))" if index else f"sqrt({radicand})"
    if name in ("boxed", "mathrm", "mathbf", "bm", "boldsymbol", "operatorname", "mathit"):
        return f"({_arith(_arg(node, 0))})"
    if name in _BINARY:
        return _BINARY[name]
    if name in _SKIP:
        return " "
    if name in _FUNCTIONS:
        return name
    if name == "pi":
        return "pi"
    raise NotANumber


def _matrix(node) -> tuple | None:
    """A bmatrix/pmatrix/array environment as nested tuples; None when a cell is not a number."""
    rows: list[list[list]] = [[[]]]
    for child in node.nodelist:
        if isinstance(child, latexwalker.LatexMacroNode) and child.macroname == "\\":
            rows.append([[]])
        elif isinstance(child, latexwalker.LatexSpecialsNode) and child.specials_chars == "&":
            rows[-1].append([])
        elif isinstance(child, latexwalker.LatexMacroNode) and child.macroname == "hline":
            continue
        else:
            rows[-1][-1].append(child)
    try:
        table = [[parse_value(_arith(cell)) for cell in row] for row in rows if any(_has_text(c) for c in row)]
    except NotANumber:
        return None
    if not table or len({len(r) for r in table}) != 1 or any(type(v) is not float for r in table for v in r):
        return None
    if len(table) == 1:
        return tuple(table[0])
    if len(table[0]) == 1:
        return tuple(r[0] for r in table)  # a column vector is a vector
    return tuple(tuple(r) for r in table)


def _has_text(cell: list) -> bool:
    return any(not (isinstance(n, latexwalker.LatexCharsNode) and not n.chars.strip()) for n in cell)


def _latex_text(nodes: list) -> str:
    return "".join(n.latex_verbatim() for n in nodes).replace("\\graderboxed", "").strip()


def _side(nodes: list) -> tuple[Value | None, str, bool]:
    """(value or None, text as written, emphasised) of one side of a relation."""
    nodes = _without_final_stop(nodes)
    text = _latex_text(nodes)
    meaningful = [n for n in nodes if not (isinstance(n, latexwalker.LatexCharsNode) and not n.chars.strip())
                  and not (isinstance(n, latexwalker.LatexMacroNode) and n.macroname in ("left", "right"))]
    emphasis = any(isinstance(n, latexwalker.LatexMacroNode) and n.macroname == "graderboxed" for n in meaningful)
    envs = [n for n in meaningful if isinstance(n, latexwalker.LatexEnvironmentNode)]
    if len(envs) == 1 and envs[0].environmentname in _MATRIX_ENVS:
        others = [n for n in meaningful if n is not envs[0]
                  and not (isinstance(n, latexwalker.LatexMacroNode) and n.macroname == "graderboxed")]
        if all(isinstance(n, latexwalker.LatexCharsNode) and n.chars.strip() in "()[]" for n in others):
            return _matrix(envs[0]), text, emphasis
    try:
        return parse_value(_arith(nodes)), text, emphasis
    except (NotANumber, RecursionError):
        return None, text, emphasis


def _without_final_stop(nodes: list) -> list:
    """A formula ends a sentence as often as not: `= (1, 2).` or `= 3.5,` is the value (1, 2) or 3.5."""
    last = len(nodes) - 1
    while last >= 0 and isinstance(nodes[last], latexwalker.LatexCharsNode) and not nodes[last].chars.strip():
        last -= 1
    if last < 0 or not isinstance(nodes[last], latexwalker.LatexCharsNode):
        return nodes
    chars = nodes[last].chars.rstrip()
    trimmed = chars.rstrip(".,;:")
    if trimmed == chars or trimmed.endswith("."):
        return nodes
    return [*nodes[:last], _chars(nodes[last], 0, trimmed)] if trimmed else nodes[:last]


def _statements(nodes: list) -> list[list[list]]:
    """Top-level statements of a math block, each a list of sides split at the relations."""
    statements: list[list[list]] = [[[]]]
    depth = 0

    def cut() -> None:
        statements.append([[]])

    for node in nodes:
        if isinstance(node, latexwalker.LatexMacroNode):
            if node.macroname in _BREAKS:
                cut()
                continue
            if node.macroname in _RELATIONS:
                statements[-1].append([])
                continue
            if node.macroname == "left":
                depth += 1
            elif node.macroname == "right":
                depth -= 1
        if isinstance(node, latexwalker.LatexEnvironmentNode) and node.environmentname not in _MATRIX_ENVS:
            statements.extend(_statements(node.nodelist))
            cut()
            continue
        if isinstance(node, latexwalker.LatexSpecialsNode) and node.specials_chars == "&":
            continue
        if isinstance(node, latexwalker.LatexCharsNode):
            depth = _chars_into(node, depth, statements)
            continue
        statements[-1][-1].append(node)
    return [s for s in statements if any(side for side in s)]


def _chars_into(node, depth: int, statements: list[list[list]]) -> int:
    """Split a run of characters at relations (=, <, >) and, outside brackets, at ',', ';' and ':'."""
    start = 0
    chars = node.chars
    pieces: list[tuple[int, str, str]] = []  # (offset, text, what follows it: '', 'rel' or 'cut')
    index = 0
    while index < len(chars):
        char = chars[index]
        depth += (char in "([") - (char in ")]")
        kind = ""
        if char in "=<>" or (char == ":" and chars[index + 1:index + 2] == "="):
            kind = "rel"
        elif char in ",;:" and depth <= 0:  # "t=1:\ (-0.0701, 0.0701)": a label, then its value
            kind = "cut"
        if kind:
            pieces.append((start, chars[start:index], kind))
            index += 2 if chars[index:index + 2] in ("<=", ">=", ":=", "==") else 1
            start = index
            continue
        index += 1
    pieces.append((start, chars[start:], ""))
    for offset, text, kind in pieces:
        if text:
            statements[-1][-1].append(_chars(node, offset, text))
        if kind == "rel":
            statements[-1].append([])
        elif kind == "cut":
            statements.append([[]])
    return depth


def _chars(node, offset: int, text: str):
    return latexwalker.LatexCharsNode(parsing_state=node.parsing_state, chars=text, pos=node.pos + offset, len=len(text))


# ------------------------------------------------------------------------------------------------ text

_MATH_BLOCK = re.compile(
    r"\$\$(?P<a>.+?)\$\$|\\\[(?P<b>.+?)\\\]|\\\((?P<c>.+?)\\\)"
    r"|\\begin\{(?P<env>equation|align|aligned|gather|eqnarray|multline|split)(?P<star>\*?)\}(?P<d>.+?)\\end\{(?P=env)(?P=star)\}"
    r"|(?<![\\$])\$(?P<e>[^$\n]+?)\$",
    re.DOTALL,
)
_PROSE_LIST = re.compile(r"\[(?:[^\[\]\n]|\[[^\[\]\n]*\])*\]|\((?:\s*[-+]?(?:\d|\.\d)[\d.eE+\-]*\s*,)+\s*[-+]?(?:\d|\.\d)[\d.eE+\-]*\s*\)")
_PROSE_EXPR = re.compile(r"(?<![\w.^])(?:[-+]\s*)?(?:\d|\.\d|sqrt\(|cbrt\(|\()[\d.eE+\-*/^()\s]*(?:sqrt\([^)]*\)[\d.eE+\-*/^()\s]*)*|(?<![\w.])sqrt\([^)]*\)[\d.eE+\-*/^()\s]*")
# a symbol or function a formula goes on with: "x", "σ(", "tanh²", not a word ("- see below")
_OPERAND = re.compile(r"[ \t]*(?:\\?(?:tanh|sigma|sigmoid|exp|log|ln|sin|cos|eps|epsilon|eta|gamma|lambda|alpha|beta|delta|theta)|[A-Za-z]|[α-ωΑ-Ω])(?![A-Za-z])")
_NUMBER = re.compile(r"(?<![\w.^])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]*[A-DF-Za-df-z_])")
_NOT_ANSWERS = re.compile(r"(?:step|steps|time|t\s*=|problem|part|question|layer|layers|figure|fig\.?|table|eq\.?|equation|"
                          r"page|section|state|states|line|cell|epoch|epochs|row|column|item|x|h|hw|homework)\s*\(?$",
                          re.IGNORECASE)
_CLAUSE = re.compile(r"(?<=[.!?;])\s+(?=[A-Z(\\$\d`#])|\n\s*\n|;|,\s+(?=[^\d\s+\-.])|\n(?=\s*[-*+]\s)")


def normalise(text: str) -> str:
    """Unicode maths to ASCII arithmetic: '−0.5', '1.2×10⁻⁴', '√3', 'γ ≈ 0.55'."""
    for old, new in _UNICODE:
        text = text.replace(old, new)
    text = re.sub(r"\*\s*10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)", lambda m: "*10^(" + m.group(1).translate(_SUPERSCRIPT) + ")", text)
    text = re.sub(r"([\d)])([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)", lambda m: m.group(1) + "^(" + m.group(2).translate(_SUPERSCRIPT) + ")", text)
    return re.sub(r"√\s*(\d+(?:\.\d+)?|\([^)]*\))", lambda m: f"sqrt({m.group(1).strip('()')})", text)


def candidates(lines: list[tuple[str, int, str]]) -> list[Candidate]:
    """Every number, expression, vector and matrix in the lines (source, line number, text), in order."""
    text, starts = "", []
    for source, number, line in lines:
        starts.append((len(text), source, number))
        text += line + "\n"

    def locate(offset: int) -> tuple[str, int]:
        found = starts[0]
        for start in starts:
            if start[0] > offset:
                break
            found = start
        return found[1], found[2]

    found: list[Candidate] = []
    position = 0
    for m in _MATH_BLOCK.finditer(text):
        prose = text[position:m.start()]
        found += _prose(prose, position, locate)
        latex = next(g for g in (m.group("a"), m.group("b"), m.group("c"), m.group("d"), m.group("e")) if g is not None)
        latex = latex.replace("$", "") if m.group("e") is None else latex  # \[ x = \fbox{\textbf{$1$}} \]
        latex = _TEXT_NUMBER.sub(r"\\mathbf{\1}", latex)  # \textbf{1/4} in math is a number in bold, not words
        latex = _TAG.sub(" ", latex)  # \tag{3.2} numbers the equation; it is no factor of its value
        found += _math(latex, _tail(prose), *locate(m.start()))
        position = m.end()
    found += _prose(text[position:], position, locate)
    return found


def _tail(prose: str) -> str:
    """The words just before a formula, from the start of their clause."""
    clause = _CLAUSE.split(prose)[-1] if prose else ""
    return " ".join(clause.split())[-80:]


def _math(latex: str, before: str, source: str, line: int) -> list[Candidate]:
    found = []
    for statement in _statements(_nodes(latex)):
        sides = [_side(nodes) for nodes in statement]
        subject = next((text for value, text, _ in sides if value is None and text), "")
        context, near = before, before if not subject else ""
        for value, text, emphasis in sides:
            if value is not None and text:
                unit, digits = _precision(value, text)
                found.append(Candidate(value, text, context.strip(), subject, source, line, unit, digits, emphasis,
                                       near.strip()))
                near = ""
            else:
                near += " " + text
            context += " " + text
    return found


def _precision(value: Value, text: str) -> tuple[float, int]:
    """The written precision of a number, or the coarsest of a vector's written elements."""
    if type(value) is float:
        arithmetic = re.sub(r"\\times|\\cdot", "*", text.rstrip(".,;: ")).replace("{", "(").replace("}", ")").replace("^", "**")
        return decimal_precision(normalise(arithmetic))
    elements = re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", text)
    precisions = [decimal_precision(e) for e in elements]
    units = [u for u, _ in precisions if u]
    digits = [d for u, d in precisions if u]
    return (max(units), min(digits)) if units else (0.0, 0)


def _prose(prose: str, offset: int, locate) -> list[Candidate]:
    found = []
    clean = normalise(prose)
    taken = [False] * len(clean)
    spans: list[tuple[int, int, Value, str]] = []
    for m in _PROSE_LIST.finditer(clean):
        try:
            value = parse_value(m.group(0).replace("[", "(").replace("]", ")"))
        except NotANumber:
            continue
        if type(value) is tuple:
            spans.append((m.start(), m.end(), value, m.group(0)))
            taken[m.start():m.end()] = [True] * (m.end() - m.start())
    for m in _PROSE_EXPR.finditer(clean):
        matched, end = m.group(0), m.end()
        if matched[-1:] in "eE" and clean[end:end + 1].isalpha():
            matched, end = matched[:-1], end - 1  # "2*eps" is 2ε, not 2·e; "9.43 estimate" ends at 9.43
        text = re.sub(r"(?:\*\*|__)?[.,;:]?\s*$", "", matched).rstrip(" +-*/^(").strip()  # "**1/2**." is 1/2
        text = _balanced(text)
        start = m.start() + matched.index(text[0]) if text else m.start()
        if not text or any(taken[start:start + len(text)]) or not re.search(r"\d", text):
            continue
        if re.match(r"[A-Za-zα-ωΑ-Ω]", clean[end:end + 1]) and matched[-1:].isdigit():
            continue  # "2ε", "3γ²": a coefficient of a symbol, no value of its own
        if _OPERAND.match(clean, end) and re.search(r"[\d)][ \t]*[-+*/^][ \t]*$", matched):
            continue  # the 1 of "1 − tanh²(x)", "σ(x)(1 − σ(x))" or "2*eps": part of a formula in symbols, not a value
        try:
            spans.append((start, start + len(text), parse_value(text), text))
        except NotANumber:
            for n in _NUMBER.finditer(text):
                spans.append((start + n.start(), start + n.end(), float(n.group(0)), n.group(0)))
    previous_end = 0
    for start, end, value, text in sorted(spans, key=lambda s: s[0]):
        before = clean[:start]
        context = _tail(before)
        near = _tail(clean[previous_end:start])
        previous_end = end
        if type(value) is float and value.is_integer() and _NOT_ANSWERS.search(before.rstrip()[-12:]):
            continue  # "step 2", "figure 3", "state 2": a label, not an answer
        unit, digits = _precision(value, text)
        subject = _prose_subject(context)
        emphasis = bool(re.search(r"(\*\*|__)\s*$", before)) and bool(re.match(r"\s*(\*\*|__)", clean[end:]))
        found.append(Candidate(value, text, context, subject, *locate(offset + min(start, len(prose) - 1)), unit, digits,
                               emphasis, near))
    return found


def _balanced(text: str) -> str:
    while text.count("(") != text.count(")"):
        if text.count("(") > text.count(")") and text.startswith("("):
            text = text[1:].strip()
        elif text.count("(") > text.count(")"):
            text = text[:text.rindex("(")].strip()  # "0.5503 (4 s.f.)": the value before its remark
        elif text.endswith(")"):
            text = text[:-1].strip()
        else:
            return ""
    return text


def _prose_subject(context: str) -> str:
    """'The loss L = ' -> 'L'; 'γ = 1/sqrt(3) ≈ ' -> 'γ': the last symbol said to equal something."""
    symbols = [m.group(1) for m in re.finditer(r"([^\W\d][\w()\[\]'^\\-]*)\s*(?:=|≈|:)", context)
               if not re.match(r"(sqrt|cbrt|exp|log|ln)\(", m.group(1))]
    return symbols[-1] if symbols else ""


def finite(value: Value) -> bool:
    if type(value) is float:
        return math.isfinite(value)
    return all(finite(v) for v in value)
