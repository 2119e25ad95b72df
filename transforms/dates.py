"""Date expressions in news text -> a calendar date with precision, resolved against the publication date.

The input is typically the text of a spaCy DATE entity ("Sept. 21", "last month", "two years ago", "New Year's Eve").
Own rules come first (exact-phrase tables and precompiled regexes, microseconds per call); dateparser is only a
fallback for day-month(-year) orderings the rules do not know ("19-Dec-2022", "2022 Dec 19"). Ages ("70-year-old")
and durations ("more than 10 months", "the last two years") are not points in time and resolve to None.

Conventions: a date without a year ("Sept. 21", "in November", "on Tuesday", "Christmas") is the occurrence
nearest the reference date, moved by the tense of the verb it attaches to (the caller reads the parse and passes
``tense``): "past" takes the latest one not after the reference + 1 day (articles are dated in UTC, the text in
local time), so "Sept. 21" read on 2023-01-04 in "ordered on Sept. 21" is 2022-09-21; "future" takes the first
one not before the reference - 1 day ("will meet on 10 November" read on 2025-11-03 is 2025-11-10). A range
("2009-2010", "between March and May", "Jan. 3-5") gives its start; recurring dates ("every July") are no
point in time and resolve to None, like ages and durations.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Literal

import dateparser
from dateline.transforms.schema import DateBasis, DatePrecision

__all__ = ["ResolvedDate", "Tense", "is_age_or_duration", "range_parts", "resolve_date"]

Tense = Literal["past", "future"]  # of the verb a date attaches to; None: no clear tense (present, none)


@dataclass(frozen=True, slots=True)
class ResolvedDate:
    """One resolved date expression: 'last month' on 2023-01-04 -> 2022-12-01, 'month', 'relative'."""

    on: date  # month precision: the 1st of the month; year precision: January 1
    precision: DatePrecision
    basis: DateBasis  # "explicit": the text names the date; "relative": computed from the reference
    text: str  # the expression as given, whitespace-collapsed


# --- tables ---------------------------------------------------------------------------------------------------------

_MAX_LEN = 100  # longer inputs are sentences, not date expressions
_ONE_DAY = timedelta(days=1)
_MIN_YEAR = 1000  # an explicit four-digit year below this is not a year
_MAX_YEARS_AHEAD = 100  # explicit years up to reference.year + this

_MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    # German names that differ from the English ones
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "mai": 5, "juni": 6, "juli": 7, "oktober": 10,
    "okt": 10, "dezember": 12, "dez": 12,
}
_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # index = month; February in a leap year

# full names stand alone ("on Tuesday"); abbreviations only lead a date ("Tue, Jan. 3")
_WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5, "sonnabend": 5,
    "sonntag": 6,
}
_WEEKDAY_ABBREVIATIONS: dict[str, int] = {
    "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5, "sun": 6,
}

_NUMBER_WORDS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

# exact phrases -> offset in days from the reference
_DAY_OFFSETS: dict[str, int] = {
    "today": 0, "tonight": 0, "this morning": 0, "this afternoon": 0, "this evening": 0, "yesterday": -1,
    "last night": -1, "tomorrow": 1, "day before yesterday": -2, "day after tomorrow": 2,
    "heute": 0, "gestern": -1, "vorgestern": -2, "übermorgen": 2,
}
# exact phrases -> (precision, offset in months or years from the reference)
_PERIOD_OFFSETS: dict[str, tuple[DatePrecision, int]] = {
    "this month": ("month", 0), "last month": ("month", -1), "next month": ("month", 1),
    "this year": ("year", 0), "last year": ("year", -1), "next year": ("year", 1),
}
_YEAR_OFFSETS: dict[str, int] = {"this": 0, "last": -1, "next": 1}
# "last Tuesday", "next Christmas", "this December" (None: no qualifier)
_MODES: dict[str, str] = {"last": "last", "past": "last", "this past": "last", "next": "next", "coming": "next",
                          "this coming": "next", "this": "this"}


def _fixed(month: int, day: int, year: int) -> date:
    """(12, 31, 2022) -> date(2022, 12, 31)."""
    return date(year, month, day)


def _easter(year: int) -> date:
    """2023 -> date(2023, 4, 9) (Gregorian Easter Sunday, anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_shift) // 451
    month, day = divmod(h + weekday_shift - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _from_easter(days: int, year: int) -> date:
    """(-2, 2023) -> date(2023, 4, 7) (Good Friday)."""
    return _easter(year) + timedelta(days=days)


def _nth_weekday(month: int, weekday: int, n: int, year: int) -> date:
    """(11, 3, 4, 2022) -> date(2022, 11, 24) (fourth Thursday of November); n=-1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - _ONE_DAY
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _day_after_thanksgiving(year: int) -> date:
    """2022 -> date(2022, 11, 25) (Black Friday)."""
    return _nth_weekday(11, 3, 4, year) + _ONE_DAY


# holiday name (lowercase, without apostrophes and dots) -> its date in a given year
_HOLIDAYS: dict[str, Callable[[int], date]] = {
    **{name: partial(_fixed, month, day) for names, month, day in (
        (("new years eve", "new year eve", "silvester", "sylvester", "silvesterabend", "hogmanay"), 12, 31),
        (("new years day", "new years", "new year day", "neujahr", "neujahrstag"), 1, 1),
        (("christmas eve", "xmas eve", "heiligabend", "heiliger abend"), 12, 24),
        (("christmas", "christmas day", "xmas", "xmas day", "weihnachten", "christmastime"), 12, 25),
        (("boxing day", "st stephens day", "saint stephens day"), 12, 26),
        (("halloween",), 10, 31),
        (("valentines day", "valentine day", "st valentines day", "saint valentines day", "valentinstag"), 2, 14),
        (("independence day", "fourth of july", "the fourth of july"), 7, 4),
        (("st patricks day", "saint patricks day"), 3, 17),
        (("epiphany",), 1, 6),
        (("may day",), 5, 1),
        (("juneteenth",), 6, 19),
        (("bastille day",), 7, 14),
        (("tag der deutschen einheit",), 10, 3),
        (("all saints day",), 11, 1),
        (("all souls day",), 11, 2),
        (("guy fawkes night", "guy fawkes day", "bonfire night"), 11, 5),
        (("veterans day", "remembrance day", "armistice day"), 11, 11),
        (("anzac day",), 4, 25),
        (("australia day",), 1, 26),
        (("canada day",), 7, 1),
    ) for name in names},
    **{name: partial(_from_easter, days) for names, days in (
        (("easter", "easter sunday", "easter day", "ostern", "ostersonntag"), 0),
        (("easter monday", "ostermontag"), 1),
        (("good friday", "karfreitag"), -2),
        (("holy saturday",), -1),
        (("maundy thursday", "holy thursday", "gründonnerstag"), -3),
        (("palm sunday",), -7),
        (("ash wednesday", "aschermittwoch"), -46),
        (("shrove tuesday", "mardi gras"), -47),
        (("ascension day", "christi himmelfahrt"), 39),
        (("pentecost", "pentecost sunday", "whitsun", "whit sunday", "pfingsten", "pfingstsonntag"), 49),
        (("whit monday", "pentecost monday", "pfingstmontag"), 50),
    ) for name in names},
    **{name: partial(_nth_weekday, month, weekday, n) for names, month, weekday, n in (  # United States
        (("thanksgiving", "thanksgiving day"), 11, 3, 4),
        (("memorial day",), 5, 0, -1),
        (("labor day",), 9, 0, 1),
        (("martin luther king jr day", "martin luther king day", "mlk day"), 1, 0, 3),
        (("presidents day",), 2, 0, 3),
    ) for name in names},
    "black friday": _day_after_thanksgiving,
}

# --- regexes --------------------------------------------------------------------------------------------------------


def _alternation(words: Iterable[str]) -> str:
    """{'sept': 9, 'sep': 9} -> 'sept|sep' (longest first, escaped)."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_MONTH = rf"(?P<month>{_alternation(_MONTHS)})\.?"
_DAY = r"(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?\.?"
_NUMBER = rf"(?:[0-9]+(?:[.,][0-9]+)?|{_alternation(_NUMBER_WORDS)})"
_VAGUE_NUMBER = (r"(?:a\s+few|few|several|many|a\s+couple(?:\s+of)?|couple(?:\s+of)?|a\s+dozen|dozens(?:\s+of)?|"
                 r"hundreds(?:\s+of)?|thousands(?:\s+of)?|a\s+number\s+of|half\s+a|a\s+half)")

_AGE = re.compile(r"\b(?:years?|yrs?|months?|weeks?|days?)\s*-?\s*olds?\b|\baged\s+[0-9]|\byears?\s+of\s+age\b")
_AGE_AFTER = re.compile(r"^[\s-]*(?:(?:years?|yrs?|months?|weeks?|days?)[\s-]*)?olds?\b|^\s+of\s+age\b")
_AGE_BEFORE = re.compile(r"\b(?:aged|ages?|age\s+of)\s*$")
_DURATION = re.compile(
    r"^(?P<pre>(?:for|over|within|during|throughout|in|across|spanning|lasting)\s+)?"
    r"(?P<the>the\s+)?"
    r"(?P<qual>(?:past|last|next|previous|coming|first|following|final|recent|preceding|ensuing|subsequent|latest|"
    r"remaining)\s+)?"
    r"(?P<approx>(?:(?:more|less|fewer)\s+than|over|under|nearly|almost|about|around|roughly|approximately|some|"
    r"at\s+least|at\s+most|up\s+to|just|only|barely|close\s+to|upwards\s+of|another|an\s+additional|a\s+further|"
    r"the\s+better\s+part\s+of)\s+)?"
    rf"(?P<num>(?:{_NUMBER}|{_VAGUE_NUMBER})(?:\s+and\s+a\s+half)?(?:[\s-]+(?:or|to)[\s-]+{_NUMBER})?[\s-]+)?"
    r"(?P<unit>hours?|days?|nights?|weeks?|weekends?|fortnights?|months?|years?|yrs?|decades?|centur(?:y|ies)|"
    r"millenni(?:um|a)|quarters?|seasons?)"
    r"(?:[\s-]+(?:long|straight|running|in\s+a\s+row|or\s+so|or\s+more|or\s+longer|now|since))?$")
# words that can lead a duration in the sentence before the text: "over the" + "last year"
_DURATION_LEAD = re.compile(
    r"(?:\b(?:for|over|within|during|throughout|in|across|spanning|the|past|last|recent|coming|more|less|fewer|than|"
    r"nearly|almost|about|around|roughly|approximately|some|at|least|up|to|just|only|barely|close)\s+)+$")

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "–": "-", "—": "-", "‑": "-"})
_OUTER_PUNCTUATION = " .,;:!?\"'()[]{}"
_PREFIX = re.compile(
    r"^(?:(?:on|in|at|the|early|late|mid|earlier|later|since|until|till|by|from|during|as\s+of|around|about|circa|"
    r"ca\.|c\.|approximately|roughly|sometime|some\s+time|(?:the\s+)?(?:end|beginning|start|middle|close)\s+of)"
    r"(?:[\s-]+|$))+")
