"""Suggested actions: a library of templates per element and IPA quadrant, written from
the aims of the 5P's, and the ranking that proposes them where the figures call for it.

A suggestion is proposed for each element (highest priority first) from its quadrant,
for each segment whose own figures put that element in "Concentrate here", for each
at-risk stakeholder, for each influential stakeholder whose touch is overdue (get back in
touch, on the P their latest answers score lowest: docs/engagement.md), for each catalogue
service whose figures call for it (publicise, improve, retire or rethink, raise its level:
docs/services.md), and for each P whose derived importance reads as a key driver or a hidden
driver seen as weak, or a basic expectation (agenda/figures/drivers.py). Adopting one turns it
into an agenda action.
"""

from dataclasses import dataclass

from agenda.figures import drivers as driver_figures
from agenda.figures import elements, relationships, responses, segments
from agenda.figures import services as service_figures
from agenda.figures import survey as survey_figures
from agenda.figures.elements import ElementInsight, IpaQuadrant
from agenda.figures.present import Kind, shown
from agenda.models import Action
from pmo5p.domain import Element, OfferingLevel, Problem
from stakeholders.models import Service

# (title, expected effect, problem), per element and quadrant. "{who}" is the audience:
# "stakeholders" or a segment's name.
LIBRARY: dict[Element, dict[IpaQuadrant, list[tuple[str, str, Problem]]]] = {
    Element.PRODUCT: {
        IpaQuadrant.CONCENTRATE: [
            (
                "Review the PMO's service catalogue with {who}",
                "Services that meet the basic needs of {who}, in words they recognise.",
                Problem.INFORMATION,
            ),
            (
                "Run a needs interview round with {who}",
                "A shared list of what {who} need from the PMO, to reshape the offer.",
                Problem.INFORMATION,
            ),
        ],
        IpaQuadrant.KEEP_UP: [
            (
                "Publish a one-page guide to the PMO's services for {who}",
                "Basic needs stay met as people change.",
                Problem.PERFORMANCE,
            )
        ],
        IpaQuadrant.LOW_PRIORITY: [
            (
                "Check with {who} which PMO services they could do without",
                "Effort moves to what matters.",
                Problem.COST_AND_DELAY,
            )
        ],
        IpaQuadrant.OVERKILL: [
            ("Simplify the services {who} rarely use", "Less overhead for the same value.", Problem.COST_AND_DELAY)
        ],
    },
    Element.PHYSICAL_EVIDENCE: {
        IpaQuadrant.CONCENTRATE: [
            (
                "Show {who} the benefits the portfolio has realised",
                "{who} can point to what the PMO's work delivered.",
                Problem.MISSED_OPPORTUNITIES,
            ),
            (
                "Add a benefits summary to the reports {who} receive",
                "Reports that show outcomes, not only status.",
                Problem.MISSED_OPPORTUNITIES,
            ),
        ],
        IpaQuadrant.KEEP_UP: [
            (
                "Keep a quarterly benefits showcase for {who}",
                "Evidence of value stays visible.",
                Problem.MISSED_OPPORTUNITIES,
            )
        ],
        IpaQuadrant.LOW_PRIORITY: [
            (
                "Ask {who} which evidence of PMO value they would use",
                "Evidence that answers their questions.",
                Problem.INFORMATION,
            )
        ],
        IpaQuadrant.OVERKILL: [
            ("Trim the reports {who} do not read", "Less reporting effort, same insight.", Problem.COST_AND_DELAY)
        ],
    },
    Element.PRICE: {
        IpaQuadrant.CONCENTRATE: [
            (
                "Cut the time PMO processes take from {who}",
                "Working with the PMO feels worth what it costs {who}.",
                Problem.COST_AND_DELAY,
            ),
            (
                "Tell {who} what each PMO request is for and what it saves them",
                "The value behind the effort is understood.",
                Problem.PERFORMANCE,
            ),
        ],
        IpaQuadrant.KEEP_UP: [
            (
                "Keep lightweight governance for small projects of {who}",
                "Perceived value stays high.",
                Problem.COST_AND_DELAY,
            )
        ],
        IpaQuadrant.LOW_PRIORITY: [
            (
                "Watch the effort PMO processes ask of {who}",
                "Early warning if cost starts to matter.",
                Problem.COST_AND_DELAY,
            )
        ],
        IpaQuadrant.OVERKILL: [
            ("Reinvest effort saved with {who} where perception is weak", "Value where it counts.", Problem.PERFORMANCE)
        ],
    },
    Element.PEOPLE: {
        IpaQuadrant.CONCENTRATE: [
            (
                "Pair each key stakeholder in {who} with a named PMO contact",
                "Confidence built through a consistent, good experience.",
                Problem.PERFORMANCE,
            ),
            (
                "Offer coaching sessions by PMO experts to {who}",
                "{who} experience the PMO's skills first hand.",
                Problem.RECRUITING,
            ),
        ],
        IpaQuadrant.KEEP_UP: [
            (
                "Recognise the PMO people {who} value, and share how they work",
                "Good experiences spread.",
                Problem.RECRUITING,
            )
        ],
        IpaQuadrant.LOW_PRIORITY: [
            ("Introduce the PMO team to {who} at their next meeting", "A face to every service.", Problem.INFORMATION)
        ],
        IpaQuadrant.OVERKILL: [
            (
                "Free PMO experts' time from {who} for segments that need it",
                "Skills go where confidence is low.",
                Problem.PERFORMANCE,
            )
        ],
    },
    Element.PROCESS: {
        IpaQuadrant.CONCENTRATE: [
            (
                "Tailor the PMO's process to the projects of {who}",
                "A personal service instead of one process for all.",
                Problem.COST_AND_DELAY,
            ),
            (
                "Agree a service level with {who} for PMO requests",
                "Responsive, predictable support.",
                Problem.PERFORMANCE,
            ),
        ],
        IpaQuadrant.KEEP_UP: [
            ("Document the tailoring that works for {who}", "Personal service that lasts.", Problem.PERFORMANCE)
        ],
        IpaQuadrant.LOW_PRIORITY: [
            ("Ask {who} where the process gets in their way", "Find friction before it matters.", Problem.INFORMATION)
        ],
        IpaQuadrant.OVERKILL: [
            (
                "Standardise where tailoring for {who} adds little",
                "Less effort for the same experience.",
                Problem.COST_AND_DELAY,
            )
        ],
    },
}


