"""cgnn.model.GraphAttention against PyG's TransformerConv (the independent reference): same
weights loaded, same outputs and gradients, on graphs inside padded dialogues."""

import pytest
import torch
from torch_geometric.nn import TransformerConv

from cgnn.model import GraphAttention

torch.set_num_threads(1)


def dialogue_graph(lengths, edges_per_dialogue, seed):
    """Random edges inside each dialogue (node ids over the concatenated dialogues), and the mask."""
    generator = torch.Generator().manual_seed(seed)
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    edges, offset = [], 0
    for n in lengths:
        edges.append(torch.randint(0, n, (2, edges_per_dialogue), generator=generator) + offset)
        offset += n
    return torch.unique(torch.cat(edges, dim=1), dim=1), mask  # no repeated edges, as graph.py builds


@pytest.mark.parametrize("heads", [1, 3])
def test_matches_pyg_transformerconv_outputs_and_gradients(heads):
    torch.manual_seed(heads)
    reference = TransformerConv(6, 5, heads=heads, concat=True)
    ours = GraphAttention(6, 5, heads=heads)
    assert set(ours.state_dict()) == set(reference.state_dict())
    ours.load_state_dict(reference.state_dict())
    edge_index, mask = dialogue_graph([7, 2, 11, 1], edges_per_dialogue=9, seed=heads)
    # node 21 (the one-utterance dialogue) and some others receive nothing
    assert set(range(21)) - set(edge_index[1].tolist())
    x = torch.randn(int(mask.sum()), 6)
    upstream = torch.linspace(-1, 1, x.shape[0] * 5 * heads).view(x.shape[0], 5 * heads)
    results = []
    for layer, call in ((reference, lambda x: reference(x, edge_index)), (ours, lambda x: ours(x, edge_index, mask))):
        inputs = x.clone().requires_grad_(True)
        out = call(inputs)
        (out * upstream).sum().backward()
        results.append((out.detach(), inputs.grad, {n: p.grad for n, p in layer.named_parameters()}))
    (expected, expected_dx, expected_dp), (got, got_dx, got_dp) = results
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got_dx, expected_dx, atol=1e-5, rtol=1e-5)
    for name in expected_dp:
        torch.testing.assert_close(got_dp[name], expected_dp[name], atol=1e-5, rtol=1e-5, msg=name)


def test_edges_across_dialogues_are_refused():
    layer = GraphAttention(4, 4)
    mask = torch.tensor([[True, True], [True, False]])
    with pytest.raises(ValueError, match="inside one dialogue"):
        layer(torch.randn(3, 4), torch.tensor([[0], [2]]), mask)
