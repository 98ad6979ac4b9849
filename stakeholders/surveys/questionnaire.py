"""The standard 5P perception questionnaire that every new survey starts from.

Per element: performance statements written for that P's aim (answered on a Likert
scale, or "Don't know") and one importance question; then the NPS question and an
open comment. The lead may edit the wording while the survey is a draft.
"""

from pmo5p.domain import Element

LIKERT_CHOICES = [
    (1, "Strongly disagree"),
    (2, "Disagree"),
    (3, "Neither agree nor disagree"),
    (4, "Agree"),
    (5, "Strongly agree"),
]
IMPORTANCE_CHOICES = [
    (1, "Not important"),
    (2, "Slightly important"),
    (3, "Important"),
    (4, "Very important"),
    (5, "Essential"),
]
SATISFACTION_CHOICES = [
    (1, "Very dissatisfied"),
    (2, "Dissatisfied"),
    (3, "Neither"),
    (4, "Satisfied"),
    (5, "Very satisfied"),
]
# The questions about each PMO service the survey asks about (docs/services.md).
SERVICE_USAGE_QUESTION = "Do you know this service, and do you use it?"
SERVICE_SATISFACTION_QUESTION = "How satisfied are you with it?"
SERVICE_IMPORTANCE_QUESTION = "How important is it to your work?"
NPS_QUESTION = "How likely are you to recommend the PMO to a colleague?"
COMMENT_QUESTION = "Is there anything else you would like to tell the PMO?"

PERFORMANCE_STATEMENTS = {
    Element.PRODUCT: [
        "The PMO's services meet the basic needs of my projects and my team.",
        "I know which services the PMO offers and how to ask for them.",
    ],
    Element.PHYSICAL_EVIDENCE: [
        "I can see the benefits that the PMO's work brings to the organisation.",
        "The PMO's reports and outputs help me make better decisions.",
    ],
    Element.PRICE: [
        "The value I get from the PMO is worth the time and effort its processes ask of me.",
        "The PMO's governance adds value rather than overhead.",
    ],
    Element.PEOPLE: [
        "The PMO's people have the skills and experience to help me.",
        "My dealings with the PMO's people give me confidence in the PMO.",
    ],
    Element.PROCESS: [
        "The PMO adapts its support to my needs and those of my projects.",
        "Working with the PMO is straightforward and responsive.",
    ],
}

IMPORTANCE_QUESTIONS = {
    Element.PRODUCT: "How important is it to you that the PMO's services meet your basic needs?",
    Element.PHYSICAL_EVIDENCE: "How important is it to you to see the benefits the PMO delivers?",
    Element.PRICE: "How important is it to you that working with the PMO is worth what it costs you?",
    Element.PEOPLE: "How important is it to you to have confidence in the PMO's people?",
    Element.PROCESS: "How important is it to you that the PMO personalises its service to you?",
}

DEFAULT_INTRO = (
    "We want to understand how you see the PMO and what matters most to you, so that we can "
    "serve you better. The survey has a few short sections and takes about five minutes. "
    "Your answers are kept as you go: you can close the page and come back to it with the same link."
)
