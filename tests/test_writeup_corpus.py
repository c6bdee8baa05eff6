"""Write-ups in many styles (tests/writeups/, written independently of the parser) graded the way a
careful human grader judged them: expected.json for the first 15, expected_unseen.json for 10 more
in other styles (nbconvert exports, Overleaf and exam-class LaTeX, Pandoc from .docx, answer
sheets), written later and first run against a grader that had never seen them; then two held-out
sets (tests/heldout/ to tests/heldout9/), each written by someone who had not seen the parser, run
once to measure it and only then used to improve it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.discover import Submission
from grader.expected import compute_expected
from grader.rubric import load_rubrics
from grader.runner import RunOutcome
from grader.score import score_submission
from grader.writeup import attach_written, read_answers

ROOT = Path(__file__).parent / "writeups"
HELDOUT = Path(__file__).parent / "heldout"
HELDOUT2 = Path(__file__).parent / "heldout2"
HELDOUT3 = Path(__file__).parent / "heldout3"
HELDOUT4 = Path(__file__).parent / "heldout4"
HELDOUT5 = Path(__file__).parent / "heldout5"
HELDOUT6 = Path(__file__).parent / "heldout6"
HELDOUT7 = Path(__file__).parent / "heldout7"
HELDOUT8 = Path(__file__).parent / "heldout8"
HELDOUT9 = Path(__file__).parent / "heldout9"
RUBRICS = load_rubrics(Path(__file__).parent.parent / "rubrics")
# the first 15; 10 more in other styles, first run against a grader that had never seen them; and a
# held-out 8, written after the grader was fixed for those 25 and first run once to measure it; and a
# second held-out 10 in markup the grader had never read (reST, Org, AsciiDoc, HTML, pdftotext); and a
# third (MyST, Typst, Obsidian, Notion, Word text, LaTeX macros, a notebook printed to PDF); and a fourth
# (Quarto, Logseq, MediaWiki, Beamer, \begin{problem}, chat text, German and French headings, ASCII math);
# and a fifth (OCR of handwriting, the handout pasted in, R Markdown, DokuWiki with decimal commas, HackMD,
# tcolorbox answers, Chinese headings, box-drawing tables, definition lists); and a sixth (Textile, BBCode,
# \tag{3.2} equations, HTML font tags, Korean headings, Pandoc grid tables, Word outline numbers, dotted leaders);
# and a seventh (Mathpix OCR, a two-column paper through pdftotext -layout, exam-class solutions, Japanese
# headings, YAML front matter, a Canvas text entry, a Colab form, LaTeX section counters); and an eighth on
# corrections (struck-out values, "no wait", an "Update after office hours: 3.4", summaries that restate);
# and a ninth of typical students (terse, verbose, non-native English, parts renamed, several in one paragraph)
CORPORA = ((ROOT, "expected.json"), (ROOT, "expected_unseen.json"), (HELDOUT, "expected.json"),
           (HELDOUT2, "expected.json"), (HELDOUT3, "expected.json"), (HELDOUT4, "expected.json"),
           (HELDOUT5, "expected.json"), (HELDOUT6, "expected.json"), (HELDOUT7, "expected.json"),
           (HELDOUT8, "expected.json"), (HELDOUT9, "expected.json"))
JUDGED: dict[str, dict] = {}
FOLDER: dict[str, Path] = {}
for folder, name in CORPORA:
    for key, judged in json.loads((folder / name).read_text(encoding="utf-8")).items():
        JUDGED[key], FOLDER[key] = judged, folder

# Where the grader and the human judgement still differ: each is listed in the closing note
# as a known limitation. strict=True: a fix makes the test fail until the entry is removed here.
KNOWN = {
    # the rubric grants credit carried forward from the student's own wrong b (3.4 -> 3.5, 3.3 -> 3.4),
    # as it does for code; the human judgement marked these against the true values
    ("cap5619-hw3/bpatel_hw3.tex", "loss_new"),
    ("cap5619-hw3/evans_hw3.md", "b_new"),
    # L(b) and L(b+ε) given, no L(b−ε): the L(b) value sits close enough to be read as L(b_2 − ε)
    ("cap5619-hw3/dominguez_hw3.md", "loss_b_minus"),
    # --- the unseen corpus (expected_unseen.json) ---
    # two different final answers, neither marked: a strict grader marks it wrong; the grader takes the part's own
    ("duke-hw5-6/rossi_hw56.txt", "gamma_C_bottom"),
    # --- the held-out 8 (tests/heldout/), as first run: 205 of 236 judgements agreed ---
    # carried-forward credit from the student's own b, as for bpatel and evans above
    ("cap5619-hw3/tanaka_hw3.md", "loss_new"),
    # an e-mail that names parts only in words ("For the finite differences part, ..."): no part is found
    *(("cap5619-hw3/reyes_hw3.txt", name) for name in ("y_hat", "loss", "loss_b_minus", "loss_b_plus", "grad_b_fd",
                                                         "b_new", "loss_new", "1.2", "1.3", "2.2", "2.3", "4.1", "4.2", "4.3")),
    # 3A.i states both returns and no conclusion; the conclusion is a | γ | best move | table under 3A.ii
    # (its 3B table, its bold "**1A (title).**" and "**3C top:**" labels are now read, and 3A.ii's own
    # choice since a choice followed by its return is no conclusion)
    ("duke-hw5-6/lopez_hw56.md", "policy_A_gamma1"),
    # --- a second held-out 10 (tests/heldout2/: pdftotext, reST, Org, AsciiDoc, HTML, Google Docs, a handout
    # copied with answers in blockquotes, \item[3.2] labels, "**Answer 1A**" notebook cells, terse "Q3A.iii:"
    # lines), as first run: 181 of 322 judgements agreed (checks 38 of 105, phrases 143 of 217) ---
    # carried-forward credit from the student's own wrong BPTT gradient, as for bpatel and evans above
    ("cap5619-hw3/mbeki_hw3_org.txt", "b_new"),
    ("cap5619-hw3/mbeki_hw3_org.txt", "loss_new"),
    # --- a third held-out 10 (tests/heldout3/), as first run: 277 of 342 judgements agreed (checks 72 of 105,
    # phrases 205 of 237); the general fixes that followed (MyST math, Typst, Obsidian callouts, Notion's
    # emoji and toggles, LaTeX macros, conditions one per line) leave these ---
    # carried-forward credit from the student's own wrong b (η misread as 0.1), as for bpatel and evans above
    ("cap5619-hw3/dlamini_hw3_summary.txt", "loss_new"),
    # the unsummed 3×2 rows: the last row also matches "the last step's contribution only", which is
    # named instead of "per-step contributions not summed" (the status, incorrect, agrees)
    ("cap5619-hw3/eriksen_hw3.md", "grad_b_bptt"),
    # a summary table after 3D, outside any toggle, is kept in 3D's text
    ("duke-hw5-6/ito_hw56_notion.md", "3D"),
    # 3C top given only in a code cell's comment ("# answer: gamma_C_top = 0.5503"): code is not read
    ("duke-hw5-6/jovanovic_hw56_colab.ipynb", "gamma_C_top"),
    # --- a fourth held-out 10 (tests/heldout4/), as first run: 211 of 332 judgements agreed (checks 50 of
    # 105, phrases 161 of 227); after the general fixes that followed (headings in other languages,
    # "--- 3A ---", MediaWiki, Logseq, Beamer frames, labels nearer the number) these remain ---
    # the central slopes of the student's own (wrong) losses, credit carried forward; the losses are four
    # separate scalars, so the vectors they form are not rebuilt for the carried value
    ("cap5619-hw3/ramirez_hw3_problems.tex", "grad_b_fd"),
    # --- a fifth held-out 12 (tests/heldout5/), as first run: 266 of 362 judgements agreed (checks 67 of 123,
    # phrases 199 of 239); all agree after the general fixes that followed (CJK labels, tcolorbox titles,
    # decimal commas, OCR digits, box-drawing tables, soft-wrapped conditions, choices in other languages)
    # --- a sixth held-out 8 (tests/heldout6/), as first run: 170 of 245 judgements agreed (checks 51 of 84,
    # phrases 119 of 161); after the general fixes that followed (Textile, BBCode, \tag{} equations,
    # "(b)" after "(a)" as the next sub-part, a Word outline's own numbers, dotted leaders) these remain ---
    # a typo in a label ("[b]3.22[/b]" for 3.2) and a part added at the end in a post's "EDIT: forgot 1.3!"
    ("cap5619-hw3/kowalski_hw3_bbcode.txt", "grad_b_fd"),
    ("cap5619-hw3/kowalski_hw3_bbcode.txt", "1.3"),
    # --- a seventh held-out 8 (tests/heldout7/), as first run: 205 of 262 judgements agreed (checks 62 of 84,
    # phrases 143 of 178); all agree after the general fixes that followed (two-column pages, LaTeX section
    # counters, the question before "Answer:", full-width digits, a pledge quoted and then signed, YAML
    # front matter under the contract's names)
    # --- an eighth held-out 8 (tests/heldout8/: corrections), as first run: 222 of 233 judgements agreed
    # (checks 74 of 84, phrases 148 of 149); after struck-out text and revisions named by part were read,
    # this remains ---
    # no value for tanh's slope ("steepest at the origin"); the sigmoid's 1/4 beside it is taken for it
    ("duke-hw5-6/vasquez_hw56_notebook.ipynb", "max_slope_tanh"),
    # --- a ninth held-out 8 (tests/heldout9/: typical students), as first run: 225 of 248 judgements agreed
    # (checks 69 of 84, phrases 156 of 164); after the fixes that followed ("below: left, above: right",
    # "**3B and 3C.**", "0.5503 (4 s.f.)", "2ε" as no value) one file remains: it names its parts only in
    # words ("Q3 part two", "the second sub-question", "Upper chain", "Admin"), as reyes's e-mail does
    *(("duke-hw5-6/iyer_hw56_overleaf.tex", name) for name in (
        "policy_A_gamma1", "policy_A_gamma0", "policy_B_below", "gamma_C_top", "gamma_C_bottom", "hours", "pledge",
        "1A", "1B", "1C", "2.7", "3D")),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    cache = tmp_path_factory.mktemp("expected")
    expected = {a: compute_expected(r, cache, "corpus") for a, r in RUBRICS.items()}
    graded = {}
    for key in JUDGED:
        assignment = key.split("/")[0]
        path = FOLDER[key] / key
        submission = Submission(assignment, path.stem, path, (), (), (path,))
        outcome = RunOutcome(finished=True, ran_code=False)
        outline = read_answers(submission, RUBRICS[assignment], expected[assignment].values, outcome)
        parts = score_submission(RUBRICS[assignment], expected[assignment], outcome)
        attach_written(parts, outline, submission)
        graded[key] = {"checks": {c.name: c for p in parts for c in p.checks}, "parts": {p.id: p for p in parts}}
    return graded


def _kind(key: str, name: str) -> str:
    rubric = RUBRICS[key.split("/")[0]]
    return next(c.kind for p in rubric.parts for c in p.checks if c.name == name)


def _absent(status: str) -> bool:
    return status in ("missing", "optional")


CHECKS = [(key, name, status) for key, judged in JUDGED.items() for name, status in judged["checks"].items()]


@pytest.mark.parametrize("key,name,status", CHECKS, ids=[f"{k}:{n}" for k, n, _ in CHECKS])
def test_each_answer_is_judged_like_a_careful_grader(request: pytest.FixtureRequest, graded: dict, key: str,
                                                     name: str, status: str) -> None:
    if (key, name) in KNOWN:
        request.applymarker(pytest.mark.xfail(strict=True, reason="known difference, see KNOWN"))
    check = graded[key]["checks"][name]
    got = "incorrect" if check.status == "partial" else check.status
    if status == "missing" and _kind(key, name) == "predicate":
        assert got in ("missing", "incorrect"), check.message  # hours with no number: the grader says "incorrect"
    elif status == "missing":
        assert _absent(got), (check.status, check.message)
    else:
        assert got == status, (check.status, check.message, check.source, check.considered)
    misconception = JUDGED[key].get("misconceptions", {}).get(name)
    if misconception:
        assert check.misconception == misconception, check.message


WRITTEN = [(key, part, spec) for key, judged in JUDGED.items() for part, spec in judged.get("written", {}).items()]


@pytest.mark.parametrize("key,part,spec", WRITTEN, ids=[f"{k}:{p}" for k, p, _ in WRITTEN])
def test_written_parts_are_cut_to_the_question(request: pytest.FixtureRequest, graded: dict, key: str, part: str,
                                               spec: dict) -> None:
    if (key, part) in KNOWN:
        request.applymarker(pytest.mark.xfail(strict=True, reason="known difference, see KNOWN"))
    text = graded[key]["parts"][part].written
    for phrase in spec.get("contains", []):
        assert phrase in text, f"{phrase!r} missing from part {part}: {text[:600]!r}"
    for phrase in spec.get("excludes", []):
        assert phrase not in text, f"{phrase!r} (another part's text) in part {part}"


def test_every_candidate_the_grader_weighed_is_shown(graded: dict) -> None:
    check = graded["cap5619-hw3/alvarez_hw3.md"]["checks"]["loss"]
    assert check.source and check.considered, check
