"""Other markup rewritten, line for line, into the Markdown the outline reads.

Students also write in HTML (a README rendered on GitHub), reStructuredText, MyST, AsciiDoc, Org
mode, Typst and Obsidian's callouts. Each is recognised by markers of its own and rewritten into
Markdown headings, fences, bold labels and `$...$` math; every line keeps its number, so the
report still points at the student's own line. Plain Markdown comes back as it was, but for a
PDF's right-margin equation numbers. LaTeX is left to the outline, except for the student's own
`\\newcommand` macros, which `expand_macros` replaces by their definitions.
"""

from __future__ import annotations

import html
import re

# a PDF's equation number at the right margin, "L = 9.434827        (2)": not a factor of the value
_EQUATION_NUMBER = re.compile(r"(?<=\S)\s{3,}\(\d{1,3}(?:\.\d{1,3})?\)\s*$")

# --- HTML: headings, bold and super/subscripts become Markdown; other tags go, entities are read
_HTML_TAG = re.compile(r"</?(?:h[1-6]|b|strong|em|i|u|sup|sub|details|summary|br|p|div|span|ul|ol|li|code|pre|hr|"
                       r"blockquote|center|font|section|article|table|thead|tbody|tr|td|th|img|a)\b[^<>]*>", re.IGNORECASE)
_HTML_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1\s*>", re.IGNORECASE)
_HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"'][^>]*>", re.IGNORECASE)
_HTML_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#\d{1,7}|#x[0-9A-Fa-f]{1,6});")

# --- reStructuredText: a title underlined (and maybe overlined) by one repeated character
_RST_MARKERS = re.compile(r"^\.\. [\w-]+::|:math:`", re.MULTILINE)
_UNDERLINE = re.compile(r"^([=\-~^\"'+#*])\1{2,}\s*$")
_RST_MATH = re.compile(r":math:`([^`]*)`")
_RST_DIRECTIVE = re.compile(r"^\.\. ([\w-]+)::\s*(.*)$")  # ".. math::" opens a block; ".. rubric:: References" is a title

# --- AsciiDoc: "== Title" headings, stem:[...] math, ---- listing blocks after [source,...]
_ADOC_HEADING = re.compile(r"^(={1,6})\s+(\S.*)$")
_ADOC_MATH = re.compile(r"(?:stem|latexmath|asciimath):\[((?:[^\]\\]|\\.)*)\]")
_ADOC_SOURCE = re.compile(r"^\[source(?:,\s*(\w+))?[^\]]*\]\s*$")

# --- Org mode: "** 3.2" headings, #+BEGIN_SRC blocks; TODO headings are notes to self
_ORG_MARKERS = re.compile(r"^#\+(?:TITLE|AUTHOR|BEGIN_SRC|OPTIONS|RESULTS)\b", re.IGNORECASE | re.MULTILINE)
_ORG_HEADING = re.compile(r"^(\*+)\s+(.*?)(?:\s+:[\w@#%:]+:)?\s*$")
_ORG_TASK = re.compile(r"^(?:TODO|DONE|NEXT|WAIT|COMMENT)\b\s*")
_ORG_BLOCK = re.compile(r"^\s*#\+(BEGIN|END)_(SRC|EXAMPLE)\b\s*(\w*)", re.IGNORECASE)


def as_markdown(name: str, text: str) -> str:
    """`text` (from file `name`) with the markup of the dialects above made Markdown; LaTeX unchanged."""
    if name.lower().endswith(".tex"):
        return text
    lines = text.splitlines()
    if _is_outline(lines):
        lines = _logseq(lines)
    if _ORG_MARKERS.search(text):
        lines = _org(lines)
    elif sum(bool(_WIKI_HEADING.match(line)) for line in lines) >= 2 and _WIKI_MARKERS.search(text):
        lines = _mediawiki(lines)
    elif sum(bool(_ADOC_HEADING.match(line)) for line in lines) >= 2:
        lines = _asciidoc(lines)
    elif _RST_MARKERS.search(text) or _has_overlined_title(lines) or _has_rst_underline(lines):
        lines = _rst(lines)
    if sum(bool(_TEXTILE_HEADING.match(line)) for line in lines) >= 2:
        lines = _textile(lines)
    if len(_BBCODE.findall(text)) >= 4:
        lines = _bbcode(lines)
    if _CALLOUT.search(text):
        lines = _obsidian(lines)
    if "```{math}" in text:
        lines = _myst_math(lines)
    if _TYPST_MARKERS.search(text):
        lines = [_typst(line) for line in lines]
    if _HTML_TAG.search(text) or _HTML_ENTITY.search(text):
        lines = [_html(line) for line in lines]
    if "│" in text or "║" in text:
        lines = _box_drawing(lines)
    return "\n".join(_EQUATION_NUMBER.sub("", line) for line in lines)


