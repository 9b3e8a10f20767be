"""Emotions of a conversation from Python: one object, loaded once from the two checkpoints.

    recognizer = EmotionRecognizer.from_checkpoints("model_checkpoints/demo_stage1",
                                                    "model_checkpoints/demo_stage3_at")
    result = recognizer.recognize([Utterance("mina", "hello.wav", "안녕"),
                                   Utterance("junho", samples, "응 나도 반가워")])   # samples: 16 kHz mono
    result.labels, result.probabilities          # per utterance, in conversation order

Every conversation goes through the code of stage 2 (`features_for_table` on the whole
conversation table, in conversation order) and stage 3 (`predict_dialogue`), after the same
checks as `kemdy-predict`, which is a thin user of this object (predict.py). An audio array is
written to a temporary folder as a float wav, so it is read, resampled and checked (NaN, silent,
zero-length) exactly as a file is. Details: docs/predict.md."""

import contextlib
import dataclasses
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile
import torch

from cgnn.checkpoint import CheckpointMismatchError, Stage3Checkpoint, load_checkpoint
from cgnn.conversation_pickle import resolve_modality
from cgnn.graph import speaker_indices
from cgnn.predict_core import predict_dialogue
from erc_core.device import choose_device
from erc_core.errors import UserError
from feature_extractor.export import Stage1Export, load_export
from feature_extractor.extraction.conversation_folder import ManifestRow, utterance_table
from feature_extractor.extraction.extract import acoustic_cache, assemble_dialogues, features_for_table, write_skipped
from feature_extractor.inputs.audio_io import SAMPLE_RATE
from feature_extractor.inputs.physio_vector import PHYSIO_DIM

SKIPPED_COLUMNS = ["segment_id", "file", "reason", "detail"]
LISTED_SKIPS = 10


@dataclasses.dataclass
class Utterance:
    speaker: str
    audio: "str | Path | np.ndarray"   # a wav path, or samples [n] (or [n, channels]) at `sample_rate`
    text: str | None = None            # the transcript (cleaned by the corpus rule, as in training)
    segment_id: str | None = None      # the utterance's id in the result; default utt_001, utt_002, ...
    sample_rate: int = SAMPLE_RATE     # of an array; files carry their own


@dataclasses.dataclass
class Conversation:
    table: pd.DataFrame     # utterance table in conversation order
    skipped: pd.DataFrame   # utterances already left out while reading the input (SKIPPED_COLUMNS)
    dialogue_id: str
    source: str             # what error messages call the input
    has_gold: bool


@dataclasses.dataclass
class Recognition:
    frame: pd.DataFrame     # the rows kemdy-predict writes: turn, segment_id, speaker, text, [gold], predicted, prob_*
    label_names: list
    skipped: pd.DataFrame   # utterances left out (only with allow_skips), SKIPPED_COLUMNS
    features: dict | None   # {'t', 'a', 'fused', 'p': float32 [n, width]}, rows as `frame`; on request

    @property
    def segment_ids(self) -> list:
        return self.frame["segment_id"].tolist()

    @property
    def labels(self) -> list:
        return self.frame["predicted"].tolist()

    @property
    def probabilities(self) -> np.ndarray:
        """[n, K] in the order of `label_names`; each row sums to 1."""
        return self.frame[[f"prob_{name}" for name in self.label_names]].to_numpy()


class SkippedUtterancesError(UserError):
    """Some utterances of the conversation cannot be used, and holes were not allowed."""


