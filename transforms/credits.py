"""Image credits and captions: photographers and agencies in a credit, credits cut off captions, wire place and date.

Generic for any site and language: credits are split into parts at separators ("/", "|", ",", " via ", ...), and
each part is read against one phrase table (agencies, role words, file/pool/handout markers, sources) or checked
for the shape of a person's name; organisations are recognised by their words ("Ministry", "Police", "Zeitung").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# --- agencies -------------------------------------------------------------------------------------------------------

# canonical name -> lowercase aliases (the canonical name lowercased is always an alias too)
_AGENCY_ALIASES: dict[str, tuple[str, ...]] = {
    "Reuters": ("reuters", "thomson reuters", "reuters tv", "reuters pictures", "action images"),
    "AP": ("ap", "associated press", "the associated press", "ap photo", "ap images", "ap photos"),
    "AFP": ("afp", "agence france-presse", "agence france presse", "afp photo", "afp tv"),
    "Getty Images": (
        "getty", "getty images", "getty images europe", "getty images north america", "getty images south america",
        "getty images asiapac", "getty images asia pacific", "getty images sport", "getty images entertainment",
        "getty images news", "gettyimages",
    ),
    "dpa": (
        "dpa", "deutsche presse-agentur", "dpa-bildfunk", "dpa-zentralbild", "dpa images", "dpa-infografik",
        "dpa-news", "dpa-report",
    ),
    "picture alliance": ("picture alliance", "picture-alliance", "picturealliance", "picture alliance images"),
    "EPA": ("epa", "european pressphoto agency", "epa images"),
    "EFE": ("efe", "agencia efe"),
    "Anadolu": ("anadolu", "anadolu agency", "anadolu ajansı", "anadolu ajansi", "aa"),
    "Xinhua": ("xinhua", "xinhua news agency", "新华社"),
    "Sputnik": ("sputnik", "спутник"),
    "RIA Novosti": ("ria novosti", "ria", "риа новости"),
    "TASS": ("tass", "itar-tass", "тасс", "итар-тасс"),
    "Interfax": ("interfax", "интерфакс"),
    "Kyodo": ("kyodo", "kyodo news", "共同通信", "共同"),
    "Jiji": ("jiji", "jiji press", "時事通信", "時事"),
    "Yonhap": ("yonhap", "yonhap news", "연합뉴스", "연합"),
    "Newsis": ("newsis", "뉴시스"),
    "News1": ("news1", "뉴스1"),
    "ANSA": ("ansa",),
    "LaPresse": ("lapresse",),
    "APA": ("apa", "austria presse agentur", "apa-images", "apa-fotoservice", "apa picturedesk"),
    "Keystone": ("keystone", "keystone-sda", "keystone sda"),
    "Belga": ("belga", "belga image"),
    "ANP": ("anp",),
    "NTB": ("ntb", "ntb scanpix"),
    "TT": ("tt", "tt nyhetsbyrån"),
    "Ritzau": ("ritzau",),
    "Ritzau Scanpix": ("ritzau scanpix",),
    "Scanpix": ("scanpix",),
    "Lehtikuva": ("lehtikuva",),
    "STT": ("stt", "stt-lehtikuva"),
    "Bildbyrån": ("bildbyrån",),
    "Shutterstock": ("shutterstock", "shutterstock.com"),
    "Alamy": ("alamy", "alamy stock photo"),
    "iStock": ("istock", "istockphoto", "istockphoto.com"),
    "Adobe Stock": ("adobe stock", "stock.adobe.com"),
    "Imago": ("imago", "imago images", "imago-images"),
    "SIPA": ("sipa", "sipa press", "sipa usa"),
    "Bloomberg": ("bloomberg",),
    "PA": ("pa", "pa wire", "pa media", "press association", "pa images", "pa archive"),
    "KNA": ("kna", "katholische nachrichten-agentur"),
    "epd": ("epd", "evangelischer pressedienst"),
    "IANS": ("ians",),
    "PTI": ("pti", "press trust of india"),
    "ANI": ("ani",),
    "UPI": ("upi", "united press international"),
    "Polaris": ("polaris", "polaris images"),
    "ZUMA": ("zuma", "zuma press", "zuma wire", "zuma press wire", "zumapress", "zumapress.com"),
    "NurPhoto": ("nurphoto",),
    "SOPA Images": ("sopa images", "sopa"),
    "Abaca": ("abaca", "abacapress", "abaca press", "abacapress.com"),
    "MAXPPP": ("maxppp",),
    "Lusa": ("lusa",),
    "Europa Press": ("europa press",),
    "ČTK": ("čtk", "ctk"),
    "PAP": ("pap", "polska agencja prasowa"),
    "MTI": ("mti",),
    "Agerpres": ("agerpres",),
    "BTA": ("bta",),
    "Tanjug": ("tanjug",),
    "HINA": ("hina",),
    "STA": ("sta",),
    "Ukrinform": ("ukrinform", "укрінформ", "укрiнформ"),
    "UNIAN": ("unian", "уніан"),
    "CNA": ("cna",),
    "Bernama": ("bernama",),
    "Antara": ("antara",),
    "China News Service": ("china news service", "chinanews", "中新社"),
    "AAP": ("aap", "australian associated press", "aap image"),
    "NZPA": ("nzpa",),
    "CP": ("cp", "the canadian press", "canadian press"),
    "KCNA": ("kcna",),
    "IRNA": ("irna",),
    "SANA": ("sana",),
    "DHA": ("dha",),
    "IHA": ("iha",),
    "SWNS": ("swns",),
    "Cuartoscuro": ("cuartoscuro",),
    "WireImage": ("wireimage",),
    "FilmMagic": ("filmmagic",),
    "GC Images": ("gc images",),
    "Panos Pictures": ("panos pictures", "panos"),
    "Magnum Photos": ("magnum photos",),
    "Redux": ("redux pictures",),
    "Backgrid": ("backgrid",),
    "Splash News": ("splash news",),
    "WENN": ("wenn",),
}
AGENCIES: dict[str, str] = {
    alias: canonical
    for canonical, aliases in _AGENCY_ALIASES.items()
    for alias in (canonical.lower(), *aliases)
}

# --- other phrases in credits ---------------------------------------------------------------------------------------

_FILE_PHRASES = (
    "file", "files", "file photo", "file image", "file picture", "file pic", "archive", "archives", "archive photo",
    "archive image", "archiv", "archivbild", "archivfoto", "archivaufnahme", "arkiv", "arkivbild", "arkivfoto",
    "archivo", "foto de archivo", "imagen de archivo", "archivio", "archief", "archieffoto", "архив", "자료사진",
    "資料写真",
)
_POOL_PHRASES = ("pool", "pool photo", "pool picture", "pool image", "poolfoto", "代表", "代表撮影")
_HANDOUT_PHRASES = (
    "handout", "hand-out", "handout photo", "handout picture", "handout-foto", "handoutfoto", "handout-bild",
    "ho", "zvg", "z.v.g.",
)
# words that say what kind of picture or contributor it is: never a name, never an agency
_ROLE_PHRASES = (
    "photo", "photos", "foto", "fotos", "fotografie", "fotografia", "fotografía", "photograph", "photographs",
    "photographer", "photographers", "fotograf", "fotografin", "fotógrafo", "photographe", "bild", "bilder", "image",
    "images", "imagen", "picture", "pictures", "pics", "pic", "stringer", "str", "staff", "staff photographer",
    "contributor", "freelance", "freelancer", "agency", "news agency", "photo agency", "host photo agency", "news",
    "tv", "video", "vídeo", "wire", "service", "services", "bildfunk", "zentralbild", "fotoservice", "infografik",
    "grafik", "graphic", "graphics", "illustration", "photo illustration", "symbolbild", "symbolfoto", "pressefoto",
    "pressebild", "uncredited", "unknown", "anonymous", "host", "obtained", "provided", "supplied", "released",
    "distributed", "courtesy", "screenshot", "screenshots", "screengrab", "screen grab", "skjermdump", "skjáskot",
    "capture", "captura", "private", "privat", "privatfoto", "nuotr", "nuotrauka", "ljósmynd", "kuva", "zdjęcie",
    "fot", "snímek", "media", "photography", "fotografía de archivo",
)
# connectors: ignored between known phrases, allowed inside names ("van", "de")
_CONNECTOR_PHRASES = ("by", "via", "the", "of", "from", "and", "und", "de", "del", "la", "d", "von", "for", "für")
# places and platforms that stand where a source goes ("KREMLIN", "Social Media"): neither person nor agency
_SOURCE_PHRASES = (
    "kremlin", "white house", "the white house", "downing street", "elysee", "social media", "twitter",
    "instagram", "facebook", "telegram", "tiktok", "youtube", "reddit", "truth social", "press service",
    "presidential press service",
)

# words that mark an organisation, outlet or thing: a part holding one is never a person
_ORG_WORDS = frozenset({
    "service", "services", "office", "ministry", "press", "police", "army", "forces", "force", "agency", "agencies",
    "department", "dept", "government", "ministerium", "polizei", "presse", "archiv", "archive", "archives", "museum",
    "university", "universität", "universidad", "université", "università", "college", "school", "schule",
    "foundation", "stiftung", "fundación", "fondation", "inc", "ltd", "llc", "gmbh", "ag", "plc", "corp",
    "corporation", "company", "club", "team", "festival", "news", "tv", "media", "images", "photos", "pictures",
    "photo", "studio", "studios", "production", "productions", "films", "records", "group", "council", "committee",
    "commission", "kommission", "court", "district", "board", "administration", "authority", "institute", "inst",
    "institut", "instituto", "center", "centre", "zentrum", "hospital", "klinik", "clinic", "church", "kirche",
    "party", "partei", "union", "association", "verband", "verein", "society", "gesellschaft", "project", "network",
    "channel", "radio", "television", "fernsehen", "zeitung", "newspaper", "newspapers", "magazine", "magazin",
    "times", "post", "herald", "tribune", "journal", "gazette", "daily", "weekly", "live", "online", "digital",
    "social", "navy", "military", "militär", "bundeswehr", "guard", "command", "embassy", "consulate", "parliament",
    "senate", "congress", "bundestag", "kremlin", "palace", "house", "hall", "city", "stadt", "gemeinde",
    "municipality", "county", "province", "region", "republic", "kingdom", "nations", "presidency", "presidential",
    "secretariat", "cabinet", "prefecture", "politie", "polizia", "policía", "policia", "politi", "politiet",
    "polisen", "polis", "emergencias", "emergency", "rescue", "fire", "feuerwehr", "bomberos", "ambulance", "zoo",
    "airport", "airlines", "airways", "railway", "railways", "stadium", "arena", "league", "liga", "federation",
    "olympic", "olympics", "fund", "trust", "research", "laboratory", "lab", "labs", "observatory", "systems",
    "technologies", "technology", "collection", "sammlung", "library", "bibliothek", "estate", "entertainment",
    "works", "resort", "hotel", "restaurant", "tourism", "tourismus", "yearbook", "statistics", "statistical",
    "bureau", "natl", "national", "international", "federal", "ministries", "sports", "sport", "street", "zprávy",
    "noticias", "notizie", "nachrichten", "nyheter", "nieuws", "uutiset", "wiadomości", "новости", "служба",
    "министерство", "пресс-служба", "фонд", "фундация", "администрация", "полиция", "агентство", "правительство",
    "мэрия", "пресс", "redaktion", "redacción", "rédaction", "editorial", "desk", "reporter", "correspondent",
    "editor", "map", "karte", "mapa", "source", "quelle", "fuente", "courtesy", "family", "familie", "shop", "store",
    "airbase", "base", "brigade", "regiment", "battalion", "squad", "unit", "corps", "staff", "agentur", "shimbun",
    "echo", "nyheder", "avis", "tidning", "krant", "gazeta", "gazzetta", "periódico", "diario",
})
# endings of compound words that mark an organisation ("Abendblatt", "Bundesministerium", "Landratsamt")
_ORG_SUFFIXES = (
    "zeitung", "blatt", "ministerium", "polizei", "verband", "verein", "agentur", "amt", "kommission",
    "gesellschaft", "stiftung", "feuerwehr", "presse", "archiv", "bildfunk", "kanzlei", "rathaus", "krankenhaus",
    "klinikum", "ministry", "department",
)
# lowercase words allowed inside a name; _CASE_PARTICLES are lowercased when an ALL CAPS name is recased
_PARTICLES = frozenset({
    "van", "von", "der", "den", "de", "da", "di", "du", "del", "della", "des", "dos", "das", "do", "la", "le", "ten",
    "ter", "te", "zu", "af", "y", "e", "bin", "ibn", "bint", "al", "el", "ben", "van't", "vom", "zum", "zur",
})
_CASE_PARTICLES = frozenset({
    "van", "von", "der", "den", "de", "da", "di", "du", "del", "della", "des", "dos", "das", "do", "la", "le", "ten",
    "ter", "zu", "vom",
})
_ROMAN_NUMERALS = frozenset({"II", "III", "IV", "VI", "VII", "VIII"})
_ARTICLES = frozenset({"the", "der", "die", "das", "il", "les", "los", "las", "het"})  # never start a person's name

# --- regexes --------------------------------------------------------------------------------------------------------

_WS_RE = re.compile(r"\s+")
_BOILERPLATE_RE = re.compile(
    r"attention editors?|this (?:image|picture|photo)(?: (?:has been|was|is))? (?:supplied|provided|distributed|"
    r"taken|released) by a third party\.?|this (?:image|picture) has been processed by [^.]*\.?|"
    r"no resales\.?|no archives\.?|no third party sales\.?|no commercial use\.?|"
    r"(?:for |restricted to )?editorial use only\.?|mandatory credit\.?|must credit\.?|best quality available\.?|"
    r"not for (?:sale for )?marketing or advertising campaigns\.?|no marketing\.?|no advertising\.?|"
    r"purchase licensing rights|,? ?\(?opens new tab\)?|all rights reserved\.?|alle rechte vorbehalten\.?|"
    r"tous droits réservés|todos los derechos reservados|tutti i diritti riservati|"
    r"\b(?:vis mer|visa mer|show more|see more|mehr anzeigen|read more)\b|\+{2,}",
    re.IGNORECASE,
)
# labels that take ":" or "by" before the credit ("Photo: X", "Photo by X", "Foto von X", "Photo credit: X")
_LABEL_WORDS = (
    "photo credit", "photo credits", "image credit", "image credits", "picture credit", "bildnachweis",
    "bildquelle", "fotonachweis", "bildrechte", "foto/grafik", "foto/video", "foto/montage", "photo illustration",
    "photographs", "photograph", "photographer", "photos", "photo", "fotografía", "fotografia", "fotografie",
    "fotograf", "fotos", "foto", "bilder", "bild", "images", "image", "pictures", "picture", "credits", "credit",
    "copyright", "quelle", "quellen", "source", "sources", "fuente", "kuva", "zdjęcie", "zdjęcia", "fot.", "fot",
    "snímek", "ljósmynd", "nuotr.", "video", "vídeo", "illustration", "grafik", "graphic", "infografik",
    "archivbild", "archivfoto", "archive photo", "file photo", "symbolbild", "symbolfoto", "pool photo",
    "handout photo", "фото", "фотография", "коллаж", "isithombe", "bilde", "billede", "kuvat",
)
_LABEL_ALT = "|".join(re.escape(w) for w in sorted(_LABEL_WORDS, key=len, reverse=True))
# labels that need nothing after them ("© X", "Courtesy of X")
_BARE_LABEL_ALT = (r"©|\(c\)|copyright\b|(?:photo |foto )?courtesy(?: of)?\b|(?:foto |imagen )?cedida por\b|"
                   r"tous droits réservés\b|all rights reserved\b|alle rechte vorbehalten\b|"
                   r"todos los derechos reservados\b|tutti i diritti riservati\b")
_BY_WORDS = r"by|von|de|por|par|di|av|door|af|from|via"
_LABEL_CORE = rf"(?:(?:{_LABEL_ALT})(?:\s*:|\s+(?:{_BY_WORDS})\b)|{_BARE_LABEL_ALT})"
_PREFIX_RE = re.compile(
    rf"^\s*\(?\s*{_LABEL_CORE}\s*:?\s*(?:©\s*)?(?:\d{{4}}(?:\s*[-–]\s*\d{{4}})?(?!\w)\s*)?", re.IGNORECASE
)
_LABEL_IN_TEXT_RE = re.compile(_LABEL_CORE, re.IGNORECASE)
_INNER_LABEL_RE = re.compile(rf"(?<=\S)\s+(?:{_LABEL_ALT})\s*:\s*", re.IGNORECASE)  # "© NDR Foto: X" -> "NDR / X"
_LEADING_VIA_RE = re.compile(rf"^(?:(?:{_BY_WORDS})\s+)+", re.IGNORECASE)
_SEPARATOR_RE = re.compile(r"\s*[/|;,()\[\]／｜]\s*|\s+(?:via|&|and|und|[-–—])\s+|\s+[–—]|[–—]\s+", re.IGNORECASE)
_FOR_RE = re.compile(r"(?:^|\s+)(?:for|für|pour|para)\s+(?P<outlet>.*)$", re.IGNORECASE)
_INITIAL_GLUED_RE = re.compile(r"\b([A-Z])\.(?=[A-Z][a-z])")  # "R.Schmitt" -> "R. Schmitt"
_DOMAIN_RE = re.compile(
    r"^(?:www\.)?(?P<name>[\w.-]+?)\.(?:com|net|org|de|at|ch|fr|es|it|nl|be|se|no|dk|fi|pl|cz|ru|jp|kr|cn|in|io|"
    r"co\.uk|uk|eu|is|ie|pt|gr|tr|ua|us|ca|au|nz)$",
    re.IGNORECASE,
)
_NON_WORD_RE = re.compile(r"[\W_]+")
_EDGE_PUNCT = " \t.,:;\"'“”‘’«»„*+-–—=~•·"
_SENTENCE_INSIDE_RE = re.compile(r"[^\W_]{2,}[.!?]\s+\S")  # "Paris. AFP" yes, "Kevin S. Vineys" no
_NAME_PUNCT = frozenset("-'’.")
_LOWER_NAME_PREFIX_RE = re.compile(r"^(?:al|el|ad|ar|as|at|az|ibn|bin|d|l)['’\-][^\W\d_]")

# caption tails
_BOUNDARY_RE = re.compile(r"[.!?…][\"'”’»)]*\s+|\s+[|–—]\s*|\s+-\s+|\s*\n\s*")
_CAPS_AGENCY_SLASH_RE = re.compile(r"(?<=\s)(?=[A-Z][A-Z.\-]+(?:\s+(?:Photo|PHOTO))?\s*/)")
_TRAILING_BRACKET_RE = re.compile(r"[(\[](?P<inner>[^()\[\]]{1,300})[)\]]\s*\.?\s*$")
_LABEL_BOUNDARY_CHARS = ".!?…:;|/–—-([\"”»,'’"
_MAX_CREDIT_WORDS = 20
_MAX_CREDIT_CHARS = 300  # a credit at the end of a caption is looked for in this many last characters
_MAX_DATELINE_CHARS = 400  # place and date are looked for in this many last characters

# --- dates and places ------------------------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "januar": 1, "jänner": 1, "jaenner": 1,
    "february": 2, "feb": 2, "februar": 2, "feber": 2,
    "march": 3, "mar": 3, "märz": 3, "maerz": 3, "mär": 3,
    "april": 4, "apr": 4,
    "may": 5, "mai": 5,
    "june": 6, "jun": 6, "juni": 6,
    "july": 7, "jul": 7, "juli": 7,
    "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "oktober": 10, "okt": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12, "dezember": 12, "dez": 12,
}
_MONTH_ALT = "|".join(re.escape(m) for m in sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY_ALT = (
    r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag"
)
_DATE_RE = re.compile(
    rf"(?<![\w\-])(?:(?P<mon1>{_MONTH_ALT})\.?\s+(?P<day1>\d{{1,2}})(?:st|nd|rd|th)?(?![\d\-])"
    rf"(?:,?\s+(?P<year1>\d{{4}})(?!\d))?"
    rf"|(?P<day2>\d{{1,2}})(?:\.|st|nd|rd|th)?\s+(?:of\s+)?(?P<mon2>{_MONTH_ALT})\.?(?![\w\-])"
    rf"(?:,?\s+(?P<year2>\d{{4}})(?!\d))?)",
    re.IGNORECASE,
)
_DATE_END_RE = re.compile(r"^\s*[.!]?\s*$")
_DATE_THEN_PLACE_RE = re.compile(r"^,?\s+(?:in|near)\s+(?P<place>.+?)\s*$")
_PLACE_INTRO_RE = re.compile(r"(?<!\S)(?:in|near)\s+|^In\s+")
_BEFORE_DATE_TAIL_RE = re.compile(rf"(?:[\s,]+(?:on|am|on the|{_WEEKDAY_ALT}))+[\s,]*$|[\s,]+$", re.IGNORECASE)
_PLACE_CONNECTORS = frozenset({
    "the", "of", "in", "near", "de", "del", "la", "le", "am", "an", "der", "upon", "on", "sur", "en", "di", "da",
    "do", "dos", "das", "and", "al", "el", "im", "bei",
})
_PLACE_NOUNS = frozenset({
    "town", "city", "village", "region", "district", "province", "state", "county", "outskirts", "suburb",
    "suburbs", "settlement", "area", "oblast", "capital", "port", "island", "islands", "border", "municipality",
    "neighbourhood", "neighborhood", "camp", "frontline", "community", "valley", "coast", "river", "west", "east",
    "north", "south", "northern", "southern", "eastern", "western", "central", "occupied", "breakaway", "southeast",
    "southwest", "northeast", "northwest", "kibbutz", "strip", "bank", "port city", "resort", "hamlet",
})
_AP_ABBREVIATIONS = frozenset({
    "Ala.", "Ariz.", "Ark.", "Calif.", "Colo.", "Conn.", "Del.", "Fla.", "Ga.", "Ill.", "Ind.", "Kan.", "Ky.",
    "La.", "Md.", "Mass.", "Mich.", "Minn.", "Miss.", "Mo.", "Mont.", "Neb.", "Nev.", "Okla.", "Ore.", "Pa.",
    "Tenn.", "Vt.", "Va.", "Wash.", "Wis.", "Wyo.", "St.", "Mt.", "Ft.", "Jr.",
})
_INITIALISM_RE = re.compile(r"^(?:[A-Z]\.)+$")


# --- phrase table ---------------------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Casefolded text without Latin accents: 'ČTK' -> 'ctk', 'Anadolu AJANSI' -> 'anadolu ajansi'."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ı", "i").replace("İ", "I"))
    kept: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch) and kept and ord(kept[-1]) < 0x250:
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)).casefold()


def _key(text: str) -> str:
    """The lookup key of a phrase: folded words joined by single spaces: 'Picture-Alliance' -> 'picture alliance'."""
    text = text.strip()
    if " " not in text:
        domain = _DOMAIN_RE.match(text)
        if domain:
            text = domain.group("name")
    return " ".join(_NON_WORD_RE.sub(" ", _fold(text)).split())


def _phrase_table() -> dict[str, tuple[str, str]]:
    """Key -> (kind, value) for every phrase the credit parser knows; agencies win over other kinds."""
    table: dict[str, tuple[str, str]] = {}
    for kind, phrases in (("connector", _CONNECTOR_PHRASES), ("role", _ROLE_PHRASES), ("source", _SOURCE_PHRASES),
                          ("file", _FILE_PHRASES), ("pool", _POOL_PHRASES), ("handout", _HANDOUT_PHRASES)):
        for phrase in phrases:
            table[_key(phrase)] = (kind, phrase)
    for alias, canonical in AGENCIES.items():
        table[_key(alias)] = ("agency", canonical)
    return table


_PHRASES: dict[str, tuple[str, str]] = _phrase_table()
_MAX_PHRASE_WORDS = max(len(k.split()) for k in _PHRASES)
_NON_NAME_KEYS = frozenset(
    {_key(w) for w in _ORG_WORDS}
    | {k for k, (kind, _) in _PHRASES.items() if kind in {"role", "source", "file", "pool", "handout"}
       and " " not in k and k != "ho"}
)


def _scan(words: list[str]) -> list[tuple[str, str]] | None:
    """Known phrases covering all of ``words`` (longest first), or None when some word is unknown."""
    found: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        if words[i].isdigit():
            i += 1
            continue
        for n in range(min(_MAX_PHRASE_WORDS, len(words) - i), 0, -1):
            hit = _PHRASES.get(" ".join(words[i:i + n]))
            if hit is not None:
                found.append(hit)
                i += n
                break
        else:
            return None
    return found


# --- credits --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credit:
    """An image credit split into people, agencies and markers."""

    raw: str  # the credit as found, whitespace-collapsed
    photographers: tuple[str, ...] = ()  # persons, properly cased, order kept, de-duplicated
    agencies: tuple[str, ...] = ()  # canonical names from AGENCIES, order kept, de-duplicated
    is_file_photo: bool = False
    is_handout: bool = False
    is_pool: bool = False


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A parsed credit plus its parts that were neither a known phrase nor a person."""

    credit: Credit
    unknown_parts: tuple[str, ...]


