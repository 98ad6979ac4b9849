"""The follow-up cases' pages. The contract's placeholders: branch i14-caseui builds them."""

from django.http import Http404


def case_list(request, slug):
    raise Http404


def case_detail(request, slug, case_id):
    raise Http404
