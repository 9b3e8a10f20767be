"""Stage-1 mistakes end as one line naming the key or file: head options, encoder names, the tiny
preset's sizes and the checkpoint a run resumes from. Nothing here may reach the hub."""

import os
import shutil
import stat

import pytest
import torch

from erc_core.errors import UserError, user_message
from feature_extractor.encoders import build_audio_encoder, build_text_encoder
from feature_extractor.encoders import model_source
from feature_extractor.heads import HEADS, build_head, import_all_heads
from feature_extractor.heads.options import validate_head_options
from feature_extractor.training.config import AudioEncoderConfig, ModelConfig, TextEncoderConfig
from feature_extractor.training.resume_check import check_resume_checkpoint

import_all_heads()


def one_line(error) -> str:
    message = user_message(error)
    assert message is not None and "\n" not in message, message
    return message


# --- model.head / model.head_options ------------------------------------------------------------

def test_a_mistyped_head_option_names_the_key_a_suggestion_and_the_allowed_options():
    with pytest.raises(UserError) as caught:
        validate_head_options("case_compress", {"widht": 128})
    message = one_line(caught.value)
    assert message.startswith("model.head_options.widht: unknown option of head 'case_compress'")
    assert "did you mean model.head_options.width?" in message
    assert "options: predict_va" not in message  # supplied by model.predict_va, not a head option
    for allowed in ("width", "num_heads", "token_bins", "frame_bins", "dropout"):
        assert allowed in message


@pytest.mark.parametrize("name", sorted(HEADS))
def test_every_head_accepts_its_own_defaults(name):
    validate_head_options(name, {})


def test_head_options_are_checked_before_any_encoder_is_loaded():
    cfg = ModelConfig(head="case_compress", head_options={"widht": 128},
                      text=TextEncoderConfig(name="/no/such/text/model"), audio=AudioEncoderConfig(name="/no/such/audio"))
    from feature_extractor.extractor import AudioTextExtractor

    with pytest.raises(UserError, match=r"^model\.head_options\.widht: "):
        AudioTextExtractor(cfg, num_classes=7)


def test_an_unknown_head_names_model_head():
    with pytest.raises(UserError) as caught:
        validate_head_options("bogus", {})
    assert one_line(caught.value).startswith("model.head='bogus': unknown head; ")
    with pytest.raises(UserError, match=r"^model\.head='concta': unknown head; did you mean concat\?"):
        build_head("concta", text_dim=4, audio_dim=4, physio_dim=0, num_classes=7)


@pytest.mark.parametrize("head", ["mmm_cross_attention", "case_attention", "case_attention_concat"])
def test_a_width_the_attention_heads_do_not_divide_names_both_keys(head):
    with pytest.raises(UserError) as caught:
        validate_head_options(head, {"width": 30, "num_heads": 4})
    assert one_line(caught.value).startswith(
        "model.head_options.width=30 must be a multiple of model.head_options.num_heads=4")
    with pytest.raises(UserError, match=r"width=256 \(default\) must be a multiple of model\.head_options\.num_heads=3"):
        build_head(head, text_dim=4, audio_dim=4, physio_dim=0, num_classes=7, num_heads=3)


def test_a_compress_head_does_not_use_attention_heads_so_any_width_fits():
    build_head("case_compress", text_dim=4, audio_dim=4, physio_dim=0, num_classes=7, width=30, num_heads=4)


@pytest.mark.parametrize("value", [1.0, 1.5, -0.1])
def test_a_dropout_outside_zero_to_one_names_its_key(value):
    with pytest.raises(UserError) as caught:
        validate_head_options("mmm_concat", {"dropout": value})
    assert one_line(caught.value).startswith(f"model.head_options.dropout={value}: ")
    assert "[0, 1)" in str(caught.value)


