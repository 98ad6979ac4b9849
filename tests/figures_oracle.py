"""The figures of docs/figures.md stated again in plain Python, for tests/test_figures_agree.py.

- `Scenario`: a survey's data as plain values (who was invited, in which segment at launch
  and now, what they answered, the services it asked about and what each respondent asked
  said of them), with the hypothesis strategy `scenarios()` that draws them and `build()`,
  which makes them rows through the factories of tests/factories.py.
- `Oracle`: every figure of that data, computed with fractions straight from the
  formulas of docs/figures.md, never from the product's code.
- `displays()`: the texts a page may show for a figure rounded as docs/figures.md
  ("Rounding") says, and `read_figures()`: what a page shows, by its data-figure hooks.
"""

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from html.parser import HTMLParser

from django.utils import timezone
from hypothesis import strategies as st

from pmo5p.domain import Element, ServiceUsage
from pmo5p.models import Role
from stakeholders.models import SurveyInvitation
from tests.factories import (
    MembershipFactory,
    PmoFactory,
    ResponseFactory,
    SegmentFactory,
    SelfAssessmentFactory,
    ServiceAnswerFactory,
    ServiceFactory,
    StakeholderFactory,
    SurveyFactory,
    SurveyInvitationFactory,
    SurveyServiceFactory,
)

ELEMENTS = list(Element)
NO_SEGMENT = "No segment"
MIDPOINT = 50

# The data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    # Per element, in Element order: the two performance statements (None is "Don't know").
    ratings: tuple[tuple[int | None, int | None], ...]
    importance: tuple[int, ...]  # per element, 1–5 (no "Don't know")
    nps: int | None  # 0–10, None: not answered


@dataclass(frozen=True)
class ServiceReply:
    usage: str  # a ServiceUsage value
    satisfaction: int | None = None  # 1–5, only a user's; None: "Don't know" (or not a user)
    importance: int | None = None


@dataclass(frozen=True)
class Person:
    segment: int | None  # their segment now: an index into the scenario's segments
    launched_in: int | None  # their segment when the survey was launched; differs if they moved since
    send: str  # "sent", "pending" or "failed": only a sent invitation went out
    reply: Reply | None = None
    # Per service of the scenario: their answer, None if not asked (or they left it).
    services: tuple[ServiceReply | None, ...] = ()


@dataclass(frozen=True)
class AskedService:
    segments: tuple[int, ...]  # the segments it served at launch (indices); empty: everyone
    elements: tuple[Element, ...]  # the P's it mainly serves

    def serves(self, segment: int | None) -> bool:
        return not self.segments or segment in self.segments


@dataclass(frozen=True)
class Scenario:
    anonymous: bool
    segment_count: int  # segments "Segment 1" … of the PMO, some perhaps with nobody in them
    people: tuple[Person, ...]  # each invited to the survey
    self_ratings: tuple[tuple[int, ...], ...]  # per element, the PMO's ratings of itself, oldest first
    # The catalogue's services "Service 1" …, each asked about in the survey.
    services: tuple[AskedService, ...] = ()

    @property
    def segment_names(self) -> list[str]:
        return [f"Segment {n + 1}" for n in range(self.segment_count)]


RATING = st.sampled_from([None, 1, 2, 3, 4, 5])  # None is "Don't know"
REPLIES = st.builds(
    Reply,
    ratings=st.tuples(*[st.tuples(RATING, RATING)] * len(ELEMENTS)),
    importance=st.tuples(*[st.integers(1, 5)] * len(ELEMENTS)),
    nps=st.one_of(st.none(), st.integers(0, 10)),
)


@st.composite
def group(draw, segment: int | None, segment_count: int) -> list[Person]:
    """The people in `segment` now: up to six who answered and up to two who did not, sent
    the survey or not; a few of either were in another segment, or none, at the launch and
    moved here since."""
    launched_in = st.one_of(st.just(segment), st.none(), st.integers(0, segment_count - 1))
    # One in six moved since the launch.
    launched_in = st.integers(0, 5).flatmap(lambda n: launched_in if n == 5 else st.just(segment))
    answered = [Person(segment, draw(launched_in), "sent", draw(REPLIES)) for _ in range(draw(st.integers(0, 6)))]
    send = st.sampled_from(["sent", "pending", "failed"])
    silent = st.builds(lambda was, how: Person(segment, was, how), launched_in, send)
    return answered + draw(st.lists(silent, max_size=2))


