"""Event clusters: the sentences of many reports grouped into the real-world events they tell.

An event row (transforms.events) is one sentence of one article. Reports of one event share actors,
a compatible date, a trigger (the main verb's lemma) and words; they never disagree on negation.
Two reporters often name an event's actors in different sentences ("The quake struck at dawn" after
a paragraph on the town): a report whose sentence shares no actor with a cluster may still join it
when their articles share an actor (the *context*: every actor of the article), its verb is a content
word (not one of the language's stop words, such as "be" or "have") and its words are the cluster's.
``Clusterer`` takes events one at a time, in a fixed order (:func:`order_key`: when the article
version was fetched, then its id and the sentence), and either adds each to the best compatible
cluster it already has or opens a new one. Candidates come from an index by (actor, month), never
from all clusters, so a run costs time linear in its own events. The state of a cluster is all a
later assignment reads, and it round-trips through a row (:meth:`Cluster.as_row`,
:meth:`Cluster.from_row`) exactly, so assigning a run's events to the stored clusters gives what
one pass over every event in the same order gives: a rebuild reproduces the incremental clusters.

The rules are general: no list of verbs or names. Words are compared as lowercased word prefixes
(``STEM``) with the language's stop words (spaCy's) left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from dateline.transforms.events import REPORTING_VERBS
from dateline.transforms.parsed import stable_id
from dateline.transforms.sitewide import site_of

STEM = 6  # words are compared by their first six letters: "mobilization" and "mobilisation" agree
WORDS_KEPT = 24  # a cluster keeps its 24 most frequent words (ties: alphabetical), enough to compare with
SAME_ARTICLE = 0.1  # how much higher the score of a sentence joining its own article's event must be
JOIN_AT = 0.5  # the score (0-1) from which an event joins a cluster: chosen on the dev splits (bench/event_clusters.py)
CONTEXT_KEPT = 8  # a cluster keeps the 8 actors its articles name most often (ties: alphabetical)
CONTEXT_WORDS = 0.5  # a report joining by context alone: the share of its words the cluster has, at least
CONTEXT_SHARED = 2  # ... and at least this many of them
REPORTED_WITHIN = 3  # days: reports dated only by their publication join events reported within this
LATE_REPORT = 14  # days: how long after an event's own date a report dated by its publication may tell it
BLOCK_BACK = 1  # months before an event's own month whose clusters are candidates too

Span = tuple[date, date]  # first and last day
Block = tuple[int, int] | str | None  # a month, "*" (any date) or None (a cluster with no date)

_WORD = re.compile(r"[^\W\d_]{3,}")


@cache
def stop_words(language: str | None) -> frozenset[str]:
    """spaCy's stop words for the language (none when spaCy has no such language)."""
    try:
        from spacy.util import get_lang_class

        return frozenset(w.lower() for w in get_lang_class(language or "en").Defaults.stop_words)
    except Exception:  # noqa: BLE001 - an unknown language has no stop list: every word counts
        return frozenset()


def words_of(sentence: str, language: str | None) -> frozenset[str]:
    """The sentence's content words, lowercased and cut to their first STEM letters."""
    stops = stop_words(language)
    return frozenset(w[:STEM] for w in (m.lower() for m in _WORD.findall(sentence)) if w not in stops)


