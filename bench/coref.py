"""Coreference scores: MUC, B3, CEAF-e and their mean, CoNLL F1 (Pradhan et al. 2014's definitions).

Clusterings are mappings mention -> cluster id, one for the gold key and one for the system's
response. A mention the response lacks counts as a singleton of its own for recall (it was not
linked to anything) and is absent for precision; a response mention the key lacks (a spurious
mention) is scored the same way from the other side. `score` gives all four as (recall, precision,
F1) and `wrong_merges` counts the response clusters that hold mentions of two or more key clusters.

Used by bench/nlp_quality.py (actors) and bench/event_clusters.py (events); tests/test_coref.py
checks the metrics on the worked examples of the CoNLL-2012 scorer's test suite.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

Clustering = Mapping[Hashable, Hashable]  # mention -> cluster id


@dataclass(frozen=True)
class Score:
    recall: float
    precision: float

    @property
    def f1(self) -> float:
        total = self.recall + self.precision
        return 0.0 if total == 0 else 2 * self.recall * self.precision / total

    def as_dict(self) -> dict[str, float]:
        return {"recall": round(self.recall, 4), "precision": round(self.precision, 4), "f1": round(self.f1, 4)}


def clusters_of(mapping: Clustering) -> list[frozenset[Hashable]]:
    """The clusters of a mention -> id mapping, as sets of mentions."""
    groups: dict[Hashable, set[Hashable]] = defaultdict(set)
    for mention, cluster in mapping.items():
        groups[cluster].add(mention)
    return [frozenset(g) for g in groups.values()]


def _muc_recall(key: list[frozenset[Hashable]], response: Clustering) -> tuple[float, float]:
    numerator = denominator = 0.0
    for cluster in key:
        partitions = {response.get(m, ("missing", m)) for m in cluster}
        numerator += len(cluster) - len(partitions)
        denominator += len(cluster) - 1
    return numerator, denominator


def muc(key: Clustering, response: Clustering) -> Score:
    """Links: the share of the key's links the response keeps (recall), and the other way round."""
    rn, rd = _muc_recall(clusters_of(key), response)
    pn, pd = _muc_recall(clusters_of(response), key)
    return Score(rn / rd if rd else 0.0, pn / pd if pd else 0.0)


def _b3_recall(key: list[frozenset[Hashable]], response: Clustering,
               response_clusters: Mapping[Hashable, frozenset[Hashable]]) -> float:
    total = mentions = 0.0
    for cluster in key:
        for m in cluster:
            mentions += 1
            if m in response:
                total += len(cluster & response_clusters[response[m]]) / len(cluster)
    return total / mentions if mentions else 0.0


def b_cubed(key: Clustering, response: Clustering) -> Score:
    """Per mention: the share of its key cluster that shares its response cluster, averaged."""
    key_clusters = clusters_of(key)
    response_clusters = clusters_of(response)
    by_id_response = {response[next(iter(c))]: c for c in response_clusters}
    by_id_key = {key[next(iter(c))]: c for c in key_clusters}
    return Score(_b3_recall(key_clusters, response, by_id_response),
                 _b3_recall(response_clusters, key, by_id_key))


def ceaf_e(key: Clustering, response: Clustering) -> Score:
    """Entity-based CEAF: the best one-to-one alignment of key and response clusters under
    phi4 = 2 |K & R| / (|K| + |R|), divided by the number of key (recall) or response (precision) clusters."""
    key_clusters = clusters_of(key)
    response_clusters = clusters_of(response)
    if not key_clusters or not response_clusters:
        return Score(0.0, 0.0)
    column = {response[next(iter(c))]: j for j, c in enumerate(response_clusters)}
    similarity = np.zeros((len(key_clusters), len(response_clusters)))
    for i, k in enumerate(key_clusters):
        for cluster_id in {response[m] for m in k if m in response}:
            j = column[cluster_id]
            r = response_clusters[j]
            similarity[i, j] = 2 * len(k & r) / (len(k) + len(r))
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    best = float(similarity[rows, cols].sum())
    return Score(best / len(key_clusters), best / len(response_clusters))


def score(key: Clustering, response: Clustering) -> dict[str, dict[str, float]]:
    """MUC, B3 and CEAF-e as {metric: {recall, precision, f1}}, and their mean F1 as conll."""
    metrics = {"muc": muc(key, response), "b3": b_cubed(key, response), "ceaf_e": ceaf_e(key, response)}
    out = {name: s.as_dict() for name, s in metrics.items()}
    out["conll"] = {"f1": round(sum(s.f1 for s in metrics.values()) / 3, 4)}
    return out


def wrong_merges(key: Clustering, response: Clustering) -> int:
    """Response clusters that hold mentions of two or more key clusters (two people in one actor)."""
    return sum(1 for cluster in clusters_of(response) if len({key[m] for m in cluster if m in key}) > 1)