def canonical_agency(name: str) -> str | None:
    """'REUTERS' -> 'Reuters', 'Associated Press' -> 'AP', 'Getty Images' -> 'Getty Images'; None for non-agencies."""
    hits = _scan(_key(name).split())
    if not hits:
        return None
    agencies = {value for kind, value in hits if kind == "agency"}
    return agencies.pop() if len(agencies) == 1 else None


def parse_credit(text: str) -> Credit:
    """The credit split up: 'REUTERS/Jane Doe/File Photo' -> ('Jane Doe',), ('Reuters',), file photo; never raises."""
    return _parse(text).credit


def _strip_prefixes(text: str) -> tuple[str, str]:
    """Text without leading labels ('Photo:', '© 2024', 'Foto von') and the labels: 'Photo: X' -> ('X', 'Photo: ')."""
    removed: list[str] = []
    while True:
        match = _PREFIX_RE.match(text)
        if not match or not match.group(0).strip():
            break
        removed.append(match.group(0))
        text = text[match.end():]
    return text, " ".join(removed)


@functools.lru_cache(maxsize=8192)  # a caption's credit is parsed by images, image records and leak removal
def _parse(text: str) -> _Parsed:
    """The credit of ``text`` plus the parts that were neither a known phrase nor a person."""
    raw = _WS_RE.sub(" ", text).strip()
    cleaned = _BOILERPLATE_RE.sub(" ", raw)
    cleaned = _WS_RE.sub(" ", cleaned).strip(" -–—.,;:")
    if len(cleaned) >= 2 and cleaned[0] in "([" and cleaned[-1] in ")]":
        cleaned = cleaned[1:-1]
    cleaned, labels = _strip_prefixes(cleaned)
    labels += " " + " ".join(m.group(0) for m in _INNER_LABEL_RE.finditer(cleaned))
    cleaned = _INNER_LABEL_RE.sub(" / ", cleaned)
    cleaned = _INITIAL_GLUED_RE.sub(r"\1. ", cleaned)

    photographers: list[str] = []
    agencies: list[str] = []
    flags: set[str] = set(_flags_in(labels))
    unknown: list[str] = []

    def record(hits: list[tuple[str, str]]) -> None:
        for kind, value in hits:
            if kind == "agency":
                if value not in agencies:
                    agencies.append(value)
            elif kind in {"file", "pool", "handout"}:
                flags.add(kind)

    for part in _SEPARATOR_RE.split(cleaned):
        part, part_labels = _strip_prefixes(part.strip())
        flags.update(_flags_in(part_labels))
        part = _LEADING_VIA_RE.sub("", part.strip())
        outlet = _FOR_RE.search(part)
        if outlet:
            part = part[:outlet.start()]
            outlet_hits = _scan(_key(outlet.group("outlet")).split())
            if outlet_hits:
                record(outlet_hits)
        part = part.strip(_EDGE_PUNCT)
        if not part:
            continue
        hits = _scan(_key(part).split())
        if hits is not None:
            record(hits)
            continue
        named = _person(part)
        if named is None:
            unknown.append(part)
            continue
        name, peeled = named
        record(peeled)
        if _dedupe_key(name) not in {_dedupe_key(p) for p in photographers}:
            photographers.append(name)
    credit = Credit(
        raw=raw,
        photographers=tuple(photographers),
        agencies=tuple(agencies),
        is_file_photo="file" in flags,
        is_handout="handout" in flags,
        is_pool="pool" in flags,
    )
    return _Parsed(credit=credit, unknown_parts=tuple(unknown))


