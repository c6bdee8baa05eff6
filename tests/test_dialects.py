"""Other markup read as Markdown (grader.dialects), and the labels the second held-out set taught the
outline: each rewrite keeps the student's line numbers, and Markdown and LaTeX pass unchanged."""

from __future__ import annotations

import pytest

from grader.dialects import as_markdown
from grader.mathtext import candidates
from grader.outline import build_outline

DUKE = ["1A", "1B", "1C", "2.7", "3A.i", "3A.ii", "3A.iii", "3B", "3C.top", "3C.bottom", "3D", "5A", "5B"]
HW3 = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "3.1", "3.2", "3.3", "3.4", "3.5", "4.1", "4.2", "4.3"]


def placed(name: str, text: str, part_ids: list[str]) -> dict[str, list[str]]:
    """Each part's lines (stripped), as the outline cuts them."""
    outline = build_outline([(name, text)], part_ids)
    return {".".join(node): [line.text.strip() for line in lines] for node, lines in outline.nodes.items()}


def test_html_headings_bold_scripts_entities_and_images() -> None:
    text = ('<h3>Problem 3</h3>\n<b>(iii)</b> 4&gamma;<sup>2</sup> = 1 &rArr; &gamma; = <b>1/2</b>.<br>\n'
            '<img src="img/sketch.png" width="300">')
    assert as_markdown("a.md", text).splitlines() == [
        "### Problem 3", "**(iii)** 4γ^{2} = 1 ⇒ γ = **1/2**.", "![](img/sketch.png)"]


def test_restructured_text_titles_take_levels_in_order_of_appearance() -> None:
    text = "=====\nHW 3\n=====\n\nProblem 3\n---------\n\n3.2 Central differences\n~~~~~~~~~~~~~~~~~~~~~~~\n" \
           "See :math:`\\epsilon = 10^{-4}`.\n\n.. math::\n\n   L = 9.4348\n\n.. rubric:: References\n"
    lines = as_markdown("r.txt", text).splitlines()
    assert len(lines) == len(text.splitlines())  # line numbers are the student's own
    assert lines[:9] == ["", "# HW 3", "", "", "## Problem 3", "", "", "### 3.2 Central differences", ""]
    assert lines[9] == "See $\\epsilon = 10^{-4}$."
    assert lines[13] == "$$ L = 9.4348 $$" and lines[15] == "**References**"


def test_restructured_text_parts_are_placed_and_the_tilde_underline_is_no_fence() -> None:
    text = "Problem 3\n=========\n\n3.2 Differences\n~~~~~~~~~~~~~~~\n\nL(b1 - eps) = 9.4348355\n\n" \
           "3.3 BPTT\n~~~~~~~~\n\ngradient (-0.0846, 0.5173)\n"
    parts = placed("s.txt", text, HW3)
    assert "L(b1 - eps) = 9.4348355" in parts["3.2"] and "gradient (-0.0846, 0.5173)" in parts["3.3"]


def test_asciidoc_headings_math_and_source_blocks() -> None:
    text = "= Title\n\n== Problem 3\n\n=== Part B\n\nstem:[\\gamma = 1/3] here\n\n[source,python]\n----\n" \
           "print(1)\n----\n"
    lines = as_markdown("v.txt", text).splitlines()
    assert len(lines) == len(text.splitlines())
    assert lines[0] == "# Title" and lines[2] == "## Problem 3" and lines[4] == "### Part B"
    assert lines[6] == "$\\gamma = 1/3$ here"
    assert lines[8:12] == ["", "```python", "print(1)", "```"]


def test_org_headings_source_blocks_and_notes_to_self() -> None:
    text = "#+TITLE: HW3\n* Problem 2\n** 2.2 What matters\nThe loop.\n** TODO ask about 2.3 in office hours\n" \
           "re-run it\n** 2.3 Fooling it\n#+BEGIN_SRC python\nx = 1\n#+END_SRC\n"
    lines = as_markdown("m.txt", text).splitlines()
    assert lines[1:3] == ["# Problem 2", "## 2.2 What matters"]
    assert lines[4] == "# Note: ask about 2.3 in office hours" and lines[7:10] == ["```python", "x = 1", "```"]
    parts = placed("m.txt", text, HW3)
    assert parts["2.2"][-1] == "The loop." and "re-run it" not in parts["2.3"]


