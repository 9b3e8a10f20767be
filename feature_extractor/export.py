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
import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Optional

from erc_core.config import from_dict
from erc_core.errors import UserError
from erc_core.files import staging_folder, write_json
from erc_core.weights import load_weights, read_json, save_weights
from feature_extractor.extractor import AudioTextExtractor
from feature_extractor.training.config import ModelConfig

EXPORT_FORMAT = "kemdy-erc-stage1-export"
EXPORT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
SPEC_FILE = "model_config.json"
ENCODER_FOLDERS = {"text": "text_encoder", "audio": "audio_encoder"}


def export_dir_of(path) -> Path:
    """The export folder of a stage-1 run folder, or the export folder itself."""
    path = Path(path)
    for candidate in (path, path / "export"):
        if (candidate / SPEC_FILE).is_file():
            return candidate
    raise UserError(f"{path}: not a stage-1 run or export folder (no {SPEC_FILE} in it or in its export/ folder)")


def save_export(export_dir, model: AudioTextExtractor, spec: dict) -> None:
    """Write weights, encoder folders (once) and the spec. `spec` must be JSON-able."""
    export_dir = Path(export_dir)
    _save_encoder_folders(export_dir, model)
    checksum = save_weights(export_dir / WEIGHTS_FILE, model)
    full_spec = dict(spec, format=EXPORT_FORMAT, version=EXPORT_VERSION, weights_sha256=checksum)
    write_json(export_dir / SPEC_FILE, full_spec)


@dataclasses.dataclass(frozen=True)
class ExportInputs:
    """How the exported model's inputs were made; stage 2 and predict make theirs the same way."""

    audio_kind: Optional[str]  # hf / acoustic / whisper / opensmile, None without audio
    use_text: bool
    max_audio_seconds: float
    eval_crop: str
    max_tokens: int
    context_before: int = 0  # exports from before dialogue context: none
    context_after: int = 0
    acoustic_features: Optional[dict] = None  # AcousticFeatureConfig fields (audio_kind acoustic)
    frozen_dims: dict = dataclasses.field(default_factory=dict)  # modality -> width of frozen vectors


@dataclasses.dataclass(frozen=True)
class Stage1Export:
    """A stage-1 export, read and checked once: the one typed view that stage 2, predict, the
    recognizer and the benchmarks use instead of reading model_config.json's keys themselves."""

    folder: Path
    spec: dict  # model_config.json as written (copied into the provenance of what is made from it)
    label_names: tuple
    model_config: ModelConfig  # encoder names point at the export's own folders
    inputs: ExportInputs
    weights_sha256: str
    epoch: Optional[int]
    physio: dict  # PhysioStandardizer fields
    stage1_config: dict
    split_provenance: Optional[dict]
    provenance: Optional[dict]

    @classmethod
    def read(cls, path) -> "Stage1Export":
        """From a stage-1 run folder or its export/ folder; a foreign or unknown-version file is refused."""
        folder = export_dir_of(path)
        spec_path = folder / SPEC_FILE
        spec = read_json(spec_path, "stage-1 export")
        if spec.get("format") != EXPORT_FORMAT or spec.get("version") != EXPORT_VERSION:
            raise UserError(f"{spec_path}: format {spec.get('format')!r} version {spec.get('version')!r}; "
                            f"expected {EXPORT_FORMAT!r} version {EXPORT_VERSION}")
        known = {field.name for field in dataclasses.fields(ExportInputs)}
        inputs = ExportInputs(**{key: value for key, value in spec["inputs"].items() if key in known})
        return cls(folder, spec, tuple(spec["label_names"]), local_model_config(spec, folder), inputs,
                   spec["weights_sha256"], spec.get("epoch"), spec["physio"], spec.get("stage1_config", {}),
                   spec.get("split_provenance"), spec.get("provenance"))

    @property
    def modalities(self) -> str:
        """The modalities the exported head reads ("a", "t", "at")."""
        from feature_extractor.extractor import head_modalities

        return head_modalities(self.model_config.head)

    def load_model(self, device="cpu") -> AudioTextExtractor:
        """Rebuild the model from the export alone (no hub access) and load its weights, strictly."""
        _check_encoder_folders(self.spec, self.folder)
        model = AudioTextExtractor(self.model_config, num_classes=len(self.label_names), pretrained=False,
                                   frozen_dims=self.inputs.frozen_dims)
        load_weights(model, self.folder / WEIGHTS_FILE, self.weights_sha256, self.folder / SPEC_FILE)
        return model.to(device).eval()


def load_export(path, device="cpu") -> tuple[AudioTextExtractor, Stage1Export]:
    """The model of a stage-1 export, ready for inference, and the export's description."""
    export = Stage1Export.read(path)
    return export.load_model(device), export


def local_model_config(spec: dict, export_dir: Path) -> ModelConfig:
    """The trained ModelConfig with encoder names pointing at the export's own folders."""
    model_cfg = from_dict(ModelConfig, copy.deepcopy(spec["model"]), source=str(export_dir / SPEC_FILE))
    if (export_dir / ENCODER_FOLDERS["text"]).is_dir():
        model_cfg.text.name = str(export_dir / ENCODER_FOLDERS["text"])
    if (export_dir / ENCODER_FOLDERS["audio"]).is_dir():
        model_cfg.audio.name = str(export_dir / ENCODER_FOLDERS["audio"])
    return model_cfg


def _save_encoder_folders(export_dir: Path, model: AudioTextExtractor) -> None:
    """Config + tokenizer / feature-extractor files of the HF encoders; they never change during a run."""
    for kind, encoder in (("text", model.text_encoder), ("audio", model.audio_encoder)):
        hf_model = getattr(encoder, "model", None)
        folder = export_dir / ENCODER_FOLDERS[kind]
        if hf_model is None or folder.is_dir():
            continue
        staging = staging_folder(folder)
        try:
            hf_model.config.save_pretrained(staging)
            processor = encoder.tokenizer if kind == "text" else encoder.preprocessor
            processor.save_pretrained(staging)
            os.replace(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "sentencepiece.bpe.model", "spiece.model", "tokenizer.model")


def _check_encoder_folders(spec: dict, export_dir: Path) -> None:
    """The encoder folders must be complete and describe the architecture recorded at training time."""
    from transformers import AutoConfig

    for kind, recorded in spec.get("encoder_architectures", {}).items():
        folder = export_dir / ENCODER_FOLDERS[kind]
        if not (folder / "config.json").is_file():
            raise UserError(f"{folder}: config.json missing; the export is incomplete (re-export the run)")
        if kind == "text" and not any((folder / name).is_file() for name in TOKENIZER_FILES):
            raise UserError(f"{folder}: no tokenizer files (expected one of {', '.join(TOKENIZER_FILES)}); "
                            "the export is incomplete (re-export the run, or copy the tokenizer back)")
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
