"""The figures of the hand-computed PMO (tests/known_pmo.py), and its surveys' dates.

Surveys, invitations and responses come from tests/factories.py (the standard
questionnaire: two performance statements and one importance question per P, then NPS
and a comment). "Don't know" is None.

Scores: (mean rating − 1) / 4 × 100. The expected figures below say how each is made.
"""

import html
import re
from datetime import UTC, date, datetime

from django.template.defaultfilters import floatformat

from pmo5p.domain import Element
from stakeholders.models import Survey, SurveyStatus
from tests.factories import SurveyFactory

P = Element.PRODUCT
E = Element.PHYSICAL_EVIDENCE
C = Element.PRICE
PE = Element.PEOPLE
PR = Element.PROCESS


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


LAUNCHED = at(date(2025, 1, 1))


def build_survey(pmo, author, title, *, status=SurveyStatus.CLOSED, closed_on=None, anonymous=False) -> Survey:
    """A survey of the hand-computed PMO: launched on 1 January 2025 and, when closed, closed
    at noon on `closed_on`. Responses: tests.factories.ResponseFactory with `submitted_at=at(day)`."""
    closed_at = at(closed_on) if status == SurveyStatus.CLOSED else None
    return SurveyFactory(
        pmo=pmo,
        created_by=author,
        title=title,
        anonymous=anonymous,
        status=status,
        launched_at=LAUNCHED,
        closed_at=closed_at,
    )


# The hand-computed PMO ------------------------------------------------------------------


# Per element, for "Autumn" (the latest closed survey), all segments:
#   perception = mean score of the non-null performance answers, importance likewise.
AUTUMN = {
    # 3,3 2,4 4,2 2,- -,4 → 24/8 = 3 → 50; importance 3,2,4,3,3 → 3 → 50: a tie on the midpoint
    P: {"perception": 50.0, "perception_answers": 8, "importance": 50.0, "importance_answers": 5, "dont_know": 2},
    # 3,3 3,3 3,3 2,2 3,4 → 29/10 = 2.9 → 47.5; importance 3 × 5 → 50
    E: {"perception": 47.5, "perception_answers": 10, "importance": 50.0, "importance_answers": 5, "dont_know": 0},
    # no answer row at all
    C: {"perception": None, "perception_answers": 0, "importance": None, "importance_answers": 0, "dont_know": 0},
    # 2,2 2,2 1,1 1,- 3,4 → 18/9 = 2 → 25; importance 2,2,1,3,2 → 2 → 25
    PE: {"perception": 25.0, "perception_answers": 9, "importance": 25.0, "importance_answers": 5, "dont_know": 1},
    # 5,4 4,4 5,5 1,- 4,4 → 36/9 = 4 → 75; importance 2,3,2,2,1 → 2 → 25
    PR: {"perception": 75.0, "perception_answers": 9, "importance": 25.0, "importance_answers": 5, "dont_know": 1},
}
# Latest self-assessment per P: product 4 (the later date, entered first), physical 3,
# price 5, people never, process 5 (same date as a 2, entered after it).
SELF = {P: (4, 75.0), E: (3, 50.0), C: (5, 100.0), PE: (None, None), PR: (5, 100.0)}
AUTUMN_GAP = {P: -25.0, E: -2.5, C: None, PE: None, PR: -25.0}
AUTUMN_QUADRANT = {
    P: "Keep up the good work",
    E: "Concentrate here",
    C: None,
    PE: "Low priority",
    PR: "Possible overkill",
}
# importance × (100 − perception) / 100
AUTUMN_PRIORITY = {P: 25.0, E: 26.25, C: None, PE: 18.75, PR: 6.25}
AUTUMN_RANKING = [E, P, PE, PR, C]
# NPS: Ada 10, Ben 9, Cara 7, Dan 3, Eve none → (2 − 1) / 4 = 25.
AUTUMN_NPS = {"answers": 4, "promoters": 2, "passives": 1, "detractors": 1, "score": 25.0}
# Sent: Ada, Ben, Cara, Dan, Eve (answered), Fiona, Gus (not answered); Hal's never went out.
AUTUMN_SENT, AUTUMN_RESPONSES = 7, 5

