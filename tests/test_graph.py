import itertools
import random

import numpy as np
import pytest
import torch

from cgnn.batching import collate, prepare_dialogue
from cgnn.graph import dialogue_edges, local_speaker_indices, num_relations


def reference_edges(speakers, wp, wf, num_speakers):
    """Obviously-correct version: loop over every (target, neighbour) pair; relation ids numbered
    by enumerating (speaker of target, speaker of neighbour, past/future) like COGMEN's table."""
    relation_id = {}
    for a in range(num_speakers):
        for b in range(num_speakers):
            for direction in ("past", "future"):
                relation_id[(a, b, direction)] = len(relation_id)
    edges = []
    n = len(speakers)
    for j in range(n):
        for k in range(n):
            after_start = wp == -1 or k >= j - wp
            before_end = wf == -1 or k <= j + wf
            if after_start and before_end:
                direction = "future" if k > j else "past"
                edges.append((k, j, relation_id[(speakers[j], speakers[k], direction)]))
    return edges


def as_triples(edge_index, edge_type):
    return list(zip(edge_index[0].tolist(), edge_index[1].tolist(), edge_type.tolist()))


def test_hand_worked_example():
    # speakers A B A, wp = 1, wf = 0: each node hears itself and the previous utterance.
    edge_index, edge_type = dialogue_edges(torch.tensor([0, 1, 0]), wp=1, wf=0, num_speakers=2)
    # relation = (s_target * 2 + s_source) * 2 + future
    assert as_triples(edge_index, edge_type) == [
        (0, 0, 0),            # 0 <- 0 self, A<-A past
        (0, 1, 4), (1, 1, 6),  # 1 <- 0: B<-A past = (1*2+0)*2; 1 <- 1: B<-B = (1*2+1)*2
        (1, 2, 2), (2, 2, 0),  # 2 <- 1: A<-B past = (0*2+1)*2; 2 <- 2 self
    ]


def test_future_edges_get_the_future_bit():
    edge_index, edge_type = dialogue_edges(torch.tensor([0, 0]), wp=0, wf=1, num_speakers=1)
    assert as_triples(edge_index, edge_type) == [(0, 0, 0), (1, 0, 1), (1, 1, 0)]


@pytest.mark.parametrize("wp, wf", list(itertools.product([-1, 0, 1, 3], [-1, 0, 1, 3])) + [(5, 5), (10, 2)])
def test_edges_match_slow_reference_on_random_dialogues(wp, wf):
    rng = random.Random(1000 * (wp + 2) + wf)
    for _ in range(12):
        num_speakers = rng.randint(1, 9)
        n = rng.randint(1, 25)
        speakers = [rng.randrange(num_speakers) for _ in range(n)]
        edge_index, edge_type = dialogue_edges(torch.tensor(speakers), wp, wf, num_speakers)
        got = as_triples(edge_index, edge_type)
        expected = reference_edges(speakers, wp, wf, num_speakers)
        assert len(got) == len(set(got))  # no duplicate edges
        assert sorted(got) == sorted(expected)
        assert int(edge_type.max()) < num_relations(num_speakers)


def test_speakers_are_numbered_by_first_appearance():
    assert local_speaker_indices(["Sess01_M", "Sess01_F", "Sess01_M", "X"]).tolist() == [0, 1, 0, 2]
    assert local_speaker_indices(["b", "a"]).tolist() == [0, 1]  # not alphabetical


def test_too_many_speakers_is_an_error():
    with pytest.raises(ValueError, match="3 speakers but the model was built for at most 2"):
        dialogue_edges(torch.tensor([0, 1, 2]), 1, 1, num_speakers=2)
    dialogue = {"dialogue_id": "D1", "segment_ids": ["x", "y", "z"], "speakers": ["p", "q", "r"],
                "labels": np.zeros(3, np.int64), "features": {"a": np.zeros((3, 2), np.float32)}}
    with pytest.raises(ValueError, match="dialogue 'D1' has 3 speakers; the model handles at most 2"):
        prepare_dialogue(dialogue, "a", 2, 1, 1)


def test_batch_offsets_edges_by_preceding_dialogue_lengths():
    def dialogue(name, n, speakers):
        return prepare_dialogue({"dialogue_id": name, "segment_ids": [f"{name}{i}" for i in range(n)],
                                 "speakers": speakers, "labels": np.arange(n) % 2,
                                 "features": {"a": np.full((n, 2), float(n), np.float32)}}, "a", 2, 1, 1)

    first, second = dialogue("A", 2, ["x", "y"]), dialogue("B", 3, ["y", "y", "x"])
    batch = collate([first, second])
    assert batch.mask.tolist() == [[True, True, False], [True, True, True]]
    assert batch.labels.tolist() == [0, 1, 0, 1, 0]
    expected = as_triples(first.edge_index, first.edge_type) + \
        [(s + 2, t + 2, r) for s, t, r in as_triples(second.edge_index, second.edge_type)]
    assert as_triples(batch.edge_index, batch.edge_type) == expected
    # node order = dialogue A's rows, then B's (the row-major order of the mask's True cells)
    assert batch.features[:, 0].tolist() == [2.0, 2.0, 3.0, 3.0, 3.0]
    padded = torch.zeros(2, 3)
    padded[batch.mask] = batch.features[:, 0]
    assert padded.tolist() == [[2.0, 2.0, 0.0], [3.0, 3.0, 3.0]]