SERVICE_RATING = st.sampled_from([None, 1, 2, 3, 4, 5])
SERVICE_REPLIES = st.one_of(
    st.builds(ServiceReply, st.just(ServiceUsage.USES.value), SERVICE_RATING, SERVICE_RATING),
    st.builds(ServiceReply, st.sampled_from([ServiceUsage.KNOWS.value, ServiceUsage.UNAWARE.value])),
)


@st.composite
def asked_services(draw, segment_count: int) -> AskedService:
    return AskedService(
        segments=tuple(sorted(draw(st.sets(st.integers(0, segment_count - 1), max_size=2)))),
        elements=tuple(draw(st.lists(st.sampled_from(ELEMENTS), max_size=2, unique=True))),
    )


@st.composite
def scenarios(draw) -> Scenario:
    """1–4 segments, and people in each and in none: groups on both sides of the minimum size;
    0–3 services, some serving a segment or two only, answered by those asked (one in ten
    leaves a service unanswered)."""
    segment_count = draw(st.integers(1, 4))
    people = [person for index in [*range(segment_count), None] for person in draw(group(index, segment_count))]
    services = tuple(draw(st.lists(asked_services(segment_count), max_size=3)))
    answered = []
    for person in people:
        if person.reply:
            replies = tuple(
                draw(st.one_of(SERVICE_REPLIES, st.none()) if draw(st.integers(0, 9)) == 0 else SERVICE_REPLIES)
                if service.serves(person.launched_in)
                else None
                for service in services
            )
            person = dataclasses.replace(person, services=replies)
        answered.append(person)
    return Scenario(
        anonymous=draw(st.booleans()),
        segment_count=segment_count,
        people=tuple(draw(st.permutations(answered))),
        self_ratings=draw(st.tuples(*[st.lists(st.integers(1, 5), max_size=2).map(tuple)] * len(ELEMENTS))),
        services=services,
    )


@dataclass
class Built:
    pmo: object
    survey: object
    segments: list  # Segment rows, in the order of Scenario.segment_names
    stakeholders: list  # one per Person, in order
    services: list = dataclasses.field(default_factory=list)  # Service rows, in the scenario's order
    asked: list = dataclasses.field(default_factory=list)  # their SurveyService rows, in the same order


SEND_FIELDS = {
    "sent": {"sent": True},
    "pending": {},
    "failed": {"send_status": SurveyInvitation.SendStatus.FAILED, "last_error": "550 refused"},
}


def build(scenario: Scenario, lead) -> Built:
    """The scenario's rows: a PMO led by `lead`, its segments, stakeholders and closed survey."""
    pmo = PmoFactory()
    MembershipFactory(pmo=pmo, user=lead, role=Role.LEAD)
    segments = [SegmentFactory(pmo=pmo, name=name) for name in scenario.segment_names]
    survey = SurveyFactory(pmo=pmo, closed=True, anonymous=scenario.anonymous, title="Random survey")

    def segment(index):
        return None if index is None else segments[index]

    services, asked = [], []
    for n, service in enumerate(scenario.services, start=1):
        row = ServiceFactory(
            pmo=pmo,
            name=f"Service {n}",
            elements=[e.value for e in service.elements],
            segments=[segments[i] for i in service.segments],
        )
        services.append(row)
        asked.append(SurveyServiceFactory(survey=survey, service=row, position=n))

    stakeholders = []
    for n, person in enumerate(scenario.people):
        stakeholder = StakeholderFactory(pmo=pmo, name=f"Person {n:02d}", segment=segment(person.launched_in))
        invitation = SurveyInvitationFactory(survey=survey, stakeholder=stakeholder, **SEND_FIELDS[person.send])
        if person.reply:
            reply = person.reply
            response = ResponseFactory(
                invitation=invitation,
                ratings=dict(zip(ELEMENTS, reply.ratings, strict=True)),
                importance=dict(zip(ELEMENTS, reply.importance, strict=True)),
                nps=reply.nps,
                submitted_at=survey.launched_at + timedelta(hours=n + 1),
            )
            for survey_service, said in zip(asked, person.services, strict=False):
                if said is not None:
                    ServiceAnswerFactory(
                        response=response,
                        survey_service=survey_service,
                        usage=said.usage,
                        satisfaction=said.satisfaction,
                        importance=said.importance,
                    )
        if person.segment != person.launched_in:
            stakeholder.segment = segment(person.segment)
            stakeholder.save(update_fields=["segment"])
        stakeholders.append(stakeholder)
    today = timezone.localdate()
    for element, ratings in zip(ELEMENTS, scenario.self_ratings, strict=True):
        for age, rating in enumerate(reversed(ratings), start=1):
            SelfAssessmentFactory(pmo=pmo, element=element, rating=rating, assessed_on=today - timedelta(days=age))
    return Built(pmo, survey, segments, stakeholders, services, asked)


