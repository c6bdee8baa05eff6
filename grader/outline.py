"""Write-ups cut into the rubric's parts: headings of many styles found and mapped onto part ids.

Students head their answers in many ways: `## 3 Problem 3`, `### Problem 3: The decay term
(30 points)`, `**(C)**`, `(2)`, `(iii) -`, `Problem 2.7:`, `\\subsection*{(a)}`, `\\item`, a bare
`3.2` line in a PDF exported to text. A heading's label (digits, letters, roman numerals, or a
word of the rubric's own ids such as `top`) is read into components and placed in the rubric's
tree of part ids relative to where the text is now: first as a child of the current part, then
as a sibling, then higher up. Numbering styles are interchangeable (`(b)`, `(2)` and `(ii)` are
all the second child), so a student's `3(b)` finds the rubric's `3.2`.

How sure a heading is decides how far it may move: a Markdown or LaTeX heading, a `Problem 3`
keyword or a dotted label like `3.2` may go anywhere; a bold label like `**(C)**` anywhere
below the current problem; a plain `(2)` or `b)` at the start of a line only to a child or a
later sibling (a numbered list inside an answer must not jump back to an earlier part). Text
that cannot be placed is kept, in order, as unplaced text; nothing is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace

from grader.dialects import as_markdown, closing_brace

Path_ = tuple[str, ...]  # a node of the rubric's tree: ("3", "A", "i") for part "3A.i"

STRONG, BOLD, WEAK = 3, 2, 1
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50}
# a problem's keyword, also in the languages of exchange students ("Aufgabe 3", "Exercice 3", "Ejercicio 3")
_PROBLEM_WORD = (r"(?:problema|probl[eè]me|problem|question|exercise|exercice|exerc[ií]cio|ejercicio|esercizio|aufgabe|"
                 r"[uü]e?bung|frage|pregunta|domanda|opgave|oppgave|uppgift|zadanie)")
# ... or of a part ("Part b", "Teil b"), or of an answer; never followed by a letter ("Parts", "exam")
_KEYWORD = rf"(?:{_PROBLEM_WORD}|task|part|teil|partie|parte|answer|solution|prob\.?|ex\.?|ans\.?|q)(?![^\W\d_])"
_TEX_LEVELS = {"section": 1, "subsection": 2, "subsubsection": 3, "paragraph": 4, "subparagraph": 5}
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_TEX_HEADING = re.compile(r"^\s*\\(section|subsection|subsubsection|paragraph|subparagraph)\*?\s*(?:\[[^\]]*\])?\s*\{")
# a Beamer slide's title, \begin{frame}[options]{Aufgabe 3(a)} or \frametitle{...}: a heading below the sections
_TEX_FRAME = re.compile(r"^\s*\\(?:begin\{frame\}\s*(?:<[^>]*>)?\s*(?:\[[^\]]*\])?\s*(?:<[^>]*>)?|frametitle)\s*\{")
_FRAME_LEVEL = 3
_TEX_TAG = re.compile(r"\\tag\*?\{([^{}]*)\}")
# a titled box, \begin{tcolorbox}[ans, title=Answer 1(A)] or \begin{mdframed}[frametitle={3(B)}]: a heading
_TEX_BOX = re.compile(r"^\s*\\begin\{[A-Za-z]+\*?\}\s*\[[^\]]*?\b(?:title|frametitle)\s*=\s*(?:\{([^{}]*)\}|([^,\]]*))[^\]]*\]\s*(.*)$")
_TEX_SPACING = re.compile(r"\\(?:q?quad|enspace|hfill|normalfont|itshape|bfseries|sffamily|ttfamily|rmfamily|scshape|upshape|"
                          r"mdseries|small|footnotesize|large|Large)(?![A-Za-z])|\\[,;:! ]|~")
_TEX_ITEM = re.compile(r"^\s*\\item\s*(?:\[([^\]]*)\])?\s*(.*)$")
# the exam class's numbered commands, outermost first; \titledquestion{2.7} names its own label
_EXAM = ("question", "part", "subpart", "subsubpart")
_TEX_EXAM = re.compile(r"^\s*\\(titledquestion|question|part|subpart|subsubpart)(?![A-Za-z])\s*(?:\{([^}]*)\})?\s*(?:\[[^\]]*\])?\s*(.*)$")
_SECTIONS = ("section", "subsection", "subsubsection")
_TEX_NUMBERED = re.compile(r"^\s*\\(section|subsection|subsubsection)\s*(?:\[[^\]]*\])?\s*\{")  # no star: counted
_SECTION_SETCOUNTER = re.compile(r"\\setcounter\{(section|subsection|subsubsection)\}\{(\d+)\}")
_TEX_SETCOUNTER = re.compile(r"\\setcounter\{(question|partno|subpart)\}\{(\d+)\}")
# \begin{problem}[3.2], \begin{exercise}{2}, or numbered by their own counter when given no label
_TEX_PROBLEM = re.compile(r"^\s*\\begin\{(problem|question|exercise|homeworkproblem|task)\*?\}\s*(?:\[([^\]]*)\]|\{([^}]*)\})?\s*(.*)$",
                          re.IGNORECASE)
_TEX_BEGIN_LIST = re.compile(r"\\begin\{(enumerate|itemize)\}")
_TEX_END_LIST = re.compile(r"\\end\{(enumerate|itemize)\}")
_BOLD = re.compile(r"^\s*(?:[-*+]\s+)?(?:\*\*|__|\\textbf\{)(.+?)(?:\*\*|__|\})\s*[:.\-–—)]*\s*(.*)$")
_LABEL_TOKEN = r"(?:\d{1,3}(?:\.\d{1,3})*[A-Za-z]?(?:\.?[ivxIVX]+)?|[A-Za-z]{1,8})"  # 9.434827 is no label
_PLAIN = re.compile(
    rf"^\s*(?:[-*+]\s+)?(?P<label>(?:{_KEYWORD}\s*)?(?:\(\s*{_LABEL_TOKEN}\s*\)(?:\(\s*{_LABEL_TOKEN}\s*\))*|\[\s*{_LABEL_TOKEN}\s*\]|{_LABEL_TOKEN}\s*\)|"
    rf"{_LABEL_TOKEN}(?:\s*\(\s*[A-Za-z0-9]{{1,4}}\s*\))*))(?P<sep>\s*[:.\-–—)]\s*|\s+|$)(?P<rest>.*)$",
    re.IGNORECASE,
)
_INLINE = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=[;,.]))\(\s*([ivx]{1,4}|[a-hA-H]|\d)\s*\)(?=\s)")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_CODE_FENCE = re.compile(r"^\s{0,3}(?:```|~~~)\s*\{?\.?(?:python3?|py|ipython3?)\b", re.IGNORECASE)
_MATH_OPEN = re.compile(r"^\s*(\$\$|\\\[|\\begin\{(?:equation|align|aligned|gather|eqnarray|multline|split)\*?\})")
# a references section ends the last answer: "## References", "**Bibliography**", \begin{thebibliography};
# so do an appendix, scratch work and a summary of the answers (its rows name their parts again)
_END_MATTER = re.compile(r"^\s*(?:#{1,6}\s*|\*\*|__|\\(?:sub)*section\*?\{)?\s*(?:references|bibliography|works\s+cited|"
                         r"literature|appendix|scratch(?:\s+work)?|answer\s+summary|summary\s+of\s+answers|final\s+answers)"
                         r"\s*:?\s*(?:\*\*|__|\})?\s*$|^\s*\\(?:begin\{thebibliography\}|bibliography\{|printbibliography)",
                         re.IGNORECASE)
# "*TODO: add a second example*", "NOTE TO SELF: export to pdf": a line the student left for themselves
_NOTE_TO_SELF = re.compile(r"^\s*(?:[-*+]\s+)?[*_]*\s*(?:TODO|FIXME|XXX|NOTE TO SELF|note to self)\b")
# a notebook printed to PDF and exported to text: "In [6]: W = ..." and its indented continuation lines,
# and the lines of a traceback that hold code or line numbers
_PROMPT = re.compile(r"^\s*In \[\d*\]:")
_TRACEBACK = re.compile(r"^(?:-{20,}\s*$|\w+(?:Error|Exception)\s+Traceback|Cell In\[\d+\]|-*> ?\d+ )")
_PAGE_FURNITURE = re.compile(r"^\s*(?:page\s+)?\d{1,3}(?:\s*(?:of|/)\s*\d{1,3})?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Line:
    source: str  # the file (and cell) the line comes from
    number: int  # 1-based line number in that source
    text: str
    heading: bool = False  # a heading's own line: shown, but its label's numbers are not answers
    code: bool = False  # a line of Python in a fenced block: shown, but what it computes is in its output


@dataclass
class Outline:
    nodes: dict[Path_, list[Line]] = field(default_factory=dict)
    unplaced: list[Line] = field(default_factory=list)
    headings: list[tuple[Line, str]] = field(default_factory=list)  # each heading and where it was placed
    order: dict[str, int] = field(default_factory=dict)  # each source's place in the hand-in ("cell 9" before "cell 11")
    shared: dict[Path_, Path_] = field(default_factory=dict)  # "**3B and 3C.**": 3C's text is 3B's

    def lines(self, part_id: str) -> tuple[list[Line], bool]:
        """The lines of a part and of its sub-parts, in the student's order; when the student gave the
        part no heading of its own, the lines of its nearest headed ancestor (and True)."""
        path = split_id(part_id)
        own = self._under(path)
        if own:
            return own, False
        for depth in range(len(path), 0, -1):
            if path[:depth] in self.shared:
                return self._under(self.shared[path[:depth]]), True
            ancestor = self.nodes.get(path[:depth]) if depth < len(path) else None
            if ancestor:
                return list(ancestor), True
        return [], False

    def _under(self, path: Path_) -> list[Line]:
        lines = [line for node, node_lines in self.nodes.items() if node[:len(path)] == path for line in node_lines]
        return sorted(lines, key=lambda line: (self.order.get(line.source, 0), line.number))


def split_id(part_id: str) -> Path_:
    """'3A.i' -> ('3', 'A', 'i'); '1.1' -> ('1', '1'); '3C.top' -> ('3', 'C', 'top')."""
    return tuple(token for piece in part_id.split(".") for token in re.findall(r"\d+|[A-Za-z]+", piece))


def _roman(text: str) -> int | None:
    text = text.lower()
    if not text or any(c not in _ROMAN for c in text):
        return None
    total = 0
    for index, char in enumerate(text):
        value = _ROMAN[char]
        total += -value if index + 1 < len(text) and _ROMAN[text[index + 1]] > value else value
    return total


class Tree:
    """The rubric's part ids as a tree, with each child's ordinal in its numbering style."""

    def __init__(self, part_ids: list[str]) -> None:
        self.children: dict[Path_, list[str]] = {}  # in the rubric's order
        for part_id in part_ids:
            path = split_id(part_id)
            for depth in range(1, len(path) + 1):
                kids = self.children.setdefault(path[:depth - 1], [])
                if path[depth - 1] not in kids:
                    kids.append(path[depth - 1])
        self.words = {c.lower() for kids in self.children.values() for c in kids
                      if c.isalpha() and len(c) > 1 and _roman(c) is None}

    def ordinal(self, parent: Path_, child: str) -> int:
        """The child's position in its own numbering style: '3' is 3, 'C' is 3, 'iii' is 3, 'top' is 1."""
        kids = self.children.get(parent, [])
        if child.isdigit():
            return int(child)
        if all(_roman(k) is not None for k in kids if not k.isdigit()) and any(len(k) > 1 for k in kids):
            return _roman(child) or 0
        if len(child) == 1:
            return ord(child.lower()) - 96
        return kids.index(child) + 1

    def child(self, parent: Path_, label: str, exact: bool = False) -> Path_ | None:
        kids = self.children.get(parent, [])
        same = [k for k in kids if k.lower() == label.lower()]
        if same or exact:
            return parent + (same[0],) if same else None
        wanted = {int(label)} if label.isdigit() else {o for o in (_roman(label), ord(label.lower()) - 96 if len(label) == 1 else None) if o}
        matches = [k for k in kids if self.ordinal(parent, k) in wanted and not k.lower() in self.words]
        return parent + (matches[0],) if len(matches) == 1 else None

    def resolve(self, base: Path_, label: tuple[str, ...], exact: bool = False) -> Path_ | None:
        node = base
        for token in label:
            node = self.child(node, token, exact)
            if node is None:
                return None
        return node