@pytest.mark.parametrize("text", [
    "# Problem 3\n\nSome text\n~~~\ncode\n~~~\n",  # a Markdown tilde fence straight after a paragraph
    "## 3.2\n\nx\n```\nprint(x)\n```\n",
    "Title\n=====\n\nSubtitle\n--------\n",  # Markdown's own setext headings
])
def test_markdown_passes_unchanged(text: str) -> None:
    assert as_markdown("a.md", text) == text.rstrip("\n")


def test_latex_is_never_rewritten() -> None:
    text = "\\section{Problem 3}\n<b>x</b> &gamma;\n== not a heading\n"
    assert as_markdown("a.tex", text) == text


def test_equation_numbers_at_the_right_margin_are_not_factors() -> None:
    line = as_markdown("n.txt", "        L = l(1) + l(2) + l(3) = 9.434827                       (2)")
    assert line.endswith("9.434827")
    assert [c.value for c in candidates([("n.txt", 1, line)])][-1] == pytest.approx(9.434827)


def test_bold_fraction_before_a_full_stop_is_one_value() -> None:
    found = candidates([("a.md", 1, "4γ^{2} = 1 ⇒ γ = **1/2**.")])
    assert found[-1].value == 0.5 and found[-1].emphasis


def test_phantom_signs_that_align_a_column_are_not_read() -> None:
    found = candidates([("a.tex", 1, "$\\phantom{-}0.5173343$")])
    assert [c.value for c in found] == [pytest.approx(0.5173343)]


def test_running_headers_of_a_pdf_are_dropped_from_answers() -> None:
    header = "CAP 5619 — Homework 3          A. Student (U123)"
    text = f"{header}\n1.2 Feature maps\nblurry at layer 3\n\f{header}\n1.3 Shifts\nno change\n\f{header}\n"
    parts = placed("p.txt", text, HW3)
    assert "blurry at layer 3" in parts["1.2"] and "no change" in parts["1.3"]
    assert header not in parts["1.2"] + parts["1.3"]


@pytest.mark.parametrize("line, part", [
    ("1B) grad through n steps shrinks", "1.B"),  # a problem and a part with only a closing parenthesis
    ("Q5A: 18 hrs", "5.A"),  # a keyword label whose answer starts with a digit
    ("4. Problem 5", "5"),  # a numbered list of problems: the label follows the list's number
    ("**Answer 1A**", "1.A"),
])
def test_labels_of_terse_answer_sheets(line: str, part: str) -> None:
    text = f"Q3A.i: right\n{line}\n"
    outline = build_outline([("k.txt", text)], DUKE)
    assert [where for _, where in outline.headings][-1] == part


def test_latex_item_labels_place_parts_or_stay_inside_the_answer() -> None:
    text = "\\begin{enumerate}\n\\item[\\textbf{3.}] BPTT\n  \\begin{enumerate}\n  \\item[3.1]\n" \
           "    \\begin{enumerate}\n    \\item[(i)] Outputs: 0.9492\n    \\end{enumerate}\n  \\end{enumerate}\n" \
           "\\item[\\textbf{4.}] Why\n  \\begin{enumerate}\n  \\item[(b)] An echo state network\n" \
           "  \\end{enumerate}\n\\end{enumerate}\n"
    parts = placed("f.tex", text, HW3)
    assert "\\item[(i)] Outputs: 0.9492" in parts["3.1"]  # a list inside 3.1's answer, not a part
    assert "An echo state network" in parts["4.2"] and "4.1" not in parts


def test_a_bold_word_that_names_no_part_is_text_of_the_part() -> None:
    parts = placed("k.md", "### 4.1\n**W**, the hidden-to-hidden matrix.\n### 4.2\nESN\n", HW3)
    assert parts["4.1"][-1] == "**W**, the hidden-to-hidden matrix."


