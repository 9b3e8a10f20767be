"""The stage-3 contextual GNN (COGMEN-style):

    h   = SequenceEncoder(x)                        per dialogue, real utterances only, [N, H]
    r   = relation_types(scheme, speakers, edges)   same/other speaker x past/future (or COGMEN's
                                                    speaker x speaker x past/future)
    g   = RelationalGraphConv(h, edges, r)
    g   = LeakyReLU(BatchNorm(GraphAttention(g)))   = PyG TransformerConv over the same edges
    out = Classifier(g)  or  Classifier([h, g])     per utterance logits [N, K]
"""

import torch
from torch import nn

from cgnn.batching import Batch
from cgnn.config import ModelConfig  # the schema lives in cgnn/config.py, which imports no torch
from cgnn.graph import num_relations, relation_types
from cgnn.late_fusion import LateFusionGNN
from cgnn.relational import RelationalGraphConv
from cgnn.sequence_encoder import Dropout, SequenceEncoder, pad


class GraphAttention(nn.Module):
    """PyG's TransformerConv (heads concatenated, root weight, no edge features, no attention
    dropout), same parameter names, for graphs whose edges stay inside a dialogue and do not
    repeat (as graph.py builds them; PyG would count a repeated edge twice):

        out_i = W_skip x_i + b_skip + ||_heads  sum_{j -> i} softmax_j(q_i . k_j / sqrt(C)) v_j

    computed as dense attention over each padded dialogue with the graph's adjacency as the mask
    (one fused kernel instead of PyG's per-edge gathers and scatters; docs/benchmarks.md). A node
    without incoming edges gets W_skip x_i + b_skip, as in PyG."""

    def __init__(self, width, out, heads=1):
        super().__init__()
        self.heads = heads
        self.lin_query, self.lin_key, self.lin_value, self.lin_skip = (
            nn.Linear(width, heads * out) for _ in range(4))

    def forward(self, x, edge_index, mask):
        adjacency, without_edges = dialogue_adjacency(edge_index, mask)
        batch, length = mask.shape
        q, k, v = (pad(linear(x), mask).view(batch, length, self.heads, -1).transpose(1, 2)
                   for linear in (self.lin_query, self.lin_key, self.lin_value))
        attended = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=adjacency[:, None])
        attended = attended.transpose(1, 2).reshape(batch, length, -1)[mask]
        return attended.masked_fill(without_edges[:, None], 0.0) + self.lin_skip(x)


def dialogue_adjacency(edge_index, mask):
    """[B, T, T] bool, [b, i, j] = edge j -> i between utterances i, j of dialogue b; and [N] bool,
    True for nodes without incoming edges (their row gets a self-loop placeholder so that
    softmax never sees an empty row; the caller zeroes their output)."""
    batch, length = mask.shape
    dialogue = torch.arange(batch, device=mask.device)[:, None].expand(batch, length)[mask]
    position = torch.cumsum(mask, 1)[mask] - 1
    source, target = edge_index
    if not torch.equal(dialogue[source], dialogue[target]):
        raise ValueError("GraphAttention needs every edge inside one dialogue")
    adjacency = torch.zeros(batch, length, length, dtype=torch.bool, device=mask.device)
    adjacency[dialogue[target], position[target], position[source]] = True
    empty = ~adjacency.any(-1)
    adjacency |= torch.diag_embed(empty)
    return adjacency, empty[mask]


class RelationalGNN(nn.Module):
    def __init__(self, hidden, relations, heads=1, bases=0):
        super().__init__()
        self.rgcn = RelationalGraphConv(hidden, hidden, relations, num_bases=bases)
        self.attention = GraphAttention(hidden, hidden, heads=heads)
        self.norm = nn.BatchNorm1d(hidden * heads)

    def forward(self, x, edge_index, edge_type, mask):
        x = self.rgcn(x, edge_index, edge_type)
        return nn.functional.leaky_relu(self.norm(self.attention(x, edge_index, mask)))


class Classifier(nn.Module):
    def __init__(self, input_dim, hidden, num_classes, dropout):
        super().__init__()
        self.hidden = nn.Linear(input_dim, hidden)
        self.dropout = Dropout(dropout)
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.out(self.dropout(torch.relu(self.hidden(x))))


class ContextualGNN(nn.Module):
    def __init__(self, config: ModelConfig, input_dim: int, num_classes: int, num_speakers: int, widths=None):
        """`widths`: the width of each modality in the input, in order (None = one block of input_dim)."""
        super().__init__()
        if widths is not None and sum(widths) != input_dim:
            raise ValueError(f"modality widths {list(widths)} do not add up to input_dim {input_dim}")
        if config.speaker_map and len(config.speaker_map) > num_speakers:
            raise ValueError(f"speaker_map {config.speaker_map} names more than num_speakers={num_speakers}")
        self.config = config
        self.num_speakers = num_speakers
        self.sequence = SequenceEncoder(
            input_dim, config.hidden, config.encoder, config.encoder_layers, config.encoder_heads,
            config.encoder_feedforward, config.dropout, config.attention_dropout, config.positional,
            config.position_scale, config.input_norm, config.project_first, widths, config.modality_dropout)
        self.gnn = RelationalGNN(config.hidden, num_relations(config.relations, num_speakers),
                                 config.gnn_heads, config.rgcn_bases)
        gnn_width = config.hidden * config.gnn_heads
        classifier_input = gnn_width + (config.hidden if config.concat_sequence else 0)
        self.classifier = Classifier(classifier_input, config.hidden, num_classes, config.dropout)

    def branch_logits(self, batch: Batch) -> list:
        """The logits each trained part produces (one here; one per modality in LateFusionGNN)."""
        return [self(batch)]

    def forward(self, batch: Batch) -> torch.Tensor:
        """Logits [N, K] for the N real utterances of the batch, in node order."""
        if tuple(batch.speaker_map) != tuple(self.config.speaker_map):
            raise ValueError(f"batch prepared with speaker_map {list(batch.speaker_map)}, but the model "
                             f"uses {list(self.config.speaker_map)}; pass the model's speaker_map to "
                             "prepare_dialogues")
        nodes = self.sequence(batch.features, batch.mask)
        edge_type = relation_types(self.config.relations, batch.speaker_index, batch.edge_index,
                                   self.num_speakers)
        graph = self.gnn(nodes, batch.edge_index, edge_type, batch.mask)
        if self.config.concat_sequence:
            graph = torch.cat([nodes, graph], dim=-1)
        return self.classifier(graph)


def build_model(config: ModelConfig, widths, num_classes: int, num_speakers: int) -> nn.Module:
    """The stage-3 model for features of these `widths` (one per modality, in order):
    `LateFusionGNN` for several modalities with `fusion: late`, else one `ContextualGNN`."""
    widths = [int(w) for w in widths]
    if config.fusion == "late" and len(widths) > 1:
        return LateFusionGNN(config, widths, num_classes, num_speakers,
                             lambda width: ContextualGNN(config, width, num_classes, num_speakers, [width]))
    return ContextualGNN(config, sum(widths), num_classes, num_speakers, widths)