@dataclass(frozen=True, slots=True)
class Report:
    """One event row as the clustering sees it, with its article's site, URL and times."""

    event_id: str
    article_id: str
    sentence_id: int
    trigger: str | None
    actor_ids: tuple[str, ...]
    event_date: date | None
    date_precision: str | None  # day, month or year
    date_basis: str | None  # explicit, relative, published
    place: str | None
    negated: bool
    sentence: str
    site: str | None
    url: str | None
    published_at: datetime | None
    fetched_at: datetime
    language: str | None = None
    words: frozenset[str] = frozenset()
    clause: bool = False  # the event of a clause inside the sentence, not of its main verb
    title: str | None = None  # the article's, as the timeline shows it
    site_name: str | None = None  # the site as the timeline names it: the page's site name, else its domain
    context: tuple[str, ...] = ()  # every actor of the article's reports (:func:`in_context`), its own included

    @classmethod
    def of(cls, **values: Any) -> Report:
        values.setdefault("words", words_of(values.get("sentence") or "", values.get("language")))
        values["actor_ids"] = tuple(values.get("actor_ids") or ())
        values["context"] = tuple(values.get("context") or values["actor_ids"])
        values["negated"] = bool(values.get("negated"))
        values["clause"] = bool(values.get("clause"))
        return cls(**values)

    @property
    def by_context(self) -> bool:
        """Whether the report may join a cluster its sentence shares no actor with (by its article's
        actors): its verb is a content word, not a stop word of its language ("be", "have", "say")."""
        return bool(self.trigger and self.trigger.isalpha() and self.trigger not in stop_words(self.language))

    @property
    def own_date(self) -> tuple[date, date] | None:
        """The interval the sentence's own date expression names (a month: its days), else None."""
        if self.event_date is None or self.date_basis == "published":
            return None
        return interval(self.event_date, self.date_precision)

    @property
    def reported(self) -> date | None:
        """The day of the report (its publication), when the sentence itself names no date."""
        if self.own_date is not None:
            return None
        if self.event_date is not None:
            return self.event_date
        return self.published_at.date() if self.published_at else None


def in_context(reports: Iterable[Report]) -> list[Report]:
    """The reports, each with the actors of every report of its article (the same version) as its
    context. Every caller passes a whole article's reports: a run loads an article version at once."""
    reports = list(reports)
    actors: dict[str, set[str]] = {}
    for r in reports:
        actors.setdefault(r.article_id, set()).update(r.actor_ids)
    return [replace(r, context=tuple(sorted(actors[r.article_id]))) for r in reports]


def window(r: Report) -> tuple[date, date] | None:
    """The days whose months hold the clusters a report can join (None: any, for a report with no date
    at all). A cluster is found in the months of its own date and its reports' days, each span
    extended by LATE_REPORT days (:meth:`Cluster.blocks`); flows/clusters.py selects stored clusters
    by the same months."""
    own, day = r.own_date, r.reported
    if own is not None:
        return own[0] - timedelta(days=31 * BLOCK_BACK), own[1]
    if day is not None:
        return day - timedelta(days=LATE_REPORT + 31 * BLOCK_BACK), day
    return None


def order_key(report: Report) -> tuple[Any, ...]:
    """The order events are clustered in, in a run and in a rebuild alike."""
    return (report.fetched_at, report.article_id, report.sentence_id, report.event_id)


def interval(day: date, precision: str | None) -> tuple[date, date]:
    if precision == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    if precision == "month":
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return date(day.year, day.month, 1), following - timedelta(days=1)
    return day, day


def months(start: date, end: date) -> Iterator[tuple[int, int]]:
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = year + month // 12, month % 12 + 1


def _top(counter: Counter[str], kept: int | None = None) -> list[tuple[str, int]]:
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:kept] if kept else ranked


@dataclass(frozen=True, slots=True)
class Shown:
    """What an actor's timeline shows of a cluster's representative report besides its sentence: its verb,
    article (URL, title, site, publication) and where its date came from. The cluster's rows carry it
    (event_cluster_revisions, actor_clusters), so the timeline reads one table. Empty in rows written
    before it was kept (the timeline then falls back to the first report's URL)."""

    trigger: str | None = None
    url: str | None = None
    title: str | None = None
    site: str | None = None
    date_basis: str | None = None
    published_at: datetime | None = None
    sentence_id: int | None = None

    COLUMNS = ("report_trigger", "report_url", "report_title", "report_site", "report_date_basis",
               "report_published_at", "report_sentence_id")

    @classmethod
    def of(cls, r: Report) -> Shown:
        return cls(r.trigger, r.url, r.title, r.site_name, r.date_basis, r.published_at, r.sentence_id)

    def as_row(self) -> dict[str, Any]:
        return dict(zip(self.COLUMNS, (self.trigger, self.url, self.title, self.site, self.date_basis,
                                       self.published_at, self.sentence_id), strict=True))

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Shown:
        return cls(*(row.get(c) for c in cls.COLUMNS))