def test_bold_labels_with_a_title_and_a_colon() -> None:
    text = "## Problem 1\n- **1A (stability of the update).** spectral radius\n## Problem 3\n- **3C top:** 0.5503\n"
    parts = placed("l.md", text, DUKE)
    assert parts["1.A"][-1] == "spectral radius" and parts["3.C.top"][-1] == "0.5503"


def test_obsidian_callouts_are_parts_and_scratch_callouts_are_notes() -> None:
    text = "## Problem 3\n> [!note] 3B\n> > [!answer]\n> > Equal when ==γ = 1/3==.\n" \
           "> [!example]- scratch 3B\n> σ(0) = 0.5??\n> [!note] 3C\n> > top: 0.5503\n"
    lines = as_markdown("o.md", text).splitlines()
    assert lines[1:4] == ["**3B**", "", "Equal when **γ = 1/3**."] and lines[4] == "# Note: scratch 3B"
    parts = placed("o.md", text, DUKE)
    assert "Equal when **γ = 1/3**." in parts["3.B"] and "σ(0) = 0.5??" not in parts["3.B"] + parts["3.C"]


def test_typst_math_becomes_latex() -> None:
    text = "#set page(width: 16cm)\n= Problem 3\n$gamma = frac(1, 3) approx 0.333$, go *left*\n" \
           "$110 gamma^99 = 1 ==> gamma = 110^(-1\\/99)$\n"
    lines = as_markdown("t.txt", text).splitlines()
    assert lines[2] == "$\\gamma = \\frac{1}{3} \\approx 0.333$, go **left**"
    assert lines[3] == "$110 \\gamma^{99} = 1  \\Rightarrow  \\gamma = 110^{-1/99}$"
    assert [c.value for c in candidates([("t.txt", 3, lines[2])])][-2:] == [pytest.approx(1 / 3), pytest.approx(0.333)]


def test_a_students_latex_macros_are_expanded() -> None:
    from grader.dialects import expand_macros
    preamble = "\\newcommand{\\hwpart}[1]{\\subsection*{Part #1}}\n\\newcommand{\\ans}[1]{\\boxed{#1}}\n" \
               "\\newcommand{\\vect}[2]{\\begin{pmatrix}#1\\\\#2\\end{pmatrix}}\n\\newcommand{\\again}{\\again x}"
    body = "\\hwpart{3.4}\n$b = \\ans{\\vect{\\num{-0.9991545}}\n{0.9948267}}$ \\hwpartx \\again"
    expanded = expand_macros(preamble, body)
    assert expanded.startswith("\\subsection*{Part 3.4}\n$b = \\boxed{\\begin{pmatrix}-0.9991545\\\\0.9948267")
    assert expanded.count("\n") >= body.count("\n") and "\\hwpartx" in expanded  # lines kept; no partial names
    assert len(expanded) < len(body) + 1100  # a macro that calls itself stops
    found = candidates([("m.tex", 2, expanded.splitlines()[1] + expanded.splitlines()[2])])
    assert [(c.value, c.emphasis) for c in found if type(c.value) is tuple] == [((-0.9991545, 0.9948267), True)]


def test_emoji_and_toggle_marks_before_labels() -> None:
    text = "## 🧮 Problem 1 — RNN analysis\n- ▸ 1B  Vanishing gradients\nslope 1\n## 🎯 Problem 3\n- ▸ 3D  Rewards\ndense\n"
    parts = placed("n.md", text, DUKE)
    assert parts["1.B"][-1] == "slope 1" and parts["3.D"][-1] == "dense"


def test_a_bold_label_repeating_the_current_part_keeps_its_text() -> None:
    parts = placed("g.md", "## Problem 2.7\n**2.7**\nA text encoder conditions the generator.\n", DUKE)
    assert parts["2.7"][-1] == "A text encoder conditions the generator."


def test_myst_math_fences_are_display_math() -> None:
    text = "```{math}\n:label: eq-grad\n\\frac{\\partial L}{\\partial b} = (-0.0846, 0.5173)\n```\n```python\nx = 1\n```"
    assert as_markdown("m.md", text).splitlines() == [
        "$$", "", "\\frac{\\partial L}{\\partial b} = (-0.0846, 0.5173)", "$$", "```python", "x = 1", "```"]


