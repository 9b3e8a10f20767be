"""Generate a synthetic KEMDy19 / KEMDy20 corpus in the raw layout, with its ground truth.

    summary = generate_corpus("data/synthetic", preset="tiny", dataset="KEMDy19", seed=0)

The corpus is written into a hidden staging folder next to `out_dir` and renamed into place at the
end, so an interrupted run leaves no half-written corpus (and an existing one intact); files
inside the staging folder are therefore written directly, not one by one through erc_core.files. Besides the
raw tree, the root holds `synthetic_ground_truth.csv` (one row per segment: hidden state, written
label, listener label, text cue, ...) and `synthetic_corpus.json` (preset, seed, knobs, counts);
the corpus readers ignore both. Same preset + seed -> byte-identical files."""

import dataclasses
import os
import shutil
import tempfile
import time
from pathlib import Path

from erc_core.files import staging_folder, write_json
from feature_extractor.synthetic.audio import SAMPLE_RATE
from feature_extractor.synthetic.layout_kemdy19 import write_kemdy19
from feature_extractor.synthetic.layout_kemdy20 import write_kemdy20
from feature_extractor.synthetic.plan import ground_truth_frame, plan_corpus
from feature_extractor.synthetic.presets import CorpusPreset, get_preset

FORMAT = "kemdy-synthetic-corpus"
VERSION = 1
GROUND_TRUTH_FILE = "synthetic_ground_truth.csv"
METADATA_FILE = "synthetic_corpus.json"
WRITERS = {"KEMDy19": write_kemdy19, "KEMDy20": write_kemdy20}


def generate_corpus(out_dir, preset="tiny", dataset="KEMDy19", seed: int = 0, overwrite: bool = False) -> dict:
    """Write the corpus under `out_dir`; `preset` is a preset name or a CorpusPreset. Returns a summary.

    A previous synthetic corpus at `out_dir` is replaced; another non-empty folder only if `overwrite`."""
    started = time.perf_counter()
    corpus_preset = _resolve_preset(preset, dataset)
    out = Path(out_dir)
    if _holds_other_files(out) and not overwrite:
        raise FileExistsError(f"{out}: folder is not empty and holds no synthetic corpus ({METADATA_FILE}); "
                              "pass overwrite=True (CLI: --overwrite) to replace it")
    staging = staging_folder(out)
    try:
        plan = plan_corpus(corpus_preset, seed)
        samples = WRITERS[corpus_preset.dataset](staging, plan)
        truth = ground_truth_frame(plan)
        truth.to_csv(staging / GROUND_TRUTH_FILE, index=False, encoding="utf-8", lineterminator="\n")
        counts = {
            "sessions": len(corpus_preset.sessions),
            "dialogues": len(plan.dialogues),
            "utterances": len(truth),
            "ties": int(truth["total_emotion_written"].str.contains(";").sum()),
            "audio_seconds": round(samples / SAMPLE_RATE, 3),
        }
        _write_metadata(staging / METADATA_FILE, corpus_preset, seed, counts)
        _move_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"root": str(out), "dataset": corpus_preset.dataset, "preset": corpus_preset.name, "seed": seed,
            **counts, "seconds": round(time.perf_counter() - started, 2)}


def _holds_other_files(out: Path) -> bool:
    """True if `out` is a non-empty folder that is not a synthetic corpus (never replaced silently)."""
    return out.exists() and any(out.iterdir()) and not (out / METADATA_FILE).is_file()


def _resolve_preset(preset, dataset: str) -> CorpusPreset:
    if isinstance(preset, CorpusPreset):
        if dataset != preset.dataset:
            raise ValueError(f"preset {preset.name!r} is for {preset.dataset}, but dataset={dataset!r} was asked")
        return preset
    return get_preset(preset, dataset)


def _write_metadata(path: Path, preset: CorpusPreset, seed: int, counts: dict) -> None:
    write_json(path, {
        "format": FORMAT, "version": VERSION, "dataset": preset.dataset, "preset": preset.name, "seed": seed,
        "knobs": dataclasses.asdict(preset), "counts": counts,
        "files": {"ground_truth": GROUND_TRUTH_FILE},
    })


def _move_into_place(staging: Path, out: Path) -> None:
    """Rename the finished staging folder to `out`; an old `out` is removed only afterwards."""
    if out.exists() and any(out.iterdir()):
        retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, retired / out.name)
        os.replace(staging, out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
