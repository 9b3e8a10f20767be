"""cgnn.relational.RelationalGraphConv against PyG's RGCNConv (the independent reference): same
weights loaded, same outputs and gradients."""

import pytest
import torch
from torch_geometric.nn import RGCNConv

from cgnn.relational import RelationalGraphConv, matmul_per_relation

torch.set_num_threads(1)


def random_graph(num_nodes, num_edges, num_relations, seed, used_relations=None):
    generator = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, num_nodes, (2, num_edges), generator=generator)
    choices = torch.tensor(used_relations) if used_relations is not None else torch.arange(num_relations)
    edge_type = choices[torch.randint(0, len(choices), (num_edges,), generator=generator)]
    return edge_index, edge_type


def outputs_and_grads(layer, x, edge_index, edge_type):
    x = x.clone().requires_grad_(True)
    out = layer(x, edge_index, edge_type)
    (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()  # a non-uniform upstream gradient
    grads = {name: p.grad for name, p in layer.named_parameters()}
    return out.detach(), x.grad, grads


@pytest.mark.parametrize("num_relations, bases, chunk_size", [
    (1, 0, 64), (4, 0, 64), (8, 0, 64), (8, 0, 3), (162, 0, 64), (162, 0, 5), (8, 3, 64), (162, 7, 4)])
def test_matches_pyg_rgcnconv_outputs_and_gradients(num_relations, bases, chunk_size):
    torch.manual_seed(num_relations + bases)
    reference = RGCNConv(12, 7, num_relations, num_bases=bases or None)
    ours = RelationalGraphConv(12, 7, num_relations, num_bases=bases, chunk_size=chunk_size)
    assert set(ours.state_dict()) == set(reference.state_dict())
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(40, 12)
    # some relations absent, some nodes with no incoming edge, repeated edges
    edge_index, edge_type = random_graph(40, 300, num_relations, seed=num_relations,
                                         used_relations=list(range(0, num_relations, 2)) or [0])
    edge_index = torch.cat([edge_index, edge_index[:, :20]], dim=1)
    edge_type = torch.cat([edge_type, edge_type[:20]])
    expected = outputs_and_grads(reference, x, edge_index, edge_type)
    got = outputs_and_grads(ours, x, edge_index, edge_type)
    torch.testing.assert_close(got[0], expected[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got[1], expected[1], atol=1e-5, rtol=1e-5)
    for name in expected[2]:
        torch.testing.assert_close(got[2][name], expected[2][name], atol=1e-5, rtol=1e-5, msg=name)


def test_initialisation_has_rgcnconv_shapes_and_scale():
    torch.manual_seed(0)
    ours, reference = RelationalGraphConv(100, 100, 8), RGCNConv(100, 100, 8)
    for name, parameter in reference.named_parameters():
        mine = dict(ours.named_parameters())[name]
        assert mine.shape == parameter.shape
        assert mine.std().item() == pytest.approx(parameter.std().item(), rel=0.1, abs=1e-6)


def test_matmul_per_relation_is_a_per_row_matmul():
    torch.manual_seed(1)
    weights = torch.randn(5, 3, 2)
    relation = torch.tensor([0, 0, 0, 0, 0, 2, 4, 4, 4])  # grouped, relation 1 and 3 absent
    rows = torch.randn(len(relation), 3)
    expected = torch.stack([rows[p] @ weights[relation[p]] for p in range(len(relation))])
    for chunk_size in (1, 2, 4, 64):
        torch.testing.assert_close(matmul_per_relation(rows, relation, weights, chunk_size), expected)


def test_a_node_with_only_a_self_loop_gets_root_plus_its_relation():
    layer = RelationalGraphConv(2, 2, 3)
    with torch.no_grad():
        layer.root.copy_(torch.eye(2))
        layer.weight.copy_(torch.stack([torch.eye(2) * (r + 1) for r in range(3)]))
        layer.bias.zero_()
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    # node 0: self-loop of relation 2, node 1: edges from 0 and 1 of relation 1 (mean = [2, 3])
    out = layer(x, torch.tensor([[0, 0, 1], [0, 1, 1]]), torch.tensor([2, 1, 1]))
    assert out.tolist() == [[1.0 + 3 * 1.0, 2.0 + 3 * 2.0], [3.0 + 2 * 2.0, 4.0 + 2 * 3.0]]
