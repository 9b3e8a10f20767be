"""The documented `kemdy-stage3-eval` command without --out: it writes under the current folder,
never into the (shipped) checkpoint, prints one summary line, and its --help shows the documented
command intact."""

import json
from pathlib import Path

from cgnn import eval as cgnn_eval
from tests import test_shipped_artifacts as shipped

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "model_checkpoints" / "demo_stage3_at"


def documented_eval_command() -> str:
    lines = (REPO / "docs" / "stage3.md").read_text(encoding="utf-8").splitlines()
    return next(line.strip() for line in lines if line.startswith("kemdy-stage3-eval --checkpoint"))


def test_the_documented_eval_leaves_the_shipped_checkpoint_as_shipped(tmp_path, monkeypatch, capsys):
    before = sorted(p.name for p in SHIPPED.iterdir())
    command = documented_eval_command()
    assert "--out" not in command
    arguments = command.split()[1:]
    # the documented paths are the repository's; run from another folder, as a user in their own folder
    arguments = [str(REPO / a) if a.startswith(("model_checkpoints/", "data/")) else a for a in arguments]
    monkeypatch.chdir(tmp_path)
    assert cgnn_eval.main(arguments) == 0
    assert sorted(p.name for p in SHIPPED.iterdir()) == before
    shipped.test_every_required_checkpoint_is_shipped_without_run_cruft()
    written = [p.parent for p in tmp_path.rglob("metrics.json")]
    assert len(written) == 1 and SHIPPED.name in written[0].name
    metrics = json.loads((written[0] / "metrics.json").read_text(encoding="utf-8"))
    out = capsys.readouterr().out.strip().splitlines()
    baseline = metrics["context_free_baseline"]  # the same features and split, next to the result
    assert out == [f"{SHIPPED.name} [test] acc {100 * metrics['accuracy']:.2f}  wF1 {100 * metrics['weighted_f1']:.2f}"
                   f"  mF1 {100 * metrics['macro_f1']:.2f}  (n={metrics['n']})  | context-free logreg (at) wF1 "
                   f"{100 * baseline['test']['weighted_f1']:.2f}, stage 3 "
                   f"{100 * (metrics['weighted_f1'] - baseline['test']['weighted_f1']):+.2f}"]
    assert (written[0] / "classification_report.txt").is_file()  # the report stays in the files


def test_help_shows_the_documented_command_and_the_default_output_folder():
    help_text = cgnn_eval.build_parser().format_help()
    assert documented_eval_command() in [line.strip() for line in help_text.splitlines()]
    assert "never inside the checkpoint" in " ".join(help_text.split())


def test_texts_given_to_eval_appear_in_the_report_page(tmp_path):
    import html

    import pandas as pd

    from cgnn.conversation_pickle import read_conversations

    data = read_conversations(REPO / "data" / "demo_features.pkl")
    segments = [segment for dialogue in data.in_split("test") for segment in dialogue["segment_ids"]]
    texts = {segment: f"발화 {i} <b>{segment}</b>" for i, segment in enumerate(segments)}
    pd.DataFrame({"segment_id": list(texts), "text": list(texts.values())}).to_csv(tmp_path / "texts.csv", index=False)
    assert cgnn_eval.main(["--checkpoint", str(SHIPPED), "--data", str(REPO / "data" / "demo_features.pkl"),
                           "--out", str(tmp_path / "eval"), "--texts", str(tmp_path / "texts.csv"),
                           "--no-baseline"]) == 0
    page = (tmp_path / "eval" / "report.html").read_text(encoding="utf-8")
    for text in texts.values():
        assert html.escape(text, quote=False) in page  # shown, escaped
