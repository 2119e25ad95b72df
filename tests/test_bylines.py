"""Bylines (persons and agencies) and wire datelines."""

from __future__ import annotations

import pytest
from dateline.transforms.bylines import find_dateline, parse_byline, proper_case


@pytest.mark.parametrize(("values", "persons", "agencies"), [
    (["By STEVE PEOPLES, THOMAS BEAUMONT and AMELIA THOMSON-DEVEAUX"],
     ("Steve Peoples", "Thomas Beaumont", "Amelia Thomson-Deveaux"), ()),
    (["REUTERS"], (), ("Reuters",)),
    (["Jane Doe and John Roe, Reuters"], ("Jane Doe", "John Roe"), ("Reuters",)),
    (["von Anna Giulia Fink"], ("Anna Giulia Fink",), ()),
    (["Jane Doe, Senior Political Correspondent"], ("Jane Doe",), ()),
    (["Dr. Max Kolter"], ("Dr. Max Kolter",), ()),
    (["David Straub, MDR THÜRINGEN"], ("David Straub",), ()),
    (["Redaktion", "dpa"], (), ("dpa",)),
    (["jane.doe@example.com", "@janedoe", "Jane Doe"], ("Jane Doe",), ()),
    (["박준석 기자 외 1명"], ("박준석",), ()),
    (["J. K. Rowling & Jane Doe"], ("J. K. Rowling", "Jane Doe"), ()),
], ids=["caps-and", "agency-only", "agency-after", "von", "role", "honorific", "outlet", "desk", "handles",
        "korean", "ampersand"])
def test_parse_byline(values, persons, agencies):
    byline = parse_byline(values, site_name="MDR")
    assert (byline.persons, byline.agencies) == (persons, agencies)


def test_parse_byline_drops_the_site_itself():
    assert parse_byline(["The Jerusalem Post"], site_name="The Jerusalem Post").persons == ()


def test_parse_byline_deduplicates_case_insensitively():
    assert parse_byline(["JANE DOE", "Jane Doe"]).persons == ("Jane Doe",)


@pytest.mark.parametrize(("text", "expected"), [
    ("LA CROSSE, Wis. (AP) — After a summer", ("LA CROSSE, Wis.", "AP")),
    ("KYIV, Jan 4 (Reuters) - Ukraine said", ("KYIV", "Reuters")),
    ("Berlin (dpa) - Die Bundesregierung", ("Berlin", "dpa")),
    ("MEXICO CITY (AP) — The president", ("MEXICO CITY", "AP")),
    ("Paris (Le Monde) - not an agency", (None, None)),
    ("A little known group (Reuters) said", (None, None)),
    ("BEIRUT/THE HAGUE, March 7 (Reuters) - The watchdog", ("BEIRUT/THE HAGUE", "Reuters")),
    ("MILLBROOK, Ohio — The plant closed", ("MILLBROOK, Ohio", None)),
    ("Officials said - without giving details", (None, None)),
    ("A — B", (None, None)),
    ("PUTRAJAYA, Nov 22 — Private companies", ("PUTRAJAYA", None)),
], ids=["ap-state", "reuters-date", "dpa", "two-words", "not-agency", "not-opening", "slash", "no-agency",
        "sentence", "too-short", "date-no-agency"])
def test_find_dateline(text, expected):
    assert find_dateline(text) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("STEVE PEOPLES", "Steve Peoples"), ("JEAN-PIERRE O'NEIL", "Jean-Pierre O'Neil"), ("MARIA VAN DER BERG",
     "Maria van der Berg"), ("Charles Rex Arbogast", "Charles Rex Arbogast"), ("MCDONALD", "McDonald"),
])
def test_proper_case(name, expected):
    assert proper_case(name) == expected


@pytest.mark.parametrize(("values", "site", "orgs"), [
    (["By Jane Doe and JOHN ROE, Reuters"], None, ("Reuters",)),
    (["ORF.at"], "ORF", ("ORF.at",)),  # the outlet itself: no person, but an organisation byline
    (["BR24 Redaktion"], "BR", ("BR24 Redaktion",)),
    (["MND Staff"], "Mexico News Daily", ("MND Staff",)),
    (["Redaktion"], None, ()),  # a generic word alone names no organisation
    (["Jane Doe"], None, ()),
])
def test_parse_byline_keeps_organisations_apart(values, site, orgs):
    assert parse_byline(values, site_name=site).orgs == orgs


def test_share_buttons_in_a_byline_are_no_name():
    from lxml.html import fromstring

    page = fromstring('<html><body><div class="byline">By <a href="/a/jane">Jane Doe</a>'
                      '<span class="author"><a href="https://twitter.com/share">Twitter</a> '
                      '<a href="https://facebook.com/share">Facebook</a></span></div></body></html>')
    from dateline.transforms.bylines import dom_bylines

    assert parse_byline(dom_bylines(page)).persons == ("Jane Doe",)
    only_buttons = fromstring('<html><body><span class="author"><a href="https://twitter.com/s">Twitter</a> '
                              '<a href="https://facebook.com/s">Facebook</a></span></body></html>')
    assert parse_byline(dom_bylines(only_buttons)).persons == ()
