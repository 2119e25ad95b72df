"""Actors of one article: named-entity mentions and named groups, clustered into actors, and the
pronouns and anaphoric group phrases that refer to them."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

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
PRONOUNS_PERSON = frozenset({"he", "she", "him", "her", "his"})
PRONOUN_GENDER = {"he": "m", "him": "m", "his": "m", "she": "f", "her": "f"}
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
PRONOUN_WINDOW = 5  # he/she refer to a person named at most this many sentences before


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
                              sentence.doc_index))
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


def cluster(mentions: list[Mention]) -> dict[str, Cluster]:
    """Group an article's mentions into actors: persons by surname ('Putin' joins 'Vladimir Putin'),
    others by their normalized name."""
    clusters: dict[str, Cluster] = {}
    persons = [m for m in mentions if m.kind == "person"]
    full = [m for m in persons if len(m.name.split()) > 1]
    surnames: dict[str, str] = {}
    for m in full:
        surname = _surname(m.name)
        key = f"person:{surnames.setdefault(surname, surname)}"
        _add(clusters, key, m)
    for m in persons:
        if len(m.name.split()) > 1:
            continue
        token = m.name.casefold()
        key = f"person:{token}" if token in surnames else next(
            (f"person:{s}" for s in surnames if any(n.split()[0].casefold() == token
                                                     for n in clusters[f"person:{s}"].names)), f"person:{token}")
        _add(clusters, key, m)
    for m in mentions:
        if m.kind == "person":
            continue
        surname_key = f"person:{m.name.casefold()}"
        if m.kind == "organization" and len(m.name.split()) == 1 and surname_key in clusters:
            _add(clusters, surname_key, m)  # "Trump" tagged ORG in an article about Donald Trump
            continue
        _add(clusters, f"{m.kind}:{m.name.casefold()}", m)
    for cluster in clusters.values():
        multi = [(n, c) for n, c in cluster.names.items() if len(n.split()) > 1]
        pool = multi or list(cluster.names.items())
        cluster.name = min(pool, key=lambda nc: (-nc[1], len(nc[0]), nc[0]))[0]
    return clusters


def _surname(name: str) -> str:
    return name.split()[-1].casefold().strip(".")


def _add(clusters: dict[str, Cluster], key: str, mention: Mention) -> None:
    cluster = clusters.setdefault(key, Cluster(mention.kind, Counter(), []))
    cluster.names[mention.name] += 1
    cluster.mentions.append(mention)
    mention.key = key


def resolve_pronouns(sentences: list[Sentence], clusters: dict[str, Cluster]) -> None:
    """he/she/his/her -> the person last mentioned (this or the PRONOUN_WINDOW sentences before);
    'the group' -> the group or organization last mentioned as such."""
    recent_person: list[tuple[int, str]] = []
    last_group: str | None = None
    gender: dict[str, str] = {}  # cluster -> "m"/"f", learnt from the pronouns resolved to it
    for sentence in sentences:
        if sentence.source != "body":
            continue
        added: list[Mention] = []
        for token in sentence.span:
            if token.lower_ in PRONOUNS_PERSON and pos_of(token) == "PRON" or (
                    token.lower_ in {"his", "her"} and token.dep_ == "poss"):
                said = PRONOUN_GENDER[token.lower_]
                agrees = [key for sid, key in recent_person
                          if sentence.sentence_id - sid <= PRONOUN_WINDOW and gender.get(key, said) == said]
                earlier = [m.key for m in sentence.mentions if m.kind == "person" and m.tokens
                           and m.tokens[0] < token.i and gender.get(m.key, said) == said]
                key = earlier[-1] if earlier else (agrees[-1] if agrees else None)
                if key:  # "she" after a man named only: unresolved rather than wrong
                    gender.setdefault(key, said)
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
        for m in sentence.mentions:
            if m.kind == "person" and m.label != "PRON":
                recent_person.append((sentence.sentence_id, m.key))
            if m.kind == "group" and m.label == "ORG":
                last_group = m.key


def _pronoun_mention(sentence: Sentence, token: Token, label: str, kind: ActorKind, key: str) -> Mention:
    start = token.idx - sentence.span.start_char
    return Mention(sentence.sentence_id, sentence.source, start, start + len(token.text), token.text, label, kind,
                    token.text, (token.i,), sentence.doc_index, key)


def actor_records(article: ArticleRecord, clusters: dict[str, Cluster]) -> list[ArticleActorRecord]:
    records = []
    for cluster in clusters.values():
        aliases = tuple(sorted(n for n in cluster.names if n != cluster.name))
        records.append(ArticleActorRecord(
            actor_id=actor_id_of(cluster.kind, cluster.name), article_id=article.article_id,
            content_hash=article.content_hash, name=cluster.name, kind=cluster.kind, aliases=aliases,
            mention_count=len(cluster.mentions)))
    return records


