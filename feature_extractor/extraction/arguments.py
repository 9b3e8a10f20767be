"""The argparse parsers of kemdy-extract and kemdy-predict, in a module that imports no torch:
`--help` is answered from here at once (erc_core/commands.py), and the commands parse their
arguments with the very same parsers (extract.parse_args, predict.parse_args)."""

import argparse

from erc_core.cli import add_common_flags, add_progress_flags

PREDICT_EXAMPLES = """examples:
  kemdy-synthetic-corpus --out /tmp/corpus --preset tiny --seed 3
  kemdy-predict --stage1 model_checkpoints/demo_stage1 --stage3 model_checkpoints/demo_stage3_at \\
      --corpus /tmp/corpus --dialogue Sess19_script01 --out /tmp/predictions.csv
  kemdy-predict --stage1 RUN_DIR --stage3 CKPT_DIR --conversation FOLDER --out predictions.csv

FOLDER holds wav (+ txt) files and conversation.csv (order,speaker,wav[,text][,segment_id][,emotion]);
an emotion column (gold labels) makes it an evaluation. Python: EmotionRecognizer in
feature_extractor/extraction/recognizer.py. Details: docs/predict.md"""


def extract_parser() -> argparse.ArgumentParser:
    """kemdy-extract (feature_extractor/extraction/extract.py)."""
    parser = argparse.ArgumentParser(description="Stage 2: per-utterance features -> conversation pickle.")
    parser.add_argument("--checkpoint", required=True, help="stage-1 run folder (or its export/ folder)")
    parser.add_argument("--index", required=True, help="folder with index.csv from kemdy-index")
    parser.add_argument("--out", required=True, help="conversation pickle to write")
    parser.add_argument("--corpus-root", help="corpus root when it moved since the index was built")
    parser.add_argument("--batch-size", type=int, default=16,
                        help="utterances per stage-1 forward pass (default: %(default)s)")
    parser.add_argument("--num-workers", type=int, default=2,
                        help="data-loading and file-checking worker processes; 0 = in the main process "
                        "(default: %(default)s)")
    parser.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda, cuda:1, ...")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--precision", choices=("auto", "32"), default="auto",
                        help="auto: bf16 autocast on a bf16-capable GPU, else float32; 32: always float32")
    parser.add_argument("--feature-cache", help="acoustic frame-feature cache (default: <run_dir>/acoustic_cache)")
    parser.add_argument("--frozen-cache", help="frozen encoders' vectors (default: <index>/frozen_cache, stage 1's "
                        "default, so the vectors stage 1 computed are read, not computed again)")
    add_progress_flags(parser)
    parser.add_argument("--allow-train-overlap", action="store_true",
                        help="write the pickle even if dev/test utterances were stage-1 training data "
                        "(only for deliberate uses such as prediction; the pickle records it)")
    parser.add_argument(
        "expect", nargs="*",
        help="key=value settings of the stage-1 config this extraction expects, e.g. "
        "model.audio.name=w11wo/wav2vec2-xls-r-300m-korean; a different checkpoint fails naming the mismatch",
    )
    return add_common_flags(parser)


def predict_parser() -> argparse.ArgumentParser:
    """kemdy-predict (feature_extractor/extraction/predict.py); the dests are PredictOptions' fields."""
    parser = argparse.ArgumentParser(description="Per-utterance emotions of a conversation (docs/predict.md).",
                                     epilog=PREDICT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage1", required=True, help="stage-1 run folder (or its export/ folder)")
    parser.add_argument("--stage3", required=True, help="stage-3 checkpoint folder (model.safetensors + config.json)")
    parser.add_argument("--out", required=True, help="predictions CSV to write")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--conversation", help="folder with wav (+ txt) files and a conversation.csv manifest")
    source.add_argument("--corpus", help="KEMDy19 / KEMDy20 tree; needs --dialogue")
    source.add_argument("--table", help="utterance table (CSV / TSV / JSONL, as kemdy-index --table); needs "
                        "--dialogue. With a label column the prediction is also an evaluation")
    parser.add_argument("--columns", nargs="*", default=[], metavar="key=column",
                        help="--table: the table's column names, as kemdy-index --columns (default: dialogue_id, "
                        "turn, speaker, text, emotion; the label column may be absent)")
    parser.add_argument("--audio-root", help="--table: folder the audio paths are relative to (default: the table's)")
    parser.add_argument("--dialogue", help="dialogue id in --corpus or --table, e.g. Sess19_impro01")
    parser.add_argument("--dataset", choices=("KEMDy19", "KEMDy20"), help="corpus kind (default: recognised)")
    parser.add_argument("--allow-skips", action="store_true", help="predict the rest when some utterances are unusable")
    parser.add_argument("--allow-other-stage1", action="store_true",
                        help="run although the stage-3 model was trained on features of different stage-1 weights")
    parser.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda, cuda:1, ...")
    parser.add_argument("--batch-size", type=int, default=16,
                        help="utterances per stage-1 forward pass (default: %(default)s)")
    parser.add_argument("--num-workers", type=int, default=0,
                        help="data-loading worker processes; 0 = in the main process (default: %(default)s)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--feature-cache", help="acoustic frame-feature cache (default: a temporary folder)")
    parser.add_argument("--frozen-cache", help="frozen encoders' vectors, keyed by content, so a corpus's "
                        "<index>/frozen_cache can be named (default: a temporary folder)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    return add_common_flags(parser)
