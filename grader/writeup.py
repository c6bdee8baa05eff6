"""Reading a write-up: its texts in order, and the answer to each value check found in its part.

A hand-in's write-up is every `.md`, `.markdown`, `.txt` and `.tex` file in it and the Markdown
cells of its notebooks. It is text, never run: reading it in the grader's process is safe (each
file is capped in size, and arithmetic goes through `grader.expr`, whose powers are bounded).

For each value check that the code (if any) did not answer, the candidates found in the part's
text (`grader.mathtext`) are narrowed by the rubric's hints (`loss`, `L(b_1 - \\epsilon)`) and
its given data (numbers restating W, ε or η are not answers), then matched: the expected value
first, then each named misconception, then the value carried forward from the student's own
earlier answers. A written decimal matches when it agrees to the digits shown (with at least the
rubric's `digits` significant digits). When nothing matches, the closest candidate is the
student's answer and the report says so; with no candidate at all, the answer is missing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from grader.dialects import expand_macros
from grader.discover import MAX_FILE_BYTES, Submission
from grader.mathtext import Candidate, NotANumber, Value, candidates, decimal_precision, finite, parse_value
from grader.outline import Line, Outline, build_outline
from grader.rubric import Check, Part, Rubric, resolve

WRITEUP_SUFFIXES = (".md", ".markdown", ".txt", ".tex")
MAX_WRITEUP_CHARS = 400_000
MAX_CONSIDERED = 12
_TEX_COMMENT = re.compile(r"(?<!\\)%.*$", re.MULTILINE)
_TEX_INLINE_BOX = re.compile(r"\\tcbox\s*\[[^\]]*\]")
_TEX_COLOUR = re.compile(r"\\(?:color|colorbox|pagecolor)\s*(?:\[[^\]]*\])?\s*\{[^{}]*\}")
_AGAINST = re.compile(r"\b(not|never|worse|suboptimal|instead of|rather than|than|over|vs\.?|versus)\s*$", re.IGNORECASE)
_AGAINST_AFTER = re.compile(r"^\s*(is|would be)?\s*(not|worse|suboptimal|loses|less)\b", re.IGNORECASE)


@dataclass
class TextAnswer:
    """What the grader read from a write-up for one contract name, and how."""

    value: Any
    atol: float = 0.0  # the written precision added to the rubric's tolerance
    where: str = ""
    text: str = ""  # the candidate as written
    how: str = ""  # why this candidate: "matches", "closest of 3", "assembled element by element"
    considered: list[str] = field(default_factory=list)


def read_sources(submission: Submission) -> tuple[list[tuple[str, str]], list[str]]:
    """The write-up's texts (name, text) in the hand-in's order, and problems reading them."""
    paths = [submission.root] if submission.root.is_file() else submission.data_files()
    sources: list[tuple[str, str]] = []
    problems: list[str] = []
    total = 0
    for path in paths:
        name = path.name if submission.root.is_file() else str(path.relative_to(submission.root))
        suffix = path.suffix.lower()
        if suffix not in WRITEUP_SUFFIXES and suffix != ".ipynb":
            continue
        if path.stat().st_size > MAX_FILE_BYTES:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        texts = (_markdown_cells(text, name) if suffix == ".ipynb" else [(name, _tex_body(text))] if suffix == ".tex"
                 else _columns(name, text) if suffix == ".txt" else [(name, text)])
        for source, body in texts:
            if total + len(body) > MAX_WRITEUP_CHARS:
                problems.append(f"the write-up is longer than {MAX_WRITEUP_CHARS:,} characters; "
                                f"the grader read up to {source} and no further")
                return sources, problems
            total += len(body)
            sources.append((source, body))
    return sources, problems


def _tex_body(text: str) -> str:
    """A LaTeX file without comments and preamble, the student's own macros expanded; lines are kept
    so line numbers stay right."""
    text = _TEX_COMMENT.sub("", text)
    preamble = text
    begin = text.find("\\begin{document}")
    if begin >= 0:
        text = "\n" * text.count("\n", 0, begin) + text[begin + len("\\begin{document}"):]
    body = expand_macros(preamble, text.split("\\end{document}")[0])
    # an inline answer box's options ("\tcbox[colback=yellow!20, left=2pt]{right}", often inside a
    # macro) and colours ("\color{black!75}") hold numbers and words that are not the student's
    return _TEX_COLOUR.sub("", _TEX_INLINE_BOX.sub(r"\\fbox", body))


def _markdown_cells(text: str, name: str) -> list[tuple[str, str]]:
    import json

    try:
        notebook = json.loads(text)
    except json.JSONDecodeError:
        return []
    cells = notebook.get("cells", []) if type(notebook) is dict else []
    found = []
    for number, cell in enumerate(c for c in cells if type(c) is dict):
        source = cell.get("source", "")
        source = "".join(s for s in source if type(s) is str) if type(source) is list else source
        if cell.get("cell_type") == "markdown" and type(source) is str and source.strip():
            found.append((f"{name}, cell {number + 1}", source))
    return found


def outline_of(sources: list[tuple[str, str]], rubric: Rubric) -> Outline:
    return build_outline(sources, [part.id for part in rubric.parts])


# ------------------------------------------------------------------------------------------------ hints


def squash(text: str) -> str:
    """Text reduced for hint matching: 'L(b_1 - \\epsilon)', 'L(b₁−ε)' and 'l(b1-eps)' all read 'l(b1-eps)'."""
    text = unicodedata.normalize("NFKC", text).lower()
    for old, new in (("\\varepsilon", "eps"), ("\\epsilon", "eps"), ("ε", "eps"), ("epsilon", "eps"), ("\\gamma", "γ"),
                     ("gamma", "γ"), ("\\eta", "η"), ("\\hat", ""), ("−", "-"), ("\\left", ""), ("\\right", ""),
                     ("\\partial", "d"), ("∂", "d"), ("--", "-"), ("–", "-"), ("\\nabla", "grad"), ("∇", "grad"), ("\\mathrm", ""), ("\\text", "")):
        text = text.replace(old, new)
    return re.sub(r"[\s_{}\\$*]", "", text)


def _matches_hints(candidate: Candidate, hints: tuple[str, ...]) -> bool:
    """A hint of two characters or more anywhere in the label; a one-letter hint ('L') only as the
    very symbol the number is said to equal."""
    return _hint_span(candidate, hints)[1] >= 0


def _hint_span(candidate: Candidate, hints: tuple[str, ...]) -> tuple[int, int]:
    """Where in the squashed label the hint that ends last lies ((-1, -1): none; past the end for the
    symbol the number is said to equal, or one that holds the hint: ∂L/∂b ≈ (L(b+ε) − L(b))/ε = ...)."""
    label, subject = squash(candidate.label), squash(candidate.subject)
    spans = [(len(label) + 1, len(label) + 1) if h == subject or (len(h) > 1 and h in subject)
             else (label.rfind(h), label.rfind(h) + len(h))
             for h in map(squash, hints) if h and (h == subject or (len(h) > 1 and (h in label or h in subject)))]
    return max(spans, key=lambda span: span[1], default=(-1, -1))


def _named_later(candidate: Candidate, hints: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """Whether another check's label comes after this one's, apart from it, nearer the number: in
    'dL/db ≈ (L(b+ε) − L(b−ε))/(2ε): dL/db ≈' the vector is dL/db, not L(b−ε); in 'contribution
    to ∂L/∂b =' the two labels run together and the first one names it."""
    own_end, other_start = _hint_span(candidate, hints)[1], _hint_span(candidate, other)[0]
    return own_end >= 0 and other_start > own_end + 4


