"""The exported stage-1 checkpoint: weights as safetensors + JSON, never a pickled module.

    <run_dir>/export/
        model.safetensors        AudioTextExtractor.state_dict()
        model_config.json        format + version, label names, model config, physio statistics,
                                 input settings, epoch / dev metrics, sha256 of the weights
        text_encoder/  audio_encoder/   HF config (+ tokenizer / feature-extractor files), so the
                                 architecture is rebuilt offline from the export alone
        config.yaml              the resolved stage-1 config

Every file is written atomically; model_config.json is written last and carries the weights'
checksum, so an export torn by a crash is detected on load instead of half-used.
Lightning's resumable .ckpt files live in <run_dir>/checkpoints/ (callbacks.AtomicCheckpointIO).
"""

import copy
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from erc_core.files import atomic_path, file_sha256, write_json
from erc_core.config import from_dict
from feature_extractor.extractor import AudioTextExtractor
from feature_extractor.training.config import ModelConfig

EXPORT_FORMAT = "kemdy-erc-stage1-export"
EXPORT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
SPEC_FILE = "model_config.json"
ENCODER_FOLDERS = {"text": "text_encoder", "audio": "audio_encoder"}


def export_dir_of(path) -> Path:
    """Accept a run folder or its export folder."""
    path = Path(path)
    return path if (path / SPEC_FILE).is_file() else path / "export"


def save_export(export_dir, model: AudioTextExtractor, spec: dict) -> None:
    """Write weights, encoder folders (once) and the spec. `spec` must be JSON-able."""
    export_dir = Path(export_dir)
    _save_encoder_folders(export_dir, model)
    state = {name: tensor.detach().to("cpu").contiguous() for name, tensor in model.state_dict().items()}
    with atomic_path(export_dir / WEIGHTS_FILE) as tmp:
        save_file(state, str(tmp))
        checksum = file_sha256(tmp)
    full_spec = dict(spec, format=EXPORT_FORMAT, version=EXPORT_VERSION, weights_sha256=checksum)
    write_json(export_dir / SPEC_FILE, full_spec)


def read_export_spec(path) -> dict:
    spec_path = export_dir_of(path) / SPEC_FILE
    if not spec_path.is_file():
        raise FileNotFoundError(f"{spec_path}: no stage-1 export here (expected {SPEC_FILE} from feature_extractor.training.train)")
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    if spec.get("format") != EXPORT_FORMAT or spec.get("version") != EXPORT_VERSION:
        raise ValueError(
            f"{spec_path}: format {spec.get('format')!r} version {spec.get('version')!r}; "
            f"expected {EXPORT_FORMAT!r} version {EXPORT_VERSION}"
        )
    return spec


def load_export(path, device="cpu") -> tuple[AudioTextExtractor, dict]:
    """Rebuild the model from the export alone (no hub access) and load its weights, strictly."""
    export_dir = export_dir_of(path)
    spec = read_export_spec(export_dir)
    weights = export_dir / WEIGHTS_FILE
    if file_sha256(weights) != spec["weights_sha256"]:
        raise ValueError(f"{weights}: checksum differs from {SPEC_FILE} (an interrupted export?); re-export the run")
    model_cfg = local_model_config(spec, export_dir)
    _check_encoder_folders(spec, export_dir)
    model = AudioTextExtractor(model_cfg, num_classes=len(spec["label_names"]), pretrained=False)
    load_weights_strict(model, load_file(str(weights)), source=str(weights))
    return model.to(device).eval(), spec


def local_model_config(spec: dict, export_dir: Path) -> ModelConfig:
    """The trained ModelConfig with encoder names pointing at the export's own folders."""
    model_cfg = from_dict(ModelConfig, copy.deepcopy(spec["model"]), source=str(export_dir / SPEC_FILE))
    if (export_dir / ENCODER_FOLDERS["text"]).is_dir():
        model_cfg.text.name = str(export_dir / ENCODER_FOLDERS["text"])
    if (export_dir / ENCODER_FOLDERS["audio"]).is_dir():
        model_cfg.audio.name = str(export_dir / ENCODER_FOLDERS["audio"])
    return model_cfg


def load_weights_strict(model: torch.nn.Module, state: dict, source: str) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = [
        f"{name}: checkpoint {tuple(state[name].shape)}, model {tuple(expected[name].shape)}"
        for name in sorted(set(state) & set(expected))
        if state[name].shape != expected[name].shape
    ]
    problems = []
    if missing:
        problems.append(f"missing from the checkpoint: {_first(missing)}")
    if unexpected:
        problems.append(f"not in the model: {_first(unexpected)}")
    if wrong_shape:
        problems.append(f"shape mismatch: {_first(wrong_shape)}")
    if problems:
        raise ValueError(f"{source}: weights do not fit the model built from its config; " + "; ".join(problems))
    model.load_state_dict(state, strict=True)


def _save_encoder_folders(export_dir: Path, model: AudioTextExtractor) -> None:
    """Config + tokenizer / feature-extractor files of the HF encoders; they never change during a run."""
    for kind, encoder in (("text", model.text_encoder), ("audio", model.audio_encoder)):
        hf_model = getattr(encoder, "model", None)
        folder = export_dir / ENCODER_FOLDERS[kind]
        if hf_model is None or folder.is_dir():
            continue
        export_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=export_dir))
        try:
            hf_model.config.save_pretrained(staging)
            processor = encoder.tokenizer if kind == "text" else encoder.preprocessor
            processor.save_pretrained(staging)
            os.replace(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _check_encoder_folders(spec: dict, export_dir: Path) -> None:
    """The encoder folders must describe the architecture recorded at training time."""
    from transformers import AutoConfig

    for kind, recorded in spec.get("encoder_architectures", {}).items():
        folder = export_dir / ENCODER_FOLDERS[kind]
        found = AutoConfig.from_pretrained(str(folder)).to_dict()
        diffs = [f"{key}: recorded {value!r}, folder {found.get(key)!r}" for key, value in recorded.items() if found.get(key) != value]
        if diffs:
            raise ValueError(f"{folder}/config.json differs from the architecture the weights were trained with: {'; '.join(diffs)}")


ARCHITECTURE_KEYS = ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size", "conv_dim")


def encoder_architectures(model: AudioTextExtractor) -> dict:
    """The key shape fields of each HF encoder, recorded in the spec to check against on load."""
    found = {}
    for kind, encoder in (("text", model.text_encoder), ("audio", model.audio_encoder)):
        hf_model = getattr(encoder, "model", None)
        if hf_model is not None:
            config = hf_model.config.to_dict()
            found[kind] = {key: config[key] for key in ARCHITECTURE_KEYS if key in config}
    return json.loads(json.dumps(found))  # tuples -> lists, as they come back from JSON


def _first(items, limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")