def _label_tokens(label: str, tree: Tree) -> tuple[tuple[str, ...], bool] | None:
    """A heading's label as components, and whether a keyword like 'Problem' makes it absolute."""
    text = re.sub(r"(?<=\d),(?=\d)", ".", label.strip().strip("*_").strip())  # "**4,3**" is 4.3 (a decimal comma)
    keyword = re.match(rf"^{_KEYWORD}\s*", text, re.IGNORECASE)
    absolute = False
    if keyword:
        word = keyword.group(0).strip().rstrip(".").lower()
        absolute = word in ("prob", "ex", "q") or bool(re.fullmatch(_PROBLEM_WORD, word, re.IGNORECASE))
        text = text[keyword.end():]
    tokens = tuple(t for t in re.findall(r"\d+|[A-Za-z]+", text))
    if not tokens or len(tokens) > 4:
        return None
    for token in tokens:
        ok = token.isdigit() or len(token) == 1 or _roman(token) is not None or token.lower() in tree.words
        if not ok:
            return None
    if not keyword and re.search(r"[^\w\s.()\[\]]", text):
        return None
    return tokens, absolute


@dataclass
class _State:
    tree: Tree
    path: Path_ = ()
    lists: list[tuple[Path_, int]] = field(default_factory=list)  # TeX enumerate: the node it started under, its counter
    exam: list[tuple[Path_ | None, int]] = field(default_factory=list)  # the exam class: per level, its node and counter
    problems: int = 0  # \begin{problem} environments without a label
    listed: int = 0  # the number of the last plain "2." or "b)" that was read as a list item, not a heading
    top_level: int = 0  # the Markdown/LaTeX level of the last heading that opened a problem
    last_level: int = 0  # ... and of the last labelled heading
    numbered: dict[str, Path_] = field(default_factory=dict)  # "2.\tProblem 2.7": the student's own number 2 -> 2.7
    sections: list[int] = field(default_factory=lambda: [0, 0, 0])  # LaTeX's section, subsection, subsubsection counters

    def enter(self, heading: "_Heading", target: Path_ | None) -> Path_ | None:
        """Move to a heading's part. A heading without a label ("## Appendix") at a problem's level
        or above ends the current part; a lower one ("#### Answer") is inside it."""
        if heading.tokens:
            self.path = target or ()
            if heading.level:
                self.last_level = heading.level
                if target and len(target) == 1:
                    self.top_level = heading.level
            return target
        if heading.level and (heading.level <= self.top_level or heading.level < self.last_level):
            self.path = ()
        return self.path or None

    def place(self, tokens: tuple[str, ...], strength: int, absolute: bool) -> Path_ | None:
        """Where a heading goes: exact labels before ones matched by ordinal, deeper before higher."""
        if absolute:
            return self.tree.resolve((), tokens, exact=True) or self.tree.resolve((), tokens)
        if (following := self._next_sibling(tokens)) is not None:
            return following
        for exact in (True, False):
            found = self._place(tokens, strength, exact)
            if found is not None:
                return found
        # "**2.7**" under "## Problem 2.7": the label names the part the text is already in; a sure
        # heading naming a part the text is inside of ("Answer 3(A)" after the handout's "(iii) For which
        # γ ...") goes back to it
        here = self.tree.resolve((), tokens, exact=True) or self.tree.resolve((), tokens)
        inside = here is not None and (here == self.path or (strength == STRONG and here == self.path[:len(here)]))
        return here if inside else None

    def _next_sibling(self, tokens: tuple[str, ...]) -> Path_ | None:
        """'(b)' just after the part an '(a)' was placed in, 3A.i, is its next sibling 3A.ii, in the
        student's own numbering style, before the rubric's exact 'B' one level up."""
        letter = tokens[0].lower() if len(tokens) == 1 and len(tokens[0]) == 1 and tokens[0].isalpha() else ""
        if not letter or len(self.path) < 2:
            return None
        parent = self.path[:-1]
        found = self.tree.resolve(parent, tokens)
        if found is None or found[-1] == tokens[0]:
            return None
        following = self.tree.ordinal(parent, self.path[-1]) + 1
        return found if ord(letter) - 96 == following == self.tree.ordinal(parent, found[-1]) else None

    def _place(self, tokens: tuple[str, ...], strength: int, exact: bool) -> Path_ | None:
        tree, path = self.tree, self.path
        for depth in range(len(path), -1, -1):
            if depth == 0 and path and strength != STRONG:
                break  # only a sure heading leaves the current problem
            found = tree.resolve(path[:depth], tokens, exact)
            if found is None or found == path[:len(found)]:
                continue  # a label naming the part the text is already in
            if strength == WEAK and depth < len(path):
                parent, here = path[:depth], path[depth]
                if found[:depth + 1][:-1] != parent or tree.ordinal(parent, found[depth]) <= tree.ordinal(parent, here):
                    continue  # a plain "(2)" moves only forward: a list inside an answer must not jump back
            return found
        return None


