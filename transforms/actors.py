"""Actors of one article: named-entity mentions and named groups, clustered into actors, and the
pronouns and anaphoric group phrases that refer to them."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

from dateline.transforms.credits import canonical_agency
from dateline.transforms.parsed import Mention, Sentence, actor_id_of, pos_of
from dateline.transforms.schema import ActorKind, ArticleActorRecord, ArticleRecord
from spacy.tokens import Span, Token

KIND_OF_LABEL: dict[str, ActorKind] = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place",
                                       "FAC": "place", "NORP": "group"}
TITLES = frozenset("""
president vice prime minister chancellor secretary general gen. gen sen. sen senator rep. rep representative
gov. gov governor mayor king queen prince princess pope bishop cardinal rev. dr. dr prof. prof mr. mr mrs. mrs
ms. ms sir dame lord lady chief commander supreme leader judge justice ceo chairman chairwoman chair director
spokesman spokeswoman spokesperson ambassador foreign defence defense interior finance former late the colonel
col. captain capt. lieutenant lt. sergeant sgt. admiral adm. marshal field premier speaker deputy acting
""".split())
NOT_ACTORS = frozenset("""
motherland fatherland homeland government state parliament president presidency administration army police
court internet web covid-19 covid god allah
""".split())
PRONOUN_GENDER = {"he": "m", "him": "m", "his": "m", "himself": "m", "she": "f", "her": "f", "hers": "f",
                  "herself": "f"}
# English honorifics that say a person's gender (a closed class of the language, not names)
HONORIFIC_GENDER = {**dict.fromkeys("mr mr. sir lord king prince duke".split(), "m"),
                    **dict.fromkeys("mrs mrs. ms ms. miss lady dame queen princess duchess".split(), "f")}
# one name for the places and bodies news writes many ways (a gazetteer of spellings, not of sites)
CANONICAL_NAMES: dict[str, tuple[ActorKind, str]] = {
    **{k: ("place", "United States") for k in ("us", "u.s.", "u.s", "usa", "u.s.a.", "united states",
                                               "the united states", "united states of america")},
    **{k: ("place", "United Kingdom") for k in ("uk", "u.k.", "britain", "great britain", "united kingdom")},
    **{k: ("organization", "European Union") for k in ("eu", "e.u.", "european union")},
    **{k: ("organization", "United Nations") for k in ("un", "u.n.", "united nations")},
    **{k: ("organization", "NATO") for k in ("nato", "north atlantic treaty organization")},
}
GROUP_PHRASE = re.compile(
    r"(?:\b[Tt]he\s+)?(?P<name>(?:[A-Z][\w'’.-]*\s+)(?:(?:of|for|and|the|de|du|del)\s+|[A-Z][\w'’.-]*\s+)*?)"
    r"(?P<head>[Gg]roup|[Oo]rganization|[Oo]rganisation|[Mm]ovement|[Aa]ssociation|[Uu]nion|[Cc]oalition|"
    r"[Cc]ommittee|[Cc]ouncil|[Ff]oundation|[Nn]etwork|[Aa]lliance|[Pp]arty)\b")
ANAPHORIC_GROUP = re.compile(r"\b[Tt]he\s+(?:\w+['’]?\s+)?(group|organization|organisation|movement|association)\b")
PRONOUN_WINDOW = 2  # he/she refer to a person named in their sentence or at most this many sentences before


# --- mentions ----------------------------------------------------------------------------

def _clean_name(span: Span) -> tuple[str, tuple[int, ...]]:
    """The entity's name without leading titles and determiners and a trailing possessive."""
    tokens = [t for t in span if not t.is_punct or t.text in {".", "-", "'"}]
    while tokens and (tokens[0].lower_ in TITLES or pos_of(tokens[0]) in {"DET", "VERB"}) and len(tokens) > 1:
        tokens = tokens[1:]
    while tokens and tokens[-1].text in {"'s", "’s", "'", "’"}:
        tokens = tokens[:-1]
    name = " ".join(t.text for t in tokens).replace(" - ", "-").replace(" .", ".")
    return name.strip(), tuple(t.i for t in tokens)


def _honorific_gender(ent: Span) -> str:
    """"m"/"f" when an honorific inside the entity or just before it says so ("Mrs. May", "Lady Starmer")."""
    words = [t.lower_ for t in ent[:2]]
    if ent.start > 0:
        words.insert(0, ent.doc[ent.start - 1].lower_)
    return next((HONORIFIC_GENDER[w] for w in words if w in HONORIFIC_GENDER), "")