_SUFFIX = re.compile(
    r"(?:'s|')$"
    r"|[\s,]+(?:in\s+the\s+|at\s+)?(?:morning|afternoon|evening|night|overnight|noon|midday|midnight|local\s+time)$"
    r"|[\s,]+(?:at\s+)?(?:about\s+|around\s+|approximately\s+)?"
    r"(?:[0-9]{1,2}(?:[:.][0-9]{2})?\s*(?:a\.?m\.?|p\.?m\.?)|[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:\s*(?:a\.?m\.?|p\.?m\.?|h|uhr))?)"
    r"(?:\s+(?:[a-z]{2,4}|local\s+time))?$")

_AGO = re.compile(
    r"^(?:(?:(?:more|less)\s+than|over|under|nearly|almost|about|around|roughly|approximately|some|at\s+least|just|"
    r"only|barely|close\s+to)\s+)?"
    rf"(?P<num>[0-9]{{1,4}}|{_alternation(_NUMBER_WORDS)})[\s-]+"
    r"(?P<unit>days?|weeks?|months?|years?|decades?)\s+ago$")
_ISO = re.compile(r"^(?P<year>[0-9]{4})(?P<sep>[-/.])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})$")
_NUMERIC = re.compile(r"^(?P<a>[0-9]{1,2})(?P<sep>[-/.])(?P<b>[0-9]{1,2})(?P=sep)(?P<year>[0-9]{4})$")
# a range: "2009-2010", "2022/23", "between march and may", "from 2009 to 2011", "jan. 3-5", "march to may 2010"
_RANGE = re.compile(r"^(?:from\s+|between\s+)?(?P<a>.+?)(?:\s*(?:-|/)\s*|\s+(?:to|and|through|thru|until|till)\s+)"
                    r"(?P<b>.+)$")
