"""Stage-3 checkpoints: `<dir>/model.safetensors` (weights only) + `<dir>/config.json`
(everything needed to rebuild the model and to check that a pickle fits it). Never a pickled
module. Both files are written atomically; config.json records the weights' SHA-256, so a
weights file from another run (or a torn pair of writes) is detected on load."""

import dataclasses
from pathlib import Path

from cgnn.batching import prepare_dialogues
from cgnn.conversation_pickle import modality_dims
from cgnn.graph import speaker_limit
from cgnn.late_fusion import LateFusionGNN
from cgnn.model import ModelConfig, build_model
from erc_core.config import from_dict
from erc_core.errors import UserError
from erc_core.files import write_json
from erc_core.weights import load_weights, read_json, save_weights

CHECKPOINT_FORMAT = "kemdy-erc-stage3-checkpoint"
CHECKPOINT_VERSION = 2  # 2: the real-data model (input norm, relation schemes, graph attention)
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
# model keys added after checkpoints were shipped: the value that reproduces a checkpoint without the key
BEFORE_THE_KEY = {"fusion": "early"}


class CheckpointMismatchError(UserError):
    """The checkpoint and the data (or the files of the checkpoint) do not fit together."""


@dataclasses.dataclass
class Stage3Checkpoint:
    model: object           # cgnn.model.ContextualGNN or cgnn.late_fusion.LateFusionGNN
    model_config: ModelConfig
    modality: str
    feature_dims: dict      # widths of the features the modality uses, in concatenation order
    label_names: list
    num_speakers: int
    info: dict              # the whole config.json
    path: Path

    @property
    def speaker_limit(self) -> int | None:
        """The most speakers a dialogue may have for this model; None = any number."""
        return speaker_limit(self.model_config.relations, self.num_speakers)

    def prepare(self, dialogues, source="data") -> list:
        """Dialogues as this model reads them: its modality, speaker limit, window and speaker map."""
        config = self.model_config
        try:
            return prepare_dialogues(dialogues, self.modality, self.speaker_limit, config.wp, config.wf,
                                     config.speaker_map)
        except ValueError as error:
            raise CheckpointMismatchError(f"{source}: {error}") from None


def save_checkpoint(directory, model, *, modality, feature_dims, label_names,
                    num_speakers, train_config: dict, metrics: dict, data: dict, provenance: dict | None = None) -> None:
    directory = Path(directory)
    checksum = save_weights(directory / WEIGHTS_FILE, model, metadata={"format": CHECKPOINT_FORMAT})
    write_json(directory / CONFIG_FILE, {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "model": {**dataclasses.asdict(model.config), "fusion": "late" if isinstance(model, LateFusionGNN) else "early"},
        "modality": modality,
        "feature_dims": dict(feature_dims),
        "input_dim": int(sum(feature_dims.values())),
        "branch_widths": list(getattr(model, "widths", [])),  # late fusion: one branch per width
        "label_names": list(label_names),
        "num_speakers": int(num_speakers),
        "weights_sha256": checksum,
        "train": train_config,
        "data": data,
        "metrics": metrics,
        "provenance": provenance,
    })


def load_checkpoint(directory, device="cpu") -> Stage3Checkpoint:
    """Rebuild the model from config.json and load the weights onto `device` (any device the
    weights were trained on)."""
    directory = Path(directory)
    config_file = directory / CONFIG_FILE
    info = read_json(config_file, "stage-3 checkpoint")
    if info.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointMismatchError(f"{config_file}: format {info.get('format')!r}, "
                                      f"expected {CHECKPOINT_FORMAT!r}")
    if info.get("version", 0) != CHECKPOINT_VERSION:
        age = "newer" if info.get("version", 0) > CHECKPOINT_VERSION else "older"
        raise CheckpointMismatchError(f"{config_file}: checkpoint version {info.get('version')} is {age} than this "
                                      f"code's ({CHECKPOINT_VERSION}); retrain it with this version of kemdy-stage3-train")
    model_config = from_dict(ModelConfig, {**BEFORE_THE_KEY, **info["model"]}, source=str(config_file))
    # the structure comes from what was saved (branch widths, else the input width), so a checkpoint
    # whose features do not fit the data is refused by check_compatible with its own message
    widths = info.get("branch_widths") or modality_widths(info)
    model = build_model(model_config, widths, len(info["label_names"]), info["num_speakers"])
    try:
        load_weights(model, directory / WEIGHTS_FILE, info["weights_sha256"], config_file)
    except UserError as error:
        raise CheckpointMismatchError(str(error)) from None
    model.to(device).eval()
    return Stage3Checkpoint(model=model, model_config=model_config, modality=info["modality"],
                            feature_dims=info["feature_dims"], label_names=info["label_names"],
                            num_speakers=info["num_speakers"], info=info, path=directory)


def modality_widths(info: dict) -> list:
    """Each modality's width in the input of an early-fusion checkpoint (its per-modality input
    norm needs them), or the input width alone where the recorded widths do not add up to it."""
    widths = [int(w) for w in info["feature_dims"].values()]
    return widths if sum(widths) == info["input_dim"] else [info["input_dim"]]


def check_compatible(checkpoint: Stage3Checkpoint, label_names, feature_dims, source="data") -> None:
    """Reject data whose label set, features or feature widths differ from the checkpoint's."""
    if list(label_names) != list(checkpoint.label_names):
        raise CheckpointMismatchError(
            f"{source}: label_names {list(label_names)} differ from checkpoint {checkpoint.path} "
            f"{checkpoint.label_names}")
    try:
        dims = modality_dims(feature_dims, checkpoint.modality)
    except ValueError as error:
        raise CheckpointMismatchError(f"{source}: checkpoint {checkpoint.path} needs {error}") from None
    if dims != checkpoint.feature_dims:
        raise CheckpointMismatchError(
            f"{source}: feature widths {dims} for modality {checkpoint.modality!r} differ from the "
            f"checkpoint's {checkpoint.feature_dims} ({checkpoint.path})")