def test_a_notebook_printed_to_pdf_numbered_sections_and_code_listings() -> None:
    text = "3.4   Problem 3.4\nIn [10]: b_new = b - lr * g\n         print(b_new)\n\nNew b = [-0.9992, 0.9948].\n" \
           "3.5   Problem 3.5\nIn [11]: print(rnn_loss(b_new))\n------------------------------\n" \
           "NameError       Traceback (most recent call last)\nCell In[11], line 1\n----> 1 print(rnn_loss(b_new))\n"
    outline = build_outline([("b.txt", text)], HW3)
    assert [where for _, where in outline.headings] == ["3.4", "3.5"]
    code = {line.text.strip() for lines in outline.nodes.values() for line in lines if line.code}
    assert code == {"In [10]: b_new = b - lr * g", "print(b_new)", "In [11]: print(rnn_loss(b_new))",
                    "------------------------------", "NameError       Traceback (most recent call last)",
                    "Cell In[11], line 1", "----> 1 print(rnn_loss(b_new))"}


def test_a_note_to_self_is_kept_but_not_in_the_answer() -> None:
    text = "### 2.3\nI pasted a 7 stroke.\n*TODO: maybe add a second example for 2.3.*\nIt fooled the net.\n"
    outline = build_outline([("e.md", text)], HW3)
    answer = [line.text for line in outline.nodes[("2", "3")]]
    assert answer == ["### 2.3", "I pasted a 7 stroke.", "It fooled the net."]
    assert [line.text for line in outline.unplaced] == ["*TODO: maybe add a second example for 2.3.*"]


def test_banner_headings_and_an_answer_summary_after_the_last_part() -> None:
    text = "-" * 40 + "\nWORK - PROBLEM 4 (why RNNs are hard)\n" + "-" * 40 + "\n\n4.3  LSTM cell state\n\n" \
           + "=" * 40 + "\nANSWER SUMMARY\n" + "=" * 40 + "\n\n3.5  | L(b_new) = 9.432067\n"
    outline = build_outline([("d.txt", text)], HW3)
    assert [where for _, where in outline.headings] == ["4", "4.3", "", "3.5"]
    assert all("SUMMARY" not in line.text for line in outline.nodes[("4", "3")])
    assert outline.nodes[("3", "5")][-1].text.strip().endswith("9.432067")  # a summary row goes to its part


def test_an_fbox_holding_inline_math_inside_display_math_is_a_boxed_answer() -> None:
    found = candidates([("c.tex", 1, r"\[ x = \fbox{$\begin{pmatrix}-8.455436e-2\\5.173343e-1\end{pmatrix}$} \]")])
    assert [c.emphasis for c in found] == [True]
    assert found[0].value == (pytest.approx(-0.08455436), pytest.approx(0.5173343))


def test_mediawiki_headings_items_math_tables_and_definition_labels() -> None:
    text = ("{{Infobox homework\n| student = A\n}}\n== Problem 3 ==\n=== 3A ===\n# <math>\\gamma = 1</math>: so '''go right'''.\n"
            "# <math>\\gamma = 0</math>: '''stay'''.\n{| class=\"wikitable\"\n! task !! γ\n|-\n| top || 0.5503\n|}\n"
            "; Hours : 12<ref>my log</ref>\n[[File:gru.png|thumb|My GRU]]\n[[Category:Homework]]\nend\n")
    lines = as_markdown("w.txt", text).splitlines()
    assert len(lines) == len(text.splitlines())
    assert lines[3:7] == ["## Problem 3", "### 3A", "1. $\\gamma = 1$: so **go right**.", "2. $\\gamma = 0$: **stay**."]
    assert lines[8] == "| task | γ |" and lines[10] == "| top | 0.5503 |"
    assert lines[12:15] == ["**Hours**: 12", "![My GRU](gru.png)", ""]
    parts = placed("w.txt", text, DUKE)
    assert "so **go right**" in " ".join(parts["3.A.i"]) and "**stay**" in " ".join(parts["3.A.ii"])