def given_values(rubric: Rubric) -> list[np.ndarray]:
    values = []
    for text in rubric.given:
        try:
            values.append(np.asarray(parse_value(text.replace("[", "(").replace("]", ")")), dtype=float))
        except NotANumber:
            continue  # validated when the rubric was loaded
    return values


def _given(candidate: Candidate, given: list[np.ndarray]) -> bool:
    """A restatement of the problem's data (`\\eta = 0.01`, `b = [-1, 1]`), not an answer."""
    value = np.asarray(candidate.value, dtype=float)
    return any(value.shape == g.shape and np.allclose(value, g, rtol=1e-9, atol=1e-12) for g in given)


# "(sanity value: L = 9.4348270126…)": the handout's own check, pasted in with its question, not an answer
_HANDOUT_CHECK = re.compile(r"\bsanity value\b", re.IGNORECASE)
# "γ² = 1/3", "110γ⁹⁹ = 1": the value of a power of the unknown, a step on the way to it, not its answer
# (an index in parentheses, ŷ^{(1)}, is no power)
_POWER = re.compile(r"\^\s*\{?\s*-?\d|[²³⁴⁵⁶⁷⁸⁹]")


# ------------------------------------------------------------------------------------------------ numbers


def _shape(value: Value) -> tuple[int, ...]:
    return np.shape(np.asarray(value, dtype=float))


def _fits(value: Value, expected: np.ndarray) -> np.ndarray | None:
    """The candidate in the expected shape: as written, as a column or row, or transposed."""
    array = np.asarray(value, dtype=float)
    if array.shape == expected.shape:
        return array
    if array.size == expected.size and (array.ndim == 1 or expected.ndim == 1 or 1 in array.shape):
        return array.reshape(expected.shape)
    if array.ndim == 2 and array.T.shape == expected.shape:
        return array.T
    return None


def _close(got: np.ndarray, target: np.ndarray, check: Check, unit: float) -> bool:
    return bool(np.all(np.abs(got - target) <= check.atol + unit + check.rtol * np.abs(target)))


def _unit(candidate: Candidate, check: Check) -> float:
    """The written precision counts only with enough significant digits: '9.4' is not L = 9.4348."""
    return candidate.unit if candidate.digits >= check.digits else 0.0


def _best(matches: list[tuple[Candidate, np.ndarray]]) -> tuple[Candidate, np.ndarray]:
    """A final answer over an intermediate one: emphasised, then the last written."""
    return max(enumerate(matches), key=lambda im: (im[1][0].emphasis, im[0]))[1]


# "its slope stays well below 1", "γ < 0.9": a bound, not a value ("at most 1/2" is a maximum, a value)
_BOUNDED = re.compile(r"(?:\b(?:below|above|under|over|less than|more than|greater than|smaller than|larger than|"
                      r"bigger than|closer to|close to)|[<>])\s*$", re.IGNORECASE)