# The formulas (docs/figures.md) ----------------------------------------------------------


def score(rating: int) -> Fraction:
    """(r − 1) / 4 × 100."""
    return Fraction(rating - 1, 4) * 100


def mean(values) -> Fraction | None:
    values = list(values)
    return sum(values, Fraction(0)) / len(values) if values else None


def quadrant(importance, perception) -> str | None:
    if importance is None or perception is None:
        return None
    if importance >= MIDPOINT:
        return "Concentrate here" if perception < MIDPOINT else "Keep up the good work"
    return "Low priority" if perception < MIDPOINT else "Possible overkill"


def priority(importance, perception) -> Fraction | None:
    if importance is None or perception is None:
        return None
    return importance * (100 - perception) / 100


@dataclass
class ElementFigures:
    element: Element
    perception: Fraction | None
    perception_answers: int
    dont_know: int
    importance: Fraction | None
    importance_answers: int
    self_score: Fraction | None = None

    @property
    def gap(self):
        return None if self.perception is None or self.self_score is None else self.perception - self.self_score

    @property
    def quadrant(self):
        return quadrant(self.importance, self.perception)

    @property
    def priority(self):
        return priority(self.importance, self.perception)


@dataclass
class Nps:
    answers: int
    promoters: int
    passives: int
    detractors: int

    @property
    def score(self) -> Fraction | None:
        return Fraction(self.promoters - self.detractors, self.answers) * 100 if self.answers else None


@dataclass
class SegmentRow:
    name: str
    index: int | None  # into Scenario.segment_names; None: "No segment"
    responses: int
    hidden: bool
    perception: dict  # Element → Fraction | None; empty when hidden
    sent: int  # the invitations sent that count in the segment (Oracle.sent_in)


@dataclass
class GroupFigures:
    """What the dashboard shows for the whole survey or one segment."""

    responses: int
    sent: int
    elements: dict  # Element → ElementFigures
    nps: Nps

    @property
    def response_rate(self) -> Fraction | None:
        return Fraction(self.responses, self.sent) * 100 if self.sent else None

    def ranking(self) -> list[ElementFigures]:
        """Highest priority first, elements without one last (ties in Element order)."""
        return sorted(self.elements.values(), key=lambda e: (e.priority is None, -(e.priority or 0)))

    def ranks(self, element: Element) -> set[int]:
        """The places the element may take in the ranking: any among those of equal priority."""
        mine = self.elements[element].priority
        ranked = self.ranking()
        return {n for n, row in enumerate(ranked, start=1) if row.priority == mine}


@dataclass
class ServiceFigures:
    hidden: bool
    answered: int = 0
    aware: int = 0
    users: int = 0
    satisfaction: Fraction | None = None
    satisfaction_n: int = 0
    importance: Fraction | None = None
    importance_n: int = 0

    @property
    def awareness(self) -> Fraction | None:
        return Fraction(self.aware, self.answered) * 100 if self.answered and not self.hidden else None

    @property
    def usage(self) -> Fraction | None:
        return Fraction(self.users, self.answered) * 100 if self.answered and not self.hidden else None

    @property
    def quadrant(self):
        return quadrant(self.importance, self.satisfaction)

    @property
    def priority(self):
        return priority(self.importance, self.satisfaction)