def _definite(ent: Span) -> bool:
    """Whether the entity's own head takes "the" just before it ("The Dodgers made ...", but not "the Trump
    administration", whose "the" belongs to "administration")."""
    before = ent.doc[ent.start - 1] if ent.start > 0 else None
    return before is not None and before.lower_ == "the" and before.dep_ == "det" and before.head.i == ent.root.i


def mentions_in(sentence: Sentence, own_agencies: frozenset[str]) -> list[Mention]:
    span = sentence.span
    found: list[Mention] = []
    for ent in span.ents:
        kind = KIND_OF_LABEL.get(ent.label_)
        if kind is None:
            continue
        if kind == "group" and not any(t.tag_ == "NNPS" for t in ent):
            continue  # "Russian", "Soviet": adjectives, not actors; "Russians" is a group
        if kind != "group" and not any(pos_of(t) == "PROPN" for t in ent):
            continue  # "Invoking" (a verb), "millions"
        if kind == "person" and _definite(ent):
            kind = "organization"  # "the Dodgers", "the Beatles": a person's name takes no article
        name, token_ids = _clean_name(ent)
        if not name or name.casefold() in NOT_ACTORS or all(w.casefold().strip(".") in TITLES for w in name.split()):
            continue
        if kind != "person" and name.casefold() in CANONICAL_NAMES:
            kind, name = CANONICAL_NAMES[name.casefold()]
        agency = canonical_agency(name) if kind == "organization" else None
        if agency and (sentence.source == "caption" or agency in own_agencies):
            continue  # the article's own agency ("she told Reuters") or a caption credit is no actor
        found.append(Mention(sentence.sentence_id, sentence.source, ent.start_char - span.start_char,
                              ent.end_char - span.start_char, ent.text, ent.label_, kind, name, token_ids,
                              sentence.doc_index, gender=_honorific_gender(ent) if kind == "person" else ""))
    for match in GROUP_PHRASE.finditer(span.text):
        char_span = span.doc.char_span(span.start_char + match.start("name"), span.start_char + match.end("head"),
                                       alignment_mode="expand")
        if char_span is None or not any(pos_of(t) == "PROPN" for t in char_span):
            continue
        inner = {t.i for t in char_span}
        if any(m.kind in {"person", "organization"} and set(m.tokens) & inner for m in found):
            continue  # "the Putin group": the person stays the actor
        found = [m for m in found if not set(m.tokens) <= inner]  # "Russia" inside "... of Russia group"
        name = " ".join(match.group("name").split() + [match.group("head").lower()])
        found.append(Mention(sentence.sentence_id, sentence.source, match.start(), match.end(), match.group(0),
                              "ORG", "group", name, tuple(t.i for t in char_span), sentence.doc_index))
    found.sort(key=lambda m: m.start)
    return found


# --- actors ------------------------------------------------------------------------------

@dataclass
class Cluster:
    kind: ActorKind
    names: Counter[str]
    mentions: list[Mention]
    name: str = ""
    gender: str = ""  # "m"/"f" once an honorific or an unambiguous pronoun says so: the text refers to it
    given: tuple[str, ...] = ()  # a person's given names, casefolded, from its first full name
    surname: str = ""
    name_gender: str = ""  # "m"/"f" when a full name's first given name says so (given_name_gender)

    @property
    def known_gender(self) -> str:
        """The gender the text states, else the one its given name says, else ""."""
        return self.gender or self.name_gender


def _tokens(name: str) -> list[str]:
    return [w.casefold().strip(".") for w in name.split()]