def _numeric(check: Check, pool: list[Candidate], targets: list[tuple[str, Any]], own: list[Candidate]) -> TextAnswer | None:
    """The candidate that matches a target (the expected value, a misconception, the carried value),
    each in its own shape; then one assembled number by number; else the closest one in the expected
    shape, among those labelled for this check when there are such."""
    shaped = [(what, np.asarray(target, dtype=float)) for what, target in targets]
    # what the student labelled as this quantity first ("L = l(3) = 3.0072", a misconception) over a
    # number that merely matches ("the handout's sanity value 9.4348")
    for group in ([c for c in pool if c in own], pool) if own else (pool,):
        for what, target in shaped:
            matches = [(c, v) for c in group if (v := _fits(c.value, target)) is not None and _close(v, target, check, _unit(c, check))]
            if matches:
                chosen, value = _best(matches)
                return _answer(chosen, value, _unit(chosen, check), f"matches {what}")
    for what, target in shaped:
        assembled = _assemble(check, pool, target) if target.size > 1 else None
        if assembled is not None:
            value, unit, used = assembled
            return TextAnswer(_plain(value), unit, used[0].where, ", ".join(c.text for c in used)[:300],
                              f"matches {what}, its numbers found one by one")
    expected = shaped[0][1]
    # a bound is no answer of its own: it is taken only when it matches
    fitting = [(c, fitted) for c in pool if (fitted := _fits(c.value, expected)) is not None and not _BOUNDED.search(c.context)]
    if fitting:
        fitting = [cv for cv in fitting if cv[0] in own] or fitting
        chosen, value = min(fitting, key=lambda cv: (float(np.max(np.abs(cv[1] - expected) / (np.abs(expected) + 1e-12))),
                                                     -cv[0].emphasis))
        return _answer(chosen, value, _unit(chosen, check), f"the closest of the {len(fitting)} candidates of this shape")
    if expected.size > 1:
        labelled = _elements([c for c in pool if c in own])
        elements = labelled or _elements(pool)
        value = np.array([min(elements, key=lambda ce: abs(ce[1] - t))[1] for t in expected.ravel()]).reshape(expected.shape) \
            if elements else None
        # numbers not said to be this quantity count only when each is of the size of its element: 2
        # and 1e-4 are no losses near 9.43, the student gave none
        if value is not None and (labelled or bool(np.all(np.abs(value - expected) <= 0.5 * np.abs(expected) + 0.5))):
            unit = max(_unit(c, check) for c, _ in elements)
            return TextAnswer(_plain(value), unit, elements[0][0].where, "", "no vector of this shape was found; "
                              "each number is the closest written value")
    return None


def _elements(pool: list[Candidate]) -> list[tuple[Candidate, float]]:
    return [(c, float(v)) for c in pool for v in np.asarray(c.value, dtype=float).ravel()]


def _assemble(check: Check, pool: list[Candidate], target: np.ndarray) -> tuple[np.ndarray, float, list[Candidate]] | None:
    """A vector or matrix written as separate numbers (ŷ(1) = ..., ŷ(2) = ...), each found within tolerance."""
    elements = _elements(pool)
    value, used, unit = [], [], 0.0
    for t in target.ravel():
        found = [(c, v) for c, v in elements if abs(v - t) <= check.atol + _unit(c, check) + check.rtol * abs(t)]
        if not found:
            return None
        candidate, v = found[-1]
        value.append(v)
        unit = max(unit, _unit(candidate, check))
        if candidate not in used:
            used.append(candidate)
    return np.array(value).reshape(target.shape), unit, used


def _plain(value: np.ndarray) -> Any:
    return float(value) if value.ndim == 0 else value


def _answer(candidate: Candidate, value: np.ndarray, unit: float, how: str) -> TextAnswer:
    return TextAnswer(_plain(value), unit, candidate.where, candidate.text, how)


# ------------------------------------------------------------------------------------------------ choices


_BEFORE_CUE = re.compile(r"(\b(so|thus|hence|therefore|choose|chooses|pick|prefer|should|go|goes|going|move|moving|take|"
                         r"answer|optimal|best|is)\b|→|=>|⇒|->|:)\W*$", re.IGNORECASE)
_AFTER_CUE = re.compile(r"^\W*(is|are|would be|will be)?\s*(the\s+)?(optimal|best|better|preferred|wins|the answer|"
                        r"the optimal|chosen)\b", re.IGNORECASE)


_SUBSCRIPT_WORD = re.compile(r"_\s*\{\s*\\(?:text|mathrm|rm|mathit)\s*\{[^{}]*\}\s*\}|_\s*\\(?:text|mathrm)\s*\{[^{}]*\}|_\{[A-Za-z]{2,}\}")
_VALUED = re.compile(r"\s*(?:[:=]|[^\W\d]{1,6}\b)?\s*[:=]?\s*[-+−]?\d")  # "left 0.5", "left: 0", "left gives 0.5"