@dataclass(frozen=True)
class _Heading:
    tokens: tuple[str, ...]  # the label's components; empty for a heading with no label ("## Appendix")
    strength: int
    absolute: bool = False
    rest: str = ""  # text after the label that is part of the answer
    level: int = 0  # a Markdown or LaTeX heading's level; 0 for labels in the text
    also: tuple[str, ...] = ()  # "**3B and 3C.**": a second part the same text answers


# emoji, arrows and bullets before a label, after any list marker or Markdown heading marks
_LEADING_SYMBOLS = re.compile(r"^(\s*(?:[-*+]\s+|#{1,6}\s+)?)[^\w\s(\[*_\\$#\-−+.]+\s*")
# "Update after office hours: 3.4 -- ...", "\textbf{Edit (Problem 1B):} ...": a later revision of a named part
_REVISION = re.compile(rf"^\s*(?:\\noindent\s*)?(?:\*\*|__|\\textbf\{{)?\s*(?:update|edit|correction|addendum|erratum|revision)\b[^:()\n]{{0,40}}?"
                       rf"[:(]\s*(?:{_PROBLEM_WORD}\s*|part\s*|question\s*)?({_LABEL_TOKEN})[\s):}}*_\-–—]*(.*)$", re.IGNORECASE)
# "--- 3A ---", "=== Problem 3 ===", "*** (b) ***": a title between two runs of the same character
_DELIMITED = re.compile(r"^\s*(-{2,}|={2,}|\*{3,}|\+{2,}|_{3,})\s*(\w[^|]*?)\s*\1(?![-=*+_])\s*(.*)$")
_POINTS = re.compile(r"[(\[]\s*\d+(?:\.\d+)?\s*(?:points?|pts?|marks?)\s*[)\]]", re.IGNORECASE)


