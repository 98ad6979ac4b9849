"""Every page ties each label to its own field, for browsers and screen readers alike.

A label points to its field by id (`<label for>`): two elements with one id send a click,
a screen reader's announcement and a test's `get_by_label` to the first of them. The profile
page had two fields with the id `id_name` (the profile's name and the API token's name), so
its "Token name" label filled in the profile's name. The walk of every page
(tests/page_walk.py) holds each page to unique ids and labels that point to a field.
"""

from tests.page_walk import walk
from tests.test_tenancy import invitation as tenancy_rows  # noqa: F401 - a fixture, once imported here


def test_every_page_has_unique_ids_and_labels_that_point_to_an_element(client, world, request):
    pages = [page for page in walk(client, world, request.getfixturevalue("tenancy_rows")) if page.html]
    assert len(pages) > 50
    duplicates = {page.name: sorted(i for i, n in page.ids.items() if n > 1) for page in pages}
    assert {name: ids for name, ids in duplicates.items() if ids} == {}, "Ids used twice on a page"
    dangling = {page.name: sorted(set(page.label_targets) - set(page.ids)) for page in pages}
    assert {name: ids for name, ids in dangling.items() if ids} == {}, "Labels for no element of the page"