@dataclass
class Suggestion:
    key: str
    element: Element
    quadrant: IpaQuadrant | None
    title: str
    expected_effect: str
    problem: Problem
    why: str
    priority: float | None
    segment_id: int | None = None
    stakeholder_id: int | None = None
    service_id: int | None = None


def _fill(template: str, who: str) -> str:
    text = template.format(who=who)
    return text[0].upper() + text[1:]


def _figures(row: ElementInsight) -> str:
    return f"perception {shown(row.perception, Kind.SCORE)}, importance {shown(row.importance, Kind.SCORE)}"


def _element_suggestions(element_rows: list[ElementInsight]) -> list[Suggestion]:
    proposed = []
    for rank, row in enumerate(elements.ranked_by_priority(element_rows), start=1):
        if row.quadrant is None:
            continue
        for index, (title, effect, problem) in enumerate(LIBRARY[row.element][row.quadrant]):
            proposed.append(
                Suggestion(
                    key=f"{row.element.value}:{row.quadrant.value}:all:{index}",
                    element=row.element,
                    quadrant=row.quadrant,
                    title=_fill(title, "stakeholders"),
                    expected_effect=_fill(effect, "stakeholders"),
                    problem=problem,
                    why=f"{row.element.label} is priority {rank}: {row.quadrant.label.lower()} ({_figures(row)}).",
                    priority=row.priority,
                )
            )
    return proposed