class Oracle:
    """The figures of the scenario, from the formulas of docs/figures.md."""

    def __init__(self, scenario: Scenario, min_group_size: int):
        self.scenario = scenario
        self.minimum = min_group_size
        self.respondents = [p for p in scenario.people if p.reply]
        self.names = scenario.segment_names

    def name(self, index: int | None) -> str:
        return NO_SEGMENT if index is None else self.names[index]

    def self_score(self, element: Element) -> Fraction | None:
        """Score of the latest self-assessment of the element."""
        ratings = self.scenario.self_ratings[ELEMENTS.index(element)]
        return score(ratings[-1]) if ratings else None

    def elements(self, replies: list[Reply]) -> dict:
        figures = {}
        for i, element in enumerate(ELEMENTS):
            given = [v for reply in replies for v in reply.ratings[i]]
            rated = [v for v in given if v is not None]
            importance = [reply.importance[i] for reply in replies]
            figures[element] = ElementFigures(
                element,
                perception=mean(map(score, rated)),
                perception_answers=len(rated),
                dont_know=len(given) - len(rated),
                importance=mean(map(score, importance)),
                importance_answers=len(importance),
                self_score=self.self_score(element),
            )
        return figures

    @staticmethod
    def nps(replies: list[Reply]) -> Nps:
        answers = [reply.nps for reply in replies if reply.nps is not None]
        return Nps(
            len(answers),
            promoters=sum(a >= 9 for a in answers),
            passives=sum(a in (7, 8) for a in answers),
            detractors=sum(a <= 6 for a in answers),
        )

    @staticmethod
    def response_perception(reply: Reply) -> list:
        """Perception of one response, per element."""
        return [mean(score(v) for v in ratings if v is not None) for ratings in reply.ratings]

    # Per survey

    @property
    def invited(self) -> int:
        return len(self.scenario.people)

    @property
    def sent(self) -> int:
        return sum(p.send == "sent" for p in self.scenario.people)

    def survey(self) -> GroupFigures:
        replies = [p.reply for p in self.respondents]
        return GroupFigures(len(replies), self.sent, self.elements(replies), self.nps(replies))

    # Per segment

    def answered_in(self, index: int | None) -> list[Reply]:
        """The replies that count in the segment: those of the people in it at the launch,
        wherever they are now."""
        return [p.reply for p in self.respondents if p.launched_in == index]

    def segment_rows(self) -> list[SegmentRow]:
        """The results page's and the API's rows: the segments of those invited at the
        launch, "No segment" last if any of them had none; responses counted there too; a
        group under the minimum hidden."""
        invited = {p.launched_in for p in self.scenario.people}
        rows = []
        for index in sorted(invited, key=lambda i: (i is None, self.name(i))):
            replies = self.answered_in(index)
            hidden = len(replies) < self.minimum
            elements = {} if hidden else self.elements(replies)
            perception = {e: f.perception for e, f in elements.items()}
            rows.append(SegmentRow(self.name(index), index, len(replies), hidden, perception, self.sent_in(index)))
        return rows

    def sent_in(self, index: int | None) -> int:
        """Invitations sent that count in the segment: their stakeholder's at the launch,
        answered or not."""
        return sum(p.send == "sent" and p.launched_in == index for p in self.scenario.people)

    def segment(self, index: int) -> GroupFigures | None:
        """The dashboard with a segment chosen: None (hidden) under the minimum. An invitation
        and its response count in the stakeholder's segment at the launch."""
        replies = self.answered_in(index)
        if len(replies) < self.minimum:
            return None
        return GroupFigures(len(replies), self.sent_in(index), self.elements(replies), self.nps(replies))

    def segment_suggestions(self) -> dict:
        """(segment index, element) → (figures, responses) for each segment row shown (not
        "No segment") whose own figures put the element in "Concentrate here"."""
        found = {}
        for row in self.segment_rows():
            if row.hidden or row.index is None:
                continue
            index, replies = row.index, self.answered_in(row.index)
            for element, figures in self.elements(replies).items():
                if figures.quadrant == "Concentrate here":
                    found[index, element] = (figures, len(replies))
        return found

    # Per service (docs/services.md, "The figures")

    def service(self, number: int, segment: int | None | str = "all") -> "ServiceFigures":
        """The figures of the scenario's service `number` (0-based) among all respondents, or
        those counted in `segment` (an index, None: "No segment"); hidden when fewer than the
        minimum answered about it."""
        said = [
            p.services[number]
            for p in self.respondents
            if (segment == "all" or p.launched_in == segment)
            and number < len(p.services)
            and p.services[number] is not None
        ]
        if len(said) < self.minimum:
            return ServiceFigures(hidden=True)
        users = [s for s in said if s.usage == ServiceUsage.USES]
        satisfaction = [score(s.satisfaction) for s in users if s.satisfaction is not None]
        importance = [score(s.importance) for s in users if s.importance is not None]
        return ServiceFigures(
            hidden=False,
            answered=len(said),
            aware=sum(s.usage != ServiceUsage.UNAWARE for s in said),
            users=len(users),
            satisfaction=mean(satisfaction),
            satisfaction_n=len(satisfaction),
            importance=mean(importance),
            importance_n=len(importance),
        )

    def services_ranked(self) -> list[tuple[int, "ServiceFigures"]]:
        """The services with a priority, highest first, then by name ("Service 1" …): the
        services to work on."""
        placed = [(n, self.service(n)) for n in range(len(self.scenario.services))]
        placed = [(n, f) for n, f in placed if f.priority is not None]
        return sorted(placed, key=lambda pair: (-pair[1].priority, f"service {pair[0] + 1}"))

    def service_suggestions(self) -> set[str]:
        """The kinds of suggestion each service's figures call for, as "<number>:<kind>"
        (docs/services.md, "Suggestions"): awareness under 50% → publicise; satisfaction
        under 50 → improve; awareness 50% or more and usage under 25% → rethink; importance
        75 or more, unless publicise or improve is called for → raise (every level is Basic
        here)."""
        kinds = set()
        for n in range(len(self.scenario.services)):
            f = self.service(n)
            if f.hidden or not f.answered:
                continue
            if f.awareness < 50:
                kinds.add(f"{n}:publicise")
            if f.satisfaction is not None and f.satisfaction < 50:
                kinds.add(f"{n}:improve")
            if f.awareness >= 50 and f.usage < 25:
                kinds.add(f"{n}:rethink")
            disappoints = f.satisfaction is not None and f.satisfaction < 50
            if f.importance is not None and f.importance >= 75 and f.awareness >= 50 and not disappoints:
                kinds.add(f"{n}:raise")
        return kinds

    def csv_segments(self) -> Counter:
        """The segment cell of each response in the CSV export: blank for none, and for a
        group under the minimum in an anonymous survey."""
        cells = Counter()
        for index, n in Counter(p.launched_in for p in self.respondents).items():
            shown = index is not None and (not self.scenario.anonymous or n >= self.minimum)
            cells[self.name(index) if shown else ""] += n
        return cells


