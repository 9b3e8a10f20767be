"""The stage-3 contextual GNN (COGMEN-style):

    h   = SequenceEncoder(x)                        per dialogue, [B, T, H]
    g   = RGCN(h, edges, relation types)            speaker x speaker x past/future relations
    g   = LeakyReLU(BatchNorm(TransformerConv(g)))  graph attention over the same edges
    out = Classifier(g)  or  Classifier([h, g])     per utterance logits [N, K]
"""

import dataclasses

import torch
from torch import nn
from torch_geometric.nn import RGCNConv, TransformerConv

from cgnn.batching import Batch
from cgnn.graph import num_relations
from cgnn.sequence_encoder import SequenceEncoder


@dataclasses.dataclass
class ModelConfig:
    hidden: int = 100               # COGMEN hidden_size
    encoder: str = "transformer"    # transformer | lstm | gru
    encoder_layers: int = 2         # COGMEN seqcontext_nlayer
    encoder_heads: int = 4          # must divide hidden
    encoder_feedforward: int = 400
    positional: bool = True         # sinusoidal positions (transformer only)
    wp: int = 5                     # past window, -1 = whole dialogue
    wf: int = 5                     # future window, -1 = whole dialogue
    gnn_heads: int = 1              # TransformerConv heads (COGMEN gnn_nheads)
    rgcn_bases: int = 0             # basis decomposition for many speakers; 0 = none (COGMEN)
    concat_sequence: bool = False   # classify [sequence output, GNN output] (COGMEN concat_gin_gout)
    dropout: float = 0.5
    num_speakers: int = 0           # speakers per dialogue the graph handles; 0 = the most in the pickle


class RelationalGNN(nn.Module):
    def __init__(self, hidden, relations, heads=1, bases=0):
        super().__init__()
        self.rgcn = RGCNConv(hidden, hidden, relations, num_bases=bases or None)
        self.attention = TransformerConv(hidden, hidden, heads=heads, concat=True)
        self.norm = nn.BatchNorm1d(hidden * heads)

    def forward(self, x, edge_index, edge_type):
        x = self.rgcn(x, edge_index, edge_type)
        return nn.functional.leaky_relu(self.norm(self.attention(x, edge_index)))


class Classifier(nn.Module):
    def __init__(self, input_dim, hidden, num_classes, dropout):
        super().__init__()
        self.hidden = nn.Linear(input_dim, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.out(self.dropout(torch.relu(self.hidden(x))))


class ContextualGNN(nn.Module):
    def __init__(self, config: ModelConfig, input_dim: int, num_classes: int, num_speakers: int):
        super().__init__()
        self.config = config
        self.sequence = SequenceEncoder(
            input_dim, config.hidden, config.encoder, config.encoder_layers, config.encoder_heads,
            config.encoder_feedforward, config.dropout, config.positional)
        self.gnn = RelationalGNN(config.hidden, num_relations(num_speakers), config.gnn_heads,
                                 config.rgcn_bases)
        gnn_width = config.hidden * config.gnn_heads
        classifier_input = gnn_width + (config.hidden if config.concat_sequence else 0)
        self.classifier = Classifier(classifier_input, config.hidden, num_classes, config.dropout)

    def forward(self, batch: Batch) -> torch.Tensor:
        """Logits [N, K] for the N real utterances of the batch, in node order."""
        nodes = self.sequence(batch.features, batch.mask)
        graph = self.gnn(nodes, batch.edge_index, batch.edge_type)
        if self.config.concat_sequence:
            graph = torch.cat([nodes, graph], dim=-1)
        return self.classifier(graph)
