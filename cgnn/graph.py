"""The relational graph of a dialogue (COGMEN / DialogueGCN style).

Nodes are utterances 0..n-1 of one dialogue.

Edges. Node j receives an edge from every utterance k with j - wp <= k <= j + wf (wp / wf = -1:
no limit on that side), itself included. Messages flow k -> j, so
`edge_index = [[k, ...], [j, ...]]` (PyG's source -> target order), ordered by j, then k.

Speakers. Each utterance's speaker name becomes an index s in 0..S-1:
- `speaker_map = []` (default): per dialogue, in order of first appearance ([B, A, B, C] -> 0 1 0 2);
- `speaker_map = [M, F]`: a fixed list, s = the name's position in it; a name not in the list
  is an error.

Relation type of the edge k -> j. Let d = 1 if k > j (a later utterance: future) else 0 (an
earlier utterance: past, and the self-loop k = j):
- `speaker_pair` (COGMEN's relations): r = (s_j * S + s_k) * 2 + d, with S speakers; 2 * S * S
  relations, so the layer grows with S^2 and every speaker index needs its own weights;
- `same_other`: r = 2 * [s_k != s_j] + d: 0 = same speaker, past (self-loop included),
  1 = same speaker, future, 2 = other speaker, past, 3 = other speaker, future. 4 relations for
  any number of speakers, and the same for any numbering of the speakers.

Where this differs from COGMEN's code (functions.batch_graphify / edge_perms):
- COGMEN appends the edge (j, k) for each k in j's window and PyG reads it as j -> k, so a node
  *receives* from the mirrored window [j - wf, j + wp]: wp and wf are swapped (identical when
  wp == wf, as in the default 5 / 5).
- COGMEN's direction bit is 0 only when the sender is strictly earlier, so its self-loop shares
  the relation of the *future* messages; here it shares the past ones.
- COGMEN keys a relation by (sender speaker, receiver speaker, bit); here by (receiver, sender, d).
  This only renumbers the relations.
- COGMEN numbers IEMOCAP speakers by a fixed map {M: 0, F: 1}; here by first appearance unless
  `speaker_map` is given (configs/stage3/cogmen.yaml sets [M, F])."""

import numpy as np
import torch

RELATION_SCHEMES = ("same_other", "speaker_pair")


def num_relations(scheme: str, num_speakers: int) -> int:
    _check_scheme(scheme)
    return 4 if scheme == "same_other" else 2 * num_speakers * num_speakers


def speaker_limit(scheme: str, num_speakers: int) -> int | None:
    """The most speakers a dialogue may have under `scheme`: `speaker_pair` has weights for speaker
    indices 0..S-1 only; `same_other` compares speakers and works for any count (None)."""
    _check_scheme(scheme)
    return num_speakers if scheme == "speaker_pair" else None


def speaker_indices(speakers, speaker_map=()) -> np.ndarray:
    """Speaker names -> indices: by first appearance, or by position in a fixed `speaker_map`."""
    names = np.asarray(speakers, dtype=object).astype(str)
    if len(speaker_map):
        position = {name: i for i, name in enumerate(speaker_map)}
        unknown = sorted(set(names) - set(position))
        if unknown:
            raise ValueError(f"speaker(s) {', '.join(unknown)} not in speaker_map {list(speaker_map)}")
        return np.array([position[name] for name in names], dtype=np.int64)
    unique, first_position, inverse = np.unique(names, return_index=True, return_inverse=True)
    rank_of_name = np.empty(len(unique), dtype=np.int64)
    rank_of_name[np.argsort(first_position)] = np.arange(len(unique))
    return rank_of_name[inverse.reshape(-1)]


def dialogue_edges(num_utterances: int, wp: int, wf: int, device=None) -> torch.Tensor:
    """edge_index [2, E] (long) of one dialogue, ordered by target, then source."""
    _check_window(wp, "wp")
    _check_window(wf, "wf")
    position = torch.arange(num_utterances, device=device)
    offset = position[None, :] - position[:, None]          # [target j, source k] -> k - j
    in_window = torch.ones(num_utterances, num_utterances, dtype=torch.bool, device=device)
    if wp >= 0:
        in_window &= offset >= -wp
    if wf >= 0:
        in_window &= offset <= wf
    target, source = in_window.nonzero(as_tuple=True)
    return torch.stack([source, target])


def relation_types(scheme: str, speaker_index: torch.Tensor, edge_index: torch.Tensor,
                   num_speakers: int) -> torch.Tensor:
    """Relation type [E] of every edge; `speaker_index` [N] holds each node's speaker index."""
    _check_scheme(scheme)
    source, target = edge_index
    future = (source > target).long()
    speaker_source, speaker_target = speaker_index[source], speaker_index[target]
    if scheme == "same_other":
        return 2 * (speaker_source != speaker_target).long() + future
    return (speaker_target * num_speakers + speaker_source) * 2 + future


def _check_scheme(scheme):
    if scheme not in RELATION_SCHEMES:
        raise ValueError(f"unknown relation scheme {scheme!r}; expected one of {', '.join(RELATION_SCHEMES)}")


def _check_window(value, name):
    if not isinstance(value, int) or value < -1:
        raise ValueError(f"{name} must be an integer >= -1 (-1 = whole dialogue), got {value!r}")