def _given_compatible(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two lists of given names can be one person's: the first ones agree, or one is the other's
    initial ("V." and "Vladimir"); "Donald" and "Kamala" cannot."""
    if not a or not b:
        return True
    x, y = a[0], b[0]
    return x == y or (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y))


@cache
def _name_detector() -> Any:
    import gender_guesser.detector

    return gender_guesser.detector.Detector(case_sensitive=False)


def given_name_gender(name: str) -> str:
    """"m" or "f" when a given name is one gender's only (gender-guesser's dictionary of about 40,000 given
    names across countries: "male" or "female", never its "mostly_" or ambiguous classes), else ""."""
    if len(name) < 2:
        return ""  # an initial
    return {"male": "m", "female": "f"}.get(_name_detector().get_gender(name), "")


def _gender_compatible(gender: str, cluster: Cluster) -> bool:
    return not gender or not cluster.known_gender or gender == cluster.known_gender


def cluster(mentions: list[Mention]) -> dict[str, Cluster]:
    """Group an article's mentions into actors. A person's full name ("Vladimir Putin") joins an earlier
    one only with the same surname and compatible given names ("V. Putin"; never "Donald Harris" with
    "Kamala Harris", nor "Chen Jinping" with "Xi Jinping"); a single name ("Putin", "Mr. Harris", "Vladimir")
    joins the one full name it can be, by surname first, then by given name, and not against the gender an
    honorific states; when several people share it, the one mentioned most, if one is; otherwise it stays
    an actor of its own. Other kinds group by their normalized name."""
    clusters: dict[str, Cluster] = {}
    persons = [m for m in mentions if m.kind == "person"]
    full: list[Cluster] = []
    for m in persons:
        words = _tokens(m.name)
        if len(words) < 2:
            continue
        given, surname = tuple(words[:-1]), words[-1]
        fits = [c for c in full if c.surname == surname and _given_compatible(given, c.given)
                and _gender_compatible(m.gender, c)]
        key = max(fits, key=lambda c: len(c.mentions)).mentions[0].key if fits else f"person:{' '.join(words)}"
        c = _add(clusters, key, m)
        if not fits:
            c.given, c.surname = given, surname
            full.append(c)
        c.gender = c.gender or m.gender
        c.name_gender = c.name_gender or given_name_gender(given[0])
    for m in persons:
        words = _tokens(m.name)
        if len(words) != 1:
            continue
        token = words[0]
        fits = [c for c in full if c.surname == token and _gender_compatible(m.gender, c)] or \
               [c for c in full if c.given[:1] == (token,) and _gender_compatible(m.gender, c)]
        counts = sorted((len(c.mentions) for c in fits), reverse=True)
        if fits and (len(fits) == 1 or counts[0] > counts[1]):
            _add(clusters, max(fits, key=lambda c: len(c.mentions)).mentions[0].key, m)
        else:
            c = _add(clusters, f"person:{token}", m)
            c.gender = c.gender or m.gender
    by_surname: dict[str, list[Cluster]] = {}
    for c in full:
        by_surname.setdefault(c.surname, []).append(c)
    for m in mentions:
        if m.kind == "person":
            continue
        same = by_surname.get(m.name.casefold(), [])
        if m.kind == "organization" and len(m.name.split()) == 1 and len(same) == 1:
            _add(clusters, same[0].mentions[0].key, m)  # "Trump" tagged ORG in an article about Donald Trump
            continue
        _add(clusters, f"{m.kind}:{m.name.casefold()}", m)
    _merge_kinds(clusters)
    for c in clusters.values():
        multi = [(n, k) for n, k in c.names.items() if len(n.split()) > 1]
        pool = multi or list(c.names.items())
        c.name = min(pool, key=lambda nk: (-nk[1], len(nk[0]), nk[0]))[0]
    return clusters


KIND_ORDER: tuple[ActorKind, ...] = ("organization", "person", "place", "group")  # ties between kinds


def _merge_kinds(clusters: dict[str, Cluster]) -> None:
    """One name the parse labels differently across the article's mentions ("the Dodgers" PERSON once,
    ORG twice) is one actor, of the kind most of its mentions have."""
    by_name: dict[str, list[str]] = {}
    for key, c in clusters.items():
        if c.kind != "person" or not c.given:  # a full person name is a person: never re-kinded
            by_name.setdefault(key.split(":", 1)[1], []).append(key)
    for keys in by_name.values():
        if len(keys) < 2:
            continue
        keys.sort(key=lambda k: (-len(clusters[k].mentions), KIND_ORDER.index(clusters[k].kind)))
        into = clusters[keys[0]]
        for key in keys[1:]:
            for m in clusters.pop(key).mentions:
                m.key, m.kind = keys[0], into.kind
                into.mentions.append(m)
                into.names[m.name] += 1


def _add(clusters: dict[str, Cluster], key: str, mention: Mention) -> Cluster:
    c = clusters.setdefault(key, Cluster(mention.kind, Counter(), []))
    c.names[mention.name] += 1
    c.mentions.append(mention)
    mention.key = key
    return c


def actor_id(c: Cluster, article_id: str) -> str:
    """The actor's id: corpus-wide for a full name and every other kind (the same kind and name give the
    same id in every article); a person known only by one name ("Harris") is an actor of this article
    alone, since across articles a bare surname names many people."""
    if c.kind == "person" and len(c.name.split()) < 2:
        return actor_id_of(c.kind, f"{c.name} #{article_id}")
    return actor_id_of(c.kind, c.name)


# salience of a candidate antecedent (after Lappin & Leass 1994): its grammatical role, then how
# recent its sentence is; the highest wins
ROLE_WEIGHT = {"nsubj": 80, "nsubjpass": 70, "dobj": 50, "dative": 40, "appos": 40, "pobj": 30, "poss": 30}
OTHER_ROLE = 30
SENTENCE_WEIGHT = (100, 50, 25)  # this sentence, the one before, two before (PRONOUN_WINDOW)
OBJECT_DEPS = frozenset({"dobj", "dative", "iobj", "obj"})
SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})


def _head(doc_tokens: tuple[int, ...], span: Span) -> Token | None:
    inside = set(doc_tokens)
    for i in doc_tokens:
        token = span.doc[i]
        if token.head.i not in inside or token.head.i == token.i:
            return token
    return None


# a phrase before its clause's subject: "In his speech, Obama said", "Living with her aunt, Kelsey studied"
PREPOSED_DEPS = frozenset({"prep", "advcl", "npadvmod", "advmod"})


def _cataphora_subject(pronoun: Token) -> Token | None:
    """The subject a pronoun points forward to: the pronoun stands in a phrase that opens its clause, before
    the clause's subject ("In his list for the Review, Robert Christgau named ..."; through a participle
    with no subject of its own: "Writing in his column, Robert Christgau called ..."); else None."""
    token = pronoun
    while token.head.i != token.i:
        head = token.head
        if pos_of(head) in {"VERB", "AUX"}:
            if token.dep_ not in PREPOSED_DEPS:
                return None
            subject = next((c for c in head.children if c.dep_ in SUBJECT_DEPS), None)
            if subject is None and head.dep_ in PREPOSED_DEPS:
                token = head  # the participle's own subject is its clause's
                continue
            return subject if subject is not None and token.i < subject.i else None
        token = head
    return None


def _clause_verb(token: Token) -> Token:
    while token.dep_ not in {"ROOT", "ccomp", "xcomp", "advcl", "relcl", "conj", "acl", "pcomp"} \
            and token.head.i != token.i:
        token = token.head
    return token


def _quoted(span: Span) -> bool:
    """Whether the sentence is all quoted speech: it opens inside a quotation (or with a quote mark) and
    ends inside one (or with a closing mark). Another voice's words; the window of a pronoun in the
    narrative counts the narrative's own sentences."""
    before = span.doc.text[:span.start_char]
    through = span.doc.text[:span.end_char]

    def inside(text: str) -> bool:
        return text.count('"') % 2 == 1 or text.count("\u201c") > text.count("\u201d")

    body = span.text.strip()
    return bool(body) and (inside(before) or body[0] in '"\u201c') and (
        inside(through) or body.rstrip(".?!")[-1:] in '"\u201d' or body[-1] in '"\u201d')


