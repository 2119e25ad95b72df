"""The metric helpers of bench/quality.py (no extraction runs here)."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parent.parent / "bench" / "quality.py"
_spec = importlib.util.spec_from_file_location("bench_quality", _PATH)
assert _spec is not None and _spec.loader is not None
quality = importlib.util.module_from_spec(_spec)
sys.modules["bench_quality"] = quality  # dataclasses look their module up while the class is built
_spec.loader.exec_module(quality)

PredDate = quality.PredDate
CEST = timezone(timedelta(hours=2))


def time_pred(utc: str, offset: str | None = None) -> object:
    return PredDate(datetime.fromisoformat(utc).replace(tzinfo=UTC), quality.parse_offset(offset), "time")


def day_pred(day: str) -> object:
    return PredDate(datetime.fromisoformat(day).replace(tzinfo=UTC), None, "day")


# --- text normalization and fuzzy captions ------------------------------------------------------

def test_title_normalization_drops_soft_hyphens_and_extra_space() -> None:
    assert quality.norm_title("Kali\u00adfat-Rufe\u200b  in\nHamburg ") == "Kalifat-Rufe in Hamburg"
    assert quality.norm_title("Title") != quality.norm_title("title")  # case still counts


def test_caption_match_tolerates_punctuation_case_and_small_edits() -> None:
    truth = "Russian President Vladimir Putin attends a news conference in Minsk, Belarus December 19, 2022."
    assert quality.caption_matches(truth, "  russian president Vladimir Putin attends a news conference in "
                                          "Minsk, Belarus December 19, 2022 ")
    assert quality.caption_matches(truth, truth.replace("attends", "attended"))


def test_caption_match_rejects_different_or_much_longer_text() -> None:
    truth = "Der Ex-Rapper Brado hörte aus religiösen Gründen mit der Musik auf."
    assert not quality.caption_matches(truth, "Teilnehmer an der Demo in Hamburg.")
    assert not quality.caption_matches(truth, truth + " Jetzt wirbt er für radikale Islamisten im Netz.")
    assert not quality.caption_matches(truth, "")


def test_containment_counts_when_nearly_as_long() -> None:
    a = "a" * 95
    assert quality.fuzzy_match(a, a + "bbbbb")
    assert not quality.fuzzy_match(a, a + "b" * 30)


# --- credits ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "normalized"), [
    ("© picture alliance / dpa", "picture alliance/dpa"),
    ("Foto: Daniel Vogl", "daniel vogl"),
    ("(Photo: AP Photo/Charles Rex Arbogast)", "ap photo/charles rex arbogast"),
    ("Credit: REUTERS/STRINGER", "reuters/stringer"),
    ("Bild: ©  Imago", "imago"),
])
def test_credit_normalization(raw: str, normalized: str) -> None:
    assert quality.norm_credit(raw) == normalized


def test_credit_recall_by_substring_of_joined_predictions() -> None:
    predicted = ["Foto: picture alliance/dpa | Daniel Vogl", None, ""]
    assert quality.credit_recalled("picture alliance/dpa", predicted)
    assert quality.credit_recalled("Daniel Vogl", predicted)
    assert not quality.credit_recalled("Charles Rex Arbogast", predicted)
    assert not quality.credit_recalled("Daniel Vogl", [])


def test_credit_recall_by_fuzzy_match() -> None:
    assert quality.credit_recalled("AP Photo/Charles Rex Arbogast", ["(AP Photo/Charles R. Arbogast)"])


def test_agency_only_credits_are_not_leak_candidates() -> None:
    assert quality.is_agency_only("Reuters")
    assert quality.is_agency_only("AFP via Getty Images")
    assert quality.is_agency_only("dpa / picture alliance")
    assert not quality.is_agency_only("AP Photo/Alex Brandon")


# --- dates --------------------------------------------------------------------------------------

def test_parse_truth_dates() -> None:
    assert quality.parse_truth_date("2024-09-03 04:03:19+00:00") == datetime(2024, 9, 3, 4, 3, 19, tzinfo=UTC)
    assert quality.parse_truth_date("2024-04-24 00:00:00") == datetime(2024, 4, 24)
    assert quality.parse_truth_date("2024-05-03 15:47:42.389000+00:00").microsecond == 389000
    assert quality.parse_truth_date("") is None
    assert quality.parse_truth_date("yesterday") is None


def test_day_matches_across_offsets() -> None:
    # 23:30 UTC on the 26th is the 27th in Berlin: both readings of the day count.
    truth_utc = datetime(2024, 8, 26, 23, 30, tzinfo=UTC)
    assert quality.day_correct(time_pred("2024-08-26T23:30:00", "+02:00"), truth_utc)
    truth_local = datetime(2024, 8, 27, 1, 30, tzinfo=CEST)
    assert quality.day_correct(time_pred("2024-08-26T23:30:00", "+02:00"), truth_local)
    assert quality.day_correct(time_pred("2024-08-26T23:30:00"), truth_local)  # offset unknown, UTC days agree
    assert quality.day_correct(day_pred("2024-08-27"), truth_local)  # the page's local day
    assert quality.day_correct(day_pred("2024-08-26"), truth_local)  # the UTC day
    assert not quality.day_correct(day_pred("2024-08-25"), truth_local)
    assert not quality.day_correct(time_pred("2024-08-28T10:00:00", "+02:00"), truth_local)
    assert not quality.day_correct(None, truth_local)


def test_day_against_naive_truth_and_coarse_precision() -> None:
    truth = datetime(2024, 4, 24)  # date-only truth without offset
    assert quality.day_correct(day_pred("2024-04-24"), truth)
    assert quality.day_correct(time_pred("2024-04-23T22:30:00", "+02:00"), truth)  # local day
    assert quality.day_correct(day_pred("2026-01-06"), datetime(2026, 6, 1))  # a day/month swap of the truth
    assert not quality.day_correct(day_pred("2026-01-07"), datetime(2026, 6, 1))
    month = PredDate(datetime(2024, 4, 1, tzinfo=UTC), None, "month")
    assert not quality.day_correct(month, truth)


def test_instant_tolerance_and_day_precision() -> None:
    truth = datetime(2024, 5, 3, 17, 47, 42, 389000, tzinfo=CEST)
    assert quality.instant_correct(time_pred("2024-05-03T15:47:00", "+02:00"), truth)
    assert quality.instant_correct(time_pred("2024-05-03T15:48:40"), truth)
    assert not quality.instant_correct(time_pred("2024-05-03T15:49:00"), truth)
    assert not quality.instant_correct(time_pred("2024-05-03T17:47:42"), truth)  # local time read as UTC
    assert not quality.instant_correct(day_pred("2024-05-03"), truth)
    assert quality.has_time(truth)
    assert not quality.has_time(datetime(2025, 11, 3, tzinfo=UTC))


def test_instant_against_naive_truth_is_a_wall_time() -> None:
    truth = datetime(2024, 4, 24, 22, 58, 49)
    assert quality.instant_correct(time_pred("2024-04-24T20:58:49", "+02:00"), truth)
    assert quality.instant_correct(time_pred("2024-04-24T22:58:30"), truth)
    assert not quality.instant_correct(time_pred("2024-04-24T20:58:49"), truth)


def test_trafilatura_dates() -> None:
    with_offset = quality.trafilatura_date("2024-08-28T07:26:02-0400")
    assert with_offset.precision == "time"
    assert with_offset.at == datetime(2024, 8, 28, 11, 26, 2, tzinfo=UTC)
    assert with_offset.offset == timedelta(hours=-4)
    midnight = quality.trafilatura_date("2024-11-22T00:00:00")
    assert midnight.precision == "day" and midnight.at == datetime(2024, 11, 22, tzinfo=UTC)
    naive = quality.trafilatura_date("2024-11-22T10:00:00")
    assert naive.offset is None and naive.at == datetime(2024, 11, 22, 10, tzinfo=UTC)
    assert quality.trafilatura_date(None) is None