def _flags_in(text: str) -> list[str]:
    """The file/pool/handout markers among the words of ``text``: 'File photo:' -> ['file']."""
    words = _key(text).split()
    found: list[str] = []
    for n in range(min(_MAX_PHRASE_WORDS, len(words)), 0, -1):
        for i in range(len(words) - n + 1):
            hit = _PHRASES.get(" ".join(words[i:i + n]))
            if hit is not None and hit[0] in {"file", "pool", "handout"}:
                found.append(hit[0])
    return found


def _person(part: str) -> tuple[str, list[tuple[str, str]]] | None:
    """The cased person in ``part`` and known phrases cut off its ends: 'Jane Doe AFP' -> ('Jane Doe', [agency AFP])."""
    tokens = part.split()
    if len(tokens) > 12:
        return None
    for peel in (*range(1, min(len(tokens) - 2, 4) + 1), 0):  # known words at the edges go first
        for left in range(peel + 1):
            right = peel - left
            middle = tokens[left:len(tokens) - right]
            peeled: list[tuple[str, str]] = []
            ok = True
            for chunk in (tokens[:left], tokens[len(tokens) - right:]):
                if not chunk:
                    continue
                hits = _scan(_key(" ".join(chunk)).split())
                if not hits or not _peelable(chunk, hits):
                    ok = False
                    break
                peeled.extend(hits)
            if ok and _is_name(middle):
                return _proper_case(middle), peeled
    return None