def test_logseq_blocks_lose_bullets_and_task_markers_and_keep_student_properties() -> None:
    text = ("title:: HW 5+6\nauthor:: E\n\n- DONE Problem 3 — discount\n\t- 3A — stay: 1; right: 0, 0, 4\n"
            "\t\tid:: 672c1f0e-8a41-4b7e-9d0c-4f1e2a7b3c55\n\t\t- (iii) γ = 1/2\n\t- LATER check 3C with python\n"
            "- ## Problem 5\n\t- hours:: 12\n")
    lines = as_markdown("l.md", text).splitlines()
    assert len(lines) == len(text.splitlines())
    assert lines[3:7] == ["Problem 3 — discount", "3A — stay: 1; right: 0, 0, 4", "", "(iii) γ = 1/2"]
    assert lines[7] == "TODO check 3C with python" and lines[8:10] == ["## Problem 5", "hours: 12"]
    parts = placed("l.md", text, DUKE)
    assert parts["3.A.iii"][-1] == "γ = 1/2" and parts["5"] == ["## Problem 5", "hours: 12"]


@pytest.mark.parametrize("heading,node,part", [
    ("EXERCICE 3 -- le facteur d'actualisation", "3", "3"), ("Aufgabe 3(b)", "3.B", "3B"),
    ("Ejercicio 2.7", "2.7", "2.7"), ("--- 3C --- (je fais 3C avant 3B)", "3.C", "3C"), ("=== Problem 5 ===", "5", "5"),
    ("1A — when is it stable?", "1.A", "1A"),
])
def test_headings_in_other_languages_and_between_rules(heading: str, node: str, part: str) -> None:
    outline = build_outline([("h.txt", f"intro\n{heading}\nanswer text\n")], DUKE)
    assert outline.headings[0][1] == node and outline.lines(part)[0][-1].text == "answer text"


def test_beamer_frame_titles_are_headings_below_the_sections() -> None:
    text = ("\\section{Aufgabe 3 -- Diskont}\n\\begin{frame}{Aufgabe 3(a)}\nstay\n\\end{frame}\n"
            "\\begin{frame}[fragile]{Aufgabe 3(b)}\n$\\gamma = 1/3$\n\\end{frame}\n\\begin{frame}\n\\frametitle{3(d)}\nrare\n")
    outline = build_outline([("s.tex", text)], DUKE)
    assert [where for _, where in outline.headings] == ["3", "3.A", "3.B", "3.D"]


def test_a_number_inside_a_formula_in_symbols_is_no_value() -> None:
    found = [c.text for c in candidates([("x", 1, "tanh′(x) = 1 − tanh²(x) peaks; σ′ = σ(x)(1 − σ(x)); / (2*eps) so 0.25")])]
    assert found == ["0.25"]


def test_chinese_labels_tcolorbox_titles_and_latex_spacing_in_titles() -> None:
    text = "## 问题 3：折扣因子\n### 第3题 (B)\nγ = 1/3\n"
    assert [where for _, where in build_outline([("c.md", text)], DUKE).headings] == ["3", "3.B"]
    tex = ("\\section*{Problem 3}\n\\begin{tcolorbox}[ans, title=Answer 3(A)]\nright\n\\end{tcolorbox}\n"
           "\\subsection*{3.2\\quad\\normalfont\\itshape Central differences}\nL = 9.43\n")
    assert [where for _, where in build_outline([("t.tex", tex)], DUKE + HW3).headings] == ["3", "3.A", "3.2"]


def test_box_drawing_tables_become_markdown_rows() -> None:
    text = "┌────┬────┐\n│ a  │ b  │\n├────┼────┤\n│ 1  │ 2  │\n└────┴────┘"
    assert as_markdown("b.txt", text).split("\n") == ["", "| a  | b  |", "|---|---|", "| 1  | 2  |", ""]