def _choice(check: Check, text: str, others: list[Check]) -> TextAnswer | None:
    """The choice a part's text concludes: the phrasing with a decision word next to it ("so right",
    "right is optimal", "→ stay"), emphasised, not argued against ("right is better than stay"
    chooses right), later over earlier. When other choice checks share the text (below/above), each
    phrase belongs to the one whose condition it is stated under (see _owner)."""
    text = _SUBSCRIPT_WORD.sub("", text)  # G_{\text{right}} names a return, it chooses nothing
    plain = re.sub(r"\\(Rightarrow|implies|to|rightarrow|Longrightarrow)\b", " ⇒ ", text)
    plain = re.sub(r"\\gamma\b", "γ", plain)
    plain = re.sub(r"\\[A-Za-z]+|[{}$]", " ", plain)
    # a line with a dotted leader ("best choice for γ above 1/3 ........ right") is a sentence of its own
    plain = _gamma_first(_unwrap(re.sub(r"(?:\.{3,}|…+)[ \t]*(.*?)[ \t]*$", r" : \1.", plain, flags=re.MULTILINE)))
    phrasings = sorted(((p, choice) for choice, ps in check.accepted.items() for p in (choice, *ps)), key=lambda pc: -len(pc[0]))
    rivals = [o for o in others if o.kind == "choice" and o.hints]
    taken = [False] * len(plain)
    hits: list[tuple[float, str, str, int]] = []
    for phrase, choice in phrasings:
        # "staying is optimal": the phrasing with an ending of its verb
        for m in re.finditer(rf"(?<![\w-]){re.escape(phrase)}(?:s|ing|ed)?(?![\w-])", plain, re.IGNORECASE):
            if any(taken[m.start():m.end()]):
                continue
            taken[m.start():m.end()] = [True] * (m.end() - m.start())
            if rivals:
                owner = _owner(plain, m.start(), m.end(), [check, *rivals])
                if owner is not check and (owner is not None or check.hints):
                    continue
            before, after = plain[max(0, m.start() - 30):m.start()], plain[m.end():m.end() + 30]
            score = m.start() / max(len(plain), 1)
            score += 3 if re.search(r"(\*\*|__)\s*$", before) else 0
            cued = bool(_BEFORE_CUE.search(before) or _AFTER_CUE.search(after))
            if len(m.group(0)) > len(phrase) and not cued:
                continue  # an ending counts only with a decision next to it: not "the 1 from staying"
            score += 3 if cued else 0
            score -= 5 if _AGAINST.search(before) or _AGAINST_AFTER.search(after) else 0
            score -= 5 if _VALUED.match(after) else 0  # a return, no choice
            hits.append((score, choice, m.group(0), m.start()))
    if not hits:
        return None
    hits.sort(reverse=True)
    considered = [f"“{h[2]}” ({h[1]}), weight {h[0]:.1f}" for h in hits[:MAX_CONSIDERED]]
    best = hits[0]
    rivals = {h[1] for h in hits if best[0] - h[0] < 0.5}
    if len(rivals) > 1:
        return TextAnswer(" or ".join(sorted(rivals)), how="the text names more than one choice with equal weight; "
                          "state one conclusion", considered=considered)
    return TextAnswer(best[1], text=best[2], how="the choice your text concludes", considered=considered)


_BOUND = r"\d+(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?"
_WRAPPED_NEXT = re.compile(r"(?![ \t]*(?:\d+|[a-z]|[ivx]+)[.)]\s)[ \t]*[a-z0-9(*_$γ]")
_CONDITION = r"(?:γ|gamma|y)\s*[<>≤≥]"  # "γ < 1/3", "y > 1/3" (OCR's γ): a condition opens here
_CONDITION_LINE = re.compile(rf"[ \t]*{_CONDITION}")


def _unwrap(text: str) -> str:
    """A paragraph wrapped at a fixed width read as one line: 'for γ above\n1/3 it is to go right' is
    one clause. A line that ends a thought, a short line ('γ < 1/3 → left'), a line of aligned
    columns or dotted leaders, and a line that opens a condition keep their breaks."""
    lines = text.split("\n")
    out = lines[:1]
    for line in lines[1:]:
        previous = out[-1]
        wrapped = (len(previous) >= 60 and not re.search(r"[.:;!?|)]\s*$", previous)
                   and not re.search(r"\.{4,}|\S {3,}\S", previous)
                   and _WRAPPED_NEXT.match(line) and not _CONDITION_LINE.match(line))
        if wrapped:
            out[-1] = previous + " " + line.lstrip()
        else:
            out.append(line)
    return "\n".join(out)


def _gamma_first(text: str) -> str:
    """Conditions with γ first, as the hints say them: "0 < γ < 1/3" is "γ < 1/3" (γ is at least 0 anyway),
    "1/3 < γ < 1" is "γ > 1/3", "1/3 < γ" is "γ > 1/3"."""
    def value(bound: str) -> float | None:
        try:
            return float(Fraction(bound.replace(" ", "")))
        except (ValueError, ZeroDivisionError):  # "1.5/2" is no Fraction; a bound that is not 0 or 1 is kept
            return None

    def between(m: re.Match[str]) -> str:
        low, high = m.group(1), m.group(2)
        return f"γ < {high}" if value(low) == 0 else f"γ > {low}" if value(high) == 1 else m.group(0)
    text = re.sub(rf"({_BOUND})\s*<=?\s*γ\s*<=?\s*({_BOUND})", between, text)
    text = re.sub(rf"({_BOUND})\s*<\s*γ(?!\s*[<>])", r"γ > \1", text)
    return re.sub(rf"({_BOUND})\s*>\s*γ(?!\s*[<>])", r"γ < \1", text)


