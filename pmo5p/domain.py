"""The vocabulary of the 5P's model for PMO marketing (the table at the top of README.md).

Fixed enumerations in code, not tables: every PMO works with the same five
elements, maturity stages and problems, and the wording comes from the model.
"""

from django.db import models


class Element(models.TextChoices):
    PRODUCT = "product", "Product"
    PHYSICAL_EVIDENCE = "physical_evidence", "Physical Evidence"
    PRICE = "price", "Price"
    PEOPLE = "people", "People"
    PROCESS = "process", "Process"

    @property
    def aim(self) -> str:
        return ELEMENT_AIMS[self]

    @property
    def explanation(self) -> str:
        return ELEMENT_EXPLANATIONS[self]


ELEMENT_AIMS = {
    Element.PRODUCT: "meeting basic needs",
    Element.PHYSICAL_EVIDENCE: "realising benefits",
    Element.PRICE: "increasing perceived value",
    Element.PEOPLE: "building confidence through experience",
    Element.PROCESS: "personalising the service",
}

# How each element reads for a PMO; the aims above are the model's own words.
ELEMENT_EXPLANATIONS = {
    Element.PRODUCT: (
        "The services the PMO offers: do they meet what project managers, sponsors and "
        "the business need from a PMO, day to day?"
    ),
    Element.PHYSICAL_EVIDENCE: (
        "What stakeholders can see of the PMO's work: the benefits realised, the reports, "
        "the outcomes they can point to."
    ),
    Element.PRICE: (
        "What working with the PMO costs stakeholders in time, effort and budget, set "
        "against the value they feel they receive."
    ),
    Element.PEOPLE: (
        "The PMO's people: whether every encounter with them builds stakeholders' "
        "confidence in the PMO's skills and judgement."
    ),
    Element.PROCESS: (
        "How the PMO delivers its services: whether it adapts them to each stakeholder "
        "instead of applying one process to all."
    ),
}


class MaturityStage(models.IntegerChoices):
    UNAWARE = 1, "Unaware"
    AWARE = 2, "Aware"
    UNDERSTANDING = 3, "Understanding"
    RESPECT = 4, "Respect"
    TRUST = 5, "Trust"


# The quadrant defaults of a relationship's target maturity and contact cadence (issue 13,
# docs/engagement.md): each PMO sets its own (Pmo.target_stage_*, Pmo.cadence_days_*).
MAX_CADENCE_DAYS = 730

# The power–interest grid's quadrants (stakeholders.selectors.Quadrant), by the value that
# names the PMO's default columns, with what each asks of the PMO: here, below the register,
# so that the PMO's engagement settings can explain them.
QUADRANT_LABELS = {
    "manage_closely": "Manage closely",
    "keep_satisfied": "Keep satisfied",
    "keep_informed": "Keep informed",
    "monitor": "Monitor",
}
QUADRANT_DESCRIPTIONS = {
    "manage_closely": "High influence, high interest: engage fully and often.",
    "keep_satisfied": "High influence, lower interest: meet their needs without overloading them.",
    "keep_informed": "High interest, lower influence: keep them in the loop; they are often allies.",
    "monitor": "Lower influence and interest: watch for changes, with light-touch communication.",
}

WEEKDAY_CHOICES = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class Problem(models.TextChoices):
    """The five problems that poor perception of the PMO leads to."""

    PERFORMANCE = "performance", "Poor PMO performance"
    RECRUITING = "recruiting", "Difficulty recruiting"
    INFORMATION = "information", "The wrong information"
    COST_AND_DELAY = "cost_and_delay", "Added costs and delays"
    MISSED_OPPORTUNITIES = "missed_opportunities", "Missed opportunities"

    @property
    def explanation(self) -> str:
        return PROBLEM_EXPLANATIONS[self]


PROBLEM_EXPLANATIONS = {
    Problem.PERFORMANCE: "delivering valuable input and achieving successful outcomes is harder and slower",
    Problem.RECRUITING: "it's harder to attract and retain the right skills and knowledge",
    Problem.INFORMATION: (
        "without a meaningful dialogue, it's harder for the PMO to understand and deliver "
        "what the business really needs"
    ),
    Problem.COST_AND_DELAY: (
        "the risk of duplication within the business or rework is much higher when co-workers "
        "don't interact effectively or don't respect the guidance and input provided"
    ),
    Problem.MISSED_OPPORTUNITIES: (
        "by not recognising the capabilities within the PMO, the organisation risks not "
        "realising the benefits of a strategic asset"
    ),
}


# The recommendation question's groups, on its 0–10 scale (docs/figures.md, "NPS"): the NPS
# figure counts them, and a detractor's answer is what raises a detractor alert.
DETRACTOR_MAX = 6
PROMOTER_MIN = 9


class OfferingLevel(models.IntegerChoices):
    """How far a PMO service is developed (issue 12, "the evolution of PMO service offerings").
    Each PMO words the levels its own way (Pmo.offering_levels); these are the defaults."""

    BASIC = 1, "Basic"
    STANDARD = 2, "Standard"
    ADVANCED = 3, "Advanced"
    STRATEGIC = 4, "Strategic"


DEFAULT_OFFERING_LEVEL_DESCRIPTIONS = {
    OfferingLevel.BASIC: "Delivered on request, the same way for everyone; it meets basic needs.",
    OfferingLevel.STANDARD: "Defined, repeatable and known across the organisation, with agreed outputs.",
    OfferingLevel.ADVANCED: "Adapted to each stakeholder group, measured, and improved from their feedback.",
    OfferingLevel.STRATEGIC: "Shapes the organisation's decisions; stakeholders see it as a strategic asset.",
}


class ServiceUsage(models.TextChoices):
    """What a respondent says of a PMO service before rating it: only its users rate it."""

    USES = "uses", "I use it"
    KNOWS = "knows", "I know it but don't use it"
    UNAWARE = "unaware", "I didn't know it"