@dataclass(slots=True)
class Cluster:
    """What is known of one real-world event: everything a later assignment compares with."""

    cluster_id: str
    negated: bool
    triggers: Counter[str] = field(default_factory=Counter)
    actors: Counter[str] = field(default_factory=Counter)
    words: Counter[str] = field(default_factory=Counter)
    places: Counter[str] = field(default_factory=Counter)
    context: Counter[str] = field(default_factory=Counter)  # the actors of its articles: CONTEXT_KEPT most named
    when: tuple[date, date] | None = None  # the intersection of the reports' own dates
    reported: tuple[date, date] | None = None  # first and last day it was reported on, undated reports
    spread: tuple[date, date] | None = None  # the hull of the reports' own dates (a year report: its year)
    event_id: str = ""  # the representative report
    sentence: str = ""
    shown: Shown = field(default_factory=Shown)  # what the timeline shows of the representative report
    best: float = -1.0  # the representative's score when it joined (less 1 for a clause's report)
    first: tuple[datetime | None, str, str | None] = (None, "", None)  # first report: published, article, URL
    reports: int = 0
    article_ids: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    kept: frozenset[str] | None = field(default=None, repr=False, compare=False)  # top words, until the next add

    @property
    def trigger(self) -> str | None:
        return _top(self.triggers)[0][0] if self.triggers else None

    @property
    def place(self) -> str | None:
        return _top(self.places)[0][0] if self.places else None

    @property
    def date(self) -> tuple[date | None, str | None]:
        """The date the reports agree on and its precision: the common interval of their own dates
        (a day, a month, a year), else the first day it was reported on."""
        if self.when is not None:
            start, end = self.when
            if start == end:
                return start, "day"
            if (start.year, start.month) == (end.year, end.month):
                return start, "month"
            return (start, "year") if start.year == end.year else (start, None)
        if self.reported is not None:
            return self.reported[0], "day"
        return None, None

    def blocks(self, wanted: dict[tuple[str, str], set[Block]] | None = None) -> Iterator[tuple[str, str, Block]]:
        """The (actor, trigger, month) keys the cluster is found under: its actors and its context's, ""
        for the trigger of a report that has none; month None when it has no date, and "*" always, for
        the rare report with no date and no publication date. By trigger too: on a busy actor (a head of
        state has thousands of events a month) a block by actor and month alone would make every report
        compare with thousands of clusters. With ``wanted`` ((actor, trigger) -> the blocks looked up under it),
        only those of its keys."""
        spans = self._spans()
        triggers = [*self.triggers, *([""] if self.reports > sum(self.triggers.values()) else [])]
        for actor in dict.fromkeys([*self.actors, *self.context]):
            for trigger in triggers:
                blocks = None if wanted is None else wanted.get((actor, trigger))
                if wanted is not None and blocks is None:
                    continue
                for block in ("*", *(() if spans else (None,)),
                              *(m for start, end in spans for m in months(start, end))):
                    if blocks is None or block in blocks:
                        yield actor, trigger, block

    def _spans(self) -> list[Span]:
        """The days whose months it is found under: its own date's and its reports', each LATE_REPORT longer."""
        return [(s[0], s[1] + timedelta(days=LATE_REPORT)) for s in (self.when, self.reported) if s is not None]

    def keyed(self) -> tuple[Any, ...]:
        """What :meth:`blocks` depends on: its actors and triggers (they only grow), its context, and the
        months of its spans."""
        spans = tuple((start.year, start.month, end.year, end.month) for start, end in self._spans())
        return (len(self.actors), frozenset(self.context), len(self.triggers),
                self.reports > sum(self.triggers.values()), spans)

    def compatible(self, r: Report) -> bool:
        """Negation agrees and the dates can be one event's: a report's
        own date overlaps the cluster's (a month contains its days; two different days never agree); a
        report dated only by its publication came out within REPORTED_WITHIN days of the cluster's other
        such reports, and at most LATE_REPORT days after the cluster's own date."""
        if r.negated != self.negated:
            return False
        own, day = r.own_date, r.reported
        if own is not None:
            if self.when is not None and (own[1] < self.when[0] or own[0] > self.when[1]):
                return False
            # never told as happening after it was already reported
            return self.reported is None or own[0] <= self.reported[1] + timedelta(days=1)
        if day is None:
            return True
        if self.when is not None:
            return self.when[0] - timedelta(days=1) <= day <= self.when[1] + timedelta(days=LATE_REPORT)
        if self.reported is not None:
            return (self.reported[0] - timedelta(days=REPORTED_WITHIN) <= day
                    <= self.reported[1] + timedelta(days=REPORTED_WITHIN))
        return True

    def score(self, r: Report) -> float:
        """How alike the report and the cluster are, 0-1: the same trigger, the report's words found in
        the cluster's, the report's actors found in the cluster's, and the place when both name one.
        0 when the sentence shares no actor with the cluster and the report cannot join by context (a
        content verb, an actor of its article among the cluster's articles', CONTEXT_WORDS of its words
        and at least CONTEXT_SHARED of them in the cluster's)."""
        trigger = 1.0 if r.trigger and r.trigger in self.triggers else 0.0
        if self.kept is None:
            self.kept = frozenset(w for w, _ in _top(self.words, WORDS_KEPT))
        kept = self.kept
        common = len(r.words & kept)
        words = common / min(len(r.words), len(kept)) if r.words and kept else 0.0
        shared = len(set(r.actor_ids) & self.actors.keys())
        if not shared and not (r.by_context and words >= CONTEXT_WORDS and common >= CONTEXT_SHARED
                               and not self.context.keys().isdisjoint(r.context)):
            return 0.0
        actors = shared / len(r.actor_ids) if r.actor_ids else 0.0
        score = 0.3 * trigger + 0.5 * words + 0.2 * actors
        if r.place and self.places and r.place not in self.places:
            score -= 0.1
        return score

    def add(self, r: Report, score: float) -> None:
        self.kept = None
        if r.trigger:
            self.triggers[r.trigger] += 1
        self.actors.update(r.actor_ids)
        self.words.update(r.words)
        self.words = Counter(dict(_top(self.words, WORDS_KEPT * 2)))  # bounded, the same in every pass
        if r.place:
            self.places[r.place] += 1
        if r.article_id not in self.article_ids:  # an article's context counts once
            self.context.update(r.context)
            self.context = Counter(dict(_top(self.context, CONTEXT_KEPT)))
        own, day = r.own_date, r.reported
        if own is not None:
            self.when = own if self.when is None else (max(own[0], self.when[0]), min(own[1], self.when[1]))
        elif day is not None:
            self.reported = (day, day) if self.reported is None else (min(day, self.reported[0]),
                                                                     max(day, self.reported[1]))
        if own is not None:
            self.spread = own if self.spread is None else (min(own[0], self.spread[0]), max(own[1], self.spread[1]))
        # a sentence whose main verb tells the event represents it before one that tells it in a clause
        # ("Western leaders condemned the mobilization that Putin ordered on Sept. 21")
        rank = score - 1.0 if r.clause else score
        if rank > self.best:
            self.best, self.event_id, self.sentence = rank, r.event_id, r.sentence
            self.shown = Shown.of(r)
        first = (r.published_at, r.article_id, r.url)
        if not self.first[1] or (r.published_at is not None
                                 and (self.first[0] is None or r.published_at < self.first[0])):
            self.first = first
        self.reports += 1
        if r.article_id not in self.article_ids:
            self.article_ids.append(r.article_id)
        if r.site and r.site not in self.sites:
            self.sites.append(r.site)

    # --- rows -------------------------------------------------------------------------------

    def as_row(self) -> dict[str, Any]:
        """The cluster as a row of the event_clusters table (its whole state)."""
        day, precision = self.date
        told = self.spread or self.reported  # what the reports said: their own dates, else when they came out
        triggers, actors, words, places, context = (_top(c) for c in (self.triggers, self.actors, self.words,
                                                                      self.places, self.context))
        return {
            "cluster_id": self.cluster_id, "event_date": day, "date_precision": precision,
            "date_min": told[0] if told else None, "date_max": told[1] if told else None,
            "trigger": self.trigger, "actor_ids": [a for a, _ in actors], "place": self.place,
            "negated": self.negated, "sentence": self.sentence, "event_id": self.event_id,
            "first_reported_at": self.first[0], "first_article_id": self.first[1], "first_url": self.first[2],
            "reports": self.reports, "articles": len(self.article_ids), "sites": len(self.sites),
            "site_names": list(self.sites), "article_ids": list(self.article_ids),
            "triggers": [t for t, _ in triggers], "trigger_counts": [n for _, n in triggers],
            "actor_counts": [n for _, n in actors], "words": [w for w, _ in words],
            "word_counts": [n for _, n in words], "places": [p for p, _ in places],
            "place_counts": [n for _, n in places],
            "context_ids": [a for a, _ in context], "context_counts": [n for _, n in context],
            "when_start": self.when[0] if self.when else None, "when_end": self.when[1] if self.when else None,
            "reported_start": self.reported[0] if self.reported else None,
            "reported_end": self.reported[1] if self.reported else None, "best": self.best,
        } | self.shown.as_row()

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Cluster:
        def pair(a: str, b: str) -> tuple[date, date] | None:
            return (row[a], row[b]) if row.get(a) is not None else None

        return cls(
            cluster_id=row["cluster_id"], negated=bool(row["negated"]),
            triggers=Counter(dict(zip(row["triggers"], row["trigger_counts"], strict=True))),
            actors=Counter(dict(zip(row["actor_ids"], row["actor_counts"], strict=True))),
            words=Counter(dict(zip(row["words"], row["word_counts"], strict=True))),
            places=Counter(dict(zip(row["places"], row["place_counts"], strict=True))),
            context=Counter(dict(zip(row.get("context_ids") or (), row.get("context_counts") or (), strict=True))),
            when=pair("when_start", "when_end"), reported=pair("reported_start", "reported_end"),
            spread=pair("date_min", "date_max") if row.get("when_start") is not None else None,
            event_id=row["event_id"], sentence=row["sentence"], shown=Shown.from_row(row),
            best=row["best"], first=(row["first_reported_at"], row["first_article_id"], row["first_url"]),
            reports=row["reports"], article_ids=list(row["article_ids"]), sites=list(row["site_names"]))