def _owner(text: str, start: int, end: int, checks: list[Check]) -> Check | None:
    """The check a choice phrase answers when several share a part: the first hint in its own clause
    ("for γ < 1/3 go **left**, and for γ > 1/3 go **right**"), else the first one earlier in its
    sentence ("Below 1/3 there is little discounting, so the bigger reward wins: **right**"), else
    the nearest one after it ("left, & γ < 1/3" in a cases environment)."""
    labelled = [index for index, check in enumerate(checks) for hint in check.hints
                if re.search(_hint_pattern(hint) + r"[ \t]*(?:[:=]|->|→|⇒)[ \t]*(?:\*\*|__)?[ \t]*$", text[max(0, start - 40):start],
                             re.IGNORECASE)]
    if len(set(labelled)) == 1:
        return checks[labelled[0]]  # "below: left, above: right": the label just before the phrase names it
    sentence_start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    sentence_end = (m.start() if (m := _SENTENCE_END.search(text, end)) else len(text))
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(text, sentence_start, start)), default=sentence_start)
    clause_end = (m.start() if (m := _CLAUSE_END.search(text, end, sentence_end)) else sentence_end)
    for a, b in ((clause_start, clause_end), (sentence_start, start), (end, sentence_end)):
        hits = [(m.start(), index) for index, check in enumerate(checks) for hint in check.hints
                for m in re.finditer(_hint_pattern(hint), text[a:b], re.IGNORECASE)]
        if hits:
            return checks[min(hits)[1]]
    return None


def _hint_pattern(hint: str) -> str:
    """A word hint ("below") as a whole word, so that "less" is not found in "unless"; spaces in a
    hint ("γ = 1") match any spacing, or none."""
    pattern = r"\s*".join(re.escape(word) for word in hint.split())
    return rf"(?<!\w){pattern}(?![\w.])" if hint[:1].isalnum() and hint[-1:].isalnum() else pattern


# hard-wrapped lines go on with their sentence; a blank line, a list item, a line that opens a new
# condition ("For γ above 1/3: right"), a LaTeX row or ';' end it
_SENTENCE_END = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*+•]|\(?(?:\d+|[A-Za-z]|[ivx]+)[.)])\s)|"
                           rf"\n(?=\s*(?:for|if|when|whenever)\s+(?:γ|gamma)\b)|\n(?=\s*{_CONDITION})|\\\\|;|"
                           r"(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\bcf)(?<!\betc)\.(?=\s|$)", re.IGNORECASE)  # "e.g." ends none
_CLAUSE_END = re.compile(r"[,:\n]|\b(?:and|but|while|whereas|otherwise)\b", re.IGNORECASE)


# ------------------------------------------------------------------------------------------------ parts


def _content(lines: list[Line]) -> list[Line]:
    """The answer lines, with each Markdown table cell restated as 'row column = value', so that a
    table of L(b ± ε) or of per-step gradients carries its labels like a sentence does."""
    content = _without_prompt([line for line in lines if not line.heading and not line.code])
    out: list[Line] = []
    header: list[str] = []
    for line in content:
        if _GRID_BORDER.match(line.text):
            continue  # a Pandoc grid table's rule: +-----+-----+ (or +=====+ under the header)
        cells = _table_cells(line.text)
        if cells is None:
            header = []
            out.append(line)
        elif not header:
            header = cells
        elif all(re.fullmatch(r":?-{2,}:?", c.strip()) for c in cells if c.strip()):
            continue
        else:
            row = cells[0]
            if re.fullmatch(r"[-+.\d/]+", row) and re.fullmatch(r"\$?\\?[^\W\d_]{1,6}\$?", header[0]):
                row = f"{header[0]} = {row}"  # | γ | best move | over | 1 | right |: "γ = 1 best move = right"
            restated = [f"{row} {header[i] if i < len(header) else ''} = {cell}" for i, cell in enumerate(cells)
                        if i and cell.strip()]
            out.append(Line(line.source, line.number, "; ".join(restated) or line.text))
    return out


_ANSWER_START = re.compile(r"^\s*(?:[*_]{2})?(?:answer|my answer|solution|ans)\s*(?:[*_]{2})?\s*[:.]", re.IGNORECASE)


def _without_prompt(content: list[Line]) -> list[Line]:
    """The question copied in before 'Answer:' (a Canvas text entry, a handout pasted in) is not the
    student's: when the lines before the first 'Answer:' ask something ('...?'), they are left out."""
    start = next((i for i, line in enumerate(content) if _ANSWER_START.match(line.text)), 0)
    asked = any("?" in line.text for line in content[:start])
    return content[start:] if asked else content


_GRID_BORDER = re.compile(r"^\s*\+(?:[-=:]+\+)+\s*$")