def test_textile_and_bbcode_headings_and_bold_labels() -> None:
    textile = "h2. Problem 3 -- BPTT\n\nh3. 3.2 Differences\n\n|_. b1 |_. b2 |\n| 9.43 | 9.44 |\n!fig.png!\n"
    assert as_markdown("t.txt", textile).splitlines()[:5] == ["## Problem 3 -- BPTT", "", "### 3.2 Differences", "",
                                                              "| b1 | b2 |"]
    bbcode = ("[size=150][b]Problem 4[/b][/size]\n[u]4.1[/u] the matrix W\n[list]\n[*]one\n[/list]\n"
              "[b]4,3[/b] the cell state\n[code]\nL = 9.43\n[/code]\n")
    lines = as_markdown("b.txt", bbcode).splitlines()
    assert lines[:4] == ["**Problem 4**", "**4.1** the matrix W", "", "- one"] and lines[6:9] == ["```", "L = 9.43", "```"]
    assert [where for _, where in build_outline([("b.txt", bbcode)], HW3).headings] == ["4", "4.1", "4.3"]


def test_an_equation_tagged_with_a_part_opens_it() -> None:
    text = ("\\begin{equation}\nL = 9.4348 \\tag{3.1}\n\\end{equation}\nwhich matches the sanity value.\n"
            "\\[ \\frac{\\partial L}{\\partial b} = (-0.0846, 0.5173) \\tag{3.2'} \\]\nfrom central differences\n")
    parts = placed("t.tex", text, HW3)
    assert "which matches the sanity value." in parts["3.1"] and "from central differences" in parts["3.2"]
    assert [c.value for c in candidates([("t", 1, "\\[ L = 9.4348 \\tag{3.1} \\]")])] == [9.4348]


def test_letters_continue_a_roman_numbered_part_and_word_outline_numbers_follow_their_problem() -> None:
    text = "## 3(A)\n\n(a) γ = 1: **right**\n\n(b) γ = 0: **stay**\n\n(c) γ = 1/2\n\n## 3(B)\n"
    assert [where for _, where in build_outline([("k.md", text)], DUKE).headings] == ["3.A", "3.A.i", "3.A.ii", "3.A.iii", "3.B"]
    outline = "2.\tProblem 2.7 – Captions\n2.1\tDiagram: boxes\n2.2\tExplanation: a GAN\n4.\tProblem 5\n4.1\tHours: 14\n"
    parts = placed("w.txt", outline, DUKE)
    assert parts["2.7"][-1] == "2.2\tExplanation: a GAN" and parts["5.A"] == ["4.1\tHours: 14", "Hours: 14"]


def test_latex_section_counters_number_untitled_sections() -> None:
    text = ("\\section{Mathematical analysis}\n\\subsection{}\nstable\n\\subsection{}\nvanishing\n"
            "\\setcounter{section}{2}\n\\section{The discount factor}\n\\subsection{}\n\\subsubsection{} right\n"
            "\\section*{Notes}\n\\section{Problem 5}\n")
    assert [where for _, where in build_outline([("c.tex", text)], DUKE).headings][:6] == ["1", "1.A", "1.B", "3", "3.A", "3.A.i"]


def test_a_papers_section_letters_defer_to_the_part_named_at_the_end_and_references_are_no_parts() -> None:
    text = ("II. PROBLEM 3: BPTT\n\nA. Forward pass and loss (3.1)\nL = 9.43\n\nB. Central differences (3.2)\n"
            "slopes\n\nREFERENCES\n[1] Y. Bengio, P. Simard, and P. Frasconi, Learning long-term dependencies\n")
    assert [where for _, where in build_outline([("p.txt", text)], HW3).headings] == ["3", "3.1", "3.2", ""]


def test_a_fenced_block_inside_a_logseq_block_keeps_its_own_indentation() -> None:
    text = ("title:: HW\ntags:: hw\n- 3.1 loss\n\t- L = 9.43\n- 3.2 code\n\t- ```python\n\t  for e in eps:\n"
            "\t      print(e)\n\t  ```\n\t- slopes (-0.0846, 0.5173)\n- 3.3 BPTT\n")
    lines = as_markdown("l.md", text).splitlines()
    assert lines[5:10] == ["```python", "for e in eps:", "    print(e)", "```", "slopes (-0.0846, 0.5173)"]
