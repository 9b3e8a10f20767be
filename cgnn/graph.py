"""The relational graph of one dialogue (COGMEN / DialogueGCN style).

Nodes are utterances. Node j receives an edge from every utterance k with j - wp <= k <= j + wf
(wp / wf = -1: no limit on that side), itself included. Messages flow k -> j, so
`edge_index = [[k, ...], [j, ...]]` (PyG's source -> target order).

Relation type of edge k -> j = (speaker of j, speaker of k, direction), numbered
    ((s_j * S + s_k) * 2 + direction),   direction 0 = k <= j (past, and the self-loop), 1 = k > j
with S speakers, so there are 2 * S * S relations. The self-loop counts as "past" as in COGMEN,
whose edge type bit is "future" only for a strictly later neighbour. Speakers are local indices
0..S-1 in order of first appearance in the dialogue."""

import numpy as np
import torch


def num_relations(num_speakers: int) -> int:
    return 2 * num_speakers * num_speakers


def local_speaker_indices(speakers) -> np.ndarray:
    """Map speaker names to 0, 1, ... in order of first appearance: [B, A, B, C] -> [0, 1, 0, 2]."""
    names, first_position, inverse = np.unique(np.asarray(speakers, dtype=object).astype(str),
                                               return_index=True, return_inverse=True)
    rank_of_name = np.empty(len(names), dtype=np.int64)
    rank_of_name[np.argsort(first_position)] = np.arange(len(names))
    return rank_of_name[inverse.reshape(-1)]


def dialogue_edges(speaker_index: torch.Tensor, wp: int, wf: int, num_speakers: int):
    """Edges and relation types of one dialogue: (edge_index [2, E], edge_type [E]), both long.

    `speaker_index` holds local speaker indices in [0, num_speakers). Edges are ordered by
    target, then source."""
    _check_window(wp, "wp")
    _check_window(wf, "wf")
    speaker_index = torch.as_tensor(speaker_index, dtype=torch.long)
    if speaker_index.numel() and int(speaker_index.max()) >= num_speakers:
        raise ValueError(f"dialogue has {int(speaker_index.max()) + 1} speakers but the model was "
                         f"built for at most {num_speakers}")
    n = speaker_index.numel()
    position = torch.arange(n, device=speaker_index.device)
    offset = position[None, :] - position[:, None]          # [target j, source k] -> k - j
    in_window = torch.ones(n, n, dtype=torch.bool, device=speaker_index.device)
    if wp >= 0:
        in_window &= offset >= -wp
    if wf >= 0:
        in_window &= offset <= wf
    target, source = in_window.nonzero(as_tuple=True)
    future = (source > target).long()
    edge_type = (speaker_index[target] * num_speakers + speaker_index[source]) * 2 + future
    return torch.stack([source, target]), edge_type


def _check_window(value, name):
    if not isinstance(value, int) or value < -1:
        raise ValueError(f"{name} must be an integer >= -1 (-1 = whole dialogue), got {value!r}")