def _peelable(chunk: list[str], hits: list[tuple[str, str]]) -> bool:
    """Whether known words at the edge of a name may be cut off it: ALL CAPS, several words, or a long agency name."""
    if len(chunk) > 1 or all(not ch.isalpha() or ch.isupper() for ch in "".join(chunk)):
        return True
    return len(hits) == 1 and hits[0][0] == "agency" and len(chunk[0]) >= 5


def _is_name(tokens: list[str]) -> bool:
    """Whether ``tokens`` look like a person's name: 2-5 capitalised words, no organisation words, no digits."""
    core = [t for t in tokens if t not in _PARTICLES]
    if not 2 <= len(core) <= 5 or len(tokens) > 8 or tokens[0] in _PARTICLES or tokens[-1] in _PARTICLES:
        return False
    if tokens[0].lower() in _ARTICLES:
        return False
    has_lower = any(ch.islower() for ch in "".join(tokens))
    for token in core:
        if not _is_name_token(token):
            return False
        letters = [ch for ch in token if ch.isalpha()]
        key = _key(token)
        if key in _NON_NAME_KEYS or any(key.endswith(s) and len(key) > len(s) + 2 for s in _ORG_SUFFIXES):
            return False
        if has_lower and "." not in token and 2 <= len(letters) <= 4 and all(ch.isupper() for ch in letters) \
                and token not in _ROMAN_NUMERALS:
            return False  # an abbreviation among cased words: "VS Tristach", "Cultura RF"
    return sum(ch.isalpha() for ch in tokens[-1]) >= 2


