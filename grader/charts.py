"""Inline SVG charts for the class page, built from plain numbers.

Reports must open from a zipped folder with no network, so charts are SVG markup written here
rather than a plotting library's JavaScript. Every text label is escaped with markupsafe before
it enters the markup, and only the finished string is marked safe: a part id or title from a
rubric can never inject markup. The SVGs carry no xmlns (HTML5 needs none) and are well-formed
XML, so tests can parse them with xml.etree.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

GREEN, AMBER, TRACK, INK, MUTED, BLUE = "#1b7f3b", "#c27803", "#e6e6ea", "#1d1d1f", "#6b6b70", "#3d5a98"
_FONT = 'font-family="system-ui, sans-serif"'


def bin_counts(values: Sequence[float], maximum: float, bins: int = 10) -> list[int]:
    """How many values fall in each of `bins` equal bins over [0, maximum]; the last bin includes
    the maximum, and values outside the range are clamped into the end bins so none is lost."""
    counts = [0] * bins
    for value in values:
        share = value / maximum if maximum > 0 else 0.0
        counts[min(max(int(share * bins), 0), bins - 1)] += 1
    return counts


def histogram(values: Sequence[float], maximum: float, bins: int = 10, unit: str = "points") -> Markup:
    """Score distribution: one bar (`rect.bin`, with `data-count`) per bin of the score range,
    its count written above it; the x axis in percent of `maximum`."""
    counts = bin_counts(values, maximum, bins)
    width, height, left, right, top, base = 360, 164, 18, 18, 18, 136
    step = (width - left - right) / bins
    tallest = max(counts) or 1
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(_histogram_summary(counts, maximum, unit))}" {_FONT} font-size="11">',
             f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="{MUTED}" stroke-width="1"/>']
    for index, count in enumerate(counts):
        x = left + index * step
        bar = (base - top) * count / tallest
        low, high = maximum * index / bins, maximum * (index + 1) / bins
        tip = escape(f"{count} with {low:g}–{high:g} {unit}")
        parts.append(f'<rect class="bin" data-count="{count}" x="{x + 2:.1f}" y="{base - bar:.1f}" '
                     f'width="{step - 4:.1f}" height="{bar:.1f}" rx="2" fill="{BLUE}"><title>{tip}</title></rect>')
        if count:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{base - bar - 4:.1f}" text-anchor="middle" '
                         f'fill="{INK}">{count}</text>')
    for index in range(0, bins + 1, max(bins // 5, 1)):
        parts.append(f'<text x="{left + index * step:.1f}" y="{base + 15}" text-anchor="middle" '
                     f'fill="{MUTED}">{100 * index // bins}%</text>')
    parts.append(f'<text x="{width / 2:.0f}" y="{height - 2}" text-anchor="middle" fill="{MUTED}">'
                 f'{escape(f"share of {maximum:g} {unit}")}</text></svg>')
    return Markup("".join(parts))


def _histogram_summary(counts: list[int], maximum: float, unit: str) -> str:
    return f"Histogram of {sum(counts)} scores out of {maximum:g} {unit} in {len(counts)} bins: " + \
        ", ".join(str(c) for c in counts)


def part_bars(rows: Sequence[tuple[str, float, float]]) -> Markup:
    """Success per part: one `g.bar` (with `data-part`) per (label, correct share, partial share)
    row, a green segment for correct, amber for partial, on a grey track of the whole class."""
    width, row, label_width, text_width = 360, 24, 74, 44
    track = width - label_width - text_width
    height = row * len(rows) + 4
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="Share of students with each part correct or partly correct" {_FONT} font-size="12">']
    for index, (label, correct, partial) in enumerate(rows):
        y = index * row + 4
        name = escape(label)
        tip = escape(f"{label}: {correct:.0%} correct, {partial:.0%} partly correct")
        parts.append(f'<g class="bar" data-part="{name}"><title>{tip}</title>'
                     f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end" fill="{INK}">{name}</text>'
                     f'<rect x="{label_width}" y="{y + 2}" width="{track}" height="14" rx="3" fill="{TRACK}"/>'
                     f'<rect class="correct" x="{label_width}" y="{y + 2}" width="{track * correct:.1f}" '
                     f'height="14" fill="{GREEN}"/>'
                     f'<rect class="partial" x="{label_width + track * correct:.1f}" y="{y + 2}" '
                     f'width="{track * partial:.1f}" height="14" fill="{AMBER}"/>'
                     f'<text x="{width - 4}" y="{y + 13}" text-anchor="end" fill="{INK}">{correct:.0%}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