class Clusterer:
    """Assigns reports to clusters, one at a time; starts from stored clusters (or none)."""

    def __init__(self, clusters: Iterable[Cluster] = (), join_at: float = JOIN_AT,
                 same_article: float = SAME_ARTICLE, told: dict[tuple[str, str, str], str] | None = None,
                 reports: Iterable[Report] | None = None) -> None:
        self.join_at, self.same_article = join_at, same_article
        # given the reports to come (a run's), the index holds only the keys they look up: a stored
        # cluster is found under many actors and months, and a run looks in few of them
        self.wanted: dict[tuple[str, str], set[Block]] | None = None
        if reports is not None:
            self.wanted = {}
            for r in reports:
                for actor, trigger, block in lookups(r):
                    self.wanted.setdefault((actor, trigger), set()).add(block)
        # (article_id, sentence, trigger or "") -> cluster_id of the events already told (a sentence can tell
        # two: its main verb's and a dated clause's): a later version of an article repeats most of its
        # sentences, which are the same reports, not new ones
        self.told: dict[tuple[str, str, str], str] = dict(told or {})
        self.clusters: dict[str, Cluster] = {}
        # key -> the id of its one cluster, or the set of them (most keys have one: a set costs 200 bytes)
        self.index: dict[tuple[str, str, Block], str | set[str]] = {}
        # the "*" block is looked up only by a report with no date at all, rare in news: without a run's
        # reports to go by, it is indexed from the first such report on (every cluster then), not before
        self.anywhen = self.wanted is not None
        self.touched: set[str] = set()
        for c in clusters:
            self.clusters[c.cluster_id] = c
            self._index(c)

    def _index(self, c: Cluster) -> None:
        for key in c.blocks(self.wanted):
            if key[2] == "*" and not self.anywhen:
                continue
            held = self.index.get(key)
            if held is None:
                self.index[key] = c.cluster_id
            elif isinstance(held, str):
                if held != c.cluster_id:
                    self.index[key] = {held, c.cluster_id}
            else:
                held.add(c.cluster_id)

    def candidates(self, r: Report) -> list[Cluster]:
        """The clusters with the report's trigger and one of its actors (or its context's), in the months it
        can be about."""
        if not self.anywhen and window(r) is None:
            self.anywhen = True
            for c in self.clusters.values():
                self._index(c)
        seen: dict[str, Cluster] = {}
        for key in lookups(r):
            held = self.index.get(key)
            for cid in (() if held is None else (held,) if isinstance(held, str) else held):
                seen.setdefault(cid, self.clusters[cid])
        return sorted(seen.values(), key=lambda c: c.cluster_id)

    def assign(self, r: Report) -> str:
        """The id of the cluster the report joins (a new one when none is close enough). A sentence the
        article told before (an earlier version) is in the cluster already, and is not counted again."""
        if (known := self.told.get(told_key(r))) is not None:
            return known
        best, best_score = None, -1.0
        for c in self.candidates(r):  # sorted by id: ties go to the smallest id, in every pass
            if not c.compatible(r) or (s := c.score(r)) <= best_score:
                continue
            # a sentence of an article already in the cluster joins only when very alike, and never
            # as a statement: an article tells most events once, and quotes one speaker many times
            if r.article_id in c.article_ids:
                if r.trigger in REPORTING_VERBS or s < self.join_at + self.same_article:
                    continue
            elif s < self.join_at:
                continue
            best, best_score = c, s
        if best is None:
            best = Cluster(cluster_id=stable_id("event-cluster", r.event_id), negated=r.negated)
            self.clusters[best.cluster_id] = best
            best_score = self.join_at  # the founding report stays representative until one scores higher
        keys = best.keyed()
        best.add(r, best_score)
        if best.keyed() != keys:  # a new actor, trigger or month: index it (most reports add none)
            self._index(best)
        self.touched.add(best.cluster_id)
        self.told[told_key(r)] = best.cluster_id
        return best.cluster_id

    def assign_all(self, reports: Iterable[Report]) -> dict[str, str]:
        """event_id -> cluster_id for the reports, taken in :func:`order_key` order."""
        return {r.event_id: self.assign(r) for r in sorted(reports, key=order_key)}