_RANGE_END = re.compile(r"^(?:[0-9]{1,4}|.*[0-9]{4}|" + _alternation(_MONTHS) + r")\b")
_TRAILING_YEAR = re.compile(r"[\s,]+(?P<year>[0-9]{4})$")
_APPOSITION = re.compile(r"^(?P<head>[^,]+),\s+(?![0-9]{4}\b)[a-z]")  # a date, then a comment on it
_RECURRING = re.compile(r"^(?:every|each)\b")
_RECURRING_BEFORE = re.compile(r"\b(?:every|each)\s+$")
_FISCAL = re.compile(r"^(?:(?:the\s+)?(?:fiscal|financial)(?:\s+year)?|fy)\s*'?(?P<year>[0-9]{4}|[0-9]{2})$")
# "the quarter ended sept. 30", "the three months ending march 31": the period's end date
_PERIOD_ENDED = re.compile(
    r"^(?:the\s+)?(?:[a-z0-9-]+\s+){0,3}(?:quarter|half|year|period|months|weeks)\s+(?:that\s+)?"
    r"(?P<verb>ended|ending|ends|to|through)\s+(?P<rest>.+)$")
_YEAR_SUFFIX = re.compile(r"^(?:(?P<head>.*?)[\s,]+(?:of\s+|in\s+)?)?(?P<year>[0-9]{4})$")
_RELATIVE_YEAR_SUFFIX = re.compile(r"^(?P<head>.+?)[\s,]+(?:of\s+)?(?P<rel>last|this|next)\s+year$")
_MODE = re.compile(rf"^(?:(?P<mode>{_alternation(_MODES)})\s+)?(?P<rest>.+)$")
_LEADING_WEEKDAY = re.compile(
    rf"^(?:{_alternation(_WEEKDAYS)}|{_alternation(_WEEKDAY_ABBREVIATIONS)})\.?,?\s+(?=.*[0-9])")