@dataclasses.dataclass
class EmotionRecognizer:
    """A stage-1 export and a stage-3 checkpoint that fit each other, loaded once; `recognize`
    (Python utterances) and `predict_conversation` (an utterance table) reuse them."""

    model: torch.nn.Module
    export: Stage1Export
    stage3: Stage3Checkpoint
    device: torch.device
    stage1: str
    batch_size: int = 16
    num_workers: int = 0
    feature_cache: str | None = None   # acoustic frame features (default: a temporary folder per conversation)
    frozen_cache: str | None = None    # frozen encoders' vectors (default: a temporary folder per conversation)
    progress: bool = False

    @classmethod
    def from_checkpoints(cls, stage1, stage3, device="auto", *, allow_other_stage1: bool = False,
                         **settings) -> "EmotionRecognizer":
        """`stage1`: a stage-1 run folder (or its export/), `stage3`: a stage-3 checkpoint folder.
        Whether they fit is checked from their files before the stage-1 model is loaded."""
        device = choose_device(device)
        export = Stage1Export.read(stage1)
        checkpoint = load_checkpoint(stage3, device)
        check_stage3_fits(checkpoint, export, exported_features(export), allow_other_stage1)
        model, export = load_export(stage1, device)
        return cls(model, export, checkpoint, device, str(stage1), **settings)

    @property
    def label_names(self) -> list:
        return list(self.stage3.label_names)

    def recognize(self, utterances, *, features: bool = False, allow_skips: bool = False,
                  dialogue_id: str = "conversation") -> Recognition:
        """`utterances` in conversation order: `Utterance`s or dicts with the same keys."""
        utterances = [_as_utterance(item, position) for position, item in enumerate(utterances, 1)]
        if not utterances:
            raise UserError("recognize: the conversation has no utterances; expected at least one")
        need_text = self.export.inputs.use_text
        with tempfile.TemporaryDirectory(prefix="recognize_audio_") as folder:
            rows = [_manifest_row(u, position, Path(folder), need_text) for position, u in enumerate(utterances, 1)]
            _check_unique_ids(rows)
            table = utterance_table(dialogue_id, rows).drop(columns="order")
            conversation = Conversation(table, pd.DataFrame(columns=SKIPPED_COLUMNS), dialogue_id,
                                        source=f"conversation {dialogue_id!r}", has_gold=False)
            return self.predict_conversation(conversation, features=features, allow_skips=allow_skips)

    def predict_conversation(self, conversation: Conversation, *, features: bool = False, allow_skips: bool = False,
                             report: Path | None = None) -> Recognition:
        """Stage 2 and stage 3 over one conversation table; `report` receives the skipped rows
        (written before a refusal, so the user can read why)."""
        check_speaker_count(conversation, self.stage3)
        kept, skipped, vectors = self._features(conversation)
        skipped = pd.concat([frame for frame in (conversation.skipped, skipped) if len(frame)] or [skipped],
                            ignore_index=True)
        if report is not None:
            write_skipped(skipped, report)
        refuse_holes(skipped, allow_skips, conversation.source, report)
        [dialogue] = assemble_dialogues(kept, vectors, self.export.label_names, conversation.source)
        probabilities = predict_dialogue(self.stage3, dialogue, self.device)
        frame = prediction_frame(kept, dialogue["segment_ids"], probabilities, self.label_names, conversation.has_gold)
        return Recognition(frame, self.label_names, skipped, dialogue["features"] if features else None)

    def _features(self, conversation: Conversation):
        with _acoustic_cache(self.export, self.feature_cache) as cache, \
                _frozen_cache_root(self.frozen_cache) as frozen_root:
            kept, skipped, vectors = features_for_table(
                self.model, self.export, conversation.table, conversation.source, self.device, self.batch_size,
                self.num_workers, cache, self.progress, frozen_root)
        widths = {name: len(vector) for name, vector in next(iter(vectors.values())).items()}
        check_stage3_fits(self.stage3, self.export, widths, allow_other_stage1=True)
        return kept, skipped, vectors


# -- utterances given in Python ---------------------------------------------------------------------
UTTERANCE_KEYS = tuple(field.name for field in dataclasses.fields(Utterance))


def _as_utterance(item, position: int) -> Utterance:
    if isinstance(item, Utterance):
        return item
    expected = "an Utterance or a dict with keys speaker, audio and optionally text, segment_id, sample_rate"
    if not isinstance(item, dict):
        raise UserError(f"utterance {position}: a {type(item).__name__}; expected {expected}")
    unknown = sorted(set(item) - set(UTTERANCE_KEYS))
    missing = [key for key in ("speaker", "audio") if key not in item]
    if unknown or missing:
        problem = "; ".join(f"{kind} key(s) {', '.join(keys)}" for kind, keys in (("missing", missing), ("unknown", unknown)) if keys)
        raise UserError(f"utterance {position}: {problem}; expected {expected}")
    return Utterance(**item)