def _is_name_token(token: str) -> bool:
    """Whether one word can be part of a name: 'Jean-Pierre', "O'Neil", 'J.', 'al-Sudani', 'Дмитрий' yes; 'x2' no."""
    if not token[0].isalpha():
        return False
    if any(not (ch.isalpha() or unicodedata.combining(ch) or ch in _NAME_PUNCT) for ch in token):
        return False
    if token[0].islower() and not _LOWER_NAME_PREFIX_RE.match(token):
        return False
    letters = sum(ch.isalpha() for ch in token)
    if "." in token.rstrip(".") and not _INITIALISM_RE.match(token):
        return False
    return not (token.endswith(".") and letters > 2)


def _proper_case(tokens: list[str]) -> str:
    """The name with ALL CAPS words recased ('JEAN-PIERRE DUPONT' -> 'Jean-Pierre Dupont'); mixed case kept."""
    if any(ch.islower() for ch in "".join(tokens)):
        return " ".join(tokens)
    out: list[str] = []
    for i, token in enumerate(tokens):
        if 0 < i < len(tokens) - 1 and token.lower() in _CASE_PARTICLES:
            out.append(token.lower())
        elif token.rstrip(".") in _ROMAN_NUMERALS:
            out.append(token)
        else:
            out.append("-".join(_cap_word(p) for p in token.split("-")))
    return " ".join(out)