def _cjk(line: str) -> str:
    """Chinese, Japanese and Korean problem labels in the words the rest reads: '第3.2题', '问题 3' and
    '設問3.2' are 'Problem 3.2', 'Problem 3' and 'Problem 3.2'; full-width digits and colons are plain."""
    if not re.search(r"[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]", line):
        return line
    line = unicodedata.normalize("NFKC", line)  # full-width "問３" and "：" are "問3" and ":"
    line = re.sub(r"第\s*(\d+(?:\.\d+)*)\s*[题題问問]", r"Problem \1", line)
    return re.sub(r"(?:问题|問題|题目|习题|習題|設問|小問|문제|問)\s*(?=\d)", "Problem ", line)


def _heading(line: str, previous: str, following: str, tree: Tree) -> _Heading | None:
    line = _cjk(line)
    if (m := _REVISION.match(line)) and (parsed := _label_tokens(m.group(1), tree)) and len(parsed[0]) > 1:
        return _Heading(parsed[0], STRONG, True, m.group(2))  # "Update after office hours: 3.4 -- ..." revises 3.4
    if m := _DELIMITED.match(line):
        return _titled(m.group(2), 0, tree, m.group(3))
    line = _LEADING_SYMBOLS.sub(r"\1", line)  # "## 🧮 Problem 1", "- ▸ 3A" (Notion), "• (b)"
    # "2. (C)", "4. Problem 5" (a numbered list of problems) or "3    Problem 3" (a numbered section of a
    # PDF exported to text): the label is what follows the number
    line = re.sub(rf"^(\s*)(?:\d+|[IVX]{{1,4}}(?=[.)]\s+{_PROBLEM_WORD}\b))(?:[.)]\s+(?=[(\[]|\*\*|__|\\textbf|{_PROBLEM_WORD}\b)|"
                  rf"(?:\.\d+)*\s{{2,}}(?={_PROBLEM_WORD}\b))", r"\1", line, flags=re.IGNORECASE)
    if m := _ATX.match(line):
        return _titled(m.group(2), len(m.group(1)), tree)
    if (m := _TEX_HEADING.match(line)) and (title := _braced(line, m.end())) is not None:
        return _titled(title, _TEX_LEVELS[m.group(1)], tree, line[m.end() + len(title) + 1:].strip())
    if m := _TEX_BOX.match(line):
        return _titled(m.group(1) or m.group(2), 0, tree, m.group(3))
    if (m := _TEX_FRAME.match(line)) and (title := _braced(line, m.end())) is not None:
        return _titled(title, _FRAME_LEVEL, tree, line[m.end() + len(title) + 1:].strip())
    if following and _SETEXT.match(following) and line.strip() and not previous.strip():
        return _titled(line, 1 if "=" in following else 2, tree)
    if m := _BOLD.match(line):
        label = m.group(1).strip().rstrip(":.").strip()
        parsed = _label_tokens(label, tree)
        pair = re.fullmatch(r"(.+?)\s*(?:and|&|,|/|\+)\s*(.+)", label) if parsed is None else None
        first, second = (_label_tokens(pair.group(1), tree), _label_tokens(pair.group(2), tree)) if pair else (None, None)
        if first and second and len(first[0]) > 1 and len(second[0]) > 1:
            return _Heading(first[0], STRONG, True, _POINTS.sub("", m.group(2)), also=second[0])
        if parsed is None and (titled := _split_heading(label, tree)) and (titled[1] or len(titled[0]) > 1):
            parsed = titled  # "**1A (stability of the update).**": a sure label, then the part's title
        if parsed:
            tokens, absolute = parsed
            return _Heading(tokens, STRONG if absolute or len(tokens) > 1 else BOLD, absolute, _POINTS.sub("", m.group(2)))
    if m := _PLAIN.match(line):
        label, sep, rest = m.group("label"), m.group("sep"), m.group("rest")
        parsed = _label_tokens(label, tree)
        if parsed is None:
            return None
        tokens, absolute = parsed
        bracketed = bool(re.search(r"[()\[\]]", label))
        keyword = bool(re.match(_KEYWORD, label, re.IGNORECASE))
        # "3.2", "3B)", "(3.2)": a problem and a part named together are as sure as a keyword
        dotted = len(tokens) > 1 and tokens[0].isdigit()
        if not (bracketed or keyword or dotted or sep.strip()):
            return None  # "A recurrent network ..." is prose, not part A
        if dotted and not bracketed and not sep.strip() and rest and not re.match(r"[A-Za-z(\[*_\\$]", rest) \
                and not re.fullmatch(r"\s{2,}|\t\s*", sep):
            return None  # "1.2 × 10^-4" is a number, not part 1.2 (but "1.3  1 px left ..." in columns is)
        if sep.strip() in (".", ",") and rest[:1].isdigit():
            return None  # "9.4348" is a number, not part 9
        if dotted and tokens[0] == "0":
            return None  # "0.757 is far from saturation": a number, no part 0
        if not (bracketed or keyword or dotted) and tokens[0].isdigit() and sep.strip() == "." \
                and len(previous.strip()) >= 40 and re.search(r"[A-Za-z,]$", previous.strip()) \
                and not re.match(r"\s*(?:#|\*\*|\d+(?:\.\d+)*[.)\s]|[A-Za-z][.)]\s)", previous):
            return None  # "... answers the problems of Homework\n3. We visualise ...": a wrapped line
        if not bracketed and not keyword and not dotted and sep.strip() in (".", "-", "–", "—") and rest and rest[0].islower():
            return None  # "a. the ..." mid-sentence (but "1A — when is ..." is part 1A)
        # "(B)" or "(ii)" heads a part even out of order; a plain "(2)" or "b)" may be a list in an answer
        explicit = re.fullmatch(r"\(([A-Z]|[ivx]{2,4})\)|(?:\(\s*\w{1,4}\s*\)){2,}", label.strip())  # "(B)", "(ii)", "(A)(ii)"
        strength = STRONG if keyword or dotted else BOLD if explicit else WEAK
        if re.fullmatch(r"\[\s*\d+\s*\]", label.strip()) and re.match(r"(?:[A-Z]\.\s?)+[A-Z][a-z]+|[A-Z][a-z]+,\s*[A-Z]\.", rest):
            return None  # "[1] Y. Bengio, P. Simard ...": a reference, not problem 1
        titled = re.search(r"\(([1-9]\d?(?:\.\d{1,2})+[a-z]?)\)\s*$", rest)
        named = tuple(re.findall(r"\d+|[a-z]", titled.group(1))) if titled and len(rest) < 80 else ()
        if named and tree.resolve((), named) is not None:
            # "A. Forward pass and loss (3.1)": a paper's section letter, the part it answers at the end
            return _Heading(named, STRONG, True, "")
        return _Heading(tokens, strength, absolute, _POINTS.sub("", rest))
    return None