# Finance (Ada, Ben, Cara answered; Fiona invited): 3 responses, at the threshold.
FINANCE = {
    P: {"perception": 50.0, "importance": 50.0},  # 3,3 2,4 4,2 → 3; importance 3,2,4 → 3
    E: {"perception": 50.0, "importance": 50.0},  # all 3
    C: {"perception": None, "importance": None},
    PE: {"perception": 100 / 6, "importance": 100 / 6},  # 2,2 2,2 1,1 → 10/6; importance 2,2,1 → 5/3
    PR: {"perception": 87.5, "importance": 100 / 3},  # 5,4 4,4 5,5 → 4.5; importance 2,3,2 → 7/3
}
FINANCE_GAP = {P: -25.0, E: 0.0, C: None, PE: None, PR: -12.5}
FINANCE_QUADRANT = {
    P: "Keep up the good work",
    E: "Keep up the good work",
    C: None,
    PE: "Low priority",
    PR: "Possible overkill",
}
# product and physical evidence tie at 25: element order decides.
FINANCE_RANKING = [P, E, PE, PR, C]
FINANCE_NPS = {"answers": 3, "promoters": 2, "passives": 1, "detractors": 0}  # 10, 9, 7 → 66.7
FINANCE_SENT, FINANCE_RESPONSES = 4, 3

# Spring: Gus all 5, Ada all 3 (price Don't know), Ben all 1, Cara all 5 → 28/8 = 3.5 → 62.5;
# price 5,5 1,1 5,5 → 22/6 → 66.7. Importance: each their own value → 14/4 = 3.5 → 62.5.
SPRING_PERCEPTION = {P: 62.5, E: 62.5, C: 200 / 3, PE: 62.5, PR: 62.5}
# Summer: Ben all 5; Dan product 3,3 physical 1,1 people 2,-; Eve 4,4 4,4 4,4 4,4 5,-.
SUMMER_PERCEPTION = {P: 75.0, E: 175 / 3, C: 87.5, PE: 75.0, PR: 100.0}
AUTUMN_PERCEPTION = {element: figures["perception"] for element, figures in AUTUMN.items()}
# Finance: Spring has 3 responses (all 50), Summer only Ben's (hidden), Autumn 3.
FINANCE_TREND = [
    dict.fromkeys(Element, 50.0),
    dict.fromkeys(Element),
    {element: FINANCE[element]["perception"] for element in Element},
]

# Current maturity of the active stakeholders (Fay is inactive; Bob Beta is another PMO's).
MATURITY = {1: 2, 2: 1, 3: 1, 4: 0, 5: 1, None: 4}  # Ben, Cara | Ada | Dan | — | Ivy | Fiona, Eve, Gus, Hal
FINANCE_MATURITY = {1: 2, 2: 1, 3: 0, 4: 0, 5: 0, None: 2}  # Ben, Cara | Ada | Fiona, Hal

AT_RISK = [
    ("Ada", ["Maturity only Aware"]),
    ("Ben", ["Maturity only Unaware", "Perception fell 50.0 points, from 100.0 to 50.0"]),
    ("Dan", ["Perception fell 10.0 points, from 25.0 to 15.0"]),
]
FINANCE_AT_RISK = AT_RISK[:2]


# Reading the dashboard's HTML ---------------------------------------------------------------

FIGURE = re.compile(r'data-figure="([\w-]+)"[^>]*>([^<]*)<')


def element_rows(page: str) -> dict[str, dict[str, str]]:
    """The five P's table: {element value: {figure name: text shown}}."""
    table = page[page.index('id="element-table"') :]
    table = table[: table.index("</table>")]
    rows = {}
    for element, body in re.findall(r'<tr data-element="(\w+)">(.*?)</tr>', table, flags=re.S):
        rows[element] = {name: html.unescape(value).strip() for name, value in FIGURE.findall(body)}
    return rows


def figures(page: str) -> dict[str, str]:
    """Every data-figure outside the element table, by name (the last one wins)."""
    return {name: html.unescape(value).strip() for name, value in FIGURE.findall(page)}


def ranking(page: str) -> list[str]:
    block = page[page.index('data-figure="ranking"') :]
    block = block[: block.index("</ol>")]
    return re.findall(r'data-element="(\w+)"', block)


def fmt(value, places=1) -> str:
    """A figure as the pages show it: rounded half up to one decimal (scores); — for none."""
    return "—" if value is None else floatformat(value, places)


def fmt_change(value) -> str:
    """A gap or a change as the pages show it: one decimal with its sign, a true minus; — for none."""
    if value is None:
        return "—"
    text = floatformat(abs(value), 1)
    return text if text == "0.0" else ("+" if value > 0 else "\u2212") + text
