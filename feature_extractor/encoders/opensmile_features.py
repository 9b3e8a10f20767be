"""openSMILE feature sets (the `opensmile` package, an optional extra) as frozen utterance vectors.

`functionals`: the set's own utterance-level statistics (eGeMAPSv02: 88, ComParE_2016: 6,373).
`lld`: its frame-level low-level descriptors, pooled here as mean and standard deviation over the
utterance's frames (eGeMAPSv02: 2 x 25)."""

import numpy as np

from erc_core.errors import UserError
from feature_extractor.encoders.frozen import optional_import
from feature_extractor.inputs.audio_io import SAMPLE_RATE

FEATURE_SETS = ("eGeMAPSv02", "ComParE_2016")
LEVELS = ("functionals", "lld")
MIN_SAMPLES = SAMPLE_RATE // 10  # openSMILE's functionals need a few frames; shorter clips are zero-padded


class OpenSmileFeatures:
    """`encode(waves)` -> float32 [n, width]; `identity` says what produced the vectors."""

    def __init__(self, feature_set: str = "eGeMAPSv02", level: str = "functionals"):
        if feature_set not in FEATURE_SETS:
            raise UserError(f"model.audio.opensmile_set={feature_set!r}; expected one of {', '.join(FEATURE_SETS)}")
        if level not in LEVELS:
            raise UserError(f"model.audio.opensmile_level={level!r}; expected one of {', '.join(LEVELS)}")
        opensmile = optional_import("opensmile", "model.audio.kind=opensmile", "opensmile")
        levels = opensmile.FeatureLevel
        smile_level = levels.Functionals if level == "functionals" else levels.LowLevelDescriptors
        self._smile = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, feature_set), feature_level=smile_level)
        self.level = level
        self.identity = {"kind": "opensmile", "feature_set": feature_set, "level": level,
                         "opensmile": opensmile.__version__}

    def encode(self, waves) -> np.ndarray:
        return np.stack([self._encode_one(np.asarray(wave, dtype=np.float32)) for wave in waves])

    def _encode_one(self, wave: np.ndarray) -> np.ndarray:
        if len(wave) < MIN_SAMPLES:
            wave = np.pad(wave, (0, MIN_SAMPLES - len(wave)))
        values = self._smile.process_signal(wave, SAMPLE_RATE).to_numpy(dtype=np.float64)
        if self.level == "lld":
            values = np.concatenate([values.mean(axis=0), values.std(axis=0)])[None]
        return np.nan_to_num(values[0]).astype(np.float32)