def _braced(text: str, start: int) -> str | None:
    """The text up to the brace that closes the one just before `start`: '(i)' in '\\paragraph{(i)} $G(\\text{x})$'."""
    close = closing_brace(text, start)
    return None if close is None else text[start:close]


def _titled(title: str, level: int, tree: Tree, after: str = "") -> _Heading:
    """A Markdown or LaTeX heading: its title is not an answer, only text after the LaTeX command is.
    A title that says 'Problem' anywhere ('## 3 Problem 3') names a problem, not a part."""
    title = _TEX_SPACING.sub(" ", title)  # "3.1\quad\normalfont\itshape Forward pass" is "3.1 Forward pass"
    found = _split_heading(title, tree)
    tokens, absolute = found if found else ((), False)
    absolute = absolute or bool(re.search(rf"\b{_PROBLEM_WORD}\b", title, re.IGNORECASE))
    return _Heading(tokens, STRONG, absolute, after, level)


def _split_heading(title: str, tree: Tree) -> tuple[tuple[str, ...], bool] | None:
    """The label at the start of a heading's title ('Problem 3: The decay term' -> ('3',))."""
    title = re.sub(r"^[\s*_]+|[\s*_]+$", "", _LEADING_SYMBOLS.sub("", title))
    m = _PLAIN.match(title)
    if m and (parsed := _label_tokens(m.group("label"), tree)):
        return parsed  # "## 3 Problem 3": the repeated label is part of the title
    m = re.match(rf"^(?:[A-Za-z]+\s*[-–—:]?\s+){{0,3}}?({_KEYWORD}\s*{_LABEL_TOKEN})\b", title, re.IGNORECASE)
    return _label_tokens(m.group(1), tree) if m else None