# Above every element's priority (importance × (100 − perception) / 100, at most 100): a key
# driver seen as weak is where improvement pays most, so it comes first.
TOP_PRIORITY = 100


def _driver_figures(driver: driver_figures.Driver) -> str:
    """r, its interval and n as the suggestion's reason tells them."""
    r = shown(driver.r, Kind.CORRELATION)
    if driver.has_interval:
        span = f"95% {shown(driver.low, Kind.CORRELATION)} to {shown(driver.high, Kind.CORRELATION)}"
    else:
        span = "interval not measurable"
    return f"r = {r}, {span}, n = {driver.respondents}"


def _driver_suggestions(found: list[driver_figures.Driver], element_rows: list[ElementInsight]) -> list[Suggestion]:
    """From the readings of derived against stated importance: a key driver seen as weak
    (perception under the IPA's midpoint) first of all; a hidden driver seen as weak, made
    visible; a basic expectation, kept at its standard without over-investing. The key holds
    the reading, so an adopted one is not proposed again while the reading stays."""
    rows = {row.element: row for row in element_rows}
    proposed = []
    for driver in found:
        row = rows.get(driver.element)
        if driver.reading is None or row is None:
            continue
        label, weak = driver.element.label, row.perception is not None and row.perception < elements.MIDPOINT
        figures = _driver_figures(driver)
        perception = f"perception {shown(row.perception, Kind.SCORE)}"
        stated = f"stated importance {shown(driver.stated, Kind.SCORE)}"
        if driver.reading is driver_figures.Reading.KEY_DRIVER and weak:
            made = (
                f"Make {label} the top priority: {driver.element.aim}",
                f"Better {label} lifts recommendation, where stakeholders say it matters too.",
                Problem.PERFORMANCE,
                f"{label} is a key driver seen as weak: it moves recommendation ({figures}) and stakeholders "
                f"say it matters ({stated}), yet {perception}.",
                TOP_PRIORITY + (row.priority or 0),
            )
        elif driver.reading is driver_figures.Reading.HIDDEN_DRIVER and weak:
            made = (
                f"Make {label} visible: it moves recommendation more than stakeholders say",
                f"Stakeholders see what {label} ({driver.element.aim}) gives them.",
                Problem.INFORMATION,
                f"{label} is a hidden driver ({figures}; {stated}), seen as weak ({perception}).",
                row.priority,
            )
        elif driver.reading is driver_figures.Reading.BASIC_EXPECTATION:
            made = (
                f"Keep {label} at its standard, without over-investing",
                f"{label} stays as expected; effort goes where it moves recommendation.",
                Problem.COST_AND_DELAY,
                f"{label} is a basic expectation: stakeholders say it matters ({stated}) but it barely moves "
                f"recommendation ({figures}); {perception}.",
                None,
            )
        else:
            continue
        title, effect, problem, why, priority = made
        proposed.append(
            Suggestion(
                key=f"{driver.element.value}:driver-{driver.reading.value}:all:0",
                element=driver.element,
                quadrant=row.quadrant,
                title=title,
                expected_effect=effect,
                problem=problem,
                why=why,
                priority=priority,
            )
        )
    return proposed


def _segment_suggestions(survey) -> list[Suggestion]:
    """For each segment shown on the results page whose own figures put an element in
    "Concentrate here". "No segment" is left out: an action targets a segment, and it is none."""
    proposed = []
    for segment_row in segments.segment_figures(survey):
        if segment_row.hidden or segment_row.segment_id is None:
            continue
        for row in map(ElementInsight.of, segment_row.elements.values()):
            if row.quadrant != IpaQuadrant.CONCENTRATE:
                continue
            title, effect, problem = LIBRARY[row.element][row.quadrant][0]
            proposed.append(
                Suggestion(
                    key=f"{row.element.value}:{row.quadrant.value}:segment-{segment_row.segment_id}:0",
                    element=row.element,
                    quadrant=row.quadrant,
                    title=_fill(title, segment_row.name),
                    expected_effect=_fill(effect, segment_row.name),
                    problem=problem,
                    why=f"For {segment_row.name}, {row.element.label} is in “Concentrate here” "
                    f"({_figures(row)}, {segment_row.responses} responses).",
                    priority=row.priority,
                    segment_id=segment_row.segment_id,
                )
            )
    return proposed