def _table_cells(text: str) -> list[str] | None:
    stripped = text.strip()
    if not (stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") >= 3):
        return None
    return [c.strip() for c in stripped.strip("|").split("|")]


def written_text(lines: list[Line]) -> str:
    """A part's text as the student wrote it, for the report: headings shown once, with their rest."""
    shown, seen = [], set()
    for line in lines:
        key = (line.source, line.number)
        if line.heading or key not in seen:
            shown.append(line.text)
        seen.add(key)
    return "\n".join(shown).strip()


def _considered(pool: list[Candidate], chosen: TextAnswer | None) -> list[str]:
    rows = []
    for c in pool[:MAX_CONSIDERED]:
        mark = "← used" if chosen is not None and c.text == chosen.text and c.where == chosen.where else ""
        label = f" (after “{c.near[-40:]}”)" if c.near else ""
        rows.append(f"{c.where}: {c.text[:80]}{label} {mark}".rstrip())
    if len(pool) > MAX_CONSIDERED:
        rows.append(f"… and {len(pool) - MAX_CONSIDERED} more")
    return rows


def text_answers(rubric: Rubric, outline: Outline, expected: dict[str, Any], answered: dict[str, Any]) -> dict[str, TextAnswer]:
    """For each value check the code did not answer (`answered`), the answer found in the write-up."""
    found: dict[str, TextAnswer] = {}
    given = given_values(rubric)
    texts = {part.id: outline.lines(part.id) for part in rubric.parts}
    # parts without a heading of their own that read the same text around them ("3 (A)" for 3A.i to
    # 3A.iii) share it: each phrase in it belongs to one of their checks
    group = {pid: tuple((l.source, l.number) for l in lines) if inherited else pid for pid, (lines, inherited) in texts.items()}
    sharing: dict[object, list[Check]] = {}
    for part in rubric.parts:
        sharing.setdefault(group[part.id], []).extend(c for c in part.checks if c.value)
    commas = _decimal_commas("\n".join(line.text for lines, _ in texts.values() for line in lines))
    for part in rubric.parts:
        lines, _ = texts[part.id]
        content = _content(lines)
        if not content:
            continue
        content = [replace(line, text=_as_read(line.text, commas)) for line in content]
        pool = [c for c in candidates([(l.source, l.number, l.text) for l in content]) if finite(c.value)]
        pool = [c for c in pool if not _given(c, given) and not _POWER.search(c.subject) and not _HANDOUT_CHECK.search(c.context)]
        pool = [c for index, c in enumerate(pool) if not _evaluated_otherwise(c, pool[index + 1:])]
        values = [c for c in part.checks if c.value]
        for check in values:
            if check.name in answered:
                continue
            others = [o for o in sharing[group[part.id]] if o is not check]
            answer = _part_answer(check, part, content, pool, others, expected, {**answered, **{k: v.value for k, v in found.items()}})
            if answer is not None:
                found[check.name] = answer
    return found


_DECIMAL_COMMA = re.compile(r"(?<![\d.,])\d+,\d{4,}(?![\d,])")  # 9,434827: four or more digits, no thousands
_DECIMAL_POINT = re.compile(r"(?<![\d.,])\d+\.\d{4,}(?![\d.])")


# "O.047780", "0.9400ll", "11O": a number as OCR reads it, letters O, l and I for digits
_OCR_NUMBER = re.compile(r"(?<![\w.])(?=[\dOlI.]*\d[\dOlI.]*\d)(?=[\dOlI.]*[OlI])[\dOlI]*\.?[\dOlI]+(?![\w])")


def _ocr_digits(text: str) -> str:
    return _OCR_NUMBER.sub(lambda m: m.group(0).replace("O", "0").replace("l", "1").replace("I", "1"), text)


# what the student struck out: ~~0.9541~~, \sout{...} or \st{...}, <del>...</del>, and the word or number
# just before "-- no wait," (a correction typed as it came)
_STRUCK = re.compile(r"~~[^~\n]+~~|<(del|s|strike)>.*?</\1>|\\(?:sout|st|xout|cancel)\s*\{(?:[^{}]|\{[^{}]*\})*\}"
                     r"|\S+\s*(?:--|—|–|,)?\s*\bno,? wait\b[,:]?", re.IGNORECASE)


def _unstruck(text: str) -> str:
    return _STRUCK.sub(" ", text)


def _as_read(text: str, commas: bool) -> str:
    """A line as its answers are read: what was struck out gone, OCR's letters for digits mended, and
    in a write-up that uses them, decimal commas as points."""
    text = _ocr_digits(_unstruck(text))
    return _points(text) if commas else text


def _decimal_commas(text: str) -> bool:
    """Whether the write-up writes decimals with a comma, as most of Europe does ('L = 9,434827',
    vectors '(−1,000846; 1,005173)'): more such numbers than ones with a point."""
    commas = len(_DECIMAL_COMMA.findall(text))
    return commas >= 2 and commas > len(_DECIMAL_POINT.findall(text))


def _points(text: str) -> str:
    """Decimal commas as points, and the semicolons that then separate a vector's entries as commas."""
    text = re.sub(r"(?<=\d),(?=\d)", ".", text)
    return re.sub(r"([(\[])([^()\[\]]*;[^()\[\]]*)([)\]])", lambda m: m.group(1) + m.group(2).replace(";", ",") + m.group(3), text)


def _evaluated_otherwise(candidate: Candidate, later: list[Candidate]) -> bool:
    """Whether the student went on, in the same sentence, to evaluate this exact expression to a number
    it does not equal: in 'γ = exp(−log(110)/99) = exp(−2.0414/99), so γ ≈ 0.9796' the answer the
    student gives is 0.9796 (log10 taken for ln), not the expression."""
    if candidate.unit or type(candidate.value) is not float or not candidate.subject:
        return False
    for d in later:
        if d.source != candidate.source or d.line != candidate.line or re.search(r"[.;!?](?:\s|$)|[()]", d.near):
            return False  # the sentence has ended: "(Sanity check: at γ = 0.9 ...)" evaluates nothing
        if d.unit and type(d.value) is float and squash(d.subject) == squash(candidate.subject) \
                and abs(d.value - candidate.value) > d.unit:
            return True
    return False


def _part_answer(check: Check, part: Part, content: list[Line], pool: list[Candidate], others: list[Check],
                 expected: dict[str, Any], earlier: dict[str, Any]) -> TextAnswer | None:
    text = "\n".join(line.text for line in content)
    if check.kind == "choice":
        return _choice(check, text, others)
    if check.kind == "predicate":
        return TextAnswer(re.sub(r"(\*\*|__|\\textbf\{|\\emph\{)", "", text).strip(), where=content[0].source,
                          how="the part's text")
    if check.kind not in ("number", "expression", "array", "integer"):
        return None
    # labelled for this check, unless the label of another check that it could be is nearer to it
    own = [c for c in pool if _matches_hints(c, check.hints)
           and not any(_named_later(c, check.hints, o.hints) and _could_be(c, expected[o.reference]) for o in others)]
    # a candidate labelled for another check of the part is that check's, unless its shape cannot be
    # (a 3×2 matrix called ∂L/∂b is the per-step gradients, not the length-2 ∂L/∂b)
    mine = [c for c in pool if c in own or not any(_matches_hints(c, o.hints) and _could_be(c, expected[o.reference])
                                                    for o in others)]
    targets = [("the expected value", expected[check.reference])]
    # the larger misconceptions first: a whole 3×2 matrix of per-step gradients is better evidence than
    # its last row, which also matches "the last step's contribution only"
    wrong = sorted(check.misconceptions, key=lambda m: -np.size(np.asarray(expected[m.expected], dtype=object)))
    targets += [(f"the misconception “{m.name}”", expected[m.expected]) for m in wrong]
    carried = _carried_target(check, earlier)
    if carried is not None:
        targets.append(("the value carried forward from your earlier answers", carried))
    answer = _numeric(check, mine, targets, own)
    if answer is not None:
        answer.considered = _considered(mine, answer)
    return answer


def _could_be(candidate: Candidate, expected: Any) -> bool:
    """Whether the candidate has the shape of the expected value (always, for a value that is not numeric)."""
    try:
        return _fits(candidate.value, np.asarray(expected, dtype=float)) is not None
    except (TypeError, ValueError):
        return True


def _carried_target(check: Check, earlier: dict[str, Any]) -> Any:
    carried = check.carried
    if carried is None or any(name not in earlier for name in carried.uses):
        return None
    try:
        return resolve(carried.expected)(**{name: earlier[name] for name in carried.uses})
    except Exception:  # an earlier answer the reference cannot take (a wrong shape): nothing carried
        return None


def figures_of(lines: list[Line], root: Path) -> list[tuple[str, str]]:
    """Images the part's text refers to (`![x](a.png)`, `\\includegraphics{a}`), as (name, path) when the
    file is in the hand-in; shown beside the text so the TA sees what the student pointed at."""
    names = []
    for line in lines:
        names += re.findall(r"!\[[^\]]*\]\(([^)\s]+)", line.text)
        names += re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]+)\}", line.text)
    found: list[tuple[str, str]] = []
    if not root.is_dir():
        return found  # a single file handed in: the folder beside it holds other students' work
    folder = root
    for name in names:
        for candidate in (name, name + ".png", name + ".jpg", name + ".jpeg"):
            path = (folder / candidate)
            try:
                inside = path.resolve().is_relative_to(folder.resolve()) and path.is_file() and not path.is_symlink()
            except OSError:
                inside = False
            if inside and path.suffix.lower() in (".png", ".jpg", ".jpeg"):
                found.append((name, str(path)))
                break
    return found