def _cap_word(word: str) -> str:
    """One ALL CAPS word capitalised: 'MCDONALD' -> 'McDonald', "O'NEIL" -> "O'Neil", 'J.' -> 'J.'."""
    for apostrophe in "'’":
        head, sep, tail = word.partition(apostrophe)
        if sep and len(head) == 1 and tail:
            return head.upper() + sep + _cap_word(tail)
    if len(word) > 3 and word[:2].lower() == "mc":
        return "Mc" + word[2:3].upper() + word[3:].lower()
    return word[:1].upper() + word[1:].lower()


def _dedupe_key(name: str) -> str:
    """Letters of a name, folded: 'Hannes P. Albert' and 'Hannes P Albert' are one person."""
    return "".join(ch for ch in _fold(name) if ch.isalpha())


# --- captions -------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)  # pure, and asked about the same caption several times per page
def split_caption_credit(text: str) -> tuple[str, str | None]:
    """'Crowds in Kyiv. Photo: Jane Doe/AP' -> ('Crowds in Kyiv.', 'Jane Doe/AP'); no credit -> (text.strip(), None)."""
    s = text.strip()
    if not s:
        return "", None
    bracket = _TRAILING_BRACKET_RE.search(s)
    if bracket:
        inner = bracket.group("inner").strip()
        stripped, labels = _strip_prefixes(inner)
        if labels.strip() and _is_labelled_credit(stripped.strip()) or not labels.strip() and _is_bare_credit(inner):
            caption, credit = _caption_before(s, bracket.start()), _collapse(inner if _flags_in(labels) else stripped)
            before, outer = split_caption_credit(caption) if caption else (caption, None)
            if outer and before and not outer.endswith(")"):  # "... Foto: Urs Flueeler (Keystone)"
                return before, f"{outer} ({credit})"
            return caption, credit
    window = max(0, len(s) - _MAX_CREDIT_CHARS)
    for match in _LABEL_IN_TEXT_RE.finditer(s, window):
        before = s[:match.start()].rstrip()
        label = match.group(0)
        at_boundary = not before or before[-1] in _LABEL_BOUNDARY_CHARS
        if not (at_boundary or label[0].isupper() or label[0] in "©("):
            continue
        credit, labels = _strip_prefixes(s[match.start():])
        credit = credit.strip().rstrip(")]").strip(_EDGE_PUNCT)
        if _is_labelled_credit(credit):
            kept = s[match.start():].strip().rstrip(")]").strip(_EDGE_PUNCT) if _flags_in(labels) else credit
            return _caption_before(s, match.start()), _collapse(kept)
    starts = {0, *(m.end() for m in _BOUNDARY_RE.finditer(s, window)),
              *(m.start() for m in _CAPS_AGENCY_SLASH_RE.finditer(s, window))}
    for start in sorted(start for start in starts if start >= window):
        tail = s[start:].strip()
        if not tail or len(tail.split()) > _MAX_CREDIT_WORDS:
            continue
        # a tail spanning a caption boundary ("Robertson vom FC Liverpool | AFP/Paul Ellis") must be all credit
        if _is_bare_credit(tail, allow_unknown=not _BOUNDARY_RE.search(tail)):
            return _caption_before(s, start), _collapse(tail)
    return s, None


