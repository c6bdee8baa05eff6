"""Reference for Duke HW5-6 problem 5: the hours answer and the honour pledge."""

from __future__ import annotations

import re

MAX_HOURS = 200.0
PLEDGE = "I adhered to the Duke Community Standard in the completion of this assignment"

_NUMBER = r"(\d+(?:\.\d+)?)"
# The first number, optionally extended to a range by "-", "–", "—" or "to".
_HOURS = re.compile(_NUMBER + r"(?:\s*(?:-|–|—|to)\s*" + _NUMBER + r")?", re.IGNORECASE)
# The pledge's words with any run of spaces or punctuation between them.
_PLEDGE = re.compile(r"[\W_]+".join(map(re.escape, PLEDGE.split())), re.IGNORECASE)
_LETTER = r"[^\W\d_]"
# Initials right after the pledge: optional LaTeX spacing (a write-up's "\hfill J.W."), an optional
# "initials:"/"signed:"/"signature:" label, then 2–4 letters, each optionally followed by a dot and a
# space, ending the line.
_INITIALS = re.compile(
    rf"[\W_]*(?:\\(?:hfill|hspace\*?\{{[^}}]*\}}|quad|qquad)[\W_]*)*(?:(?:initials|signed|signature)\b[\W_]*)?"
    rf"((?:{_LETTER}\.?[ \t]?){{2,4}})[ \t.)]*(?:$|\n)",
    re.IGNORECASE,
)


def parse_hours(text: str | int | float | None) -> tuple[float, float] | None:
    """(low, high) hours from a number, "20", "20-25", "about 20 hours", "~15h", "20 to 25".

    Only the first number (or range) counts; None when there is none or when a
    bound is outside (0, 200].
    """
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, int | float):
        low = high = float(text)
    else:
        match = _HOURS.search(str(text))
        if match is None:
            return None
        low = float(match.group(1))
        high = float(match.group(2)) if match.group(2) else low
        low, high = min(low, high), max(low, high)
    if not (0.0 < low and high <= MAX_HOURS):
        return None
    return low, high


def check_hours(text: str | int | float | None) -> tuple[bool, str]:
    hours = parse_hours(text)
    if hours is None:
        return False, f"no number of hours found (expected e.g. 20 or 20-25, between 0 and {MAX_HOURS:g})"
    low, high = hours
    return True, f"hours: {low:g}" if low == high else f"hours: {low:g}-{high:g}"


def check_pledge(text: str | None) -> tuple[bool, str]:
    """The pledge's exact words (case, spacing and punctuation aside), then initials."""
    if text is not None and type(text) is not str:
        return False, f"the pledge must be text (a string), not {type(text).__name__}"
    matches = list(_PLEDGE.finditer(text or ""))
    if not matches:
        return False, f'honour statement not found: "{PLEDGE}"'
    # the statement may appear twice, as the question quotes it and as the student signs it
    signed = next((i for m in matches if (i := _INITIALS.match(text, m.end())) is not None), None)
    if signed is None:
        return False, "initials missing after the honour statement (2-4 letters, e.g. J.D.)"
    return True, f"pledge signed {signed.group(1).strip()}"