_MONTH_DAY = re.compile(rf"^{_MONTH}(?:\s*|\s+the\s+){_DAY}$")
_DAY_MONTH = re.compile(rf"^(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}$")
_MONTH_ONLY = re.compile(rf"^{_MONTH}$")

# dateparser fallback: only day-month(-year) texts made of these words, numbers and clock times
_CLOCK = re.compile(r"\b[0-9]{1,2}(?::[0-9]{2}){1,2}\b|\b[0-9]{1,2}\s*(?:a\.?m\b\.?|p\.?m\b\.?)")
_LETTERS = re.compile(r"[^\W\d_]+")
_DIGITS = re.compile(r"[0-9]+")
_FALLBACK_WORDS = frozenset(
    {*_MONTHS, *_WEEKDAYS, *_WEEKDAY_ABBREVIATIONS, "of", "the", "at", "on", "st", "nd", "rd", "th", "a", "m", "p",
     "am", "pm", "utc", "gmt", "et", "est", "edt", "ct", "cst", "cdt", "pt", "pst", "pdt", "cet", "cest", "bst"})
_DATEPARSER_SETTINGS: dict[str, Any] = {"PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False}
_NEAREST_WEEKDAY_BACK = 3  # no clear tense: a weekday up to this many days back is the past one, else the next


# --- helpers --------------------------------------------------------------------------------------------------------


def _normalize(text: str) -> str:
    """'  On Sept. 21, ' -> 'on sept. 21' (NFKC, lowercase, straight apostrophes, ASCII dashes, outer punctuation)."""
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower().strip(_OUTER_PUNCTUATION)


def _is_duration(s: str) -> bool:
    """'the last two years' -> True; 'last year' -> False; 'two months ago' -> False (s is normalized)."""
    m = _DURATION.match(s)
    if m is None:
        return False
    if m["num"] or m["approx"] or m["unit"].endswith(("s", "ia")):
        return True
    qual = (m["qual"] or "").strip()
    if m["pre"] and (m["the"] or qual):
        return True
    return qual in ("past", "recent", "latest") or (bool(m["the"]) and qual in ("last", "coming", "remaining"))


def _latest_day(month: int, day: int, limit: date) -> date | None:
    """(9, 21, date(2023, 1, 5)) -> date(2022, 9, 21): the latest such day not after limit; None if never valid."""
    if not (1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month]):
        return None
    for year in range(limit.year, max(limit.year - 8, 0), -1):  # February 29 needs up to 8 years
        if day <= 28 or month != 2 or year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
            candidate = date(year, month, day)
            if candidate <= limit:
                return candidate
    return None