def _collapse(text: str) -> str:
    """Whitespace collapsed, separators trimmed off the edges: ' Jane  Doe/AP | ' -> 'Jane Doe/AP'."""
    return _WS_RE.sub(" ", text).strip(" ,;:|")


def _caption_before(text: str, end: int) -> str:
    """The caption left of a credit starting at ``end``, without dangling separators or brackets."""
    return text[:end].rstrip().rstrip("|–—-/(:[,;").rstrip()


def _is_labelled_credit(text: str) -> bool:
    """Whether what follows a 'Photo:' label is a credit rather than the rest of a sentence."""
    words = text.split()
    if not any(ch.isalnum() for ch in text) or len(words) > _MAX_CREDIT_WORDS or _SENTENCE_INSIDE_RE.search(text):
        return False
    credit = _parse(text).credit
    found = credit.photographers or credit.agencies or credit.is_file_photo or credit.is_handout or credit.is_pool
    return bool(found) or len(words) <= 3


def _is_bare_credit(text: str, *, allow_unknown: bool = True) -> bool:
    """Whether unlabelled text is all credit, with an agency: 'REUTERS/Evelyn Hockstein' yes, 'The AP said' no."""
    if len(text.split()) > _MAX_CREDIT_WORDS or _SENTENCE_INSIDE_RE.search(text):
        return False
    parsed = _parse(text)
    if not parsed.credit.agencies:
        return False
    return all(_is_proper_noun_phrase(p) for p in parsed.unknown_parts) if allow_unknown else not parsed.unknown_parts