def _inline_split(text: str, state: _State) -> list[tuple[Path_ | None, str]]:
    """'(i) right (ii) stay (iii) 1/2' or 'top: 0.5503   bottom: 0.9536' split where each label is a
    child or a sibling of the current part (a bracketed one only forward)."""
    pieces: list[tuple[Path_ | None, str]] = []
    start, node = 0, None
    labels = [(m, WEAK) for m in _INLINE.finditer(text)]
    if state.tree.words:
        words = "|".join(sorted(map(re.escape, state.tree.words), key=len, reverse=True))
        labels += [(m, BOLD) for m in re.finditer(rf"(?<![\w-])({words})(?:\s+[A-Za-z]+)?\s*:", text, re.IGNORECASE)]
    for m, strength in sorted(labels, key=lambda ms: ms[0].start()):
        if m.start() < start:
            continue
        here = state.path
        target = state.place((m.group(1),), strength, False)
        if target is None or (here and target[:-1] != here and target[:-1] != here[:-1]):
            continue
        pieces.append((node, text[start:m.start()]))
        state.path, node, start = target, target, m.end()
    pieces.append((node, text[start:]))
    return pieces


def build_outline(sources: list[tuple[str, str]], part_ids: list[str]) -> Outline:
    """Cut the texts (name, text), in order, into the rubric's parts."""
    state = _State(Tree(part_ids))
    outline = Outline(order={name: index for index, (name, _) in enumerate(sources)})
    for name, text in sources:
        _read_source(name, as_markdown(name, text), state, outline)
    return outline


def _add(outline: Outline, path: Path_ | None, line: Line) -> None:
    if path:
        outline.nodes.setdefault(path, []).append(line)
    else:
        outline.unplaced.append(line)


def _read_source(name: str, text: str, state: _State, outline: Outline) -> None:
    lines = text.splitlines()
    running = _running_headers(lines)
    fenced = listing = False
    closer = ""  # inside display math: what ends it; no headings are looked for there
    placed: Path_ | None = state.path or None
    code = False
    for index, raw in enumerate(lines):
        number = index + 1
        fence = bool(_FENCE.match(raw))
        fenced ^= fence
        if fence:
            code = fenced and bool(_CODE_FENCE.match(raw))
        if fenced or fence or closer:
            if closer and closer in raw:
                closer = ""
            _add(outline, placed, Line(name, number, raw, code=code and not fence))
            continue
        if m := _MATH_OPEN.match(raw):
            opener = m.group(1)
            closer = "$$" if opener == "$$" else "\\]" if opener == "\\[" else opener.replace("begin", "end")
            if closer in raw[m.end():]:
                closer = ""
            placed = _tagged(lines, index, closer, name, state, outline) or placed
            _add(outline, placed, Line(name, number, raw))
            continue
        if ".txt" in name.lower() and (_PAGE_FURNITURE.match(raw) or raw.strip() in running):
            continue  # page numbers and running headers of a PDF exported to text
        listing = bool(_PROMPT.match(raw)) or (listing and raw[:1].isspace() and bool(raw.strip()))
        if listing or _TRACEBACK.match(raw):  # a notebook printed to PDF: its code and tracebacks
            _add(outline, placed, Line(name, number, raw, code=True))
            continue
        if _SETEXT.match(raw) and index and lines[index - 1].strip():
            continue
        placed = _read_line(name, number, raw, lines, index, state, outline, placed)