def _by_tense(candidates: Iterable[date], reference: date, tense: Tense | None) -> date | None:
    """The candidate the tense picks: past -> the latest not after ref + 1 day; future -> the first not before
    ref - 1 day; None -> the nearest (the earlier one on a tie)."""
    if tense == "past":
        return max((d for d in candidates if d <= reference + _ONE_DAY), default=None)
    if tense == "future":
        return min((d for d in candidates if d >= reference - _ONE_DAY), default=None)
    return min(candidates, key=lambda d: (abs((d - reference).days), d > reference), default=None)


def _day_by_tense(month: int, day: int, reference: date, tense: Tense | None) -> date | None:
    """(11, 10, date(2025, 11, 3), 'future') -> date(2025, 11, 10); None if no year has that day."""
    if not (1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month]):
        return None
    if tense == "past":
        return _latest_day(month, day, reference + _ONE_DAY)
    years = range(reference.year - 8, reference.year + 9)  # February 29 needs up to 8 years
    return _by_tense([date(y, month, day) for y in years if 1 <= y <= 9999 and (
        day <= 28 or month != 2 or y % 4 == 0 and (y % 100 != 0 or y % 400 == 0))], reference, tense)


def _pick(make: Callable[[int], date], reference: date, mode: str | None, tense: Tense | None = "past"
          ) -> date | None:
    """(Christmas, 2023-01-04, None) -> 2022-12-25 (by tense with no mode; 'last' < ref; 'next' > ref)."""
    if mode == "this":
        return make(reference.year)
    candidates = [make(y) for y in range(reference.year + 1, reference.year - 2, -1) if 1 <= y <= 9999]
    if mode == "next":
        return min((d for d in candidates if d > reference), default=None)
    if mode == "last":
        return max((d for d in candidates if d < reference), default=None)
    return _by_tense(candidates, reference, tense)


def _month_start(reference: date, months: int) -> date:
    """(date(2023, 1, 4), -2) -> date(2022, 11, 1)."""
    year, month0 = divmod(reference.year * 12 + reference.month - 1 + months, 12)
    return date(year, month0 + 1, 1)


def _month_day(s: str) -> tuple[int, int] | None:
    """'tue, jan. 3rd' -> (1, 3); '21. september' -> (9, 21); 'january' -> None."""
    s = _LEADING_WEEKDAY.sub("", s, count=1)
    m = _MONTH_DAY.match(s) or _DAY_MONTH.match(s)
    return (_MONTHS[m["month"]], int(m["day"])) if m else None