def resolve_pronouns(sentences: list[Sentence], clusters: dict[str, Cluster]) -> None:
    """he/she/his/her -> a person named in the pronoun's sentence before it, or in the PRONOUN_WINDOW
    narrative sentences before (quoted speech between them does not count), whose gender does not
    disagree (a gender comes from an honorific, or from an earlier pronoun that could refer to that
    person alone), ranked by salience: the subject of the previous clause first, then objects, then
    other roles, the nearer sentence first. "him"/"her" as an object never refer to their own clause's
    subject ("Trump praised him"). A pronoun in a phrase that opens its clause points forward to the clause's
    subject when that is a person of no other gender ("In his review, Robert Christgau wrote": cataphora).
    With no such person, the pronoun stays unresolved.
    'the group' -> the group or organization last mentioned as such."""
    window: list[tuple[int, Mention, Token | None]] = []  # person mentions of recent body sentences
    last_group: str | None = None
    place = 0  # the sentence's place among the narrative's sentences: quoted speech does not move it
    for sentence in sentences:
        if sentence.source != "body":
            continue
        place += not _quoted(sentence.span)
        window = [w for w in window if place - w[0] <= PRONOUN_WINDOW]
        here = [(place, m, _head(m.tokens, sentence.span)) for m in sentence.mentions
                if m.kind == "person" and m.key in clusters]
        added: list[Mention] = []
        for token in sentence.span:
            said = PRONOUN_GENDER.get(token.lower_)
            if said is None or pos_of(token) != "PRON" and token.dep_ != "poss":
                continue
            subject = _cataphora_subject(token)
            ahead = next((m for _, m, h in here if subject is not None and h is not None and h.i == subject.i
                          and clusters[m.key].known_gender in ("", said)), None)
            if ahead is not None:
                added.append(_pronoun_mention(sentence, token, "PRON", "person", ahead.key))
                continue
            earlier = [(sid, m, h) for sid, m, h in here if m.tokens and m.tokens[0] < token.i]
            resolved = [(place, m, h) for m in added if (h := sentence.span.doc[m.tokens[0]]).i < token.i]
            key = _antecedent(token, said, [*window, *earlier, *resolved], place, clusters)
            if key:
                added.append(_pronoun_mention(sentence, token, "PRON", "person", key))
        for match in ANAPHORIC_GROUP.finditer(sentence.span.text):
            if last_group is None or any(m.start <= match.start() < m.end for m in sentence.mentions):
                continue
            char_span = sentence.span.doc.char_span(sentence.span.start_char + match.start(),
                                                    sentence.span.start_char + match.end(), alignment_mode="expand")
            if char_span is not None:
                added.append(Mention(sentence.sentence_id, "body", match.start(), match.end(), match.group(0),
                                      "ANAPHOR", clusters[last_group].kind, clusters[last_group].name,
                                      tuple(t.i for t in char_span), sentence.doc_index, last_group))
        sentence.mentions = sorted(sentence.mentions + added, key=lambda m: m.start)
        window += here + [(place, m, sentence.span.doc[m.tokens[0]]) for m in added if m.label == "PRON"]
        for m in sentence.mentions:
            if m.kind == "group" and m.label == "ORG":
                last_group = m.key


