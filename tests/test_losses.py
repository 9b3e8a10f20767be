"""Stage-1 losses against values worked out by hand (or with plain Python floats)."""

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from erc_core.config import ConfigError, load_config
from erc_core.metrics import concordance_correlation, va_metrics
from feature_extractor.heads.base import HeadOutput
from feature_extractor.training.losses.loss import (
    LossConfig,
    compute_loss,
    peakl_targets,
)

K = 7


def seven(*shares):
    return list(shares) + [0.0] * (K - len(shares))


def peakl_by_hand(shares):
    """PeakL written out with Python floats: r = tanh(H), y' = max(0, y - r/K) renormalised."""
    entropy = -sum(p * math.log(p) for p in shares if p > 0)
    r = math.tanh(entropy)
    peaked = [max(0.0, p - r / K) for p in shares]
    return [p / sum(peaked) for p in peaked]


# --- PeakL -------------------------------------------------------------------------------------


def test_peakl_sharpens_a_60_40_split_to_about_62_38():
    # H = -(0.6 ln 0.6 + 0.4 ln 0.4) = 0.67301, r = tanh(H) = 0.58713, r/7 = 0.083876
    # y' = (0.516124, 0.316124) / 0.832248 = (0.62015, 0.37985)
    out = peakl_targets(torch.tensor([seven(0.6, 0.4)]))
    assert out[0, 0].item() == pytest.approx(0.62015, abs=1e-4)
    assert out[0, 1].item() == pytest.approx(0.37985, abs=1e-4)
    assert out[0, 2:].abs().sum().item() == 0.0


def test_peakl_sharpens_an_80_20_split():
    # H = 0.50040, r = 0.46224, r/7 = 0.066034; y' = (0.733966, 0.133966) / 0.867932 = (0.84565, 0.15435).
    # (With log base 2 the same rule gives 0.864 / 0.136: the natural log is the one used here.)
    out = peakl_targets(torch.tensor([seven(0.8, 0.2)]))
    assert out[0, :2].tolist() == pytest.approx([0.84565, 0.15435], abs=1e-4)


def test_peakl_matches_a_plain_python_evaluation_and_drops_weak_classes():
    rows = [seven(0.8, 0.1, 0.1), seven(0.5, 0.3, 0.1, 0.1), seven(0.4, 0.3, 0.2, 0.1), [1 / K] * K]
    out = peakl_targets(torch.tensor(rows))
    for got, shares in zip(out.tolist(), rows):
        assert got == pytest.approx(peakl_by_hand(shares), abs=1e-5)
    # 0.5/0.3/0.1/0.1: H = 1.16828, r = 0.82416, r/7 = 0.11774 > 0.1, so the two 0.1 votes vanish.
    assert out[1, 2:4].tolist() == [0.0, 0.0]
    assert out[3].tolist() == pytest.approx([1 / K] * K)  # uniform stays uniform


def test_peakl_leaves_a_unanimous_vote_alone_and_accepts_counts():
    assert peakl_targets(torch.tensor([seven(0, 0, 1.0)])).tolist() == [seven(0, 0, 1.0)]
    from_counts = peakl_targets(torch.tensor([seven(6.0, 4.0)]))
    from_shares = peakl_targets(torch.tensor([seven(0.6, 0.4)]))
    assert torch.allclose(from_counts, from_shares)


def test_peakl_rejects_rows_without_votes_and_wrong_widths():
    with pytest.raises(ValueError, match=r"rows \[1\] have no votes"):
        peakl_targets(torch.tensor([seven(1.0), seven()]))
    with pytest.raises(ValueError, match=r"expected shape \[B, 7\]"):
        peakl_targets(torch.tensor([[0.5, 0.5]]))


# --- CCC ---------------------------------------------------------------------------------------


def test_ccc_of_small_vectors_by_hand():
    # pred (1, 2, 3), target (1, 2, 4): means 2 and 7/3, population variances 2/3 and 14/9,
    # covariance 1, squared mean gap 1/9 -> CCC = 2 / (6/9 + 14/9 + 1/9) = 18/21 = 6/7.
    ccc = concordance_correlation(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 4.0]))
    assert ccc.item() == pytest.approx(6 / 7, abs=1e-6)


