"""Dialogues -> tensors, and batches of whole dialogues.

Each dialogue is converted once (`prepare_dialogues`): its input matrix for the chosen modality,
labels, speaker indices and its edges, so an epoch only concatenates. Relation types are the
model's business (its relation scheme): it derives them from the edges and speaker indices.
Node order in a batch = dialogue order, then utterance order; it is also the row-major order of
the True cells of `mask`, so `padded[mask] = nodes` pads and `padded[mask]` unpads. Features
stay unpadded: the model keeps every per-utterance tensor packed and pads only for attention, so
no [B, T, input width] tensor is ever built."""

import dataclasses

import numpy as np
import torch

from cgnn.conversation_pickle import modality_matrix
from cgnn.graph import dialogue_edges, speaker_indices


@dataclasses.dataclass
class DialogueTensors:
    dialogue_id: str
    segment_ids: list
    speakers: list
    features: torch.Tensor      # [n, D] float32
    labels: torch.Tensor        # [n] long, -1 = no label
    speaker_index: torch.Tensor  # [n] long, by first appearance or by `speaker_map`
    edge_index: torch.Tensor    # [2, E] long, within the dialogue
    speaker_map: tuple = ()     # the fixed speaker list used, () = first appearance

    @property
    def length(self) -> int:
        return len(self.segment_ids)


@dataclasses.dataclass
class Batch:
    features: torch.Tensor      # [N, D] real utterances only (projected before padding)
    mask: torch.Tensor          # [B, T] bool, True = real utterance; features fill it row-major
    lengths: torch.Tensor       # [B] long
    labels: torch.Tensor        # [N] long over real utterances
    speaker_index: torch.Tensor  # [N] long
    edge_index: torch.Tensor    # [2, E] long over the N nodes
    items: list                 # the DialogueTensors, for ids in outputs
    speaker_map: tuple = ()     # as in DialogueTensors; the model checks it matches its own

    def to(self, device) -> "Batch":
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        moved = {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in fields.items()}
        return Batch(**moved)


def max_speakers(dialogues) -> int:
    return max(len(set(d["speakers"])) for d in dialogues)


def prepare_dialogue(dialogue: dict, modality: str, speaker_limit: int | None, wp: int, wf: int,
                     speaker_map=()) -> DialogueTensors:
    """`speaker_limit`: the most speakers the model's relation scheme handles (graph.speaker_limit);
    None = any number."""
    speakers = list(dialogue["speakers"])
    try:
        speaker_index = torch.from_numpy(speaker_indices(speakers, speaker_map))
    except ValueError as error:
        raise ValueError(f"dialogue {dialogue['dialogue_id']!r}: {error}") from None
    if speaker_limit is not None and int(speaker_index.max()) >= speaker_limit:
        raise ValueError(
            f"dialogue {dialogue['dialogue_id']!r} has {int(speaker_index.max()) + 1} speakers; "
            f"the model handles at most {speaker_limit} (num_speakers; relations=speaker_pair has weights "
            "per speaker index, same_other works for any number)")
    return DialogueTensors(
        dialogue_id=dialogue["dialogue_id"],
        segment_ids=list(dialogue["segment_ids"]),
        speakers=speakers,
        features=torch.from_numpy(np.ascontiguousarray(modality_matrix(dialogue, modality), np.float32)),
        labels=torch.as_tensor(np.asarray(dialogue["labels"], dtype=np.int64)),
        speaker_index=speaker_index,
        edge_index=dialogue_edges(len(speakers), wp, wf),
        speaker_map=tuple(speaker_map),
    )


def prepare_dialogues(dialogues, modality, speaker_limit, wp, wf, speaker_map=()) -> list:
    return [prepare_dialogue(d, modality, speaker_limit, wp, wf, speaker_map) for d in dialogues]


def collate(items) -> Batch:
    lengths = torch.tensor([item.length for item in items], dtype=torch.long)
    mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
    node_offset = torch.cumsum(lengths, 0) - lengths
    edge_index = torch.cat([item.edge_index + node_offset[row] for row, item in enumerate(items)], dim=1)
    speaker_maps = {item.speaker_map for item in items}
    if len(speaker_maps) > 1:
        raise ValueError(f"dialogues prepared with different speaker maps in one batch: {speaker_maps}")
    return Batch(
        features=torch.cat([item.features for item in items]),
        mask=mask,
        lengths=lengths,
        labels=torch.cat([item.labels for item in items]),
        speaker_index=torch.cat([item.speaker_index for item in items]),
        edge_index=edge_index,
        items=list(items),
        speaker_map=speaker_maps.pop(),
    )


def iterate_batches(items, batch_size: int, shuffle: bool = False, rng=None):
    """Batches of `batch_size` whole dialogues; shuffled with `rng` (numpy Generator) if asked."""
    order = rng.permutation(len(items)) if shuffle else np.arange(len(items))
    for start in range(0, len(items), batch_size):
        yield collate([items[i] for i in order[start : start + batch_size]])