# Rounding for display (docs/figures.md, "Rounding") -------------------------------------------


def rounded(value: Fraction, places: int) -> set[Fraction]:
    """The value rounded to `places` decimals; both neighbours at an exact tie.

    Ties are pinned by tests of their own in tests/test_figures_agree.py: floating point
    can land a computed tie on either side, and the outputs do not all break ties alike.
    """
    scaled = Fraction(value) * 10**places
    low = math.floor(scaled)
    rest = scaled - low
    whole = {low} if rest < Fraction(1, 2) else {low + 1} if rest > Fraction(1, 2) else {low, low + 1}
    return {Fraction(n, 10**places) for n in whole}


def _text(value: Fraction, places: int) -> str:
    return f"{float(value):.{places}f}" if value else f"{0:.{places}f}"


def displays(value, places: int, *, empty: str = "—", suffix: str = "") -> set[str]:
    """The texts a page may show for `value` rounded to `places` decimals; `empty` for none."""
    if value is None:
        return {empty}
    return {_text(v, places) + suffix for v in rounded(value, places)}


def signed_displays(value, *, empty: str = "—") -> set[str]:
    """As a gap or change is shown (the `change` filter): one decimal, "+" or "−"."""
    if value is None:
        return {empty}
    texts = set()
    for v in rounded(value, 1):
        text = _text(abs(v), 1)
        texts.add(f"+{text}" if v > 0 else f"−{text}" if v < 0 else text)
    return texts


def close(actual, expected, tolerance=1e-9) -> bool:
    """An unrounded output equals the exact figure (both none, or within the tolerance)."""
    if expected is None or actual is None:
        return actual is None and expected is None
    return abs(float(actual) - float(expected)) <= tolerance


# Reading pages -------------------------------------------------------------------------------


@dataclass
class Shown:
    name: str  # the data-figure
    context: dict  # the other data-* attributes of the element and its ancestors, nearest first
    text: str


class _FigureReader(HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict, list | None]] = []
        self.found: list[tuple[str, dict, list]] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attrs = dict(attrs)
        parts = None
        if "data-figure" in attrs:
            context = {}
            for _tag, outer, _parts in self.stack:
                context.update(outer)
            context.update(attrs)
            data = {
                k.removeprefix("data-"): v for k, v in context.items() if k.startswith("data-") and k != "data-figure"
            }
            parts = []
            self.found.append((attrs["data-figure"], data, parts))
        self.stack.append((tag, attrs, parts))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        for _tag, _attrs, parts in self.stack:
            if parts is not None:
                parts.append(data)


def read_figures(page: str) -> list[Shown]:
    """Every element of the page with a data-figure attribute, with its text."""
    reader = _FigureReader()
    reader.feed(page)
    reader.close()
    return [Shown(name, context, " ".join("".join(parts).split())) for name, context, parts in reader.found]


def texts(found: list[Shown], name: str, **context) -> list[str]:
    """The texts of the figures named `name` whose context has the given values, in page order."""
    return [s.text for s in found if s.name == name and all(s.context.get(k) == v for k, v in context.items())]


def text(found: list[Shown], name: str, **context) -> str:
    (only,) = texts(found, name, **context)
    return only