def _manifest_row(utterance: Utterance, position: int, folder: Path, need_text: bool) -> ManifestRow:
    where = f"utterance {position}"
    speaker = str(utterance.speaker or "").strip()
    if not speaker:
        raise UserError(f"{where}: empty speaker; expected a name for who says the utterance")
    text = str(utterance.text or "").strip()
    if need_text and not text:
        raise UserError(f"{where}: no text; the stage-1 model reads the transcript")
    if isinstance(utterance.audio, (str, Path)):
        wav, wav_file = str(utterance.audio), Path(utterance.audio)
        if not wav_file.is_file():
            raise UserError(f"{where}: audio file {wav_file} not found; expected a wav path or a mono float array")
    else:
        wav, wav_file = f"array of {where}", _write_array(utterance, folder / f"{position:05d}.wav", where)
    segment_id = str(utterance.segment_id or f"utt_{position:03d}")
    return ManifestRow(position, position, speaker, wav, wav_file, segment_id, text)


def _write_array(utterance: Utterance, path: Path, where: str) -> Path:
    """Float wav: the samples are read back bit for bit, NaN included (stage 2 reports it)."""
    try:
        samples = np.asarray(utterance.audio, dtype=np.float32)
    except (TypeError, ValueError):
        raise UserError(f"{where}: audio is a {type(utterance.audio).__name__}; "
                        "expected a wav path or an array of float samples") from None
    if samples.ndim not in (1, 2) or int(utterance.sample_rate) <= 0:
        raise UserError(f"{where}: audio of shape {samples.shape} at {utterance.sample_rate} Hz; "
                        "expected samples [n] or [n, channels] at a positive sample rate")
    soundfile.write(path, samples, int(utterance.sample_rate), subtype="FLOAT")
    return path


def _check_unique_ids(rows: list[ManifestRow]) -> None:
    first = {}
    for row in rows:
        if row.segment_id in first:
            raise UserError(f"utterance {row.line}: segment_id {row.segment_id!r} repeats utterance "
                            f"{first[row.segment_id]}; expected each id once")
        first[row.segment_id] = row.line


@contextlib.contextmanager
def _acoustic_cache(export: Stage1Export, folder):
    """Acoustic frame features go to a temporary folder unless one is named: the run's own cache is
    keyed by segment id and file size, which a new conversation's file names could collide with."""
    if export.inputs.audio_kind != "acoustic":
        yield None
    elif folder:
        yield acoustic_cache(export, folder)
    else:
        with tempfile.TemporaryDirectory(prefix="predict_acoustic_") as temporary:
            yield acoustic_cache(export, temporary)


@contextlib.contextmanager
def _frozen_cache_root(folder):
    """Frozen encoders' vectors are keyed by content, so a named folder is safe to share; without
    one they live in a temporary folder for this conversation."""
    if folder:
        yield folder
    else:
        with tempfile.TemporaryDirectory(prefix="predict_frozen_") as temporary:
            yield temporary


# -- does the stage-3 model fit the stage-1 export and the conversation? -------------------------------
def exported_features(export: Stage1Export) -> dict:
    """The features stage 2 exports for this stage-1 model, by name, with the widths known from its
    spec (`p`); the others (None) are measured on the extracted features and checked then."""
    modalities = export.modalities
    encoders = {name: None for name in ("t", "a") if name in modalities}
    return {**encoders, "fused": None, "p": PHYSIO_DIM}


def check_stage3_fits(stage3: Stage3Checkpoint, export: Stage1Export, widths: dict, allow_other_stage1: bool) -> None:
    """Same classes, features of this very stage-1 model (when the checkpoint records it), and the
    features and widths the stage-3 modality reads. A width of None is not known yet and not compared."""
    pair = f"stage-3 checkpoint {stage3.path} / stage-1 export {export.folder}"
    if list(stage3.label_names) != list(export.label_names):
        raise CheckpointMismatchError(
            f"{pair}: classes differ: stage 3 {list(stage3.label_names)}, stage 1 {list(export.label_names)}")
    if not allow_other_stage1:
        _check_stage1_provenance(stage3, export, pair)
    try:
        names = resolve_modality(stage3.modality, widths)
    except ValueError:
        raise CheckpointMismatchError(
            f"{pair}: stage 3 reads modality {stage3.modality!r} (features {', '.join(stage3.feature_dims)}), "
            f"but the stage-1 export produces {', '.join(widths)}") from None
    differ = [f"{name}: stage 3 expects {stage3.feature_dims.get(name)}, stage 1 gives {widths[name]}"
              for name in names if widths[name] is not None and widths[name] != stage3.feature_dims.get(name)]
    if differ:
        raise CheckpointMismatchError(f"{pair}: feature widths of modality {stage3.modality!r} differ ({'; '.join(differ)})")


