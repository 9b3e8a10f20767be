"""cgnn.graph against slow references written from its docstring (per-edge Python loops)."""

import itertools
import random

import numpy as np
import pytest
import torch

from cgnn.batching import collate, prepare_dialogue
from cgnn.graph import dialogue_edges, num_relations, relation_types, speaker_indices


def documented_edges(speakers, wp, wf, scheme, num_speakers):
    """(source k, target j, relation) for every edge, straight from the docstring: j receives from
    every k with j - wp <= k <= j + wf (-1 = no limit), itself included; d = future (k > j) or
    past (k < j, and the self-loop); relations numbered as written there."""
    same_other_id = {("same", "past"): 0, ("same", "future"): 1, ("other", "past"): 2, ("other", "future"): 3}
    edges = []
    for j in range(len(speakers)):
        for k in range(len(speakers)):
            if (wp != -1 and k < j - wp) or (wf != -1 and k > j + wf):
                continue
            direction = "future" if k > j else "past"
            if scheme == "same_other":
                relation = same_other_id[("same" if speakers[k] == speakers[j] else "other", direction)]
            else:  # r = (s_j * S + s_k) * 2 + d
                relation = (speakers[j] * num_speakers + speakers[k]) * 2 + (direction == "future")
            edges.append((k, j, relation))
    return edges


def built_edges(speakers, wp, wf, scheme, num_speakers):
    edge_index = dialogue_edges(len(speakers), wp, wf)
    types = relation_types(scheme, torch.tensor(speakers, dtype=torch.long), edge_index, num_speakers)
    return list(zip(edge_index[0].tolist(), edge_index[1].tolist(), types.tolist()))


def test_hand_worked_example_both_schemes():
    # speakers A B A, wp = 1, wf = 0: each node hears itself and the previous utterance.
    assert built_edges([0, 1, 0], 1, 0, "speaker_pair", 2) == [
        (0, 0, 0),             # 0 <- 0 self, A<-A past = (0*2+0)*2
        (0, 1, 4), (1, 1, 6),  # 1 <- 0: B<-A past = (1*2+0)*2; 1 <- 1: B<-B = (1*2+1)*2
        (1, 2, 2), (2, 2, 0),  # 2 <- 1: A<-B past = (0*2+1)*2; 2 <- 2 self
    ]
    assert built_edges([0, 1, 0], 1, 0, "same_other", 2) == [
        (0, 0, 0), (0, 1, 2), (1, 1, 0), (1, 2, 2), (2, 2, 0)]
    # future edges: speakers A A, wp = 0, wf = 1
    assert built_edges([0, 0], 0, 1, "speaker_pair", 1) == [(0, 0, 0), (1, 0, 1), (1, 1, 0)]
    assert built_edges([0, 1], 0, 1, "same_other", 2) == [(0, 0, 0), (1, 0, 3), (1, 1, 0)]


@pytest.mark.parametrize("scheme", ["same_other", "speaker_pair"])
@pytest.mark.parametrize("wp, wf", list(itertools.product([-1, 0, 1, 3], [-1, 0, 1, 3])) + [(5, 5), (10, 2)])
def test_edges_match_the_documented_definition_on_random_dialogues(scheme, wp, wf):
    rng = random.Random(1000 * (wp + 2) + wf + len(scheme))
    for _ in range(12):
        num_speakers = rng.randint(1, 9)
        n = rng.randint(1, 25)
        speakers = [rng.randrange(num_speakers) for _ in range(n)]
        got = built_edges(speakers, wp, wf, scheme, num_speakers)
        assert len(got) == len(set(got))  # no duplicate edges
        assert sorted(got) == sorted(documented_edges(speakers, wp, wf, scheme, num_speakers))
        assert [(t, s) for s, t, _ in got] == sorted((t, s) for s, t, _ in got)  # by target, then source
        assert max(r for _, _, r in got) < num_relations(scheme, num_speakers)


def test_relation_counts():
    for speakers in (1, 2, 9):
        assert num_relations("same_other", speakers) == 4
        assert num_relations("speaker_pair", speakers) == 2 * speakers * speakers
    with pytest.raises(ValueError, match="unknown relation scheme 'pairs'"):
        num_relations("pairs", 2)


def test_same_other_ignores_how_speakers_are_numbered():
    speakers = [0, 1, 2, 1, 0, 0, 2]
    renamed = [{0: 2, 1: 0, 2: 1}[s] for s in speakers]
    assert built_edges(speakers, 2, 2, "same_other", 3) == built_edges(renamed, 2, 2, "same_other", 3)
    assert built_edges(speakers, 2, 2, "speaker_pair", 3) != built_edges(renamed, 2, 2, "speaker_pair", 3)


def test_speakers_by_first_appearance_or_by_a_fixed_map():
    assert speaker_indices(["Sess01_M", "Sess01_F", "Sess01_M", "X"]).tolist() == [0, 1, 0, 2]
    assert speaker_indices(["b", "a"]).tolist() == [0, 1]  # not alphabetical
    assert speaker_indices(["F", "M", "F"], ["M", "F"]).tolist() == [1, 0, 1]  # COGMEN: M = 0, F = 1
    assert speaker_indices(["M", "M"], ["M", "F"]).tolist() == [0, 0]
    with pytest.raises(ValueError, match=r"speaker\(s\) X not in speaker_map \['M', 'F'\]"):
        speaker_indices(["M", "X"], ["M", "F"])


def test_too_many_speakers_is_an_error():
    dialogue = {"dialogue_id": "D1", "segment_ids": ["x", "y", "z"], "speakers": ["p", "q", "r"],
                "labels": np.zeros(3, np.int64), "features": {"a": np.zeros((3, 2), np.float32)}}
    with pytest.raises(ValueError, match="dialogue 'D1' has 3 speakers; the model handles at most 2"):
        prepare_dialogue(dialogue, "a", 2, 1, 1)
    with pytest.raises(ValueError, match=r"dialogue 'D1': speaker\(s\) p, q, r not in speaker_map"):
        prepare_dialogue(dialogue, "a", 2, 1, 1, speaker_map=["M", "F"])


def test_batch_offsets_edges_and_keeps_speakers_in_node_order():
    def dialogue(name, n, speakers):
        return prepare_dialogue({"dialogue_id": name, "segment_ids": [f"{name}{i}" for i in range(n)],
                                 "speakers": speakers, "labels": np.arange(n) % 2,
                                 "features": {"a": np.full((n, 2), float(n), np.float32)}}, "a", 2, 1, 1)

    first, second = dialogue("A", 2, ["x", "y"]), dialogue("B", 3, ["y", "y", "x"])
    batch = collate([first, second])
    assert batch.mask.tolist() == [[True, True, False], [True, True, True]]
    assert batch.labels.tolist() == [0, 1, 0, 1, 0]
    assert batch.speaker_index.tolist() == [0, 1, 0, 0, 1]  # first appearance within each dialogue
    expected = first.edge_index.T.tolist() + (second.edge_index.T + 2).tolist()
    assert batch.edge_index.T.tolist() == expected
    # node order = dialogue A's rows, then B's (the row-major order of the mask's True cells)
    assert batch.features[:, 0].tolist() == [2.0, 2.0, 3.0, 3.0, 3.0]
    padded = torch.zeros(2, 3)
    padded[batch.mask] = batch.features[:, 0]
    assert padded.tolist() == [[2.0, 2.0, 0.0], [3.0, 3.0, 3.0]]
