"""Relational graph convolution (Schlichtkrull et al., 2018) with mean aggregation, as PyG's
`RGCNConv`, computed without a Python loop over relations:

    out_i = x_i Θ_root + b + Σ_r  1/|N_r(i)|  Σ_{j ∈ N_r(i)} x_j Θ_r

N_r(i) = the sources of the edges of type r that end in node i. Parameters have RGCNConv's names,
shapes and initialisation (`weight` [R, in, out], or with bases `weight` [B, in, out] + `comp`
[R, B]; `root` [in, out]; `bias` [out]), so state dicts load either way.

How it stays cheap with many relations (2 S^2 for S speakers):
1. the mean over N_r(i) is taken first, once per (relation, target) pair present in the batch
   (one scatter over the edges); exact, because Θ_r is linear;
2. every pair's mean is multiplied by its own Θ_r in ONE batched matmul: the pairs, grouped by
   relation, are cut into chunks of `chunk_size` rows that share a relation, so the chunks stack
   into [K, chunk_size, in] x [K, in, out];
3. the products are summed into their target nodes.
The work grows with the number of pairs (at most the number of edges) plus at most
`chunk_size - 1` padding rows per relation present, not with the number of relations. PyG's
`RGCNConv` loops over all relations in Python and its backward allocates a full-size weight
gradient per relation; `FastRGCNConv` gathers a weight matrix per edge (both measured in
docs/benchmarks.md)."""

import torch
from torch import nn
from torch_geometric.nn.inits import glorot


class RelationalGraphConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, num_relations: int, num_bases: int = 0,
                 chunk_size: int = 64):
        super().__init__()
        self.num_relations = num_relations
        self.chunk_size = chunk_size
        if num_bases:
            self.weight = nn.Parameter(torch.empty(num_bases, in_channels, out_channels))
            self.comp = nn.Parameter(torch.empty(num_relations, num_bases))
        else:
            self.weight = nn.Parameter(torch.empty(num_relations, in_channels, out_channels))
            self.register_parameter("comp", None)
        self.root = nn.Parameter(torch.empty(in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self):
        glorot(self.weight)
        glorot(self.comp)
        glorot(self.root)
        nn.init.zeros_(self.bias)

    def relation_weights(self) -> torch.Tensor:
        """Θ_r for every relation, [R, in, out] (basis decomposition: Θ_r = Σ_b comp[r, b] V_b)."""
        if self.comp is None:
            return self.weight
        return (self.comp @ self.weight.flatten(1)).view(self.num_relations, *self.weight.shape[1:])

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_type: torch.Tensor) -> torch.Tensor:
        source, target = edge_index
        relation, node, mean = mean_per_relation_and_target(x[source], edge_type, target, x.shape[0])
        messages = matmul_per_relation(mean, relation, self.relation_weights(), self.chunk_size)
        return (x @ self.root + self.bias).index_add(0, node, messages)


def mean_per_relation_and_target(values, relation, target, num_nodes):
    """Mean of `values` [E, D] over the edges of each (relation, target) pair that occurs.
    -> (relation [P], target [P], mean [P, D]), pairs sorted by relation, then target."""
    key = relation * num_nodes + target
    pairs, pair_of_edge, count = torch.unique(key, sorted=True, return_inverse=True, return_counts=True)
    total = values.new_zeros(len(pairs), values.shape[1]).index_add_(0, pair_of_edge, values)
    return pairs // num_nodes, pairs % num_nodes, total / count.unsqueeze(1).to(values.dtype)


def matmul_per_relation(rows, relation, weights, chunk_size):
    """rows[p] @ weights[relation[p]] for every p; `rows` [P, in] grouped by relation (ascending),
    `weights` [R, in, out] -> [P, out], as one batched matmul over chunks of one relation each."""
    rows_per_relation = torch.bincount(relation, minlength=weights.shape[0])
    chunks_per_relation = (rows_per_relation + chunk_size - 1) // chunk_size
    first_row = torch.cumsum(rows_per_relation, 0) - rows_per_relation
    first_slot = (torch.cumsum(chunks_per_relation, 0) - chunks_per_relation) * chunk_size
    # row p of relation r sits at slot first_slot[r] + (p - first_row[r]) of the chunked layout
    slot = (first_slot - first_row)[relation] + torch.arange(len(rows), device=rows.device)
    num_chunks = int(chunks_per_relation.sum())
    chunked = rows.new_zeros(num_chunks * chunk_size, rows.shape[1]).index_copy(0, slot, rows)
    chunk_relation = torch.repeat_interleave(
        torch.arange(weights.shape[0], device=rows.device), chunks_per_relation)
    products = torch.bmm(chunked.view(num_chunks, chunk_size, -1), weights[chunk_relation])
    return products.view(num_chunks * chunk_size, -1)[slot]
