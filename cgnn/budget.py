"""The training budget: optimizer steps, not dialogues.

A corpus of 10 dialogues in batches of 32 makes one optimizer step per epoch, so 55 epochs are
55 steps, 5 of them warmup: the model barely leaves its start (a majority-class predictor) and
that is what gets kept. Two rules make the number of steps independent of the corpus size:

1. `data.min_batches_per_epoch` (default 4): the batch shrinks until an epoch has at least that
   many optimizer steps (10 dialogues: batches of 3, not one batch of 10), so `max_epochs` epochs
   are at least `max_epochs * min_batches_per_epoch` steps (55 x 4 = 220);
2. `trainer.min_steps` (default 0 = off): the epochs are raised until the run makes at least that
   many steps (for a corpus with fewer dialogues than `min_batches_per_epoch`, or a longer budget).

Warmup and decay are shares of the resulting steps (cgnn/train.py `build_scheduler`). A corpus
with enough dialogues (IEMOCAP: 108 train dialogues, 4 batches of 32 per epoch) keeps exactly the
batches and epochs it had."""

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class Budget:
    epochs: int
    batch_size: int
    steps_per_epoch: int

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch


def training_budget(train_dialogues: int, batch_size: int, max_epochs: int, min_batches_per_epoch: int = 0,
                    min_steps: int = 0) -> Budget:
    """Batch size, epochs and steps per epoch of a run over `train_dialogues` dialogues."""
    if min_batches_per_epoch > 1:  # the largest batch with ceil(n / batch) >= min_batches_per_epoch
        batch_size = max(1, min(batch_size, math.ceil(train_dialogues / (min_batches_per_epoch - 1)) - 1))
    steps_per_epoch = max(1, math.ceil(train_dialogues / batch_size))
    return Budget(max(max_epochs, math.ceil(min_steps / steps_per_epoch)), batch_size, steps_per_epoch)