def told_key(r: Report) -> tuple[str, str, str]:
    """What makes a report the same one in a later version of its article: its sentence and trigger."""
    return r.article_id, r.sentence, r.trigger or ""


def lookups(r: Report) -> Iterator[tuple[str, str, Block]]:
    """The (actor, trigger, block) keys a report looks up ("" for no trigger): its actors (its context's
    too when it may join by context: :attr:`Report.by_context`), its trigger, the months of its
    :func:`window` and the undated block, or "*" for a report with no date at all. A report with no
    actor to look up by looks up nothing: such a sentence is an event of its own."""
    span, trigger = window(r), r.trigger or ""
    blocks: list[Block] = ["*"] if span is None else [*months(*span), None]
    for actor in dict.fromkeys([*r.actor_ids, *(r.context if r.by_context else ())]):
        for block in blocks:
            yield actor, trigger, block


def report_site(domain: str | None, site_name: str | None) -> str | None:
    """The site a report counts for: the article's registered domain ("apnews.com", however the page
    spells its name), else (an article with no URL) the page's site name."""
    return site_of(domain) if domain else site_name


def report_of(event: Any, article: Any) -> Report:
    """The Report of an EventRecord of an ArticleRecord."""
    site = report_site(article.domain, article.site_name)
    return Report.of(
        event_id=event.event_id, article_id=event.article_id, sentence_id=event.sentence_id,
        trigger=event.trigger, actor_ids=event.actor_ids, event_date=event.event_date,
        date_precision=event.date_precision, date_basis=event.date_basis, place=event.place,
        negated=event.negated, sentence=event.sentence, site=site,
        url=article.url, published_at=article.published_at, fetched_at=article.fetched_at,
        language=article.language, clause=event.clause, title=article.title,
        site_name=article.site_name or article.domain)