def _tagged(lines: list[str], index: int, closer: str, name: str, state: _State, outline: Outline) -> Path_ | None:
    """The part a displayed equation names with \\tag{3.2} (or \\tag{3.2'}): a student who tags each result
    with its part gives no other heading, and the prose after it answers that part too."""
    end = next((j for j in range(index + 1, len(lines)) if closer in lines[j]), len(lines) - 1) if closer else index
    m = _TEX_TAG.search("\n".join(lines[index:end + 1]))
    parsed = _label_tokens(m.group(1).rstrip("'′* "), state.tree) if m else None
    target = state.place(parsed[0], STRONG, True) if parsed and len(parsed[0]) > 1 else None
    if target is not None:
        state.path = target
        outline.headings.append((Line(name, index + 1, lines[index], True), ".".join(target)))
    return target


def _running_headers(lines: list[str]) -> set[str]:
    """Lines of words repeated on three or more pages: a PDF's running header or footer."""
    counts = Counter(line.strip() for line in lines)
    return {text for text, count in counts.items()
            if count >= 3 and len(text) >= 15 and re.search(r"[A-Za-z]{3}", text) and not _FENCE.match(text)}


def _numbered(raw: str, state: _State) -> tuple[Path_ | None, str] | None:
    """A LaTeX heading numbered by a counter: the exam class's \\question, \\part and \\subpart (points in
    brackets are not labels), \\titledquestion{2.7}, \\begin{problem}[3.2] or an unlabelled \\begin{problem}.
    Returns where it goes (None when the rubric has no such part) and the text after it."""
    if m := _SECTION_SETCOUNTER.search(raw):
        level = _SECTIONS.index(m.group(1))
        state.sections[level:] = [int(m.group(2))] + [0] * (2 - level)
        return None
    if (m := _TEX_NUMBERED.match(raw)) and (title := _braced(raw, m.end())) is not None:
        return _counted_section(m.group(1), title, raw[m.end() + len(title) + 1:], state)
    if m := _TEX_SETCOUNTER.search(raw):
        level = {"question": 0, "partno": 1, "subpart": 2}[m.group(1)]
        del state.exam[level + 1:]
        while len(state.exam) <= level:
            state.exam.append((None, 0))
        state.exam[level] = (state.exam[level][0], int(m.group(2)))
        return None
    if m := _TEX_PROBLEM.match(raw):
        label = m.group(2) or m.group(3)
        if label is None:
            state.problems += 1
            label = str(state.problems)
        parsed = _split_heading(label, state.tree) or _label_tokens(label, state.tree)
        target = state.place(parsed[0], STRONG, True) if parsed else None
        return target, m.group(4)
    if not (m := _TEX_EXAM.match(raw)):
        return None
    command, title, rest = m.group(1), m.group(2), m.group(3)
    level = 0 if command == "titledquestion" else _EXAM.index(command)
    if level > len(state.exam):
        return None  # a \\part with no \\question before it: LaTeX's own \\part{Title}, say
    counter = (state.exam[level][1] if level < len(state.exam) else 0) + 1
    base = () if level == 0 else state.exam[level - 1][0]
    target = None
    if command == "titledquestion":
        parsed = _label_tokens(title or "", state.tree)
        target = state.place(parsed[0], STRONG, True) if parsed else None
    elif base is not None:
        target = state.tree.resolve(base, (str(counter),))
    del state.exam[level:]
    state.exam.append((target, counter))
    return target, rest


def _counted_section(command: str, title: str, rest: str, state: _State) -> tuple[Path_ | None, str] | None:
    """A numbered (unstarred) \\section, \\subsection or \\subsubsection counts as LaTeX counts it; one
    whose title names no part ('\\section{Bookkeeping}', '\\subsection{}' under a \\renewcommand'ed
    \\thesubsection) is the part its number gives, a subsection below the part the text is in.
    None: a title that names its part ('\\section{Problem 3}'), read as usual."""
    level = _SECTIONS.index(command)
    state.sections[level:] = [state.sections[level] + 1] + [0] * (2 - level)
    if _split_heading(_TEX_SPACING.sub(" ", title), state.tree) is not None:
        return None
    if level == 0:
        return state.tree.resolve((), (str(state.sections[0]),)), rest
    base = state.path[:level] if len(state.path) >= level else None
    return (state.tree.resolve(base, (str(state.sections[level]),)) if base else None), rest