def _at_risk_suggestions(at_risk) -> list[Suggestion]:
    """A meeting for each at-risk stakeholder; one at risk only for an overdue touch gets the
    suggestion to get back in touch instead (_touch_suggestions), not both."""
    return [
        Suggestion(
            key=f"people:at-risk:stakeholder-{item.stakeholder.pk}:0",
            element=Element.PEOPLE,
            quadrant=None,
            title=f"Meet {item.stakeholder.name} to understand their view of the PMO",
            expected_effect="A relationship back on track, and what lies behind it understood.",
            problem=Problem.PERFORMANCE,
            why=f"{item.stakeholder.name} is at risk: {'; '.join(item.reasons).lower()}.",
            priority=None,
            stakeholder_id=item.stakeholder.pk,
        )
        for item in at_risk
        if not item.only_touch_overdue
    ]


def _touch_suggestions(at_risk, element_rows) -> list[Suggestion]:
    """For each influential stakeholder whose touch is overdue (they are in the at-risk list
    for it: relationships.at_risk_page): who, how long since, and the P to work on, the one
    their latest named answers score lowest (responses.lowest_elements_of); without answers,
    the PMO's top priority. Two queries, whatever their number.

    The key holds the day the touch fell due: it stays the same while the touch is overdue,
    so an adopted one is not proposed again; once they are touched and fall due again, it is
    a new suggestion."""
    overdue = [item for item in at_risk if item.touch_overdue]
    if not overdue:
        return []
    latest = responses.latest_named_responses([item.stakeholder.pk for item in overdue])
    lowest = responses.lowest_elements_of(list(latest.values()), limit=1)
    ranked = [row for row in elements.ranked_by_priority(element_rows or []) if row.priority is not None]
    top = ranked[0] if ranked else None
    proposed = []
    for item in overdue:
        stakeholder, engagement = item.stakeholder, item.engagement
        found = lowest.get(latest.get(stakeholder.pk)) or []
        if found:
            element, perception = found[0]
            focus = (
                f"Their latest answers score {element.label} lowest ({shown(perception, Kind.SCORE)}): "
                f"talk about {element.aim}."
            )
        elif top is not None:
            element = top.element
            focus = f"No answers of theirs yet: talk about {element.label}, the PMO's top priority ({element.aim})."
        else:
            element = Element.PEOPLE
            focus = "No answers yet: ask them in the next survey."
        since = relationships.touch_overdue_reason(engagement, stakeholder)
        proposed.append(
            Suggestion(
                key=f"touch:stakeholder-{stakeholder.pk}:{engagement.touch_due_on.isoformat()}",
                element=element,
                quadrant=None,
                title=f"Get back in touch with {stakeholder.name}",
                expected_effect=f"A relationship kept warm, with {element.label} ({element.aim}) on the table.",
                problem=Problem.INFORMATION,
                why=f"{stakeholder.name}: {since[0].lower()}{since[1:]}. {focus}",
                priority=None,
                stakeholder_id=stakeholder.pk,
            )
        )
    return proposed


