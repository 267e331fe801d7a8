"""On a phone the browse filters would fill the first screen: they fold behind "Filters" (a plain
<details>, no script needed), which says how many filters are in use."""
import re


def _summary(html):
    details = re.search(r'<details class="filters"[^>]*>\s*<summary>([^<]*)</summary>', html)
    assert details, "the filters are not folded in a <details>"
    return details.group(0), details.group(1)


def test_filters_fold_and_count(client):
    tag, text = _summary(client.get("/browse").get_data(as_text=True))
    assert text == "Filters" and " open" not in tag
    _, text = _summary(client.get("/browse?category=rides&q=clinic&sort=newest").get_data(as_text=True))
    assert text == "Filters (3 active)"
    # urgency counts for requests only; a distance without a place to measure from counts for nothing
    _, text = _summary(client.get("/browse?kind=offer&urgency=2&within=10").get_data(as_text=True))
    assert text == "Filters"
    _, text = _summary(client.get("/browse?kind=need&urgency=2&near=54016&within=10").get_data(as_text=True))
    assert text == "Filters (3 active)"


def test_filters_open_when_one_is_wrong(client):
    html = client.get("/browse?near=00000").get_data(as_text=True)
    tag, _ = _summary(html)
    assert tag.startswith('<details class="filters" data-wide-open open>')