def _antecedent(pronoun: Token, said: str, candidates: list[tuple[int, Mention, Token | None]], sentence_id: int,
                clusters: dict[str, Cluster]) -> str | None:
    scores: dict[str, tuple[float, int, int]] = {}
    object_of = _clause_verb(pronoun) if pronoun.dep_ in OBJECT_DEPS else None
    for sid, m, head in candidates:
        c = clusters.get(m.key)
        if c is None or c.kind != "person" or (c.known_gender and c.known_gender != said):
            continue
        if object_of is not None and head is not None and head.dep_ in SUBJECT_DEPS and \
                _clause_verb(head).i == object_of.i:
            continue  # "Trump praised him": not Trump
        role = ROLE_WEIGHT.get(head.dep_, OTHER_ROLE) if head is not None else OTHER_ROLE
        score = SENTENCE_WEIGHT[min(sentence_id - sid, len(SENTENCE_WEIGHT) - 1)] + role + (20 if c.gender else 0)
        scores[m.key] = max(scores.get(m.key, (0.0, 0, 0)), (score, sid, m.start))  # a tie: the nearer
    if not scores:
        return None
    key = max(scores, key=lambda k: scores[k])
    if len(scores) == 1:
        clusters[key].gender = clusters[key].gender or said  # the only person it can be: now we know
    return key


def split_by_gender(clusters: dict[str, Cluster]) -> None:
    """A single name whose honorific says the other gender than its person's (now known from pronouns
    too) is someone else: "Lady Starmer" in an article whose Keir Starmer is "he" is his wife."""
    for key, c in list(clusters.items()):
        if c.kind != "person" or not c.known_gender:
            continue
        for m in [m for m in c.mentions if m.gender and m.gender != c.known_gender and len(m.name.split()) == 1]:
            c.mentions.remove(m)
            c.names[m.name] -= 1
            if not c.names[m.name]:
                del c.names[m.name]
            other = _add(clusters, f"person:{m.name.casefold()} ({m.gender})", m)
            other.gender, other.name = m.gender, m.name
        if not c.mentions:
            del clusters[key]


def _pronoun_mention(sentence: Sentence, token: Token, label: str, kind: ActorKind, key: str) -> Mention:
    start = token.idx - sentence.span.start_char
    return Mention(sentence.sentence_id, sentence.source, start, start + len(token.text), token.text, label, kind,
                    token.text, (token.i,), sentence.doc_index, key)


def actor_records(article: ArticleRecord, clusters: dict[str, Cluster],
                  ids: dict[str, str]) -> list[ArticleActorRecord]:
    """One record per actor of the article; ``ids`` maps each cluster key to its actor id (``actor_id``)."""
    records = []
    for key, cluster in clusters.items():
        aliases = tuple(sorted(n for n in cluster.names if n != cluster.name))
        records.append(ArticleActorRecord(
            actor_id=ids[key], article_id=article.article_id,
            content_hash=article.content_hash, name=cluster.name, kind=cluster.kind, aliases=aliases,
            mention_count=len(cluster.mentions)))
    return records


