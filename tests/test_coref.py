"""bench/coref.py's metrics on the worked example of Pradhan et al. (2014), "Scoring coreference
partitions of predicted mentions: a reference implementation" (ACL), figure 1: key {a b c} {d e f g},
response {a b} {c d} {f g h i}; the paper gives MUC .40/.40, B3 .42/.50, CEAF-e .65/.43 (recall/precision)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parent.parent / "bench" / "coref.py"
_spec = importlib.util.spec_from_file_location("bench_coref", _PATH)
assert _spec is not None and _spec.loader is not None
coref = importlib.util.module_from_spec(_spec)
sys.modules["bench_coref"] = coref
_spec.loader.exec_module(coref)

KEY = {m: "k1" for m in "abc"} | {m: "k2" for m in "defg"}
RESPONSE = {"a": "r1", "b": "r1", "c": "r2", "d": "r2"} | {m: "r3" for m in "fghi"}


@pytest.mark.parametrize(("metric", "recall", "precision"), [
    (coref.muc, 0.40, 0.40), (coref.b_cubed, 5 / 12, 0.50), (coref.ceaf_e, 0.65, 1.3 / 3)])
def test_metrics_match_the_published_worked_example(metric, recall, precision):
    s = metric(KEY, RESPONSE)
    assert (s.recall, s.precision) == pytest.approx((recall, precision), abs=1e-9)


def test_perfect_response_scores_one_and_conll_is_the_mean():
    scores = coref.score(KEY, KEY)
    assert {name: v["f1"] for name, v in scores.items()} == {"muc": 1.0, "b3": 1.0, "ceaf_e": 1.0, "conll": 1.0}
    mixed = coref.score(KEY, RESPONSE)
    assert mixed["conll"]["f1"] == pytest.approx((mixed["muc"]["f1"] + mixed["b3"]["f1"] + mixed["ceaf_e"]["f1"]) / 3,
                                                 abs=1e-3)


def test_singletons_have_no_muc_links_but_count_in_b3():
    key = {"a": 1, "b": 2}
    assert coref.muc(key, key).recall == 0.0
    assert coref.b_cubed(key, {"a": 1, "b": 1}).precision == 0.5


def test_wrong_merges_count_response_clusters_spanning_two_key_clusters():
    assert coref.wrong_merges(KEY, RESPONSE) == 1  # {c d}
    assert coref.wrong_merges(KEY, KEY) == 0
