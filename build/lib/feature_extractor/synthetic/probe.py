"""How much of the emotion each modality carries in a synthetic corpus: quick linear probes.

    python -m feature_extractor.synthetic.probe --corpus demo_work/corpus

Reads the corpus's ground truth and wavs (no corpus reader, no encoder) and trains logistic
regressions on the sessions outside a test block (default 16-20: a larger block than the default
split's 19-20 so the scores are less noisy), predicting the written
labels (tie rows dropped) from: simple acoustic statistics (band energies, energy, zero
crossings, spectral centroid), transcript character n-grams, the previous utterances' true labels
(context), and combinations. A sanity check of the design goal "neither modality alone is
enough; context helps", not a benchmark of the real pipeline."""

import argparse
import wave
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.preprocessing import StandardScaler

from erc_core.labels import EMOTIONS, canonical_emotion

FRAME, HOP, BANDS = 400, 160, 16


def acoustic_statistics(samples: np.ndarray) -> np.ndarray:
    """Mean and spread of frame log band energies, log energy, zero-crossing rate, centroid."""
    signal = samples.astype(np.float32) / 32768.0
    if len(signal) < FRAME:
        signal = np.pad(signal, (0, FRAME - len(signal)))
    frames = np.lib.stride_tricks.sliding_window_view(signal, FRAME)[::HOP] * np.hanning(FRAME).astype(np.float32)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    bands = np.log(np.stack([band.sum(axis=1) for band in np.array_split(power, BANDS, axis=1)], axis=1) + 1e-8)
    energy = np.log(power.sum(axis=1) + 1e-8)
    active = energy > np.percentile(energy, 40)
    crossings = np.mean(np.abs(np.diff(np.sign(frames), axis=1)) > 0, axis=1)
    centroid = (power * np.arange(power.shape[1])).sum(axis=1) / (power.sum(axis=1) + 1e-8)
    per_frame = np.column_stack([bands, energy, crossings, centroid])[active]
    return np.concatenate([per_frame.mean(axis=0), per_frame.std(axis=0), [active.mean()]])


def load_table(corpus: Path) -> pd.DataFrame:
    truth = pd.read_csv(corpus / "synthetic_ground_truth.csv", keep_default_na=False)
    truth = truth.sort_values(["dialogue_id", "turn"]).reset_index(drop=True)
    truth["previous"] = truth.groupby("dialogue_id")["hidden_state"].shift().fillna("none")
    truth["own_previous"] = truth.groupby(["dialogue_id", "speaker"])["hidden_state"].shift().fillna("none")
    truth = truth[~truth["total_emotion_written"].str.contains(";")].copy()
    truth["label"] = truth["total_emotion_written"].map(canonical_emotion)
    return truth


def wav_path(corpus: Path, row) -> Path:
    session = corpus / "wav" / f"Session{row.session:02d}"
    nested = session / row.dialogue_id / f"{row.segment_id}.wav"
    return nested if nested.exists() else session / f"{row.segment_id}.wav"


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as handle:
        return np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")


def probe(corpus: Path, test_sessions) -> pd.DataFrame:
    table = load_table(corpus)
    test = table["session"].isin(test_sessions).to_numpy()
    audio = StandardScaler().fit_transform(np.stack([acoustic_statistics(read_wav(wav_path(corpus, r)))
                                                     for r in table.itertuples()]))
    text = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2).fit_transform(table["transcript"])
    context = pd.get_dummies(table[["previous", "own_previous"]]).to_numpy(dtype=np.float64)
    inputs = {
        "audio": sparse.csr_matrix(audio), "text": text, "context (previous true labels)": sparse.csr_matrix(context),
        "audio + text": sparse.hstack([audio, text]).tocsr(),
        "audio + text + context": sparse.hstack([audio, text, context]).tocsr(),
    }
    labels = table["label"].to_numpy()
    majority = pd.Series(labels[~test]).mode()[0]
    rows = [_scores("always " + majority, labels[test], np.full(test.sum(), majority))]
    for name, features in inputs.items():
        model = LogisticRegression(max_iter=3000, C=1.0).fit(features[~test], labels[~test])
        rows.append(_scores(name, labels[test], model.predict(features[test])))
    return pd.DataFrame(rows)


def _scores(name, truth, predicted) -> dict:
    return {
        "input": name, "accuracy": accuracy_score(truth, predicted),
        "weighted_f1": f1_score(truth, predicted, average="weighted", labels=list(EMOTIONS), zero_division=0),
        "macro_f1": f1_score(truth, predicted, average="macro", labels=sorted(set(truth)), zero_division=0),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--test-sessions", type=int, nargs="+", default=[16, 17, 18, 19, 20])
    args = parser.parse_args(argv)
    print(probe(args.corpus, args.test_sessions).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
