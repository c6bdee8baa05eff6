"""reference.bookkeeping on tables of right and wrong answers."""

from __future__ import annotations

import pytest

from reference.bookkeeping import check_hours, check_pledge, parse_hours

PLEDGE = "I adhered to the Duke Community Standard in the completion of this assignment"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (20, (20.0, 20.0)),
        (12.5, (12.5, 12.5)),
        ("20", (20.0, 20.0)),
        ("20-25", (20.0, 25.0)),
        ("20 – 25", (20.0, 25.0)),
        ("20—25 hours", (20.0, 25.0)),
        ("about 20 hours", (20.0, 20.0)),
        ("~15h", (15.0, 15.0)),
        ("20 to 25 hours", (20.0, 25.0)),
        ("approx. 7.5 hrs", (7.5, 7.5)),
        ("25-20", (20.0, 25.0)),
        ("15-20h, maybe more", (15.0, 20.0)),
        ("ten", None),
        ("", None),
        ("a lot", None),
        ("0", None),
        (0, None),
        ("300 hours", None),
        ("150-250", None),
        (None, None),
        (True, None),
    ],
)
def test_parse_hours(text, expected) -> None:
    assert parse_hours(text) == expected
    ok, message = check_hours(text)
    assert ok == (expected is not None)
    assert message


@pytest.mark.parametrize(
    ("text", "ok", "in_message"),
    [
        (f"{PLEDGE}. J.D.", True, "J.D."),
        (f"{PLEDGE.lower()} jd", True, "jd"),
        (f"{PLEDGE.upper()}: ABC", True, "ABC"),
        (PLEDGE.replace("Duke ", "Duke  ").replace("Standard", "Standard,") + " - ABC", True, "ABC"),
        (f"{PLEDGE}.\n\nInitials: J. D.", True, "J. D."),
        (f"{PLEDGE} (É.L.)", True, "É.L."),
        (f"{PLEDGE}\n-- jd.\nThanks for reading", True, "jd"),
        (f"Pledge: {PLEDGE}. ABCD", True, "ABCD"),
        (f"{PLEDGE}.\n\nSignature: S. B.", True, "S. B."),  # signed on a line of its own
        (f"{PLEDGE}. \\hfill J.W.", True, "J.W."),  # LaTeX: initials pushed to the right margin
        (f"{PLEDGE}. \\hspace*{{2cm}} JW", True, "JW"),
        (f"{PLEDGE}. \\hfill", False, "initials"),
        (f"{PLEDGE}.\n\nSignature: Sarah Brennan", False, "initials"),
        (f'Type the statement "{PLEDGE}" followed by your initials.\nAnswer: {PLEDGE}. CB', True, "CB"),  # quoted, then signed
        (f'Type the statement "{PLEDGE}" followed by your initials.\nAnswer: {PLEDGE}.', False, "initials"),
        (PLEDGE, False, "initials"),
        (f"{PLEDGE}.", False, "initials"),
        (f"{PLEDGE}. J", False, "initials"),
        (f"{PLEDGE}. ABCDE", False, "initials"),
        (f"{PLEDGE}. John Doe", False, "initials"),
        (f"{PLEDGE}. 42", False, "initials"),
        (PLEDGE.replace("assignment", "homework") + ". JD", False, "statement"),
        ("I followed the honour code. JD", False, "statement"),
        ("JD", False, "statement"),
        ("", False, "statement"),
        (None, False, "statement"),
    ],
)
def test_check_pledge(text, ok, in_message) -> None:
    got_ok, message = check_pledge(text)
    assert got_ok == ok
    assert in_message in message
