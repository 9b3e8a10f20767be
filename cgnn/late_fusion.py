"""Late fusion (`model.fusion: late`): one contextual GNN per modality, their log-probabilities
mixed with weights chosen on dev.

    log p_m(y | i) = log_softmax(GNN_m(x_m)(i))          branch m sees modality m only
    log p(y | i)   = log_softmax(sum_m w_m log p_m(y | i))   w >= 0, sum w = 1

Each branch is trained on its own loss (the branch losses are summed), so a modality that is
uninformative, or that lets the model memorise the training dialogues, cannot spoil what the
other modalities learn; after every epoch the weights are chosen on dev weighted-F1 over a grid
of the simplex (steps of 1/10 for up to 3 modalities, 1/4 beyond) and stored with the weights
(`fusion_weights`), so a modality that does not help dev gets weight 0 and the fusion is never
worse on dev than the best modality alone. With one modality the model is the plain
`ContextualGNN` (same parameters, same results)."""

import dataclasses
import itertools

import numpy as np
import torch
from sklearn.metrics import f1_score
from torch import nn

from cgnn.batching import iterate_batches


class LateFusionGNN(nn.Module):
    def __init__(self, config, widths, num_classes: int, num_speakers: int, branch):
        """`branch(width)` builds the single-modality model (cgnn.model.ContextualGNN)."""
        super().__init__()
        self.config, self.num_speakers, self.widths = config, num_speakers, [int(w) for w in widths]
        self.branches = nn.ModuleList(branch(width) for width in self.widths)
        self.register_buffer("fusion_weights", torch.full((len(self.widths),), 1 / len(self.widths)))

    def branch_logits(self, batch) -> list:
        """[N, K] logits of each branch on its own modality's columns of `batch.features`."""
        columns = torch.split(batch.features, self.widths, dim=-1)
        return [branch(dataclasses.replace(batch, features=x)) for branch, x in zip(self.branches, columns)]

    def forward(self, batch):
        return fuse([torch.log_softmax(z, -1) for z in self.branch_logits(batch)], self.fusion_weights)


def fuse(log_probs: list, weights) -> torch.Tensor:
    return torch.log_softmax(sum(w * lp for w, lp in zip(weights, log_probs)), -1)


def simplex_grid(count: int) -> np.ndarray:
    """Weight vectors with components in multiples of 1/steps that sum to 1, equal weights first."""
    steps = 10 if count <= 3 else 4
    points = [np.array(c) / steps for c in itertools.product(range(steps + 1), repeat=count) if sum(c) == steps]
    return np.array(sorted(points, key=lambda w: float(np.abs(w - 1 / count).sum())))


@torch.no_grad()
def choose_fusion_weights(model: LateFusionGNN, items, batch_size: int, device) -> list:
    """Set `model.fusion_weights` to the grid point with the best weighted-F1 on the labelled
    utterances of `items` (dev); ties go to the more even weights. Returns the weights."""
    model.eval()
    per_branch, gold = [[] for _ in model.widths], []
    for batch in iterate_batches(items, batch_size):
        for store, logits in zip(per_branch, model.branch_logits(batch.to(device))):
            store.append(torch.log_softmax(logits, -1).float().cpu())
        gold.append(batch.labels.cpu())
    gold = torch.cat(gold).numpy()
    keep = gold >= 0
    log_probs = np.stack([torch.cat(store).numpy()[keep] for store in per_branch])   # [M, n, K]
    best, best_f1 = None, -1.0
    for weights in simplex_grid(len(model.widths)):
        predicted = np.tensordot(weights, log_probs, axes=1).argmax(-1)
        score = f1_score(gold[keep], predicted, average="weighted", zero_division=0)
        if score > best_f1:
            best, best_f1 = weights, score
    model.fusion_weights.copy_(torch.as_tensor(best, dtype=model.fusion_weights.dtype))
    return best.tolist()