# ------------------------------------------------------------------------------------------------ a hand-in


def read_answers(submission: Submission, rubric: Rubric, expected: dict[str, Any], outcome: Any) -> Outline | None:
    """Fill `outcome` (a runner.RunOutcome) with the write-up's answers to what the code did not answer;
    the outline, for cutting the written parts, or None when the hand-in has no write-up text."""
    sources, problems = read_sources(submission)
    outcome.problems.extend(problems)
    if not sources:
        return None
    outline = outline_of(sources, rubric)
    answers = {**text_answers(rubric, outline, expected, dict(outcome.values)), **front_matter_answers(sources, rubric)}
    for part in rubric.parts:
        lines, _ = outline.lines(part.id)
        for check in part.checks:
            if not check.value or check.name in outcome.values:
                continue
            answer = answers.get(check.name)
            if answer is not None and answer.value is not None:
                outcome.values[check.name] = answer.value
                outcome.written[check.name] = answer
                continue
            why = (f"no answer for {check.label or check.name} was found in the text of part {part.id}" if lines
                   else f"part {part.id} was not found in your write-up (no heading for it)")
            prefix = f"{check.name} is not defined in your code, and " if outcome.ran_code else ""
            outcome.written[check.name] = TextAnswer(None, how=prefix + why)
    return outline


_FRONT_MATTER_ENTRY = re.compile(r"^\s*([A-Za-z_]\w*)\s*:\s*(\S.*?)\s*(?:\s#.*)?$")