# --- a table drawn with box-drawing characters (┌─┬─┐ │ ├─┼─┤ └─┴─┘), as a terminal or a chat prints it
_BOX_RULE = re.compile(r"^\s*([┌├└╔╠╚╒╞╘╓╟╙])[─═┬┼┴╦╬╩╤╪╧╥╫╨]*[┐┤┘╗╣╝╕╡╛╖╢╜]\s*$")


def _box_drawing(lines: list[str]) -> list[str]:
    """Its rows become Markdown rows ('│ a │ b │' is '| a | b |'), the rule under the first row a
    Markdown separator, the outer rules blank lines."""
    out = []
    for line in lines:
        if m := _BOX_RULE.match(line):
            columns = len(re.findall(r"[┬┼┴╦╬╩╤╪╧╥╫╨]", line)) + 1
            out.append("|" + "---|" * columns if m.group(1) in "├╠╞╟" else "")
        else:
            out.append(re.sub(r"[│║]", "|", line))
    return out


def _html(line: str) -> str:
    line = _HTML_HEADING.sub(lambda m: "#" * int(m.group(1)) + " " + m.group(2).strip(), line)
    line = _HTML_IMAGE.sub(lambda m: f"![]({m.group(1)})", line)
    line = re.sub(r"</?(?:b|strong)\b[^>]*>", "**", line, flags=re.IGNORECASE)
    line = re.sub(r"<sup\b[^>]*>(.*?)</sup>", r"^{\1}", line, flags=re.IGNORECASE)
    line = re.sub(r"<sub\b[^>]*>(.*?)</sub>", r"_{\1}", line, flags=re.IGNORECASE)
    line = re.sub(r"<li\b[^>]*>", "- ", line, flags=re.IGNORECASE)
    line = _HTML_TAG.sub(" ", line)
    return html.unescape(line).rstrip() if _HTML_ENTITY.search(line) else line.rstrip()


def _underlines(lines: list[str], index: int) -> bool:
    """Whether lines[index] underlines the title above it: at least as long as the title (two short
    only when it is four or more), so that Markdown's "~~~" fence after a line of text is none."""
    title = lines[index - 1].strip() if index else ""
    if not title or _UNDERLINE.match(lines[index - 1]) or not _UNDERLINE.match(lines[index]):
        return False
    length = len(lines[index].strip())
    return length >= len(title) or length >= max(len(title) - 2, 4)


def _has_rst_underline(lines: list[str]) -> bool:
    """A title underlined by a character Markdown does not use for it (Markdown has only = and -),
    outside Markdown's ``` fences."""
    fenced = False
    for index, line in enumerate(lines):
        fenced ^= line.lstrip().startswith("```")
        if not fenced and index and _underlines(lines, index) and line.strip()[0] not in "=-":
            return True
    return False


def _has_overlined_title(lines: list[str]) -> bool:
    return any(_UNDERLINE.match(lines[i - 1]) and _underlines(lines, i + 1) for i in range(1, len(lines) - 1))