def test_ccc_perfect_is_one_and_negated_is_minus_one():
    x = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0])
    assert concordance_correlation(x + 3.0, x + 3.0).item() == pytest.approx(1.0, abs=1e-6)
    assert concordance_correlation(-x, x).item() == pytest.approx(-1.0, abs=1e-6)


def test_ccc_penalises_a_shift_that_pearson_ignores():
    # pred = target + 1: covariance = var = 2, CCC = 2*2 / (2 + 2 + 1) = 0.8
    x = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0])
    assert concordance_correlation(x + 1.0, x).item() == pytest.approx(0.8, abs=1e-6)


def test_va_metrics_name_valence_and_arousal_and_skip_blank_targets():
    x = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0])
    pred = torch.stack([x, -x], dim=1)
    target = torch.stack([x, x], dim=1)
    with_blank = torch.cat([target, torch.tensor([[float("nan"), 1.0]])])
    got = va_metrics(torch.cat([pred, torch.tensor([[9.0, 9.0]])]), with_blank)
    assert got == pytest.approx({"ccc_valence": 1.0, "ccc_arousal": -1.0, "va_n": 5}, abs=1e-6)


# --- classification ----------------------------------------------------------------------------


def output(logits, va=None):
    return HeadOutput(logits=logits, fused=torch.zeros(logits.shape[0], 1), va=va)


def test_focal_with_gamma_zero_is_cross_entropy():
    torch.manual_seed(0)
    logits, labels = torch.randn(6, K), torch.randint(0, K, (6,))
    focal = compute_loss(output(logits), labels, None, None, LossConfig(kind="focal", focal_gamma=0.0))
    assert focal.item() == pytest.approx(F.cross_entropy(logits, labels).item(), abs=1e-6)


def test_focal_with_gamma_two_by_hand():
    # two classes, logits (0, ln 3): p = (1/4, 3/4); label 1 -> -(1 - 3/4)^2 ln(3/4) = 0.0625 * 0.287682
    logits = torch.tensor([[0.0, math.log(3.0)]])
    loss = compute_loss(output(logits), torch.tensor([1]), None, None, LossConfig(kind="focal", focal_gamma=2.0))
    assert loss.item() == pytest.approx(0.0625 * 0.2876821, abs=1e-6)


def test_hard_ce_and_label_smoothing_match_torch():
    torch.manual_seed(1)
    logits, labels = torch.randn(5, K), torch.randint(0, K, (5,))
    cfg = LossConfig(label_smoothing=0.1)
    expected = F.cross_entropy(logits, labels, label_smoothing=0.1)
    assert compute_loss(output(logits), labels, None, None, cfg).item() == pytest.approx(expected.item(), abs=1e-6)


def test_soft_ce_against_uniform_logits_is_log_k():
    # equal logits give p = 1/K for every class, so -sum_k q_k log p_k = ln K whatever q is
    soft = torch.tensor([seven(0.6, 0.4), seven(0.1, 0.2, 0.7)])
    loss = compute_loss(output(torch.zeros(2, K)), torch.tensor([0, 2]), soft, None, LossConfig(target="soft"))
    assert loss.item() == pytest.approx(math.log(K), abs=1e-6)


def test_soft_and_peakl_targets_by_hand():
    # q = (0.6, 0.4, 0...): soft CE = -(0.6 ln p0 + 0.4 ln p1); PeakL uses the sharpened q instead.
    logits = torch.tensor([[1.0, 0.0, -20, -20, -20, -20, -20]])
    log_p = F.log_softmax(logits, dim=1)[0]
    soft = torch.tensor([seven(0.6, 0.4)])
    got_soft = compute_loss(output(logits), torch.tensor([0]), soft, None, LossConfig(target="soft"))
    assert got_soft.item() == pytest.approx(-(0.6 * log_p[0] + 0.4 * log_p[1]).item(), abs=1e-5)
    q = peakl_by_hand([0.6, 0.4])
    got_peakl = compute_loss(output(logits), torch.tensor([0]), soft, None, LossConfig(target="peakl"))
    assert got_peakl.item() == pytest.approx(-(q[0] * log_p[0] + q[1] * log_p[1]).item(), abs=1e-5)


# --- joint loss and errors ---------------------------------------------------------------------