def front_matter_answers(sources: list[tuple[str, str]], rubric: Rubric) -> dict[str, TextAnswer]:
    """Answers a Markdown file states in its YAML front matter under the contract's own names
    ('gamma_B: "1/3"', 'pledge: "I adhered ... L.H."', nested under any keys): what the student
    typed there is their answer, before anything the text around it says."""
    checks = {c.name: c for part in rubric.parts for c in part.checks if c.value}
    found: dict[str, TextAnswer] = {}
    for name, text in sources:
        lines = text.split("\n")
        if not lines or lines[0].strip() != "---":
            continue
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), 0)
        for number in range(1, end):
            m = _FRONT_MATTER_ENTRY.match(lines[number])
            if not m or m.group(1) not in checks:
                continue
            raw = m.group(2).strip().strip("'\"")
            check = checks[m.group(1)]
            value: Any = raw
            unit = 0.0
            if check.kind in ("number", "expression", "integer", "array"):
                try:
                    value = parse_value(raw.replace("[", "(").replace("]", ")"))
                except NotANumber:
                    continue
                value = np.asarray(value, dtype=float) if type(value) is tuple else value
                unit = decimal_precision(raw)[0] if type(value) is float else 0.0
            found[check.name] = TextAnswer(value, unit, f"{name}, line {number + 1}", raw,
                                           "the answers at the top of your write-up (front matter)")
    return found


def attach_written(parts: list[Any], outline: Outline, submission: Submission) -> None:
    """Each part's text as the student wrote it, with the images it refers to (results.PartResult)."""
    for part in parts:
        lines, inherited = outline.lines(part.id)
        part.written = written_text(lines)[:20_000]
        if lines and inherited:
            part.written_note = "this part has no heading of its own in your write-up: this is the text around it"
        part.written_figures = [_data_uri(path) for _, path in figures_of(lines, submission.root)][:4]
        part.written_figures = [uri for uri in part.written_figures if uri]


def _data_uri(path: str) -> str:
    import base64

    data = Path(path).read_bytes()
    if len(data) > 2 * 2**20:
        return ""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "data:image/png;base64," + base64.b64encode(data).decode()
    if data.startswith(b"\xff\xd8\xff"):
        return "data:image/jpeg;base64," + base64.b64encode(data).decode()
    return ""


# ------------------------------------------------------------------------------------------------ columns


_SMALL_CAPS = re.compile(r"\b([A-Z]) (?=[A-Z]{2,}\b)")  # "P ROBLEM 1": a small-caps heading as pdftotext spaces it


def _small_caps(line: str) -> str:
    return _SMALL_CAPS.sub(r"\1", line) if line.upper() == line else line


def _columns(name: str, text: str) -> list[tuple[str, str]]:
    """A two-column page as `pdftotext -layout` prints it, the columns side by side, read as a person
    reads it: each page's left column, then its right one, each a source of its own so that a line
    number still points at the student's line ('report.txt, page 2, right column, line 14'). A page
    without a gutter is read as it is."""
    pages = text.split("\f")
    gutters = [_gutter(page.split("\n")) for page in pages]
    if not any(gutters):
        return [(name, text)]  # one source, so that running headers repeated on every page are seen
    sources = []
    for number, (page, gutter) in enumerate(zip(pages, gutters), 1):
        lines = page.split("\n")
        where = f"{name}, page {number}" if len(pages) > 1 else name
        if gutter is None:
            sources.append((where, page))
            continue
        left = [_small_caps(line[:gutter].rstrip()) for line in lines]
        right = [_small_caps(line[gutter:].rstrip()) for line in lines]
        indent = min((len(r) - len(r.lstrip()) for r in right if r.strip()), default=0)
        sources += [(f"{where}, left column", "\n".join(left)),
                    (f"{where}, right column", "\n".join(r[indent:] for r in right))]
    return sources


def _gutter(lines: list[str]) -> int | None:
    """The position of the blank strip between two columns of prose: two spaces there on four in five
    of the lines that reach past it (a table may run across), and on at least eight lines text on
    both sides, the right side starting at one position (a column's left edge), the left side mostly
    filling its column, and words on both (a sheet of labels and values is no pair of columns)."""
    filled = [line for line in lines if line.strip()]
    width = max((len(line) for line in filled), default=0)
    if width < 100 or len(filled) < 10:
        return None
    candidates = []
    for column in range(int(width * 0.35), int(width * 0.65)):
        long = [line for line in filled if len(line) > column + 1]
        clear = sum(1 for line in long if not line[column - 1:column + 1].strip())
        both = [line for line in long if line[:column - 1].strip() and line[column + 1:].strip()]
        if len(both) < 8 or clear < 0.8 * len(long):
            continue
        starts = Counter(len(line) - len(line[column:].lstrip()) for line in both)
        full = sum(1 for line in both if len(line[:column].rstrip()) >= 0.7 * column)
        left_words = sum(len(re.findall(r"[A-Za-z]{3,}", line[:column])) for line in both) / len(both)
        right_words = sum(len(re.findall(r"[A-Za-z]{3,}", line[column:])) for line in both) / len(both)
        prose = min(left_words, right_words) >= 1.5 and max(left_words, right_words) >= 3
        if starts.most_common(1)[0][1] >= 0.5 * len(both) and full >= 0.6 * len(both) and prose:
            candidates.append((clear, len(both), -column))
    return -max(candidates)[2] if candidates else None
