"""Every registered stage-1 head: shapes, padding invariance, gradients reach every parameter,
`fused` is what the classifier reads, and a few steps of training fit separable data.
Then head-specific checks (alignment maps, patches, fixed-length mixing) against hand values."""

import warnings

import pytest
import torch
import torch.nn.functional as F

from feature_extractor.heads import HEADS, EncodedBatch, build_head, import_all_heads, masked_mean

import_all_heads()
ALL_HEADS = sorted(HEADS)

TEXT_DIM, AUDIO_DIM, PHYSIO_DIM, K = 12, 10, 4, 7

# Small sizes so the whole file runs in seconds; heads not listed here use their own defaults.
SMALL = {
    "tensor_mixer": dict(proj_dim=16, patch_size=4, width=32, depth=2, token_hidden=16, channel_hidden=32),
    "mmm_concat": dict(hidden=32),
    "mmm_three_way": dict(width=16),
    "mmm_cross_attention": dict(width=16, num_heads=2),
    "mmm_mixer": dict(width=16, depth=2, max_tokens=8, max_frames=16, token_hidden=16, channel_hidden=32),
}
for _name in ("case_compress", "case_compress_concat", "case_attention", "case_attention_concat"):
    SMALL[_name] = dict(width=16, num_heads=2, token_bins=8, frame_bins=16)

SEQUENCE_HEADS = [n for n in ALL_HEADS if n.startswith("case_") or n in ("mmm_cross_attention", "mmm_mixer")]


def make_head(name, physio_dim=PHYSIO_DIM, predict_va=True, **extra):
    torch.manual_seed(0)
    options = {**SMALL.get(name, {}), **extra}
    return build_head(
        name, text_dim=TEXT_DIM, audio_dim=AUDIO_DIM, physio_dim=physio_dim, num_classes=K, predict_va=predict_va, **options
    )


def lengths_mask(lengths, width):
    return torch.arange(width).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)


def make_batch(text_lengths, audio_lengths, physio=True, generator=None):
    """Real values on real positions, zeros on padding; pooled = masked means (as the encoders give)."""
    g = generator or torch.Generator().manual_seed(1)
    text_mask = lengths_mask(text_lengths, max(text_lengths))
    audio_mask = lengths_mask(audio_lengths, max(audio_lengths))
    text = torch.randn(len(text_lengths), text_mask.shape[1], TEXT_DIM, generator=g) * text_mask.unsqueeze(-1)
    audio = torch.randn(len(audio_lengths), audio_mask.shape[1], AUDIO_DIM, generator=g) * audio_mask.unsqueeze(-1)
    return EncodedBatch(
        text_seq=text,
        text_mask=text_mask,
        text_pooled=masked_mean(text, text_mask),
        audio_seq=audio,
        audio_mask=audio_mask,
        audio_pooled=masked_mean(audio, audio_mask),
        physio=torch.randn(len(text_lengths), PHYSIO_DIM, generator=g) if physio else None,
    )


def with_garbage_padding(batch, extra_tokens, extra_frames, fill="random"):
    """The same utterances, padded further, with garbage on every padded position."""

    def pad(seq, mask, extra):
        seq = torch.cat([seq, torch.zeros(seq.shape[0], extra, seq.shape[2])], dim=1)
        mask = torch.cat([mask, torch.zeros(mask.shape[0], extra, dtype=torch.bool)], dim=1)
        garbage = torch.full_like(seq, float("nan")) if fill == "nan" else 100.0 * torch.randn_like(seq)
        return torch.where(mask.unsqueeze(-1), seq, garbage), mask

    text, text_mask = pad(batch.text_seq, batch.text_mask, extra_tokens)
    audio, audio_mask = pad(batch.audio_seq, batch.audio_mask, extra_frames)
    return EncodedBatch(text, text_mask, batch.text_pooled, audio, audio_mask, batch.audio_pooled, batch.physio)


TEXT_LENGTHS, AUDIO_LENGTHS = [5, 3, 7, 1], [9, 4, 12, 2]


# --- every head --------------------------------------------------------------------------------


def test_the_registry_holds_the_model_zoo():
    expected = {"tensor_mixer", "case_compress", "case_compress_concat", "case_attention", "case_attention_concat",
                "mmm_concat", "mmm_three_way", "mmm_cross_attention", "mmm_mixer"}
    assert expected <= set(HEADS)


