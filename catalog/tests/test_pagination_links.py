"""{% pagination_links %} writes what templates/catalog/_pagination.html wrote, byte for byte."""
import itertools

from django.template import Context, Template
from django.test import RequestFactory

from catalog.pagination import KeysetPage
from catalog.templatetags.shop import pagination_links

OLD_TEMPLATE = """{% comment %}Keyset pages (catalog.pagination): First / Previous / Next / Last, no page numbers.{% endcomment %}
{% if page.has_other_pages %}
<nav class="pagination" aria-label="Pages">
  {% if not page.is_first %}<a href="{% querystring after=None before=None last=None %}">&laquo; First</a>
  {% if page.previous_cursor %}<a rel="prev" href="{% querystring before=page.previous_cursor after=None last=None %}">&larr; Previous</a>{% endif %}{% endif %}
  {% if not page.is_last %}{% if page.next_cursor %}<a rel="next" href="{% querystring after=page.next_cursor before=None last=None %}">Next &rarr;</a>{% endif %}
  <a href="{% querystring last=1 after=None before=None %}">Last &raquo;</a>{% endif %}
</nav>
{% endif %}
"""


def test_the_links_match_the_old_template_for_every_kind_of_page():
    old = Template(OLD_TEMPLATE)
    queries = ["", "sort=price", "q=w%26x%3C%22%27&size=M&size=S", "after=abc&sort=name", "before=x&last=1&in_stock=on"]
    cursors = [None, "eyJ4IjoxfQ", "a&b<c"]
    checked = 0
    for query, is_first, is_last, previous, following in itertools.product(
            queries, [True, False], [True, False], cursors, cursors):
        request = RequestFactory().get("/c/shelf/?" + query)
        page = KeysetPage(items=[], count=0, next_cursor=following, previous_cursor=previous,
                          is_first=is_first, is_last=is_last)
        context = Context({"page": page})
        context.request = request  # what {% querystring %} reads, as a RequestContext has it
        assert pagination_links(context, page) == old.render(context), (query, is_first, is_last, previous, following)
        checked += 1
    assert checked == 180