def _rst(lines: list[str]) -> list[str]:
    """Titles become '#' headings, levels in the order their styles first appear (as reST does);
    the over- and underlines become blank lines; :math:`x` and the lines of a `.. math::` block
    become math, and a `.. rubric::` title a bold line."""
    lines = [_RST_MATH.sub(r"$\1$", line) for line in lines]
    math = False
    for index, line in enumerate(lines):
        if m := _RST_DIRECTIVE.match(line):
            math = m.group(1) == "math"
            lines[index] = f"**{m.group(2).strip()}**" if m.group(1) == "rubric" else line
        elif math and line.strip() and line[:1].isspace():
            lines[index] = f"$$ {line.strip()} $$"  # each line of a math block as display math
        elif line.strip():
            math = False
    styles: list[str] = []
    for index in range(1, len(lines)):
        if not _underlines(lines, index):
            continue
        char = lines[index].strip()[0]
        overlined = index >= 2 and lines[index - 2].strip()[:1] == char and bool(_UNDERLINE.match(lines[index - 2]))
        style = ("over" if overlined else "") + char
        if style not in styles:
            styles.append(style)
        lines[index - 1] = "#" * min(styles.index(style) + 1, 6) + " " + lines[index - 1].strip()
        lines[index] = ""
        if overlined:
            lines[index - 2] = ""
    return lines


def _asciidoc(lines: list[str]) -> list[str]:
    """'== Title' headings one level up ('=' is the document title), stem:[x] as $x$, and a ----
    listing block after [source,python] as a fenced block of that language."""
    out: list[str] = []
    language, listing = None, False
    for line in lines:
        if listing or language is not None:
            if re.fullmatch(r"-{4,}\s*", line):
                if listing:
                    out.append("```")
                    listing, language = False, None
                else:
                    out.append(f"```{language}")
                    listing = True
                continue
            if not listing:
                language = None
        if m := _ADOC_SOURCE.match(line):
            language = m.group(1) or ""
            out.append("")
            continue
        if not listing and (m := _ADOC_HEADING.match(line)):
            line = "#" * min(len(m.group(1)), 6) + " " + m.group(2)
        out.append(line if listing else _ADOC_MATH.sub(r"$\1$", line))
    return out


def _org(lines: list[str]) -> list[str]:
    """'* Problem 3' / '** 3.2' headings become '#' headings; a TODO or COMMENT heading is a note to
    self, not a part, so it becomes a top-level heading with no label (its text is kept, unplaced);
    #+BEGIN_SRC python ... #+END_SRC become fences."""
    out = []
    for line in lines:
        if m := _ORG_BLOCK.match(line):
            out.append(f"```{m.group(3).lower()}" if m.group(1).upper() == "BEGIN" else "```")
        elif m := _ORG_HEADING.match(line):
            title = m.group(2)
            if _ORG_TASK.match(title):
                out.append("# Note: " + _ORG_TASK.sub("", title))
            else:
                out.append("#" * min(len(m.group(1)), 6) + " " + title)
        else:
            out.append(line)
    return out


# --- Textile (Redmine, Textpattern): "h2. Problem 3" headings, *strong*, |_. header cells |, !image!
_TEXTILE_HEADING = re.compile(r"^h([1-6])(?:\([^)]*\))?\.\s+(.*)$")


