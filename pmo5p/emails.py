"""One helper for every e-mail: three templates per message, under templates/emails/.

emails/<name>-subject.txt, emails/<name>-body.txt and emails/<name>-body.html.
The product's e-mails go through the outbox (pmo5p/outbox.py), which renders them with
render() and sends them with build_message(); account e-mails (password reset, sign-up
confirmation) are sent at once with send(), as the person waits for them.
"""

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string


def _render_plain(template_name: str, context: dict) -> str:
    """The subject and the text part are not HTML: no escaping, or "R&D" would read "R&amp;D"."""
    return get_template(template_name).template.render(Context(context, autoescape=False))


def render(name: str, context: dict) -> tuple[str, str, str]:
    """The subject, text and HTML of e-mail `name`."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(_render_plain(f"emails/{name}-subject.txt", context).split())
    text = _render_plain(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    return subject, text, html


def build_message(to: list[str], subject: str, text: str, html: str = "", **kwargs) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(subject=subject, body=text, to=to, **kwargs)
    if html:
        message.attach_alternative(html, "text/html")
    return message


def send(name: str, to: list[str], context: dict, **kwargs) -> None:
    build_message(to, *render(name, context), **kwargs).send()


def is_permanent(error: Exception) -> bool:
    """The mail server refused this message for good (a 5xx reply): sending it again will not help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False
