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
], ids=["ap-state", "reuters-date", "dpa", "two-words", "not-agency", "not-opening"])
def test_find_dateline(text, expected):
    assert find_dateline(text) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("STEVE PEOPLES", "Steve Peoples"), ("JEAN-PIERRE O'NEIL", "Jean-Pierre O'Neil"), ("MARIA VAN DER BERG",
     "Maria van der Berg"), ("Charles Rex Arbogast", "Charles Rex Arbogast"), ("MCDONALD", "McDonald"),
])
def test_proper_case(name, expected):
    assert proper_case(name) == expected