_Result = tuple[date, DatePrecision, DateBasis]
_INVALID: _Result = (date.min, "day", "explicit")  # a date-shaped text naming no real day: "Sept. 31"


def _with_year(head: str, year: int, basis: DateBasis, reference: date) -> _Result | None:
    """('dec. 19', 2022, 'explicit', ref) -> (date(2022, 12, 19), 'day', 'explicit'); ('', 1942, ...) -> year."""
    if basis == "explicit" and not _MIN_YEAR <= year <= reference.year + _MAX_YEARS_AHEAD:
        return None
    if head in ("", "year", "the year"):
        return date(year, 1, 1), "year", basis
    if m := _MONTH_ONLY.match(head):
        return date(year, _MONTHS[m["month"]], 1), "month", basis
    if md := _month_day(head):
        return date(year, md[0], md[1]), "day", basis
    if holiday := _HOLIDAYS.get(_holiday_key(head)):
        return holiday(year), "day", basis
    return None


def _holiday_key(s: str) -> str:
    """"new year's eve" -> 'new years eve'; 'st. patrick's day' -> 'st patricks day'."""
    return " ".join(s.replace("'", "").replace(".", " ").split())


def _without_year(s: str, reference: date, tense: Tense | None) -> _Result | None:
    """'last tuesday' -> the Tuesday before the reference; 'december' -> the latest December; 'sept. 21' -> day."""
    m = _MODE.match(s)
    if m is None:
        return None
    mode, rest = _MODES.get(m["mode"] or ""), m["rest"]
    if (weekday := _WEEKDAYS.get(rest)) is not None:
        delta = reference.weekday() - weekday
        if mode == "this":
            return reference - timedelta(days=delta), "day", "relative"
        if mode == "next":
            return reference + timedelta(days=-delta % 7 or 7), "day", "relative"
        days_back = delta % 7 or (7 if mode == "last" else 0)
        if mode is None and (tense == "future" or tense is None and days_back > _NEAREST_WEEKDAY_BACK):
            return reference + timedelta(days=-delta % 7), "day", "relative"
        return reference - timedelta(days=days_back), "day", "relative"
    if mm := _MONTH_ONLY.match(rest):
        month = _MONTHS[mm["month"]]
        if mode == "next":
            year = reference.year + (month <= reference.month)
        elif mode == "this":
            year = reference.year
        elif mode == "last":
            year = reference.year - (month >= reference.month)
        else:
            here = reference.year * 12 + reference.month
            months = [(y * 12 + month, y) for y in (reference.year - 1, reference.year, reference.year + 1)]
            if tense == "past":
                year = max(y for m, y in months if m <= here)
            elif tense == "future":
                year = min(y for m, y in months if m >= here)
            else:
                year = min(months, key=lambda my: (abs(my[0] - here), my[0] > here))[1]
        return date(year, month, 1), "month", "relative"
    if holiday := _HOLIDAYS.get(_holiday_key(rest)):
        on = _pick(holiday, reference, mode, tense)
        return (on, "day", "relative") if on else None
    if mode is None and (md := _month_day(s)):
        on = _day_by_tense(md[0], md[1], reference, tense)
        return (on, "day", "explicit") if on else _INVALID
    return None