@pytest.mark.parametrize("options, expected", [
    ({"width": "big"}, r"^model\.head_options\.width='big': expected an integer"),
    ({"width": 0}, r"^model\.head_options\.width=0: expected an integer >= 1"),
    ({"dropout": "x"}, r"^model\.head_options\.dropout='x': expected a number"),
    ({"predict_va": True}, r"^model\.head_options\.predict_va: set by model\.predict_va"),
    ({"text_dim": 3}, r"^model\.head_options\.text_dim: set by the text encoder"),
])
def test_option_values_of_the_wrong_kind_name_the_key(options, expected):
    with pytest.raises(UserError, match=expected):
        validate_head_options("mmm_three_way", options)


def test_audio_layerdrop_outside_zero_to_one_names_its_key():
    with pytest.raises(UserError, match=r"^model\.audio\.layerdrop=1\.2: "):
        build_audio_encoder(AudioEncoderConfig(name="/no/such/audio", layerdrop=1.2))


# --- model.text.name / model.audio.name ----------------------------------------------------------

@pytest.fixture
def no_hub(monkeypatch):
    """Any attempt to load or fetch a model fails the test."""
    import transformers

    def refuse(*args, **kwargs):
        raise AssertionError(f"tried to load a model: {args} {kwargs}")

    for cls in (transformers.AutoTokenizer, transformers.AutoModel, transformers.AutoConfig,
                transformers.AutoFeatureExtractor):
        monkeypatch.setattr(cls, "from_pretrained", refuse)
    monkeypatch.setattr(model_source, "hf_hub_download", refuse)


@pytest.mark.parametrize("name", ["models/text", "./text_model", "/no/such/model", "work/models/text", "~/no_such_model_x"])
def test_a_missing_local_folder_says_no_such_folder_without_going_to_the_hub(name, tmp_path, monkeypatch, no_hub):
    (tmp_path / "models").mkdir()
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as caught:
        build_text_encoder(TextEncoderConfig(name=name))
    assert one_line(caught.value).startswith(f"model.text.name: no such folder {name!r}")


def test_a_missing_audio_folder_names_model_audio_name(tmp_path, no_hub):
    with pytest.raises(UserError, match=r"^model\.audio\.name: no such folder "):
        build_audio_encoder(AudioEncoderConfig(name=str(tmp_path / "gone" / "audio")))


def test_offline_a_hub_id_not_in_the_local_cache_says_so_in_one_line(tmp_path, monkeypatch, no_hub):
    monkeypatch.setattr(model_source, "is_offline_mode", lambda: True)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hf_cache"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as caught:
        build_text_encoder(TextEncoderConfig(name="nobody/no-such-model"))
    message = one_line(caught.value)
    assert message.startswith("model.text.name: no local folder 'nobody/no-such-model'")
    assert "HF_HUB_OFFLINE=1" in message and "local Hugging Face cache" in message