def test_regression_is_weighted_with_classification():
    torch.manual_seed(2)
    logits, labels = torch.randn(4, K), torch.randint(0, K, (4,))
    va_pred, va_true = torch.randn(4, 2), torch.rand(4, 2) * 4 + 1
    mse = ((va_pred - va_true) ** 2).mean()
    expected = 0.7 * F.cross_entropy(logits, labels) + 0.3 * mse
    got = compute_loss(output(logits, va_pred), labels, None, va_true, LossConfig(regression="mse"))
    assert got.item() == pytest.approx(expected.item(), abs=1e-5)


def test_ccc_loss_is_zero_for_perfect_predictions():
    va = torch.tensor([[1.0, 2.0], [2.0, 4.0], [4.0, 3.0], [5.0, 1.0]])
    labels = torch.tensor([0, 1, 2, 3])
    logits = 50.0 * F.one_hot(labels, K).float()  # CE ~ 0
    cfg = LossConfig(regression="ccc", classification_weight=0.0, regression_weight=1.0)
    assert compute_loss(output(logits, va.clone()), labels, None, va, cfg).item() == pytest.approx(0.0, abs=1e-6)


def test_without_regression_the_va_output_is_ignored():
    logits, labels = torch.randn(3, K), torch.tensor([0, 1, 2])
    got = compute_loss(output(logits, torch.randn(3, 2)), labels, None, None, LossConfig(regression="none"))
    assert got.item() == pytest.approx(F.cross_entropy(logits, labels).item(), abs=1e-6)


def test_auto_regression_trains_va_only_when_the_head_predicts_it():
    torch.manual_seed(3)
    logits, labels = torch.randn(4, K), torch.randint(0, K, (4,))
    va_pred, va_true = torch.randn(4, 2), torch.rand(4, 2) * 4 + 1
    ce = F.cross_entropy(logits, labels)
    with_va = compute_loss(output(logits, va_pred), labels, None, va_true, LossConfig())
    assert with_va.item() == pytest.approx((0.7 * ce + 0.3 * ((va_pred - va_true) ** 2).mean()).item(), abs=1e-5)
    without_va = compute_loss(output(logits), labels, None, va_true, LossConfig())
    assert without_va.item() == pytest.approx(ce.item(), abs=1e-6)


def test_errors_say_what_is_missing():
    logits, labels = torch.randn(2, K), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="predict_va=True"):
        compute_loss(output(logits), labels, None, torch.ones(2, 2), LossConfig(regression="mse"))
    with pytest.raises(ValueError, match="needs valence/arousal targets"):
        compute_loss(output(logits, torch.ones(2, 2)), labels, None, None, LossConfig(regression="ccc"))
    with pytest.raises(ValueError, match="needs rater soft labels"):
        compute_loss(output(logits), labels, None, None, LossConfig(target="peakl"))
    with pytest.raises(ValueError, match=r"rows \[1\] have labels \[7\]"):
        compute_loss(output(logits), torch.tensor([0, 7]), None, None, LossConfig())
    with pytest.raises(ConfigError, match="loss.kind: Invalid value 'dice', expected one of"):
        load_config(LossHolder, None, ["loss.kind=dice"])


@dataclasses.dataclass
class LossHolder:
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)


def test_blank_valence_or_arousal_rows_are_left_out_of_the_regression():
    torch.manual_seed(4)
    logits, labels = torch.randn(4, K), torch.randint(0, K, (4,))
    va_pred = torch.randn(4, 2, requires_grad=True)
    va_true = torch.tensor([[1.0, 2.0], [float("nan"), 3.0], [4.0, 5.0], [2.0, float("nan")]])
    cfg = LossConfig(regression="mse")
    got = compute_loss(output(logits, va_pred), labels, None, va_true, cfg)
    known = [0, 2]
    mse = ((va_pred[known] - va_true[known]) ** 2).mean()
    assert got.item() == pytest.approx((0.7 * F.cross_entropy(logits, labels) + 0.3 * mse).item(), abs=1e-5)
    got.backward()
    assert torch.isfinite(va_pred.grad).all() and (va_pred.grad[[1, 3]] == 0).all()


def test_a_batch_with_every_valence_blank_trains_the_classifier_alone():
    logits, labels = torch.randn(2, K), torch.tensor([0, 1])
    va_true = torch.full((2, 2), float("nan"))
    for kind in ("mse", "ccc"):
        got = compute_loss(output(logits, torch.randn(2, 2)), labels, None, va_true, LossConfig(regression=kind))
        assert got.item() == pytest.approx(0.7 * F.cross_entropy(logits, labels).item(), abs=1e-6)