@pytest.mark.parametrize("name", ALL_HEADS)
@pytest.mark.parametrize("physio_dim", [0, PHYSIO_DIM])
def test_output_shapes(name, physio_dim):
    head = make_head(name, physio_dim=physio_dim).eval()
    out = head(make_batch(TEXT_LENGTHS, AUDIO_LENGTHS, physio=physio_dim > 0))
    assert out.logits.shape == (4, K)
    assert out.fused.dim() == 2 and out.fused.shape[0] == 4 and out.fused.shape[1] > 0
    assert out.va is not None and out.va.shape == (4, 2)
    assert torch.isfinite(out.logits).all() and torch.isfinite(out.fused).all()
    assert make_head(name, physio_dim=physio_dim, predict_va=False).eval()(
        make_batch(TEXT_LENGTHS, AUDIO_LENGTHS, physio=physio_dim > 0)).va is None


@pytest.mark.parametrize("name", ALL_HEADS)
def test_padding_never_changes_the_output(name):
    head = make_head(name).eval()
    batch = make_batch(TEXT_LENGTHS, AUDIO_LENGTHS)
    padded = with_garbage_padding(batch, extra_tokens=5, extra_frames=9)
    with torch.no_grad():
        plain, longer = head(batch), head(padded)
    for field in ("logits", "fused", "va"):
        torch.testing.assert_close(getattr(longer, field), getattr(plain, field), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", SEQUENCE_HEADS)
def test_nan_padding_cannot_leak_into_sequence_heads(name):
    head = make_head(name).eval()
    batch = make_batch(TEXT_LENGTHS, AUDIO_LENGTHS)
    with torch.no_grad():
        plain, nan_padded = head(batch), head(with_garbage_padding(batch, 2, 3, fill="nan"))
    torch.testing.assert_close(nan_padded.logits, plain.logits, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ALL_HEADS)
def test_every_parameter_gets_a_gradient(name):
    head = make_head(name).train()
    batch = make_batch(TEXT_LENGTHS, AUDIO_LENGTHS)
    out = head(batch)
    loss = F.cross_entropy(out.logits, torch.tensor([0, 1, 2, 3])) + F.mse_loss(out.va, torch.full((4, 2), 3.0))
    loss.backward()
    silent = [n for n, p in head.named_parameters() if p.requires_grad and (p.grad is None or p.grad.abs().sum() == 0)]
    assert not silent, f"{name}: parameters without gradient: {silent}"


@pytest.mark.parametrize("name", ALL_HEADS)
def test_logits_are_an_affine_function_of_fused(name):
    """`fused` must be the vector the classifier reads: logits = W fused + b exactly."""
    head = make_head(name, predict_va=False).eval()
    probe = head(make_batch([3], [4]))
    samples = probe.fused.shape[1] + 24
    g = torch.Generator().manual_seed(3)
    lengths_t = torch.randint(1, 8, (samples,), generator=g).tolist()
    lengths_a = torch.randint(1, 14, (samples,), generator=g).tolist()
    with torch.no_grad():
        out = head(make_batch(lengths_t, lengths_a, generator=g))
    design = torch.cat([out.fused, torch.ones(samples, 1)], dim=1).double()
    solution = torch.linalg.lstsq(design, out.logits.double()).solution
    residual = (design @ solution - out.logits.double()).abs().max().item()
    assert residual < 1e-4 * (1 + out.logits.abs().max().item())


def separable_data(samples_per_class=8):
    """Each class has its own text and audio prototype; tokens/frames are prototype + noise."""
    g = torch.Generator().manual_seed(4)
    text_protos, audio_protos = torch.randn(K, TEXT_DIM, generator=g), torch.randn(K, AUDIO_DIM, generator=g)
    labels = torch.arange(K).repeat_interleave(samples_per_class)
    n = len(labels)
    text_lengths = torch.randint(2, 8, (n,), generator=g).tolist()
    audio_lengths = torch.randint(3, 14, (n,), generator=g).tolist()
    batch = make_batch(text_lengths, audio_lengths, generator=g)
    text = (batch.text_seq * 0.5 + text_protos[labels].unsqueeze(1)) * batch.text_mask.unsqueeze(-1)
    audio = (batch.audio_seq * 0.5 + audio_protos[labels].unsqueeze(1)) * batch.audio_mask.unsqueeze(-1)
    batch = EncodedBatch(text, batch.text_mask, masked_mean(text, batch.text_mask), audio, batch.audio_mask,
                         masked_mean(audio, batch.audio_mask), batch.physio)
    return batch, labels


@pytest.mark.parametrize("name", ALL_HEADS)
def test_a_short_training_run_lowers_the_loss(name):
    torch.set_num_threads(1)
    batch, labels = separable_data()
    head = make_head(name, predict_va=False)
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-2)

    def eval_loss():
        head.eval()
        with torch.no_grad():
            return F.cross_entropy(head(batch).logits, labels).item()

    before = eval_loss()
    head.train()
    for _ in range(30):
        optimizer.zero_grad()
        F.cross_entropy(head(batch).logits, labels).backward()
        optimizer.step()
    after = eval_loss()
    assert after < 0.5 * before, f"{name}: loss {before:.3f} -> {after:.3f}"


