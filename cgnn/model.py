"""The stage-3 contextual GNN (COGMEN-style):

    h   = SequenceEncoder(x)                        per dialogue, real utterances only, [N, H]
    r   = relation_types(scheme, speakers, edges)   same/other speaker x past/future (or COGMEN's
                                                    speaker x speaker x past/future)
    g   = RelationalGraphConv(h, edges, r)
    g   = LeakyReLU(BatchNorm(TransformerConv(g)))  graph attention over the same edges
    out = Classifier(g)  or  Classifier([h, g])     per utterance logits [N, K]
"""

import dataclasses

import torch
from torch import nn
from torch_geometric.nn import TransformerConv

from cgnn.batching import Batch
from cgnn.graph import num_relations, relation_types
from cgnn.relational import RelationalGraphConv
from cgnn.sequence_encoder import Dropout, SequenceEncoder


@dataclasses.dataclass
class ModelConfig:
    hidden: int = 100               # COGMEN hidden_size
    encoder: str = "transformer"    # transformer | lstm | gru
    encoder_layers: int = 2         # COGMEN seqcontext_nlayer
    encoder_heads: int = 4          # must divide the encoder width; 0 = COGMEN's rule (first of 7..14)
    encoder_feedforward: int = 400
    attention_dropout: float = 0.0  # on the transformer's attention weights (COGMEN: = dropout)
    input_norm: str = "batch"       # batch (standardise each input dimension) | layer | none
    project_first: bool = True      # False: transformer at the input width, projected after (COGMEN)
    positional: bool = False        # sinusoidal positions with a learned scale (transformer or RNN)
    position_scale: float = 0.1     # initial value of that scale
    wp: int = 5                     # past window, -1 = whole dialogue
    wf: int = 5                     # future window, -1 = whole dialogue
    relations: str = "same_other"   # same_other (4 relations) | speaker_pair (COGMEN, 2 S^2)
    speaker_map: list = dataclasses.field(default_factory=list)  # [] = first appearance; [M, F] = fixed
    gnn_heads: int = 1              # TransformerConv heads (COGMEN gnn_nheads)
    rgcn_bases: int = 0             # basis decomposition of the relation weights; 0 = none (COGMEN)
    concat_sequence: bool = False   # classify [sequence output, GNN output] (COGMEN concat_gin_gout)
    dropout: float = 0.5


class RelationalGNN(nn.Module):
    def __init__(self, hidden, relations, heads=1, bases=0):
        super().__init__()
        self.rgcn = RelationalGraphConv(hidden, hidden, relations, num_bases=bases)
        self.attention = TransformerConv(hidden, hidden, heads=heads, concat=True)
        self.norm = nn.BatchNorm1d(hidden * heads)

    def forward(self, x, edge_index, edge_type):
        x = self.rgcn(x, edge_index, edge_type)
        return nn.functional.leaky_relu(self.norm(self.attention(x, edge_index)))


class Classifier(nn.Module):
    def __init__(self, input_dim, hidden, num_classes, dropout):
        super().__init__()
        self.hidden = nn.Linear(input_dim, hidden)
        self.dropout = Dropout(dropout)
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.out(self.dropout(torch.relu(self.hidden(x))))


class ContextualGNN(nn.Module):
    def __init__(self, config: ModelConfig, input_dim: int, num_classes: int, num_speakers: int):
        super().__init__()
        if config.speaker_map and len(config.speaker_map) > num_speakers:
            raise ValueError(f"speaker_map {config.speaker_map} names more than num_speakers={num_speakers}")
        self.config = config
        self.num_speakers = num_speakers
        self.sequence = SequenceEncoder(
            input_dim, config.hidden, config.encoder, config.encoder_layers, config.encoder_heads,
            config.encoder_feedforward, config.dropout, config.attention_dropout, config.positional,
            config.position_scale, config.input_norm, config.project_first)
        self.gnn = RelationalGNN(config.hidden, num_relations(config.relations, num_speakers),
                                 config.gnn_heads, config.rgcn_bases)
        gnn_width = config.hidden * config.gnn_heads
        classifier_input = gnn_width + (config.hidden if config.concat_sequence else 0)
        self.classifier = Classifier(classifier_input, config.hidden, num_classes, config.dropout)

    def forward(self, batch: Batch) -> torch.Tensor:
        """Logits [N, K] for the N real utterances of the batch, in node order."""
        if tuple(batch.speaker_map) != tuple(self.config.speaker_map):
            raise ValueError(f"batch prepared with speaker_map {list(batch.speaker_map)}, but the model "
                             f"uses {list(self.config.speaker_map)}; pass the model's speaker_map to "
                             "prepare_dialogues")
        nodes = self.sequence(batch.features, batch.mask)
        edge_type = relation_types(self.config.relations, batch.speaker_index, batch.edge_index,
                                   self.num_speakers)
        graph = self.gnn(nodes, batch.edge_index, edge_type)
        if self.config.concat_sequence:
            graph = torch.cat([nodes, graph], dim=-1)
        return self.classifier(graph)