def _textile(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if m := _TEXTILE_HEADING.match(line):
            line = "#" * int(m.group(1)) + " " + m.group(2)
        else:
            line = re.sub(r"^(?:p|bq|div)(?:\([^)]*\))?\.\s+", "", line)
        line = line.replace("|_.", "|")
        line = re.sub(r"!([^\s!][^!]*\.(?:png|jpe?g|gif|svg|pdf))(?:\([^)]*\))?!", r"![](\1)", line, flags=re.IGNORECASE)
        line = re.sub(r"@([^@\n]+)@", r"`\1`", line)
        out.append(re.sub(r"(?<![*\w])\*(\S(?:[^*\n]*?\S)?)\*(?![*\w])", r"**\1**", line))
    return out


# --- BBCode (forum posts): [b]3.1[/b], [u], [size=150], [quote]...[/quote], [list][*], [code], [img]
_BBCODE = re.compile(r"\[/?(?:b|i|u|s|quote|list|code|size|color|url|img|center|\*)(?:=[^\]]*)?\]", re.IGNORECASE)


def _bbcode(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        line = re.sub(r"\[img\]([^\[]*)\[/img\]", r"![](\1)", line, flags=re.IGNORECASE)
        line = re.sub(r"\[(?:b|u)\](.*?)\[/(?:b|u)\]", r"**\1**", line, flags=re.IGNORECASE)
        line = re.sub(r"^\s*\[\*\]\s*", "- ", line)
        line = re.sub(r"\[/?code(?:=[^\]]*)?\]", "```", line, flags=re.IGNORECASE)
        out.append(_BBCODE.sub("", line))
    return out


# --- Logseq and Roam: a page of nested "- " blocks, "key:: value" properties, DONE/LATER task markers
_PROPERTY = re.compile(r"^\s*(?:- )?([A-Za-z][\w-]*):: ?(.*)$")
_OUTLINE_BLOCK = re.compile(r"^[\t ]*- ")
_LOGSEQ_TASK = re.compile(r"^(?:(DONE|CANCELED|CANCELLED)|TODO|LATER|NOW|DOING|WAITING|WAIT|IN-PROGRESS)\s+")
_LOGSEQ_HIDDEN = {"id", "collapsed", "heading", "background-color", "card-last-interval", "card-repeats", "filters"}


def _is_outline(lines: list[str]) -> bool:
    """Most lines are blocks ("- ...", nested by tabs) and some are properties."""
    filled = [line for line in lines if line.strip()]
    return (sum(bool(_PROPERTY.match(line)) for line in filled) >= 2
            and sum(bool(_OUTLINE_BLOCK.match(line)) for line in filled) * 2 >= len(filled))


def _logseq(lines: list[str]) -> list[str]:
    """Each block's text without its bullet and indent, so "- ## Problem 1" is a heading and "- 1A — ..."
    a label; a DONE marker goes, a LATER or TODO one makes the block a note to self; Logseq's own
    properties (id::, collapsed::) and quote markers go, a student's ("hours:: 12") stay as "hours: 12"."""
    out: list[str] = []
    fence: int | None = None  # inside a fenced block: the width of its block's indent and bullet
    for line in lines:
        if fence is not None:
            body = line[fence:] if not line[:fence].strip() else line.lstrip()
            out.append(body)
            if body.lstrip().startswith("```"):
                fence = None
            continue
        text = re.sub(r"^[\t ]*(?:- )?", "", line)
        if text.startswith("```"):
            fence = len(line) - len(text)  # its lines keep their own indentation, less the block's
        if (m := _PROPERTY.match(text)) and not text.startswith("http"):
            out.append("" if m.group(1).lower() in _LOGSEQ_HIDDEN else f"{m.group(1)}: {m.group(2)}")
            continue
        if m := _LOGSEQ_TASK.match(text):
            text = text[m.end():] if m.group(1) else "TODO " + text[m.end():]
        text = re.sub(r"^#\+(?:BEGIN|END)_\w+\s*$", "", text)
        text = re.sub(r"\(\([0-9a-f-]{8,}\)\)|\{:[^{}]*\}", "", text)  # block references, image sizes
        out.append(re.sub(r"\[\[([^\]]*)\]\]", r"\1", text))
    return out


# --- MediaWiki: "== Title ==" headings, '''bold''', <math>...</math>, "#" numbered items, {| tables |}
_WIKI_HEADING = re.compile(r"^(={1,6})\s*([^=\s].*?)\s*\1\s*$")
_WIKI_MARKERS = re.compile(r"<math\b|'''|^\{\||\[\[|<ref\b", re.MULTILINE)
_WIKI_LIST = re.compile(r"^([*#:;]+)\s*(.*)$")
_WIKI_LINK = re.compile(r"\[\[([^\]|]*)(?:\|([^\]]*))?\]\]")


def _wiki_link(m: re.Match[str]) -> str:
    target, shown = m.group(1).strip(), (m.group(2) or "").split("|")[-1].strip()
    if re.match(r"(?:file|image):", target, re.IGNORECASE):
        return f"![{shown}]({target.split(':', 1)[1]})"
    return "" if target.lower().startswith("category:") else shown or target


def _wiki_inline(line: str) -> str:
    line = re.sub(r"<ref\b[^>]*/>|<ref\b[^>]*>.*?</ref>|<references\s*/>|__[A-Z]+__", "", line)
    line = re.sub(r"<math\b[^>]*>(.*?)</math>", r"$\1$", line)
    line = re.sub(r"'''(.+?)'''", r"**\1**", line)
    line = re.sub(r"''(.+?)''", r"*\1*", line)
    return _WIKI_LINK.sub(_wiki_link, line)


def _mediawiki(lines: list[str]) -> list[str]:
    """Headings become '#' headings; '#' items numbered Markdown items (each level counted on its
    own), '*' items bullets, ':' indents go, '; term : text' a bold label; a table's rows become
    '| a | b |' rows, a template's '| key = value' lines plain text."""
    out: list[str] = []
    counters: list[int] = []
    for line in lines:
        if m := _WIKI_HEADING.match(line):
            out.append("#" * len(m.group(1)) + " " + _wiki_inline(m.group(2)))
            counters = []
            continue
        if re.match(r"^\s*(?:\{\||\|\}|\|-|\{\{|\}\})", line):  # a table's or a template's own lines
            out.append("")
            continue
        if m := re.match(r"^\s*[|!]\+?\s*(.*)$", line):  # a row of cells, a heading row or a caption
            cells = re.split(r"\s*(?:\|\||!!)\s*", m.group(1))
            out.append(_wiki_inline("| " + " | ".join(cells) + " |" if len(cells) > 1 else m.group(1)))
            continue
        m = _WIKI_LIST.match(line)
        if not m:
            counters = []
            out.append(_wiki_inline(line))
            continue
        marks, text = m.group(1), m.group(2)
        if marks[-1] == "#":
            del counters[len(marks):]
            counters += [0] * (len(marks) - len(counters))
            counters[-1] += 1
            out.append("   " * (len(marks) - 1) + f"{counters[-1]}. " + _wiki_inline(text))
        elif marks[-1] == "*":
            out.append("  " * (len(marks) - 1) + "- " + _wiki_inline(text))
        elif marks[-1] == ";":
            term, _, rest = text.partition(" : ")
            out.append(f"**{_wiki_inline(term.strip())}**: {_wiki_inline(rest.strip())}")
        else:  # ':' indents
            out.append(_wiki_inline(text))
    return out


# --- Obsidian: "> [!note] 3B" callouts (a part), "> [!answer]", "> [!example]- scratch" (a note to self),
# ==highlights==
_CALLOUT = re.compile(r"^\s*(?:>\s*)+\[!(\w+)\][-+]?[ \t]*(.*)$", re.MULTILINE)
_NOTE_CALLOUTS = {"example", "todo", "info", "tip", "hint", "warning", "caution", "bug", "faq", "help", "quote", "cite"}


def _obsidian(lines: list[str]) -> list[str]:
    """Callouts without their '>' marks: a titled one is a bold label ("**3B**"); a scratch or info
    callout a note to self, a top-level heading with no label (its text is kept, unplaced);
    ==highlighted== text is emphasised."""
    out = []
    for line in lines:
        if m := _CALLOUT.match(line):
            kind, title = m.group(1).lower(), m.group(2).strip()
            out.append(f"# Note: {title}" if kind in _NOTE_CALLOUTS else f"**{title}**" if title else "")
        else:
            line = re.sub(r"^\s*(?:>[ \t]?)+", "", line)
            out.append(re.sub(r"==(\S(?:(?!==).)*?\S|\S)==", r"**\1**", line))
    return out


def _myst_math(lines: list[str]) -> list[str]:
    """MyST's ```{math} fences as $$ display math (their :label: options dropped), not as code."""
    out, math = [], False
    for line in lines:
        if not math and line.strip() == "```{math}":
            out.append("$$")
            math = True
        elif math and line.strip().startswith("```"):
            out.append("$$")
            math = False
        else:
            out.append("" if math and re.match(r"\s*:\w+:", line) else line)
    return out


# --- Typst: "= Problem 3" headings (read as AsciiDoc's), $gamma = frac(1, 3)$ math, *strong* text
_TYPST_MARKERS = re.compile(r"^#(?:set|let|import|show|figure|align|table)\b|\$[^$\n]*\bfrac\(", re.MULTILINE)
_TYPST_WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "eta", "lambda", "sigma", "rho", "theta", "partial",
                "approx", "times", "infinity", "sum", "prod", "sqrt", "tanh", "exp", "log", "max", "min", "nabla")


def _typst_math(math: str) -> str:
    math = math.replace("\\/", "/").replace("==>", " \\Rightarrow ").replace("=>", " \\Rightarrow ")
    math = re.sub(r"\bdot\b", r"\\cdot", math)
    math = re.sub(r"(?<![\\\w])(" + "|".join(_TYPST_WORDS) + r")(?![\w])", r"\\\1", math)
    for _ in range(3):  # nested frac(frac(1, 2), 3)
        math = re.sub(r"\bfrac\(([^(),]*(?:\([^()]*\)[^(),]*)*),\s*([^()]*(?:\([^()]*\)[^()]*)*)\)",
                      r"\\frac{\1}{\2}", math)
    math = re.sub(r"([\^_])\(([^()]*)\)", r"\1{\2}", math)
    math = re.sub(r"\^(\d{2,})", r"^{\1}", math)  # gamma^99 is γ to the 99th
    return re.sub(r'"([^"]*)"', r"\\text{\1}", math)


def _typst(line: str) -> str:
    """Typst math as LaTeX math ($gamma = frac(1, 3)$ is $\\gamma = \\frac{1}{3}$), *strong* as **strong**."""
    line = re.sub(r"\$([^$]+)\$", lambda m: "$" + _typst_math(m.group(1)) + "$", line)
    return re.sub(r"(?<![*\w])\*(\S(?:[^*\n]*?\S)?)\*(?![*\w])", r"**\1**", line)


# --- LaTeX: the student's own \newcommand macros, and siunitx's \num{...}, expanded in the body
_NEWCOMMAND = re.compile(r"\\(?:re)?newcommand\*?\s*\{?\\([A-Za-z]+)\}?\s*(?:\[(\d)\])?\s*(?:\[([^\]]*)\])?\s*\{")
_BUILT_IN = {"num": (1, None, "#1"), "SI": (2, None, "#1")}  # siunitx: the number, without its unit
MAX_EXPANSIONS = 500  # a macro that expands into itself stops here, as does a body grown too long
MAX_GROWTH = 200_000


def closing_brace(text: str, start: int) -> int | None:
    """The index of the brace that closes the one just before `start` ('{' at start - 1), or None."""
    depth = 1
    for index in range(start, len(text)):
        depth += (text[index] == "{") - (text[index] == "}")
        if depth == 0:
            return index
    return None


def _group(text: str, start: int) -> int | None:
    """The index just after the brace group that opens at text[start] ('{'), or None."""
    close = closing_brace(text, start + 1)
    return None if close is None else close + 1


def expand_macros(preamble: str, body: str) -> str:
    """`body` with the macros that `preamble` (the whole file) defines by \\newcommand, and \\num{}, replaced
    by their definitions, arguments filled in; line breaks inside a use are kept, so lines stay right."""
    macros = dict(_BUILT_IN)
    for m in _NEWCOMMAND.finditer(preamble):
        end = _group(preamble, m.end() - 1)
        if end is not None:
            macros[m.group(1)] = (int(m.group(2) or 0), m.group(3), preamble[m.end():end - 1])
    pattern = re.compile(r"\\(" + "|".join(sorted(map(re.escape, macros), key=len, reverse=True)) + r")(?![A-Za-z])")
    position, expansions, limit = 0, 0, len(body) + MAX_GROWTH
    while expansions < MAX_EXPANSIONS and len(body) < limit and (m := pattern.search(body, position)):
        count, default, definition = macros[m.group(1)]
        args, end = [], m.end()
        if default is not None:  # an optional first argument: [x], else the default
            optional = re.match(r"\s*\[([^\]]*)\]", body[end:])
            args.append(optional.group(1) if optional else default)
            end += optional.end() if optional else 0
        while len(args) < count:
            opening = re.match(r"\s*\{", body[end:])
            close = _group(body, end + opening.end() - 1) if opening else None
            if close is None:
                break
            args.append(body[end + opening.end():close - 1])
            end = close
        if len(args) < count:
            position = m.end()  # a use without its arguments: left as written
            continue
        expanded = re.sub(r"#(\d)", lambda a: args[int(a.group(1)) - 1] if int(a.group(1)) <= len(args) else "", definition)
        expanded = expanded.replace("\n", " ")  # a definition over several lines takes the use's line
        expanded += "\n" * (body.count("\n", m.start(), end) - expanded.count("\n"))
        body = body[:m.start()] + expanded + body[end:]
        position, expansions = m.start(), expansions + 1
    return body