# --- inputs that are missing or wrong ------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in ALL_HEADS if n in SMALL])
def test_physio_is_required_when_configured_and_used(name):
    head = make_head(name).eval()
    batch = make_batch(TEXT_LENGTHS, AUDIO_LENGTHS)
    with pytest.raises(ValueError, match="physio_dim=4 but the batch has no physio"):
        head(make_batch(TEXT_LENGTHS, AUDIO_LENGTHS, physio=False))
    with pytest.raises(ValueError, match="physio has 3 columns, expected 4"):
        head(EncodedBatch(**{**batch.__dict__, "physio": torch.zeros(4, 3)}))
    changed = EncodedBatch(**{**batch.__dict__, "physio": batch.physio + 1.0})
    with torch.no_grad():
        assert not torch.allclose(head(changed).logits, head(batch).logits)


@pytest.mark.parametrize("name", SEQUENCE_HEADS)
def test_sequence_heads_name_the_missing_sequences(name):
    batch = make_batch(TEXT_LENGTHS, AUDIO_LENGTHS)
    pooled_only = EncodedBatch(text_pooled=batch.text_pooled, audio_pooled=batch.audio_pooled, physio=batch.physio)
    with pytest.raises(ValueError, match="needs EncodedBatch.text_seq, text_mask, audio_seq, audio_mask"):
        make_head(name)(pooled_only)


# --- head-specific behaviour --------------------------------------------------------------------


def test_relative_bins_by_hand():
    from feature_extractor.heads.case import relative_bins

    # 3 real of 5, 6 bins: ranks 0, 1, 2 -> floor(rank * 6 / 3) = 0, 2, 4 (padding repeats the last)
    assert relative_bins(torch.tensor([[True, True, True, False, False]]), 6).tolist() == [[0, 2, 4, 4, 4]]
    # a gap: real positions 0 and 2 have ranks 0 and 1 of 2 -> bins 0 and 2 of 4
    assert relative_bins(torch.tensor([[True, False, True]]), 4).tolist()[0][::2] == [0, 2]
    # more real positions than bins: 4 of 4 into 2 bins -> 0, 0, 1, 1
    assert relative_bins(torch.ones(1, 4, dtype=torch.bool), 2).tolist() == [[0, 0, 1, 1]]


def test_compress_alignment_weights_only_real_frames():
    from feature_extractor.heads.case import CompressAlignment

    frames = torch.tensor([[[1.0], [2.0], [6.0], [99.0]], [[4.0], [-99.0], [-99.0], [-99.0]]])
    audio_mask = torch.tensor([[True, True, True, False], [True, False, False, False]])
    text_mask = torch.tensor([[True, True], [True, False]])
    uniform = CompressAlignment(token_bins=4, frame_bins=8, diagonal_width=0.0)
    # uniform map: every token reads the plain mean of its utterance's real frames: (1+2+6)/3 = 3, and 4
    aligned = uniform(text_mask, frames, audio_mask)
    torch.testing.assert_close(aligned[0, :, 0], torch.tensor([3.0, 3.0]))
    assert aligned[1, 0, 0].item() == pytest.approx(4.0)
    # diagonal prior: the first token leans on early frames, the last on late frames
    diagonal = CompressAlignment(token_bins=4, frame_bins=8, diagonal_width=0.2)
    leaning = diagonal(text_mask, frames, audio_mask)[0, :, 0]
    assert leaning[0] < 3.0 < leaning[1] < 6.0