def _service_suggestions(pmo, figures: dict[int, service_figures.ServiceFigures]) -> list[Suggestion]:
    """For each catalogue service whose figures (the catalogue's: service_figures.
    catalogue_figures) are shown and call for it. One query (its services)."""
    shown_figures = {pk: f for pk, f in figures.items() if not f.suppressed and f.answered}
    if not shown_figures:
        return []
    proposed = []
    for service in Service.objects.filter(pmo=pmo, pk__in=list(shown_figures)).order_by("name", "pk"):
        f = shown_figures[service.pk]
        name = service.name
        element = next((Element(v) for v in service.elements if v in Element.values), Element.PRODUCT)

        def propose(kind, title, effect, problem, why, *, service=service, f=f, element=element):
            proposed.append(
                Suggestion(
                    key=f"service-{service.pk}:{kind}",
                    element=element,
                    quadrant=f.quadrant,
                    title=title,
                    expected_effect=effect,
                    problem=problem,
                    why=why,
                    priority=f.priority,
                    service_id=service.pk,
                )
            )

        calls = service_figures.calls_for(f, service.level_now)
        if service_figures.ServiceCall.PUBLICISE in calls:
            propose(
                "publicise",
                f"Publicise {name} to those it serves",
                f"More of those it serves know what {name} offers them.",
                Problem.INFORMATION,
                f"Only {shown(f.awareness, Kind.PERCENT)} of those asked know {name} ({f.aware} of {f.answered}).",
            )
        if service_figures.ServiceCall.IMPROVE in calls:
            propose(
                "improve",
                f"Improve {name} with those who use it",
                f"{name} meets the needs of those who use it.",
                Problem.PERFORMANCE,
                f"{f.users} use {name} but rate it {shown(f.satisfaction, Kind.SCORE)} "
                f"(importance {shown(f.importance, Kind.SCORE)}, {f.satisfaction_n} ratings).",
            )
        if service_figures.ServiceCall.RETHINK in calls:
            propose(
                "rethink",
                f"Retire or rethink {name}",
                f"Effort moves from a service few use to what matters, or {name} is reshaped to be used.",
                Problem.COST_AND_DELAY,
                f"{shown(f.awareness, Kind.PERCENT)} of those asked know {name} but only "
                f"{shown(f.usage, Kind.PERCENT)} use it ({f.users} of {f.answered}).",
            )
        if service_figures.ServiceCall.RAISE in calls:
            now, next_level = OfferingLevel(service.level_now), OfferingLevel(service.level_now + 1)
            propose(
                "raise",
                f"Raise {name} from {now.label} to {next_level.label}",
                f"{name} grows with the importance its users give it.",
                Problem.MISSED_OPPORTUNITIES,
                f"Its users rate {name} {shown(f.importance, Kind.SCORE)} on importance "
                f"({f.importance_n} ratings); it is at {now.label} now.",
            )
    return proposed


def suggestions(pmo, survey=None, *, element_rows=None, at_risk=None, services=None) -> list[Suggestion]:
    """What the figures call for, highest priority first; adopted ones are left out.

    A caller that has the survey's element insights, the at-risk stakeholders and the
    catalogue's service figures already (the report) passes them, so that they are not
    worked out twice.
    """
    survey = survey or survey_figures.default_survey(pmo)
    adopted = set(Action.objects.filter(pmo=pmo).exclude(suggestion_key="").values_list("suggestion_key", flat=True))
    proposed: list[Suggestion] = []
    if survey is not None:
        if element_rows is None:
            element_rows = elements.element_insights(pmo, survey)
        proposed += _element_suggestions(element_rows) + _segment_suggestions(survey)
        # The stated importance the element rows hold already: one query more, the correlations.
        stated = {row.element: row.importance for row in element_rows}
        proposed += _driver_suggestions(driver_figures.derived_importance(survey, stated=stated), element_rows)
    proposed += _service_suggestions(pmo, service_figures.catalogue_figures(pmo) if services is None else services)
    at_risk = relationships.at_risk_stakeholders(pmo) if at_risk is None else at_risk
    proposed += _touch_suggestions(at_risk, element_rows) + _at_risk_suggestions(at_risk)
    fresh = [s for s in proposed if s.key not in adopted]
    return sorted(fresh, key=lambda s: (s.priority is None, -(s.priority or 0)))


def find(pmo, key: str) -> Suggestion | None:
    return next((s for s in suggestions(pmo) if s.key == key), None)