def _is_proper_noun_phrase(text: str) -> bool:
    """Whether text reads as a short name of something: 'Ukrainian Presidential Press Service' yes, 'said it' no."""
    tokens = text.split()
    if not 1 <= len(tokens) <= 6:
        return False
    return all(t.lower() in _PARTICLES or t.lower() in {"of", "the", "and"} or not t[0].islower() for t in tokens)


# --- place and date -------------------------------------------------------------------------------------------------


def caption_place_date(caption: str, *, reference_year: int | None = None) -> tuple[str | None, date | None]:
    """Wire-caption ending: '... in Minsk, Belarus December 19, 2022.' -> ('Minsk, Belarus', date(2022, 12, 19))."""
    text, _ = split_caption_credit(caption)
    text = _WS_RE.sub(" ", text).strip()[-_MAX_DATELINE_CHARS:]
    matches = list(_DATE_RE.finditer(text))
    if not matches:
        return None, None
    last = matches[-1]
    when = _date_of(last, reference_year)
    if when is None and (last.group("year1") or last.group("year2") or reference_year is not None):
        return None, None  # an impossible date ("February 30, 2023") is no dateline
    after = text[last.end():]
    if _DATE_END_RE.match(after):
        return _place_before(text[:last.start()]), when
    then_place = _DATE_THEN_PLACE_RE.match(after)
    if then_place and _place_like(then_place.group("place")):
        return _clean_place(then_place.group("place")), when
    return None, None


def _date_of(match: re.Match[str], reference_year: int | None) -> date | None:
    """The date a _DATE_RE match names, the year defaulting to ``reference_year``; None when impossible."""
    month_text = match.group("mon1") or match.group("mon2") or ""
    day_text = match.group("day1") or match.group("day2") or ""
    year_text = match.group("year1") or match.group("year2")
    year = int(year_text) if year_text else reference_year
    month = _MONTHS.get(month_text.lower().rstrip("."))
    if year is None or month is None or not day_text or not 1000 <= year <= 9999:
        return None
    try:
        return date(year, month, int(day_text))
    except ValueError:
        return None


_NEW_PLACE_PHRASE = re.compile(r",\s+in\s", re.IGNORECASE)


def _place_before(prefix: str) -> str | None:
    """The place named by the last 'in <Place>' (extended over 'in the town of X in Y') at the end of ``prefix``."""
    prefix = _BEFORE_DATE_TAIL_RE.sub("", prefix)
    intros = list(_PLACE_INTRO_RE.finditer(prefix))
    best: str | None = None
    for intro in reversed(intros):
        span = prefix[intro.end():]
        if not _place_like(span) or _NEW_PLACE_PHRASE.search(span):
            break  # "... in Ukraine, in the town of X": the last phrase is the place
        best = span
    return _clean_place(best) if best else None


def _place_like(span: str) -> bool:
    """Whether ``span`` reads as a place: capitalised words, commas, 'of the', 'region', at most 12 words."""
    words = [w.strip(",;") for w in span.split()]
    words = [w for w in words if w]
    if not 1 <= len(words) <= 12 or any(ch.isdigit() for ch in span):
        return False
    if any(ch in span for ch in "()[]:;!?\"“”"):
        return False
    capitalised = 0
    for word in words:
        lower = word.lower().rstrip(".")
        if word[0].isupper() or (word[0].isalpha() and not word[0].islower()):
            capitalised += 1
            if _MONTHS.get(lower) is not None and lower not in {"may", "march"}:
                return False
        elif lower not in _PLACE_CONNECTORS and lower not in _PLACE_NOUNS:
            return False
    return capitalised > 0


def _clean_place(place: str) -> str:
    """The place without trailing punctuation, keeping abbreviation dots: 'La Crosse, Wis.' stays, 'Kyiv.' -> 'Kyiv'."""
    place = place.strip().rstrip(",;")
    if place.endswith("."):
        last = place.split()[-1].split(",")[-1]
        if last not in _AP_ABBREVIATIONS and not _INITIALISM_RE.match(last):
            place = place[:-1]
    return place.strip()


# --- fast case-insensitive search ------------------------------------------------------------------------------------


class Caseless:
    """A case-insensitive regular expression written in lowercase, tested several times faster than with re.I.

    Python's re cannot skip ahead to the possible first letters of an IGNORECASE alternation, so testing
    "caption|legend|..." on every class attribute of a page was a visible part of extraction. ASCII text (nearly
    every class and id) is lowercased and searched case-sensitively, which finds the same matches; other text
    takes the IGNORECASE route, which also pairs "K" (Kelvin sign) with "k" and "ſ" with "s" as before. The
    pattern must hold no uppercase letters outside escapes (tests/test_fast_paths.py checks each one).
    """

    __slots__ = ("folded", "lowered")

    def __init__(self, pattern: str) -> None:
        self.folded = re.compile(pattern, re.IGNORECASE)
        self.lowered = re.compile(pattern)

    def search(self, text: str) -> bool:
        """Whether the pattern occurs anywhere in text, ignoring case."""
        if text.isascii():
            return self.lowered.search(text.lower()) is not None
        return self.folded.search(text) is not None
