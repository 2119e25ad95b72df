"""Image credits and captions: photographers, agencies, markers, credits cut off captions, wire place and date."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest
from dateline.transforms.credits import (
    AGENCIES,
    Credit,
    canonical_agency,
    caption_place_date,
    parse_credit,
    split_caption_credit,
)

FUNDUS_PAGES = Path(__file__).parent / "fixtures" / "fundus" / "pages"

WEIRD_INPUTS = [
    "", " ", "\n\t", "////", "||||", "(((", ")))", "()", "[]", "©", "(c)", "Photo:", "Photo by", "Foto: ", " via ",
    " - ", "&", ",,,,", ";;", "...", "+++", "-", "—", "…", "\x00", "\u200b", "\ufeff", "🙂📷", "©©©© 2024",
    "Photo: Photo: Photo:", "AP/AP/AP", "x" * 50_000, "Jane Doe/" * 5_000, "(" * 10_000, ", " * 10_000 + "May 1",
    ". REUTERS" * 5_000, "in " * 10_000 + "Kyiv May 1, 2024", "연합뉴스 뉴시스 代表 Дмитрий Азаров",
    "Zdjęcie: Čéšťíňa/ČTK", "İstanbul ANADOLU AJANSI", "December 32, 2024", "February 30, 2023.", "May 1, 0000",
    "in Kyiv on 99 May 2024", "J.", "O'", "Mc", "van der", "al-", "-Jean-", "'''", "\"\"\"", "(AP Photo/)",
    "Photo credit: ()", "FILE PHOTO/FILE PHOTO", "ATTENTION EDITORS - ", "\u0301\u0308", "ı" * 100,
]


# --- agencies ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("REUTERS", "Reuters"),
    ("Reuters", "Reuters"),
    ("Associated Press", "AP"),
    ("The Associated Press", "AP"),
    ("AP Photo", "AP"),
    ("Getty Images", "Getty Images"),
    ("getty", "Getty Images"),
    ("Agence France-Presse", "AFP"),
    ("agence france presse", "AFP"),
    ("picture-alliance", "picture alliance"),
    ("dpa-Bildfunk", "dpa"),
    ("DPA Images", "dpa"),
    ("Anadolu Ajansı", "Anadolu"),
    ("ANADOLU AJANSI", "Anadolu"),
    ("PA Wire", "PA"),
    ("Press Association", "PA"),
    ("The Canadian Press", "CP"),
    ("ČTK", "ČTK"),
    ("CTK", "ČTK"),
    ("Shutterstock.com", "Shutterstock"),
    ("연합뉴스", "Yonhap"),
    ("Ritzau Scanpix", "Ritzau Scanpix"),
], ids=["caps", "title", "associated-press", "the-associated-press", "ap-photo", "getty-images", "getty",
        "afp-long", "afp-no-hyphen", "picture-alliance-hyphen", "dpa-bildfunk", "dpa-images", "anadolu-turkish",
        "anadolu-turkish-caps", "pa-wire", "press-association", "canadian-press", "ctk-accent", "ctk-plain",
        "domain", "yonhap-korean", "ritzau-scanpix"])
def test_canonical_agency_maps_aliases(name, expected):
    assert canonical_agency(name) == expected


@pytest.mark.parametrize("name", [
    "Kremlin", "KREMLIN", "Handout", "Pool", "Wikimedia Commons", "Jane Doe", "The New York Times", "",
    "AFP via Getty Images", "epa-efe", "Photo",
], ids=["kremlin", "kremlin-caps", "handout", "pool", "wikimedia", "person", "outlet", "empty",
        "two-agencies-via", "two-agencies-hyphen", "role-word"])
def test_canonical_agency_is_none_for_non_agencies(name):
    assert canonical_agency(name) is None


def test_agencies_table_keys_are_lowercase_aliases():
    assert all(alias == alias.lower() for alias in AGENCIES)


@pytest.mark.parametrize(("alias", "canonical"), [
    ("ap", "AP"), ("associated press", "AP"), ("ap photo", "AP"), ("the associated press", "AP"),
    ("afp", "AFP"), ("agence france-presse", "AFP"), ("getty images", "Getty Images"), ("dpa", "dpa"),
    ("epa", "EPA"), ("efe", "EFE"), ("anadolu agency", "Anadolu"), ("anadolu ajansı", "Anadolu"),
    ("xinhua", "Xinhua"), ("tass", "TASS"), ("pa media", "PA"), ("picture alliance", "picture alliance"),
], ids=lambda value: str(value))
def test_agencies_table_holds_required_aliases(alias, canonical):
    assert AGENCIES[alias] == canonical


@pytest.mark.parametrize("name", ["kremlin", "handout", "wikimedia commons", "pool", "stringer"])
def test_agencies_table_holds_no_sources_or_roles(name):
    assert name not in AGENCIES


# --- parse_credit: photographers and agencies -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "photographers", "agencies"), [
    ("SPUTNIK/PAVEL DENYAKOV/KREMLIN via REUTERS/FILE PHOTO", ("Pavel Denyakov",), ("Sputnik", "Reuters")),
    ("REUTERS/STRINGER", (), ("Reuters",)),
    ("Photo: Jane Doe/AP", ("Jane Doe",), ("AP",)),
    ("(AP Photo/Charles Rex Arbogast)", ("Charles Rex Arbogast",), ("AP",)),
    ("AP Photo/Charles Rex Arbogast", ("Charles Rex Arbogast",), ("AP",)),
    ("Jane Doe/Getty Images", ("Jane Doe",), ("Getty Images",)),
    ("Chip Somodevilla/Getty Images", ("Chip Somodevilla",), ("Getty Images",)),
    ("AFP via Getty Images", (), ("AFP", "Getty Images")),
    ("JOHN SMITH/AFP via Getty Images", ("John Smith",), ("AFP", "Getty Images")),
    ("Foto: Max Mustermann/dpa", ("Max Mustermann",), ("dpa",)),
    ("Bild: Max Mustermann", ("Max Mustermann",), ()),
    ("Foto: picture alliance/dpa | Sven Hoppe", ("Sven Hoppe",), ("picture alliance", "dpa")),
    ("Bild: Keystone/Ennio Leanza", ("Ennio Leanza",), ("Keystone",)),
    ("Credit: Reuters", (), ("Reuters",)),
    ("REUTERS/Evelyn Hockstein/File Photo", ("Evelyn Hockstein",), ("Reuters",)),
    ("picture-alliance/dpa", (), ("picture alliance", "dpa")),
    ("epa-efe/Jane Doe", ("Jane Doe",), ("EPA", "EFE")),
    ("Didem Mente/AA", ("Didem Mente",), ("Anadolu",)),
    ("dpa-Bildfunk/Thomas Frey", ("Thomas Frey",), ("dpa",)),
    ("APA/AFP/Mandel Ngan", ("Mandel Ngan",), ("APA", "AFP")),
    ("Urs Flueeler (Keystone)", ("Urs Flueeler",), ("Keystone",)),
    ("Alketa Misja (dpa/picture alliance via Getty)", ("Alketa Misja",), ("dpa", "picture alliance", "Getty Images")),
    ("Álex Cámara - Europa Press / Europa Press", ("Álex Cámara",), ("Europa Press",)),
    ("Mads Claus Rasmussen/Ritzau Scanpix", ("Mads Claus Rasmussen",), ("Ritzau Scanpix",)),
    ("Stefan Rousseau/via Reuters", ("Stefan Rousseau",), ("Reuters",)),
    ("Nicky J Sims/Getty Images Europe", ("Nicky J Sims",), ("Getty Images",)),
    ("cristianstorto - stock.adobe.com", (), ("Adobe Stock",)),
    ("IMAGO/Mahmoud Issa/imago-images-bilder", ("Mahmoud Issa",), ("Imago",)),
    ("Jane Doe REUTERS", ("Jane Doe",), ("Reuters",)),
    ("연합뉴스", (), ("Yonhap",)),
], ids=["sputnik-kremlin-reuters", "reuters-stringer", "photo-label", "ap-bracketed", "ap-photo", "getty",
        "getty-2", "afp-via-getty", "caps-afp-via-getty", "foto-label-dpa", "bild-label", "picture-alliance-pipe",
        "bild-keystone", "credit-label", "reuters-file-photo", "picture-alliance-hyphen", "epa-efe",
        "anadolu-aa", "dpa-bildfunk", "apa-afp", "agency-in-brackets", "nested-brackets", "spaced-dash",
        "ritzau-scanpix", "leading-via", "getty-regional", "stock-domain", "imago-hyphenated", "agency-after-name",
        "korean-agency"])
def test_parse_credit_photographers_and_agencies(text, photographers, agencies):
    credit = parse_credit(text)
    assert (credit.photographers, credit.agencies) == (photographers, agencies)


@pytest.mark.parametrize(("text", "photographers"), [
    ("© Jane Doe", ("Jane Doe",)),
    ("© 2024 Jane Doe", ("Jane Doe",)),
    ("(c) Jane Doe", ("Jane Doe",)),
    ("Copyright 2023 Jane Doe", ("Jane Doe",)),
    ("Photo by Jane Doe", ("Jane Doe",)),
    ("Photograph: Jane Doe/Reuters", ("Jane Doe",)),
    ("Foto von Jane Doe", ("Jane Doe",)),
    ("Photo credit: Jane Doe", ("Jane Doe",)),
    ("Foto/Grafik: Jane Doe", ("Jane Doe",)),
    ("Kuva: Jane Doe", ("Jane Doe",)),
    ("Zdjęcie: Jane Doe", ("Jane Doe",)),
    ("Quelle: Jane Doe", ("Jane Doe",)),
    ("Photographer: Jane Doe", ("Jane Doe",)),
    ("photo illustration by Tim Hubbard / Los Angeles Times", ("Tim Hubbard",)),
    ("Courtesy of Jane Doe", ("Jane Doe",)),
], ids=["copyright-sign", "copyright-sign-year", "c-in-brackets", "copyright-word-year", "photo-by", "photograph",
        "foto-von", "photo-credit", "foto-grafik", "finnish", "polish", "quelle", "photographer", "illustration-by",
        "courtesy-of"])
def test_parse_credit_strips_labels_in_many_languages(text, photographers):
    assert parse_credit(text).photographers == photographers


def test_parse_credit_reads_an_agency_right_after_the_copyright_sign():
    assert parse_credit("©dpa").agencies == ("dpa",)


def test_parse_credit_drops_the_outlet_after_for():
    credit = parse_credit("Credit: Jane Doe for The New York Times")
    assert credit.photographers == ("Jane Doe",)


def test_parse_credit_keeps_an_agency_after_for():
    assert parse_credit("Tom Brenner for The Washington Post via Getty Images").agencies == ("Getty Images",)


@pytest.mark.parametrize(("text", "photographers"), [
    ("Jane Doe & John Roe/AP", ("Jane Doe", "John Roe")),
    ("Jane Doe and John Roe/AP", ("Jane Doe", "John Roe")),
    ("Jane Doe, John Roe; Max Mustermann", ("Jane Doe", "John Roe", "Max Mustermann")),
], ids=["ampersand", "and", "comma-semicolon"])
def test_parse_credit_reads_several_photographers_in_order(text, photographers):
    assert parse_credit(text).photographers == photographers


@pytest.mark.parametrize(("text", "photographers"), [
    ("Hannes P. Albert/dpa/Hannes P Albert", ("Hannes P. Albert",)),
    ("SN/APA/JANE DOE/Jane Doe", ("Jane Doe",)),
], ids=["initial-with-and-without-dot", "caps-and-mixed"])
def test_parse_credit_deduplicates_photographers(text, photographers):
    assert parse_credit(text).photographers == photographers


def test_parse_credit_deduplicates_agencies_keeping_first_order():
    assert parse_credit("Reuters/Jane Doe/REUTERS/AFP/Reuters").agencies == ("Reuters", "AFP")


# --- parse_credit: what is not a photographer -------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "REUTERS/STRINGER", "AFP/Staff", "Handout", "Pool", "File", "Photo", "Photographer", "Fotograf", "Foto", "Bild",
    "Archiv", "dpa-Bildfunk", "Symbolbild", "privat", "imago images", "Privat", "Uncredited/AP/dpa", "STR/AFP",
], ids=["stringer", "staff", "handout", "pool", "file", "photo", "photographer", "fotograf", "foto", "bild",
        "archiv", "dpa-bildfunk", "symbolbild", "privat-lower", "imago-images", "privat", "uncredited", "str"])
def test_parse_credit_role_words_are_not_photographers(text):
    assert parse_credit(text).photographers == ()


@pytest.mark.parametrize("text", [
    "Ukrainian Presidential Press Service/Handout via REUTERS",
    "Israel Defense Forces/Handout via REUTERS",
    "Russian Defence Ministry/Handout via REUTERS",
    "Northumbria Police / SWNS",
    "English Montreal School Board/AFP",
    "Mashreq University",
    "Strong Heart Productions/Orion Pictures",
    "Bundesministerium der Finanzen",
    "Hamburger Abendblatt",
    "Emergencias Andalucía/EFE",
    "Independent Newspapers",
    "The Yomiuri Shimbun",
    "Seznam Zprávy",
    "Metropolitan Police Vis mer",
    "U.S. District Court",
    "Walt Disney World Resort via Getty Images",
    "Global Images Ukraine/Getty",
    "VS Tristach",
    "Getty Images/Cultura RF",
    "Screenshots Instagram/TikTok",
    "Truth Social",
    "Gemeinde Nußdorf-Debant",
], ids=["press-service", "forces", "ministry", "police", "school-board", "university", "productions",
        "ministerium-compound", "zeitung-compound-blatt", "emergency-service", "newspapers", "article-and-newspaper",
        "czech-news", "police-with-ui-text", "court", "resort", "images-org", "abbreviation-first", "abbreviation-last",
        "screenshot", "platform", "municipality"])
def test_parse_credit_organisations_are_not_photographers(text):
    assert parse_credit(text).photographers == ()


@pytest.mark.parametrize("text", ["Kremlin", "KREMLIN", "SPUTNIK/KREMLIN via REUTERS", "Kremlin Press Service"],
                         ids=["kremlin", "kremlin-caps", "kremlin-in-credit", "kremlin-press-service"])
def test_parse_credit_kremlin_is_neither_photographer_nor_agency(text):
    credit = parse_credit(text)
    assert "Kremlin" not in credit.photographers + credit.agencies
    assert all("kremlin" not in name.lower() for name in credit.photographers)


@pytest.mark.parametrize("text", [
    "Witters", "Lichtgut", "ipopba", "Sithunyelwe", "Minky", "WDR / Biernat", "IMAGO / Tischler",
], ids=["capitalised", "capitalised-2", "lowercase", "single-name", "single-2", "after-broadcaster", "after-agency"])
def test_parse_credit_single_tokens_are_not_photographers(text):
    assert parse_credit(text).photographers == ()


@pytest.mark.parametrize("text", [
    "@Plan_INFOCA via X / Reuters", "BILD 15.05.2023", "n-tv.de", "mbl.is", "+1", "3 %) au premier semestre.",
    "Tous droits réservés Captures d'écran sur Truth Social et X @mooncatcherxbt", "Capture d'écran de Reddit",
], ids=["handle", "digits", "domain", "domain-2", "number", "sentence-fragment", "french-screenshots",
        "french-screenshot"])
def test_parse_credit_handles_dates_and_sentences_are_not_photographers(text):
    assert parse_credit(text).photographers == ()


# --- parse_credit: casing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "name"), [
    ("PAVEL DENYAKOV", "Pavel Denyakov"),
    ("MARIA VAN DER BERG", "Maria van der Berg"),
    ("JEAN-PIERRE DUPONT", "Jean-Pierre Dupont"),
    ("SEAN O'NEIL", "Sean O'Neil"),
    ("RONALD MCDONALD", "Ronald McDonald"),
    ("KEVIN S. VINEYS", "Kevin S. Vineys"),
    ("ДМИТРИЙ АЗАРОВ", "Дмитрий Азаров"),
], ids=["plain", "particles", "hyphenated", "apostrophe", "mc", "initial", "cyrillic"])
def test_parse_credit_recases_all_caps_names(text, name):
    assert parse_credit(text).photographers == (name,)


@pytest.mark.parametrize("name", [
    "Charles Rex Arbogast", "Jasper van Os", "John MacDougall", "Mohamed El Saife", "Hannes P Albert",
    "Atli Steinn Guðmundsson", "Renata Matějková", "Дмитрий Азаров", "Yusof Mat Isa",
], ids=["three-words", "particle", "mac", "el", "initial", "icelandic", "czech", "cyrillic", "malay"])
def test_parse_credit_keeps_mixed_case_names_as_they_are(name):
    assert parse_credit(name).photographers == (name,)


def test_parse_credit_splits_a_glued_initial():
    assert parse_credit("IMAGO/R.Schmitt").photographers == ("R. Schmitt",)


# --- parse_credit: markers and boilerplate ----------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "SPUTNIK/PAVEL DENYAKOV/KREMLIN via REUTERS/FILE PHOTO", "REUTERS/Evelyn Hockstein/File Photo",
    "Jane Doe/AP, File", "Jane Doe/AP (file)", "Andreas Seidel/Archiv", "Archivbild: Jane Doe/dpa",
    "Archivfoto: dpa", "Archive/Reuters", "Foto de archivo/EFE",
], ids=["file-photo-caps", "file-photo", "ap-file", "file-in-brackets", "archiv", "archivbild-label",
        "archivfoto-label", "archive", "spanish"])
def test_parse_credit_detects_file_photos(text):
    assert parse_credit(text).is_file_photo


@pytest.mark.parametrize("text", [
    "Handout via REUTERS", "Ukrainian Presidential Press Service/Handout via REUTERS", "HANDOUT/AFP",
    "Handout-Foto: dpa", "hand-out/ANP", "Zvg.",
], ids=["handout-via", "org-handout", "caps", "german", "hyphenated", "swiss-zvg"])
def test_parse_credit_detects_handouts(text):
    assert parse_credit(text).is_handout


@pytest.mark.parametrize("text", [
    "POOL/AFP", "Evelyn Hockstein/Pool via REUTERS", "Jane Doe via REUTERS POOL", "Pool Photo via AP",
    "Jane Doe/Pool", "代表撮影",
], ids=["pool-afp", "pool-via", "reuters-pool", "pool-photo", "slash-pool", "japanese"])
def test_parse_credit_detects_pool_photos(text):
    assert parse_credit(text).is_pool


@pytest.mark.parametrize("text", [
    "Jane Doe/Getty Images", "AP Photo/Charles Rex Arbogast", "Jane Doe/Reuters", "Filip Doe/Reuters",
    "Jane Poolman/AFP", "Jane Doe/AP Photo",
], ids=["getty", "ap", "reuters", "file-like-name", "pool-like-name", "ap-photo-suffix"])
def test_parse_credit_raises_no_marker_without_marker_words(text):
    credit = parse_credit(text)
    assert not (credit.is_file_photo or credit.is_handout or credit.is_pool)


@pytest.mark.parametrize("text", [
    "REUTERS/Kevin Lamarque/File Photo ATTENTION EDITORS - THIS IMAGE HAS BEEN SUPPLIED BY A THIRD PARTY",
    "REUTERS/Kevin Lamarque/File Photo THIS IMAGE HAS BEEN SUPPLIED BY A THIRD PARTY.",
    "REUTERS/Kevin Lamarque/File Photo NO RESALES. NO ARCHIVES.",
    "REUTERS/Kevin Lamarque/File Photo MANDATORY CREDIT",
    "REUTERS/Kevin Lamarque/File Photo EDITORIAL USE ONLY",
    "REUTERS/Kevin Lamarque/File Photo Purchase Licensing Rights, opens new tab",
], ids=["attention-editors", "third-party", "no-resales", "mandatory-credit", "editorial-use", "licensing"])
def test_parse_credit_ignores_agency_boilerplate(text):
    credit = parse_credit(text)
    assert (credit.photographers, credit.agencies, credit.is_file_photo) == (("Kevin Lamarque",), ("Reuters",), True)


def test_parse_credit_no_archives_boilerplate_is_not_a_file_photo():
    assert not parse_credit("REUTERS/Jane Doe NO RESALES. NO ARCHIVES.").is_file_photo


def test_parse_credit_raw_keeps_the_original_text_whitespace_collapsed():
    text = "  REUTERS/Kevin  Lamarque\n ATTENTION EDITORS - THIS IMAGE HAS BEEN SUPPLIED BY A THIRD PARTY "
    expected = "REUTERS/Kevin Lamarque ATTENTION EDITORS - THIS IMAGE HAS BEEN SUPPLIED BY A THIRD PARTY"
    assert parse_credit(text).raw == expected


def test_parse_credit_returns_a_frozen_credit():
    credit = parse_credit("Jane Doe/AP")
    assert isinstance(credit, Credit)
    with pytest.raises(dataclasses.FrozenInstanceError):
        credit.raw = "x"  # type: ignore[misc]


# --- parse_credit: robustness -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", WEIRD_INPUTS, ids=range(len(WEIRD_INPUTS)))
def test_nothing_raises_on_weird_input(text):
    credit = parse_credit(text)
    caption, found = split_caption_credit(text)
    place, when = caption_place_date(text, reference_year=2024)
    assert isinstance(credit, Credit) and isinstance(caption, str) and (found is None or isinstance(found, str))
    assert (place is None or isinstance(place, str)) and (when is None or isinstance(when, date))
    assert canonical_agency(text) is None or canonical_agency(text) in AGENCIES.values()


@pytest.mark.parametrize("text", [
    "SPUTNIK/PAVEL DENYAKOV/KREMLIN via REUTERS/FILE PHOTO", "Photo: Jane Doe/AP", "© 2024 Jane Doe",
    "Foto: picture alliance/dpa | Sven Hoppe", "  JOHN   SMITH/AFP via Getty Images ", *WEIRD_INPUTS[:30],
], ids=range(35))
def test_parse_credit_is_idempotent_on_raw(text):
    credit = parse_credit(text)
    assert parse_credit(credit.raw) == credit


def test_parse_credit_does_not_mutate_its_input():
    text = "Photo: Jane Doe/AP"
    parse_credit(text)
    assert text == "Photo: Jane Doe/AP"


# --- split_caption_credit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "caption", "credit"), [
    ("Crowds in Kyiv. Photo: Jane Doe/AP", "Crowds in Kyiv.", "Jane Doe/AP"),
    ("Putin speaks. (Photo credit: SPUTNIK/PAVEL DENYAKOV/KREMLIN via REUTERS/FILE PHOTO)", "Putin speaks.",
     "SPUTNIK/PAVEL DENYAKOV/KREMLIN via REUTERS/FILE PHOTO"),
    ("A man walks. (photo credit: REUTERS/STRINGER)", "A man walks.", "REUTERS/STRINGER"),
    ("President Biden speaks in Washington, U.S., May 1, 2024. REUTERS/Evelyn Hockstein",
     "President Biden speaks in Washington, U.S., May 1, 2024.", "REUTERS/Evelyn Hockstein"),
    ("Trump speaks, Thursday, Aug. 29, 2024, in La Crosse, Wis. (AP Photo/Morry Gash)",
     "Trump speaks, Thursday, Aug. 29, 2024, in La Crosse, Wis.", "AP Photo/Morry Gash"),
    ("Demonstranten in Berlin. Foto: dpa", "Demonstranten in Berlin.", "dpa"),
    ("Sunset over the bay © Jane Doe", "Sunset over the bay", "Jane Doe"),
    ("Die Alpen im Winter. Bild: Keystone", "Die Alpen im Winter.", "Keystone"),
    ("Die Alpen im Winter | Foto: Max Mustermann", "Die Alpen im Winter", "Max Mustermann"),
    ("Protesters march in Paris. Getty Images", "Protesters march in Paris.", "Getty Images"),
    ("Protesters march in Paris. AFP", "Protesters march in Paris.", "AFP"),
    ("Donna Kelce celebrates. Photo by Perry Knotts/Getty Images", "Donna Kelce celebrates.",
     "Perry Knotts/Getty Images"),
    ("Donna Kelce celebrates. (Photo by Perry Knotts/Getty Images)", "Donna Kelce celebrates.",
     "Perry Knotts/Getty Images"),
    ("Andrew Robertson vom FC Liverpool | AFP/Paul Ellis", "Andrew Robertson vom FC Liverpool", "AFP/Paul Ellis"),
    ("Leaders meet in Berlin. (Reuters)", "Leaders meet in Berlin.", "Reuters"),
    ("Ein Meteorit liegt in Elmshorn © NDR Foto: Phillip Eggers", "Ein Meteorit liegt in Elmshorn",
     "NDR Foto: Phillip Eggers"),
    ("Die Ministerin spricht. Archivbild: Jane Doe/dpa", "Die Ministerin spricht.", "Archivbild: Jane Doe/dpa"),
    ("Ein Wahlkampfauftritt. 연합뉴스", "Ein Wahlkampfauftritt.", "연합뉴스"),
    ("(Image:Anadolu via Getty Images)", "", "Anadolu via Getty Images"),
], ids=["photo-label", "photo-credit-brackets", "photo-credit-lowercase", "reuters-trailing", "ap-brackets",
        "foto-dpa", "copyright-sign", "bild-keystone", "pipe-foto", "getty-alone", "afp-alone", "photo-by",
        "photo-by-brackets", "pipe-then-bare-credit", "agency-in-brackets", "inner-label", "file-label-kept",
        "korean-agency", "all-credit"])
def test_split_caption_credit_cuts_the_credit(text, caption, credit):
    assert split_caption_credit(text) == (caption, credit)


@pytest.mark.parametrize("text", [
    "He said the photo was taken in 2020.",
    "The AP reported the news on Monday.",
    "A photo by Jane Doe won the prize in 2020.",
    "Leaders meet in Berlin. Olaf Scholz, Emmanuel Macron and Joe Biden",
    "Rally in the capital (file)",
    "Jane Doe (left) and John Roe",
    "Die Sonne geht unter (Archivbild von 2021).",
    "Reuters reported that the talks failed.",
    "Protesters in Paris. Police",
    "  Plain caption with spaces.  ",
    "",
], ids=["photo-in-sentence", "ap-in-sentence", "photo-by-in-sentence", "names-not-credit", "file-in-brackets",
        "left-in-brackets", "archive-year", "agency-starts-sentence", "organisation-alone", "spaces", "empty"])
def test_split_caption_credit_leaves_captions_without_credit_whole(text):
    assert split_caption_credit(text) == (text.strip(), None)


def test_split_caption_credit_credit_parses_to_its_people():
    _, credit = split_caption_credit("Putin speaks. (Photo credit: SPUTNIK/PAVEL DENYAKOV/KREMLIN via REUTERS)")
    assert credit is not None
    assert parse_credit(credit).photographers == ("Pavel Denyakov",)


# --- caption_place_date -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("caption", "place", "when"), [
    ("Belarusian President Alexander Lukashenko attends a news conference in Minsk, Belarus December 19, 2022.",
     "Minsk, Belarus", date(2022, 12, 19)),
    ("Republican presidential nominee former President Donald Trump greets supporters, Thursday, Aug. 29, 2024, "
     "in La Crosse, Wis.", "La Crosse, Wis.", date(2024, 8, 29)),
    ("Vice President Kamala Harris arrives for campaign events, Monday, Sept. 2, 2024, in Pittsburgh.",
     "Pittsburgh", date(2024, 9, 2)),
    ("FBI Director Christopher Wray listens at the Department of Justice in Washington Jan. 27, 2023.",
     "Washington", date(2023, 1, 27)),
    ("Demonstrators gather outside the Israeli Embassy in Washington, on Feb. 26, 2024.",
     "Washington", date(2024, 2, 26)),
    ("Vice President Kamala Harris speaks at a rally in Savannah, Ga., Thursday, Aug. 29, 2024.",
     "Savannah, Ga.", date(2024, 8, 29)),
    ("President Biden speaks in Washington, U.S., May 1, 2024. REUTERS/Evelyn Hockstein",
     "Washington, U.S.", date(2024, 5, 1)),
    ("A man walks in Kyiv, Ukraine 19 December 2022.", "Kyiv, Ukraine", date(2022, 12, 19)),
    ("People walk in Kyiv, Ukraine Sep 5, 2022.", "Kyiv, Ukraine", date(2022, 9, 5)),
    ("Lukaschenko bei einer Pressekonferenz am 19. Dezember 2022 in Minsk", "Minsk", date(2022, 12, 19)),
    ("People look at a damaged aircraft in Wuyan, near Srinagar, on May 7, 2025.", "Wuyan, near Srinagar",
     date(2025, 5, 7)),
    ("Taylor Swift celebrates on February 11, 2024 in Las Vegas, Nevada. (Photo by Perry Knotts/Getty Images)",
     "Las Vegas, Nevada", date(2024, 2, 11)),
], ids=["reuters", "ap", "ap-sept", "reuters-abbreviated-month", "comma-on", "ap-state-then-date",
        "reuters-with-credit", "day-month-year", "sep-without-dot", "german", "near", "getty-with-credit"])
def test_caption_place_date_reads_wire_endings(caption, place, when):
    assert caption_place_date(caption) == (place, when)


def test_caption_place_date_place_extends_over_town_of():
    place, when = caption_place_date(
        "Reservists walk in the town of Volzhsky in the Volgograd region, Russia September 28, 2022.")
    assert place is not None and "Volzhsky" in place and place.endswith("Volgograd region, Russia")
    assert when == date(2022, 9, 28)


@pytest.mark.parametrize(("caption", "when"), [
    ("This combination of photos shows Vice President Kamala Harris, left, on Aug. 7, 2024", date(2024, 8, 7)),
    ("Trump speaks at a campaign event, Friday, Aug. 30, 2024.", date(2024, 8, 30)),
    ("Die Ruinen nach den Bombenanschlägen auf Caracas am 3. Januar 2026.", date(2026, 1, 3)),
], ids=["on-date", "weekday-date", "german-no-in"])
def test_caption_place_date_date_without_place(caption, when):
    assert caption_place_date(caption) == (None, when)


@pytest.mark.parametrize(("reference_year", "expected"), [
    (2023, ("Kyiv, Ukraine", date(2023, 12, 19))),
    (None, ("Kyiv, Ukraine", None)),
], ids=["with-reference-year", "without-reference-year"])
def test_caption_place_date_year_comes_from_reference_year(reference_year, expected):
    assert caption_place_date("Soldiers rest in Kyiv, Ukraine, on Dec. 19.", reference_year=reference_year) == expected


@pytest.mark.parametrize("caption", [
    "",
    "A man walks his dog.",
    "A 70-year-old man walks in Kyiv.",
    "Harris, on Aug. 7, 2024 and Trump on a stage.",
    "The meeting on May 1, 2024 in the afternoon ran late with no result at all.",
    "Fans at the stadium in 2024.",
    "Released on February 30, 2023 in Paris.",
], ids=["empty", "no-date", "age", "date-mid-sentence", "date-then-non-place", "year-only", "impossible-date"])
def test_caption_place_date_none_without_wire_ending(caption):
    assert caption_place_date(caption) == (None, None)


def test_caption_place_date_place_is_none_when_in_span_is_not_a_place():
    assert caption_place_date("People take part in a protest December 19, 2022.") == (None, date(2022, 12, 19))


# --- real data ----------------------------------------------------------------------------------------------------


def _truth_credits() -> list[str]:
    credits: list[str] = []
    for path in sorted(FUNDUS_PAGES.glob("*/*.json")):
        truth = json.loads(path.read_text(encoding="utf-8")).get("truth") or {}
        for image in truth.get("images") or []:
            credits.extend(image.get("authors") or [])
    return credits


@pytest.mark.skipif(not FUNDUS_PAGES.exists(), reason="fundus fixtures not present")
def test_truth_credits_mostly_yield_a_photographer_or_agency():
    credits = _truth_credits()
    found = [c for c in credits if parse_credit(c).photographers or parse_credit(c).agencies]
    assert credits and len(found) / len(credits) >= 0.75


def test_caption_place_is_the_last_in_phrase_not_an_earlier_one():
    caption = ("A serviceman addresses reservists, aimed to support the campaign in Ukraine, in the town of Volzhsky "
               "in the Volgograd region, Russia September 28, 2022.")
    assert caption_place_date(caption)[0] == "the town of Volzhsky in the Volgograd region, Russia"