def test_offline_a_cached_hub_id_passes_the_check(tmp_path, monkeypatch, no_hub):
    cache = tmp_path / "hf_cache"
    snapshot = cache / "models--owner--cached-model" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (cache / "models--owner--cached-model" / "refs").mkdir()
    (cache / "models--owner--cached-model" / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(model_source, "is_offline_mode", lambda: True)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    monkeypatch.chdir(tmp_path)
    model_source.check_model_source("model.text.name", "owner/cached-model")


def test_online_an_unknown_hub_id_is_asked_for_once_and_fails_in_one_line(tmp_path, monkeypatch, no_hub):
    from huggingface_hub.errors import LocalEntryNotFoundError

    calls = []

    def unreachable(repo_id, filename, **kwargs):
        calls.append((repo_id, filename))
        raise LocalEntryNotFoundError("An error happened while trying to locate the file on the Hub.\nmore")

    monkeypatch.setattr(model_source, "is_offline_mode", lambda: False)
    monkeypatch.setattr(model_source, "hf_hub_download", unreachable)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as caught:
        build_text_encoder(TextEncoderConfig(name="models/text"))  # no ./models here: a hub id
    assert one_line(caught.value).startswith("model.text.name: no local folder 'models/text', and the hub cannot")
    assert calls == [("models/text", "config.json")]


# --- tiny preset ----------------------------------------------------------------------------------

TEXTS = ["오늘 날씨가 좋네요", "정말 화가 나요", "그게 무슨 말이야", "놀랐어 진짜"] * 5


def test_tiny_preset_files_get_the_umask_permissions(tmp_path):
    from feature_extractor.encoders.tiny_preset import build_tiny_preset
    from feature_extractor.training.config import TinyPresetConfig

    previous = os.umask(0o022)
    try:
        build_tiny_preset(TEXTS, tmp_path / "tiny", cfg=TinyPresetConfig(hidden=16, layers=1, heads=2, conv_dim=8, vocab_size=60))
    finally:
        os.umask(previous)
    files = [path for path in (tmp_path / "tiny").rglob("*") if path.is_file()]
    assert any(path.name == "model.safetensors" for path in files)
    modes = {str(path.relative_to(tmp_path)): oct(stat.S_IMODE(path.stat().st_mode)) for path in files}
    assert set(modes.values()) == {oct(0o644)}, modes


def test_tiny_preset_sizes_the_heads_do_not_divide_name_both_keys(tmp_path):
    from feature_extractor.encoders.tiny_preset import build_tiny_preset
    from feature_extractor.training.config import TinyPresetConfig

    with pytest.raises(UserError, match=r"^tiny_preset\.hidden=30 must be a multiple of tiny_preset\.heads=4"):
        build_tiny_preset(TEXTS, tmp_path / "tiny", cfg=TinyPresetConfig(hidden=30, heads=4))
    assert not (tmp_path / "tiny").exists()


# --- the checkpoint a run resumes from ------------------------------------------------------------

def lightning_like_checkpoint(path, weights):
    torch.save({"state_dict": weights, "optimizer_states": [], "lr_schedulers": [], "epoch": 1, "global_step": 5,
                "pytorch-lightning_version": "2.6.0", "loops": {}, "callbacks": {}}, path)


def test_a_sound_checkpoint_passes_and_its_shapes_are_compared(tmp_path):
    module = torch.nn.Linear(3, 2)
    path = tmp_path / "last.ckpt"
    lightning_like_checkpoint(path, module.state_dict())
    check_resume_checkpoint(path, module)
    with pytest.raises(UserError) as caught:
        check_resume_checkpoint(path, torch.nn.Linear(4, 2))
    assert one_line(caught.value).startswith(f"{path}: weight has shape (2, 3), this run's model (2, 4)")


def test_a_truncated_checkpoint_names_the_file(tmp_path):
    path = tmp_path / "last.ckpt"
    lightning_like_checkpoint(path, torch.nn.Linear(30, 20).state_dict())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UserError) as caught:
        check_resume_checkpoint(path)
    assert one_line(caught.value).startswith(f"{path}: truncated or not a torch checkpoint")


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (shutil.copy, (__file__, self.marker))


def test_a_crafted_checkpoint_is_refused_in_one_line_without_running_its_code(tmp_path):
    path, marker = tmp_path / "last.ckpt", tmp_path / "payload_ran"
    torch.save({"state_dict": {}, "optimizer_states": [], "epoch": 0, "global_step": 0, "x": Payload(str(marker))}, path)
    with pytest.raises(UserError) as caught:
        check_resume_checkpoint(path)
    message = one_line(caught.value)
    assert message.startswith(f"{path}: holds objects other than weights") and "weights_only" not in message
    assert not marker.exists()


def test_a_weights_file_that_is_not_a_training_checkpoint_names_what_is_missing(tmp_path):
    path = tmp_path / "last.ckpt"
    torch.save({"weight": torch.zeros(2)}, path)
    with pytest.raises(UserError, match=r"not a stage-1 training checkpoint \(no 'state_dict'\)"):
        check_resume_checkpoint(path)
