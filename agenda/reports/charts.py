"""The agenda report's chart of the five P's, as inline SVG written by hand.

Why no chart library: the chart is five pairs of bars on a 0–100 scale. It must be
inline SVG that WeasyPrint draws into the PDF (it runs no JavaScript, so Chart.js, which
the pages use, cannot draw it) and that sits in the stored HTML the archive and the
e-mail show. A Python plotting library (matplotlib, pygal) would add a large
dependency, and fonts and markup we do not control, for some twenty shapes.

What goes in: numbers, formatted here, and the element labels of pmo5p/domain.py,
escaped. No text anyone typed (not even a survey title) is put inside the SVG.

E-mail: Gmail and Outlook do not show inline SVG. Rasterising it to a PNG would take
cairosvg, which needs the system's cairo (not in the Docker image: WeasyPrint no longer
uses it), and a PNG attached by Content-ID (most clients block data: images). So the
SVG is hidden from Outlook by its conditional comment, and dropped by Gmail, and the
e-mail keeps the report's HTML table of the five P's, whose perception column is drawn
as bars with plain CSS widths: that table is the chart's fallback.
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

from agenda.figures.present import Kind, shown
from pmo5p.domain import Element

WIDTH = 520
LABEL_WIDTH = 140
BAR_WIDTH = WIDTH - LABEL_WIDTH - 40  # room on the right for the value
ROW = 30
TOP = 22
PERCEPTION = "#1f3a5f"
IMPORTANCE = "#9fb3cc"
GRID = "#d5dce6"
TEXT = "#222222"
MUTED = "#5b6b7f"


def _x(score: float) -> float:
    return LABEL_WIDTH + max(0.0, min(100.0, score)) / 100 * BAR_WIDTH


def five_ps_svg(elements) -> str:
    """Perception and importance of each P (rows of report_figures.ElementRow), or "" with none."""
    rows = [row for row in elements if row.perception is not None or row.importance is not None]
    if not rows:
        return ""
    labels = {element.value: element.label for element in Element}
    height = TOP + ROW * len(elements) + 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="five-ps-chart" width="{WIDTH}" height="{height}" '
        # Never wider than its column (a phone's e-mail client). No height:auto: WeasyPrint
        # then reserves a blank band above the chart in the PDF; the viewBox keeps it in shape.
        'style="max-width:100%" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Perception and importance of the five P\'s, 0 to 100" '
        f'font-family="DejaVu Sans, Arial, sans-serif" font-size="11">'
    ]
    for tick in (0, 25, 50, 75, 100):
        x = _x(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{TOP + ROW * len(elements)}" stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{TOP - 10}" text-anchor="middle" fill="{MUTED}" font-size="9">{tick}</text>'
        )
    for index, row in enumerate(elements):
        y = TOP + index * ROW
        label = escape(labels.get(row.element, ""))
        parts.append(f'<text x="0" y="{y + 15}" fill="{TEXT}">{label}</text>')
        if row.perception is not None:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{_x(row.perception) - LABEL_WIDTH:.1f}" height="11" '
                f'fill="{PERCEPTION}"/>'
            )
            parts.append(
                f'<text x="{_x(row.perception) + 4:.1f}" y="{y + 13}" fill="{TEXT}" font-size="10">'
                f"{shown(row.perception, Kind.SCORE)}</text>"
            )
        if row.importance is not None:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + 17}" width="{_x(row.importance) - LABEL_WIDTH:.1f}" height="6" '
                f'fill="{IMPORTANCE}"/>'
            )
    legend = TOP + ROW * len(elements) + 18
    parts.append(f'<rect x="{LABEL_WIDTH}" y="{legend - 9}" width="12" height="10" fill="{PERCEPTION}"/>')
    parts.append(f'<text x="{LABEL_WIDTH + 16}" y="{legend}" fill="{MUTED}">Perception</text>')
    parts.append(f'<rect x="{LABEL_WIDTH + 100}" y="{legend - 7}" width="12" height="6" fill="{IMPORTANCE}"/>')
    parts.append(f'<text x="{LABEL_WIDTH + 116}" y="{legend}" fill="{MUTED}">Importance to stakeholders</text>')
    parts.append("</svg>")
    # Outlook (Word's renderer) would show the SVG's text as loose words: hide it there.
    # Safe: numbers formatted above and the escaped labels of pmo5p/domain.py, nothing else.
    return mark_safe("<!--[if !mso]><!-->" + "".join(parts) + "<!--<![endif]-->")  # noqa: S308