def test_concat_modality_dropout_drops_whole_modalities_in_training_only():
    """Each training row reads both modalities, or one of them scaled by 2 with the other zeroed;
    evaluation reads both, as without the option."""
    head = make_head("concat", physio_dim=0, predict_va=False, dropout=0.0, modality_dropout=0.5)
    batch = make_batch([3] * 64, [4] * 64, physio=False)
    weight, bias = head.classifier.weight, head.classifier.bias
    text, audio = batch.text_pooled, batch.audio_pooled
    candidates = {
        "both": torch.cat([text, audio], dim=1) @ weight.T + bias,
        "audio alone": torch.cat([torch.zeros_like(text), 2 * audio], dim=1) @ weight.T + bias,
        "text alone": torch.cat([2 * text, torch.zeros_like(audio)], dim=1) @ weight.T + bias,
    }
    with torch.no_grad():
        torch.manual_seed(5)
        trained = head.train()(batch).logits
        evaluated = head.eval()(batch).logits
    seen = []
    for row in range(64):
        matches = [name for name, logits in candidates.items() if torch.allclose(trained[row], logits[row], atol=1e-5)]
        assert len(matches) == 1, f"row {row} matches {matches}"
        seen.append(matches[0])
    assert set(seen) == set(candidates)
    assert torch.allclose(evaluated, candidates["both"], atol=1e-5)


def test_modality_dropout_leaves_a_single_modality_head_alone():
    head = make_head("audio_only", physio_dim=0, predict_va=False, dropout=0.0, modality_dropout=0.5)
    batch = make_batch([3] * 16, [4] * 16, physio=False)
    with torch.no_grad():
        assert torch.allclose(head.train()(batch).logits, head.eval()(batch).logits)


def test_tensor_mixer_patches_match_a_loop_reference():
    head = make_head("tensor_mixer")
    square = torch.arange(2 * 16 * 16, dtype=torch.float32).reshape(2, 16, 16)
    patches = head._patchify(square)
    assert patches.shape == (2, 16, 16)  # (16 / 4)^2 patches of 4 x 4 values
    for b in range(2):
        for i in range(4):
            for j in range(4):
                expected = square[b, 4 * i : 4 * i + 4, 4 * j : 4 * j + 4].reshape(-1)
                torch.testing.assert_close(patches[b, 4 * i + j], expected)


def test_tensor_mixer_has_va_on_by_default_and_checks_patch_size():
    head = build_head("tensor_mixer", text_dim=TEXT_DIM, audio_dim=AUDIO_DIM, physio_dim=0, num_classes=K,
                      proj_dim=16, patch_size=4, width=8, depth=1, token_hidden=8, channel_hidden=8)
    assert head(make_batch([2], [3], physio=False)).va.shape == (1, 2)
    with pytest.raises(ValueError, match=r"model\.head_options\.proj_dim=20 must be a multiple of "
                       r"model\.head_options\.patch_size=16 \(default\)"):
        build_head("tensor_mixer", text_dim=4, audio_dim=4, physio_dim=0, num_classes=K, proj_dim=20)


def test_three_way_fused_layout():
    head = make_head("mmm_three_way", physio_dim=0).eval()
    batch = make_batch(TEXT_LENGTHS, AUDIO_LENGTHS, physio=False)
    with torch.no_grad():
        fused = head(batch).fused
        t, a = head.text_proj(batch.text_pooled), head.audio_proj(batch.audio_pooled)
    torch.testing.assert_close(fused, torch.cat([t, a, (a - t).abs(), a * t], dim=1))