def _list_item(token: str, target: Path_ | None, state: _State) -> Path_ | None:
    """A plain "3." after a "1." and "2." that were not headings is the list's third item, not part 3:
    None then; else the heading's target."""
    number = int(token) if token.isdigit() else _roman(token) if len(token) > 1 else ord(token.lower()) - 96
    if target is None or (state.listed and number == state.listed + 1):
        state.listed = number or 0
        return None
    state.listed = 0
    return target


def _item_target(label: str, base: Path_, state: _State) -> Path_ | None:
    """Where \\item[label] goes: '3.2' or 'Problem 3' anywhere; a single '(a)' or '\\textbf{4.}' among
    the children of the part its list began in (None: a list inside an answer)."""
    label = re.sub(r"\\text(?:bf|it|sf|tt|sc)?\{([^{}]*)\}", r"\1", label).strip().rstrip(".:")
    parsed = _label_tokens(label, state.tree)
    if parsed is None:
        return None
    tokens, absolute = parsed
    if absolute or (len(tokens) > 1 and tokens[0].isdigit()):
        return state.place(tokens, STRONG, True)
    return state.tree.resolve(base, tokens)


def _open(outline: Outline, state: _State, heading: Line, target: Path_, rest: str) -> Path_:
    """Enter the part a counted heading (\\item, \\question, \\begin{problem}) names; the text after
    the command on its line is the answer's first line."""
    state.path = target
    outline.headings.append((heading, ".".join(target)))
    _add(outline, target, heading)
    if rest.strip():
        _add(outline, target, Line(heading.source, heading.number, rest))
    return target


def _read_line(name: str, number: int, raw: str, lines: list[str], index: int, state: _State,
               outline: Outline, placed: Path_ | None) -> Path_ | None:
    if _NOTE_TO_SELF.match(raw):  # kept and shown as unplaced text, not as part of the answer around it
        _add(outline, None, Line(name, number, raw))
        return placed
    if _END_MATTER.match(raw):
        state.path = ()
        outline.headings.append((Line(name, number, raw, True), ""))
        _add(outline, None, Line(name, number, raw, True))
        return None
    numbered = _numbered(raw, state)
    if numbered is not None:
        target, rest = numbered
        if target is not None:
            return _open(outline, state, Line(name, number, raw, True), target, rest)
    if _TEX_BEGIN_LIST.search(raw):
        state.lists.append((state.path, 0))
    if _TEX_END_LIST.search(raw) and state.lists:
        state.lists.pop()
    item = _TEX_ITEM.match(raw)
    if item and state.lists:
        base, counter = state.lists[-1]
        state.lists[-1] = (base, counter + 1)
        label = item.group(1)
        target = state.tree.resolve(base, (str(counter + 1),)) if label is None else _item_target(label, base, state)
        if target is not None:
            return _open(outline, state, Line(name, number, raw, True), target, item.group(2))
        if label is not None:  # \item[(i)] in a list inside an answer: the answer's own list
            _add(outline, placed, Line(name, number, raw))
            return placed
    if item and item.group(1):  # \item[3.2] outside a list: a label given on purpose, as sure as a bold one
        raw = f"**{item.group(1).strip()}** {item.group(2)}"
    previous = lines[index - 1] if index else ""
    following = lines[index + 1] if index + 1 < len(lines) else ""
    found = _heading(raw, previous, following, state.tree)
    if found and found.level and state.top_level and found.level <= state.top_level:
        found = replace(found, absolute=True)  # "## 4" at the level of "## Problem 3" is problem 4
    target = state.place(found.tokens, found.strength, found.absolute) if found and found.tokens else None
    if found and target is None and len(found.tokens) == 2 and found.tokens[0] in state.numbered:
        # "4.1\tHours: ..." under "4.\tProblem 5": the student's outline numbers, not part 4.1; the first
        # sub-item of their item 4 is part 5A, and one of a part without sub-parts is text in it
        target = state.tree.resolve(state.numbered[found.tokens[0]], found.tokens[1:])
        found = found if target is not None else None
    elif found and target is not None and len(target) <= 2 and (n := re.match(rf"\s*(\d+)[.)]\s+{_PROBLEM_WORD}\b", raw, re.I)):
        state.numbered[n.group(1)] = target
    if found is not None and found.strength == WEAK and len(found.tokens) == 1:
        target = _list_item(found.tokens[0], target, state)
    elif found is not None:
        state.listed = 0
    # a label that names no part ("**W**, the recurrent matrix", "(2) ...") is text, unless it is a sure
    # heading ("## Problem 9"), which ends the part before it
    if found is not None and not (found.tokens and target is None and found.strength != STRONG):
        placed = state.enter(found, target)
        if placed and found.also and (other := state.tree.resolve((), found.also)) is not None:
            outline.shared[other] = placed
        heading = Line(name, number, raw, True)
        if found.tokens or not placed:
            outline.headings.append((heading, ".".join(placed) if placed else ""))
        _add(outline, placed, heading)
        raw = found.rest
        if not raw.strip():
            return placed
    for node, piece in _inline_split(raw, state):
        if node is not None:
            placed = node
        if piece.strip():
            _add(outline, placed, Line(name, number, piece))
    return placed