def _rules(s: str, reference: date, tense: Tense | None = "past", ranges: bool = True) -> _Result | None:
    """'last month' -> (2022-12-01, 'month', 'relative'); None when no rule matches (s is normalized)."""
    if (offset := _DAY_OFFSETS.get(s)) is not None:
        return reference + timedelta(days=offset), "day", "relative"
    if period := _PERIOD_OFFSETS.get(s):
        precision, n = period
        if precision == "month":
            return _month_start(reference, n), "month", "relative"
        return date(reference.year + n, 1, 1), "year", "relative"
    if m := _AGO.match(s):
        n, unit = _NUMBER_WORDS.get(m["num"]) or int(m["num"]), m["unit"].rstrip("s")
        if unit == "day":
            return reference - timedelta(days=n), "day", "relative"
        if unit == "week":
            return reference - timedelta(weeks=n), "day", "relative"
        if unit == "month":
            return _month_start(reference, -n), "month", "relative"
        return date(reference.year - n * (10 if unit == "decade" else 1), 1, 1), "year", "relative"
    if m := _ISO.match(s):
        return date(int(m["year"]), int(m["month"]), int(m["day"])), "day", "explicit"
    if m := _NUMERIC.match(s):
        a, b = int(m["a"]), int(m["b"])
        if m["sep"] == "." or a > 12 >= b or a == b:  # 19.12.2022: dotted dates are day first
            day, month = a, b
        elif b > 12 >= a:  # 12/19/2022: only the US order is possible
            day, month = b, a
        else:  # 03/04/2022: March 4 or 3 April
            return _INVALID
        return date(int(m["year"]), month, day), "day", "explicit"
    if m := _FISCAL.match(s):
        year = int(m["year"]) if len(m["year"]) == 4 else (reference.year // 100) * 100 + int(m["year"])
        return _with_year("", year, "explicit", reference) or _INVALID
    if m := _PERIOD_ENDED.match(s):
        ended: Tense | None = "past" if m["verb"] == "ended" else tense
        return _rules(m["rest"], reference, ended)
    if ranges and (m := _RANGE.match(s)):
        return _range_start(m["a"].strip(" ,"), m["b"].strip(" ,"), reference, tense)
    if m := _YEAR_SUFFIX.match(s):
        return _with_year((m["head"] or "").strip(" ,"), int(m["year"]), "explicit", reference) or _INVALID
    if m := _RELATIVE_YEAR_SUFFIX.match(s):
        year = reference.year + _YEAR_OFFSETS[m["rel"]]
        return _with_year(m["head"].strip(" ,"), year, "relative", reference) or _INVALID
    return _without_year(s, reference, tense)


def _range_start(a: str, b: str, reference: date, tense: Tense | None) -> _Result | None:
    """('march', 'may 2010') -> (2010-03-01, 'month', 'explicit'): the start, with the end's year when it has none;
    None when the start is no date ('19', 'dec-2022': not a range)."""
    if (year := _TRAILING_YEAR.search(" " + b)) and not _TRAILING_YEAR.search(" " + a) and not a.isdigit():
        start = _rules(f"{a} {year['year']}", reference, tense, ranges=False)
        if start is not None and start is not _INVALID:
            return start
    if not _is_range(a, b):
        return None
    start = _rules(a, reference, tense, ranges=False)
    return None if start is None or start is _INVALID else start


def _is_range(a: str, b: str) -> bool:
    """('march', 'may 2010') -> True; ('19', 'dec-2022') -> False (a day first: one date); ('dec', '19') -> False."""
    if not _RANGE_END.match(b) or a.isdigit() and len(a) <= 2:
        return False
    return not (b.isdigit() and len(b) <= 2 and not a[-1:].isdigit())


def range_parts(text: str) -> list[tuple[int, int]]:
    """The character spans of a range's two ends in text ('between 2014 and 2016' -> [(8, 12), (17, 21)]);
    [] when text is not a range."""
    m = _RANGE.match(" ".join(text.split()).lower())
    if m is None or text != " ".join(text.split()) or not _is_range(m["a"].strip(" ,"), m["b"].strip(" ,")):
        return []
    if _ISO.match(text.lower()) or _NUMERIC.match(text.lower()):
        return []
    a_end = m.start("a") + len(m["a"].rstrip(" ,"))
    return [(m.start("a"), a_end), (m.start("b"), m.end("b"))]


def _fallback(s: str, reference: date, tense: Tense | None) -> _Result | None:
    """'19-dec-2022' -> (date(2022, 12, 19), 'day', 'explicit') via dateparser; only month-name day(-year) texts."""
    bare = _CLOCK.sub(" ", s)
    words = _LETTERS.findall(bare)
    months = [_MONTHS[w] for w in words if w in _MONTHS]
    if len(months) != 1 or not all(w in _FALLBACK_WORDS for w in words):
        return None
    numbers = _DIGITS.findall(bare)
    years = [int(n) for n in numbers if len(n) == 4]
    days = [int(n) for n in numbers if len(n) <= 2]
    if len(days) != 1 or len(years) > 1 or len(days) + len(years) != len(numbers):
        return None
    settings = {**_DATEPARSER_SETTINGS, "RELATIVE_BASE": datetime(reference.year, reference.month, reference.day),
                "REQUIRE_PARTS": ["day", "month", "year"] if years else ["day", "month"]}
    try:
        parsed = dateparser.parse(s, languages=["en"], settings=settings)
    except Exception:  # a third-party parser: any failure means "not understood"
        return None
    if not isinstance(parsed, datetime) or (parsed.month, parsed.day) != (months[0], days[0]):
        return None
    if years:
        if parsed.year != years[0] or not _MIN_YEAR <= years[0] <= reference.year + _MAX_YEARS_AHEAD:
            return None
        return parsed.date(), "day", "explicit"
    on = _day_by_tense(months[0], days[0], reference, tense)
    return (on, "day", "explicit") if on else None


# --- API ------------------------------------------------------------------------------------------------------------


def is_age_or_duration(text: str, context: str = "") -> bool:
    """'70-year-old' -> True; 'more than 10 months' -> True; '70' in 'a 70-year-old man' -> True; 'May' -> False."""
    s = _normalize(" ".join(text.split()))
    if not s:
        return False
    if _AGE.search(s) or _is_duration(s):
        return True
    if not context:
        return False
    sentence = _normalize(" ".join(context.split()))
    start = sentence.find(s)
    for _ in range(3):  # the first few occurrences of the text in the sentence
        if start < 0:
            return False
        before, after = sentence[max(start - 80, 0):start], sentence[start + len(s):start + len(s) + 30]
        if _AGE_AFTER.match(after) or _AGE_BEFORE.search(before):
            return True
        lead = _DURATION_LEAD.search(before)
        if lead and _is_duration(lead.group(0) + s):
            return True
        start = sentence.find(s, start + 1)
    return False


def is_recurring(text: str, context: str = "") -> bool:
    """'every July' -> True; 'July' in 'held each July' -> True; 'July' -> False."""
    s = _normalize(" ".join(text.split()))
    if _RECURRING.match(s):
        return True
    if not context or not s:
        return False
    sentence = _normalize(" ".join(context.split()))
    start = sentence.find(s)
    return start > 0 and bool(_RECURRING_BEFORE.search(sentence[max(start - 10, 0):start]))


def resolve_date(text: str, reference: date, *, context: str = "", tense: Tense | None = "past"
                 ) -> ResolvedDate | None:
    """'last month' with reference 2023-01-04 -> ResolvedDate(date(2022, 12, 1), 'month', 'relative', 'last month').

    ``tense`` is that of the verb the expression attaches to; it picks the year of a date that has none (see
    the module's docstring). ``context`` is the sentence, to tell ages, durations and recurrences."""
    collapsed = " ".join(text.split())
    if not collapsed or len(collapsed) > _MAX_LEN or is_age_or_duration(collapsed, context):
        return None
    if is_recurring(collapsed, context):
        return None
    s = _PREFIX.sub("", _normalize(collapsed)).strip(_OUTER_PUNCTUATION)
    try:
        result = _rules(s, reference, tense) if s else None
        for _ in range(3):  # "early Tuesday morning's" -> "tuesday"
            if result is not None or not (stripped := _SUFFIX.sub("", s, count=1)) or stripped == s:
                break
            s = _PREFIX.sub("", stripped.strip(_OUTER_PUNCTUATION))
            result = _rules(s, reference, tense)
        if result is None and s:
            result = _fallback(s, reference, tense)
        if result is None and (m := _APPOSITION.match(s)):  # "november 11, three days later than planned"
            result = _rules(m["head"], reference, tense)
    except (ValueError, OverflowError):  # a date-shaped text naming no real day ("31 February 2022"), or out of range
        return None
    if result is None or result is _INVALID:
        return None
    on, precision, basis = result
    return ResolvedDate(on, precision, basis, collapsed)