def _check_stage1_provenance(stage3: Stage3Checkpoint, export: Stage1Export, pair: str) -> None:
    """The stage-3 checkpoint records the stage-1 weights that made its training pickle; features
    of other weights (even of the same shape) mean nothing to it."""
    data = stage3.info.get("data") or {}
    producer = data.get("pickle_config") or {}
    trained_on = producer.get("checkpoint_weights_sha256")
    if trained_on is None:
        print(f"warning: {stage3.path} does not record which stage-1 weights made its training features "
              "(an imported pickle?); only classes and feature widths are checked", file=sys.stderr)
    elif trained_on != export.weights_sha256:
        raise CheckpointMismatchError(
            f"{pair}: stage 3 was trained on features of stage-1 weights {trained_on[:12]} "
            f"({producer.get('checkpoint', 'path not recorded')}), this export holds weights {export.weights_sha256[:12]}; "
            "features of another stage-1 model mean nothing to it (--allow-other-stage1 runs anyway)")


def check_speaker_count(conversation: Conversation, stage3: Stage3Checkpoint) -> None:
    """Refused only where the checkpoint's relations depend on the speaker count (its
    `speaker_limit`), or its fixed speaker_map does not name a speaker."""
    speakers = list(dict.fromkeys(conversation.table["speaker"]))
    limit = stage3.speaker_limit
    if limit is not None and len(speakers) > limit:
        raise CheckpointMismatchError(
            f"{conversation.source}: {len(speakers)} speakers ({', '.join(speakers)}); the stage-3 model "
            f"{stage3.path} handles at most {limit} (relations={stage3.model_config.relations} has weights per speaker)")
    try:
        speaker_indices(speakers, stage3.model_config.speaker_map)
    except ValueError as error:
        raise CheckpointMismatchError(f"{conversation.source}: {error} of the stage-3 model {stage3.path}") from None


def refuse_holes(skipped: pd.DataFrame, allow_skips: bool, source: str, report: Path | None) -> None:
    if skipped.empty:
        return
    listed = f" (all listed in {report})" if report is not None else ""
    message = f"{source}: {len(skipped)} utterance(s) cannot be used: {skip_listing(skipped)}{listed}"
    if not allow_skips:
        raise SkippedUtterancesError(
            f"{message}; a conversation with holes shifts the context of every later utterance, so "
            "nothing was predicted. Fix the input, or allow skips (--allow-skips; allow_skips=True in Python) "
            "to predict the others")
    print(f"warning: {message}; predicting the others (skips allowed)", file=sys.stderr)


def skip_listing(skipped: pd.DataFrame) -> str:
    items = [f"{row.segment_id} ({row.reason}{': ' + str(row.detail) if row.detail else ''})"
             for row in skipped.head(LISTED_SKIPS).itertuples()]
    more = f" and {len(skipped) - LISTED_SKIPS} more" if len(skipped) > LISTED_SKIPS else ""
    return "; ".join(items) + more


# -- the result ---------------------------------------------------------------------------------------
def prediction_frame(kept: pd.DataFrame, segment_ids, probabilities, label_names, has_gold: bool) -> pd.DataFrame:
    """One row per predicted utterance in conversation order; table rows are found by segment id."""
    rows = kept.set_index("segment_id").loc[list(segment_ids)]
    frame = pd.DataFrame({"turn": rows["turn"].to_numpy()})
    if "order" in rows.columns:
        frame["order"] = rows["order"].to_numpy()
    frame["segment_id"] = list(segment_ids)
    frame["speaker"] = rows["speaker"].to_numpy()
    frame["text"] = rows["text"].to_numpy()
    if has_gold:
        frame["gold"] = rows["emotion"].to_numpy()
        if "emotion_raw" in rows.columns:
            frame["gold_raw"] = rows["emotion_raw"].to_numpy()
    frame["predicted"] = [label_names[i] for i in probabilities.argmax(axis=1)]
    for column, name in enumerate(label_names):
        frame[f"prob_{name}"] = probabilities[:, column]
    return frame