def test_mmm_mixer_warns_when_real_positions_are_cropped():
    head = make_head("mmm_mixer").eval()  # max_tokens=8, max_frames=16
    with pytest.warns(UserWarning, match="cropped 3 real frames beyond the fixed length 16"):
        head(make_batch([2, 2], [19, 4]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        head(make_batch([8, 2], [16, 4]))  # exactly full: nothing cropped, no warning


# --- the stage-1 optimiser covers every head parameter ------------------------------------------


@pytest.fixture(scope="module")
def tiny_encoders(tmp_path_factory):
    from feature_extractor.encoders.tiny_preset import build_tiny_preset
    from feature_extractor.training.config import TinyPresetConfig

    texts = ["오늘 날씨가 좋네요", "정말 화가 나요", "그게 무슨 말이야", "놀랐어 진짜"] * 5
    small = TinyPresetConfig(hidden=16, layers=1, heads=2, conv_dim=8, vocab_size=60)
    return build_tiny_preset(texts, tmp_path_factory.mktemp("tiny"), seed=0, cfg=small)


@pytest.mark.parametrize("name", ALL_HEADS)
def test_stage1_optimizer_covers_every_trainable_parameter(name, tiny_encoders):
    """A reference implementation once left its projections out of the optimiser: they never trained."""
    from types import SimpleNamespace

    from feature_extractor.extractor import AudioTextExtractor
    from feature_extractor.training.config import AudioEncoderConfig, ModelConfig, OptimConfig, TextEncoderConfig
    from feature_extractor.training.lightning_module import Stage1Module
    from feature_extractor.training.losses.loss import LossConfig

    cfg = ModelConfig(
        head=name,
        head_options=SMALL.get(name, {}),
        predict_va=True,
        use_physio=True,
        text=TextEncoderConfig(name=str(tiny_encoders["text"])),
        audio=AudioEncoderConfig(name=str(tiny_encoders["audio"])),
    )
    model = AudioTextExtractor(cfg, num_classes=K)
    module = Stage1Module(model, LossConfig(), OptimConfig(lr=1e-5, head_lr=1e-3), label_names=[str(i) for i in range(K)])
    module.trainer = SimpleNamespace(estimated_stepping_batches=10)
    optimizer = module.configure_optimizers()["optimizer"]
    in_optimizer = [id(p) for group in optimizer.param_groups for p in group["params"]]
    trainable = {id(p): n for n, p in model.named_parameters() if p.requires_grad}
    assert len(in_optimizer) == len(set(in_optimizer)), "a parameter sits in two groups"
    assert set(in_optimizer) == set(trainable), sorted(trainable[i] for i in set(trainable) - set(in_optimizer))
    head_lrs = {group["initial_lr"] for group in optimizer.param_groups if any(p is q for p in group["params"] for q in model.head.parameters())}
    assert head_lrs == {1e-3}


# --- scripts/compare_heads.py ------------------------------------------------------------------


def load_compare_heads():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "compare_heads.py"
    spec = importlib.util.spec_from_file_location("compare_heads", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compare_heads_config_per_head(tmp_path):
    from types import SimpleNamespace

    compare = load_compare_heads()
    args = SimpleNamespace(config=None, out=str(tmp_path), small_heads=True,
                           overrides=["loss.regression=ccc", "model.head=concat", "seed=7"])
    cfg = compare.head_config(args, "tensor_mixer")
    assert cfg.model.head == "tensor_mixer" and cfg.run_dir == str(tmp_path / "tensor_mixer")  # the script's own
    assert cfg.loss.regression == "ccc" and cfg.seed == 7  # the user's overrides beat the script defaults
    assert cfg.model.predict_va is True
    assert cfg.model.head_options == compare.SMALL_HEAD_OPTIONS["tensor_mixer"]
    assert cfg.tiny_preset.out_dir == str(tmp_path / "tiny_models")


def test_compare_heads_tables_list_failures(tmp_path):
    compare = load_compare_heads()
    rows = [
        {"head": "concat", "accuracy": 0.5, "weighted_f1": 0.25, "macro_f1": 0.125, "ccc_valence": 0.1,
         "ccc_arousal": 0.2, "head_params": 1234, "trainable_params": 5678, "step_ms": 12.3},
        {"head": "broken", "error": "ValueError: boom", "head_params": None, "trainable_params": None, "step_ms": float("nan")},
    ]
    compare.write_tables(rows, tmp_path, "python scripts/compare_heads.py ...")
    markdown = (tmp_path / "heads_comparison.md").read_text(encoding="utf-8")
    assert "| concat | 0.5000 | 0.2500 | 0.1250 | 0.1000 | 0.2000 | 1,234 | 5,678 | 12 |  |" in markdown
    assert "| broken |" in markdown and "ValueError: boom" in markdown
    csv = (tmp_path / "heads_comparison.csv").read_text(encoding="utf-8").splitlines()
    assert csv[0] == ",".join(compare.COLUMNS) and len(csv) == 3
