"""Small assertions shared by the tests of pages with forms."""

import html
import re
import threading
from collections.abc import Callable

from django.contrib.messages import get_messages
from django.db import connection, connections


def text(response) -> str:
    """The page's HTML with entities decoded, so that apostrophes and quotes compare plainly."""
    return html.unescape(response.content.decode())


def visible(response) -> str:
    """The page as a reader sees it: no tags, entities decoded, whitespace collapsed."""
    page = re.sub(r"</?(?:a|strong|em|b|i|span|code)\b[^>]*>", "", response.content.decode())
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def field_block(response, field: str) -> str:
    """The HTML crispy-forms renders for one field: its label, input and error messages."""
    page = response.content.decode()
    start = page.find(f'id="div_id_{field}"')
    assert start != -1, f"The page has no field {field!r}."
    ends = [i for i in (page.find('id="div_id_', start + 1), page.find("</form>", start)) if i != -1]
    return html.unescape(page[start : min(ends)])


def assert_field_error(response, field: str, message: str) -> None:
    """The form came back (not redirected) with `message` shown next to `field`."""
    assert response.status_code == 200, f"Expected the form again, got {response.status_code}."
    block = field_block(response, field)
    assert "invalid-feedback" in block, f"No error is shown next to {field!r}."
    flat = " ".join(block.split())
    assert message in flat, f"{message!r} is not next to {field!r}: {flat}"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def form_data(client, url: str, form_name: str = "form") -> dict:
    """What the browser would post back unchanged: every enabled field of the page's form."""
    form = client.get(url).context[form_name]
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        data[name] = "" if value is None else value
    return data


def analyze_answers() -> None:
    """On PostgreSQL, gather the statistics of the answers just bulk-created, as autovacuum
    would for rows this many, before the figures are kept (keep_figures). Without them the
    planner takes the tables for what it last saw, often empty, and has nested-looped the
    kept figures' aggregate for 20 to 46 minutes on 1,000,000 answers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE stakeholders_answer, stakeholders_response, stakeholders_question")


def at_once(count: int, work: Callable[[int], object], *, timeout: float = 60) -> list:
    """Run work(0) … work(count − 1) in `count` threads released together by a barrier, each
    on its own database connection, as racing requests or tasks would; returns what each
    returned, in no particular order. An error in any thread fails the caller's test."""
    barrier = threading.Barrier(count, timeout=timeout)
    lock = threading.Lock()
    results: list = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            result = work(n)
            with lock:
                results.append(result)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread below
            with lock:
                errors.append(error)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
    assert len(results) == count, f"{count - len(results)} of {count} threads did not finish in {timeout} s"
    return results
