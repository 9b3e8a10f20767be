"""Length-aware batching: utterances of similar length share a batch, so little compute goes to padding.

Training (`shuffle=True`), per epoch: shuffle all utterances with (seed, epoch), cut the order into
pools of `bucket_batches * batch_size`, sort each pool by length, cut pools into batches, shuffle
the batch order. Evaluation (`shuffle=False`): one global sort by length, longest first, so the
first batch shows the peak memory at once.

Distributed: the global batch list is identical on every rank (same seed and epoch); rank r takes
batches r, r + R, r + 2R, ... After padding the list with its own first batches to a multiple of
R, every rank runs the same number of steps (DDP needs that). Evaluation dedupes the few
repeated utterances by dataset index.

`equal_lengths=True` cuts the sorted order only into batches of identical length, so nothing is
ever padded: for encoders whose output depends on batch padding (group-norm wav2vec2). Every
utterance longer than the crop has the crop's length, so those still share batches.
"""

import math

import numpy as np


class LengthBucketBatchSampler:
    def __init__(
        self,
        lengths,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        bucket_batches: int = 50,
        num_replicas: int = 1,
        rank: int = 0,
        equal_lengths: bool = False,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} outside 0..{num_replicas - 1}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if self.lengths.size == 0:
            raise ValueError("cannot batch an empty dataset")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.bucket_batches = max(1, bucket_batches)
        self.num_replicas = num_replicas
        self.rank = rank
        self.equal_lengths = equal_lengths
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def global_batches(self) -> list[list[int]]:
        """This epoch's batches for all ranks together, before sharding."""
        if not self.shuffle:
            order = np.argsort(-self.lengths, kind="stable")
            return self._cut(order)
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.lengths))
        pool_size = self.bucket_batches * self.batch_size
        batches = []
        for start in range(0, len(order), pool_size):
            pool = order[start : start + pool_size]
            pool = pool[np.argsort(self.lengths[pool], kind="stable")]
            batches.extend(self._cut(pool))
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self):
        batches = self.global_batches()
        padded = [batches[i % len(batches)] for i in range(self._steps(len(batches)) * self.num_replicas)]
        yield from padded[self.rank :: self.num_replicas]

    def __len__(self) -> int:
        if self.equal_lengths:
            return self._steps(len(self.global_batches()))
        return self._steps(math.ceil(len(self.lengths) / self.batch_size))

    def _cut(self, order: np.ndarray) -> list[list[int]]:
        """Length-sorted indices -> batches; with `equal_lengths`, a batch never spans two lengths."""
        if not self.equal_lengths:
            return _chunks(order, self.batch_size)
        sorted_lengths = self.lengths[order]
        starts = np.flatnonzero(np.diff(sorted_lengths)) + 1
        return [batch for run in np.split(order, starts) for batch in _chunks(run, self.batch_size)]

    def _steps(self, n_batches: int) -> int:
        return math.ceil(n_batches / self.num_replicas)


def _chunks(indices: np.ndarray, size: int) -> list[list[int]]:
    return [indices[i : i + size].tolist() for i in range(0, len(indices), size)]


def padding_ratio(lengths, batches) -> float:
    """Padded positions / real positions over `batches` (each padded to its longest member)."""
    lengths = np.asarray(lengths)
    real = padded = 0
    for batch in batches:
        batch_lengths = lengths[batch]
        real += int(batch_lengths.sum())
        padded += int(batch_lengths.max()) * len(batch) - int(batch_lengths.sum())
    return padded / max(real, 1)
