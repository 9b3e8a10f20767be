"""The predict command on the tiny corpus with the tiny stage-1 run and a small stage-3 model
trained here: folder and tree forms, agreement with stage 2 + cgnn.eval, manifest errors,
mismatched checkpoints, speakers, gold labels in the manifest, conversations with holes, --help."""

import csv
import html
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import f1_score

from cgnn.checkpoint import CheckpointMismatchError
from cgnn.conversation_pickle import write_conversations
from cgnn.eval import evaluate_checkpoint
from cgnn.train import train
from erc_core.labels import EMOTIONS
from feature_extractor.extraction.conversation_folder import MANIFEST_NAME, ManifestError, conversation_table
from feature_extractor.extraction.extract import main as extract_main
from feature_extractor.extraction.extract import skipped_path
from feature_extractor.extraction.predict import PredictOptions, SkippedUtterancesError, main, parse_args, predict
from tests.cgnn_fixtures import make_dialogues, stage3_config
from tests.stage12_fixtures import trained_tiny_run

PROBABILITY_COLUMNS = [f"prob_{name}" for name in EMOTIONS]
NO_TIES = "Sess19_script01"      # a test-split dialogue without tie labels (same in both indexes)
WITH_TIE = "Sess01_script01"     # the tiny corpus (seed 0) writes one tie here


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """The tiny stage-1 run, its stage-2 pickle and a stage-3 checkpoint trained on that pickle."""
    torch.set_num_threads(1)
    run = trained_tiny_run(tmp_path_factory)
    root = tmp_path_factory.mktemp("predict")
    pickle_path = root / "features.pkl"
    extract_main(["--checkpoint", str(run["run_dir"]), "--index", str(run["index"]), "--out", str(pickle_path),
                  "--num-workers", "0", "--threads", "1", "--no-progress"])
    train(stage3_config(pickle_path, root / "stage3", "trainer.max_epochs=3"))
    index = pd.read_csv(run["index"] / "index.csv", dtype=str, keep_default_na=False)
    return {**run, "pickle": pickle_path, "stage3": root / "stage3", "index_frame": index}


def run_predict(pipeline, out, stage3=None, **options):
    return predict(PredictOptions(stage1=str(pipeline["run_dir"]), stage3=str(stage3 or pipeline["stage3"]),
                                  out=str(out), device="cpu", threads=1, progress=False, **options))


def read_predictions(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"segment_id": str, "speaker": str, "text": str, "gold": str}, keep_default_na=False)


def dialogue_rows(pipeline, dialogue_id) -> pd.DataFrame:
    rows = pipeline["index_frame"]
    rows = rows[rows["dialogue_id"] == dialogue_id]
    return rows.assign(turn=rows["turn"].astype(int)).sort_values("turn")


def folder_of(pipeline, folder, dialogue_id):
    """The dialogue's utterances copied into `folder` under names whose sort order is the reverse of
    the conversation's, listed in the manifest in a third (shuffled) line order. Even turns carry
    their transcript as a .txt file, odd turns in the `text` column. Returns the expected segment
    ids in conversation order."""
    folder.mkdir()
    rows = dialogue_rows(pipeline, dialogue_id)
    lines, expected = [], []
    for turn, row in enumerate(rows.itertuples()):
        name = f"utt_{len(rows) - 1 - turn:02d}"
        source = pipeline["root"] / row.wav_path
        shutil.copy(source, folder / f"{name}.wav")
        if turn % 2 == 0:
            shutil.copy(source.with_suffix(".txt"), folder / f"{name}.txt")
        lines.append({"order": 10 * (turn + 1), "speaker": row.speaker, "wav": f"{name}.wav",
                      "text": row.text_raw if turn % 2 else ""})
        expected.append(name)
    shuffled = [lines[i] for i in np.random.default_rng(5).permutation(len(lines))]
    assert [line["wav"] for line in shuffled] != [line["wav"] for line in lines]
    write_manifest(folder, shuffled)
    return expected


def write_manifest(folder, lines, columns=("order", "speaker", "wav", "text")):
    with open(folder / MANIFEST_NAME, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(lines)


def assert_probabilities(frame: pd.DataFrame) -> np.ndarray:
    probabilities = frame[PROBABILITY_COLUMNS].to_numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities >= 0).all()
    assert frame["predicted"].tolist() == [EMOTIONS[i] for i in probabilities.argmax(axis=1)]
    return probabilities


@pytest.fixture(scope="module")
def tree_no_ties(pipeline, tmp_path_factory):
    out = tmp_path_factory.mktemp("tree") / "predictions.csv"
    run_predict(pipeline, out, corpus=str(pipeline["root"]), dialogue=NO_TIES)
    return read_predictions(out)


# -- the two input forms ----------------------------------------------------------------------------
def test_folder_rows_follow_the_manifest_order_and_match_the_tree_form(pipeline, tree_no_ties, tmp_path):
    expected = folder_of(pipeline, tmp_path / "conversation", NO_TIES)
    out = tmp_path / "out" / "predictions.csv"
    summary = run_predict(pipeline, out, conversation=str(tmp_path / "conversation"))
    frame = read_predictions(out)
    rows = dialogue_rows(pipeline, NO_TIES)
    assert frame["segment_id"].tolist() == expected  # manifest order, not file or line order
    assert frame["order"].tolist() == [10 * (k + 1) for k in range(len(rows))]
    assert frame["turn"].tolist() == list(range(len(rows)))
    assert frame["speaker"].tolist() == rows["speaker"].tolist()
    assert frame["text"].tolist() == rows["text"].tolist()
    assert "gold" not in frame.columns
    probabilities = assert_probabilities(frame)
    # Same audio, text, speakers and order as the corpus dialogue: the same probabilities.
    np.testing.assert_allclose(probabilities, tree_no_ties[PROBABILITY_COLUMNS].to_numpy(), atol=1e-5)
    assert summary["utterances"] == len(rows) and summary["skipped"] == 0
    assert pd.read_csv(skipped_path(out)).empty
    config = json.loads((out.parent / "predictions.csv.config.json").read_text(encoding="utf-8"))
    assert config["format"] == "kemdy-erc-predictions" and config["stage3"]["modality"] == "at"


def test_tree_form_gives_every_utterance_with_its_gold_label(pipeline, tmp_path):
    out = tmp_path / "predictions.csv"
    run_predict(pipeline, out, corpus=str(pipeline["root"]), dialogue=WITH_TIE)
    frame = read_predictions(out)
    truth = pd.read_csv(pipeline["root"] / "synthetic_ground_truth.csv", dtype=str)
    truth = truth[truth["dialogue_id"] == WITH_TIE].assign(turn=lambda t: t["turn"].astype(int)).sort_values("turn")
    assert truth["total_emotion_written"].str.contains(";").any()  # the tie the training index drops is here
    assert frame["segment_id"].tolist() == truth["segment_id"].tolist()
    assert frame["turn"].tolist() == list(range(len(truth)))
    assert frame["speaker"].tolist() == truth["speaker"].tolist()
    assert frame["gold_raw"].tolist() == truth["total_emotion_written"].tolist()
    assert frame["gold"].tolist() == [written.split(";")[0] for written in truth["total_emotion_written"]]
    assert_probabilities(frame)
    page = (tmp_path / "predictions.csv.report.html").read_text(encoding="utf-8")
    assert page.count('<tr data-speaker=') == len(frame)  # the conversation as a timeline, one row per utterance
    for text in frame["text"]:
        assert html.escape(text, quote=False) in page


def test_tree_predictions_equal_cgnn_eval_on_the_stage2_pickle(pipeline, tree_no_ties, tmp_path):
    evaluate_checkpoint(pipeline["stage3"], pipeline["pickle"], split="test", out=tmp_path / "eval")
    reference = read_predictions(tmp_path / "eval" / "predictions.csv")
    reference = reference[reference["dialogue_id"] == NO_TIES]
    assert tree_no_ties["segment_id"].tolist() == reference["segment_id"].tolist()
    assert tree_no_ties["gold"].tolist() == reference["gold"].tolist()
    np.testing.assert_allclose(tree_no_ties[PROBABILITY_COLUMNS].to_numpy(),
                               reference[PROBABILITY_COLUMNS].to_numpy(), atol=1e-5)
    assert tree_no_ties["predicted"].tolist() == reference["predicted"].tolist()


def test_a_tree_with_one_session_works_and_its_missing_files_are_holes(pipeline, tree_no_ties, tmp_path):
    """No split is asked of the tree; a segment the corpus reader leaves out is a hole too."""
    partial = tmp_path / "partial"
    for folder in ("annotation", "wav/Session19"):
        (partial / folder).mkdir(parents=True)
    for file in (pipeline["root"] / "annotation").glob("Session19_*"):
        shutil.copy(file, partial / "annotation")
    shutil.copytree(pipeline["root"] / "wav/Session19", partial / "wav/Session19", dirs_exist_ok=True)
    run_predict(pipeline, tmp_path / "one_session.csv", corpus=str(partial), dialogue=NO_TIES)
    frame = read_predictions(tmp_path / "one_session.csv")
    assert frame["segment_id"].tolist() == tree_no_ties["segment_id"].tolist()
    np.testing.assert_allclose(frame[PROBABILITY_COLUMNS].to_numpy(), tree_no_ties[PROBABILITY_COLUMNS].to_numpy(), atol=1e-6)

    missing = dialogue_rows(pipeline, NO_TIES)["segment_id"].iloc[2]
    next(partial.rglob(f"{missing}.wav")).unlink()
    with pytest.raises(SkippedUtterancesError, match=rf"{missing} \(missing wav"):
        run_predict(pipeline, tmp_path / "hole.csv", corpus=str(partial), dialogue=NO_TIES)


# -- manifest errors -------------------------------------------------------------------------------------
@pytest.fixture
def two_wavs(pipeline, tmp_path):
    folder = tmp_path / "conversation"
    folder.mkdir()
    rows = dialogue_rows(pipeline, NO_TIES).head(2)
    for name, row in zip(("a", "b"), rows.itertuples()):
        shutil.copy(pipeline["root"] / row.wav_path, folder / f"{name}.wav")
    return folder


@pytest.mark.parametrize("lines, columns, message", [
    ([{"order": "1", "speaker": "A", "wav": "a.wav", "text": "x"}, {"order": "1", "speaker": "B", "wav": "b.wav", "text": "y"}],
     ("order", "speaker", "wav", "text"), r"line 3: order 1 repeats line 2"),
    ([{"order": "1", "speaker": "A", "wav": "a.wav", "text": "x"}, {"order": "2", "speaker": "B", "wav": "c.wav", "text": "y"}],
     ("order", "speaker", "wav", "text"), r"line 3: wav 'c.wav' not found"),
    ([{"order": "1", "speaker": "A", "wav": "a.wav", "text": ""}, {"order": "2", "speaker": "B", "wav": "b.wav", "text": "y"}],
     ("order", "speaker", "wav", "text"), r"line 2: no text"),
    ([{"order": "1", "speaker": "A", "wav": "a.wav", "text": "x"}, {"order": "two", "speaker": "B", "wav": "b.wav", "text": ""}],
     ("order", "speaker", "wav", "text"), r"line 3: order 'two' is not an integer"),
    ([{"order": "1", "speaker": "", "wav": "a.wav", "text": "x"}], ("order", "speaker", "wav", "text"), r"line 2: empty speaker"),
    ([{"order": "1", "speaker": "A", "wav": "a.wav", "text": "x", "segment_id": "s"},
      {"order": "2", "speaker": "B", "wav": "b.wav", "text": "", "segment_id": "s"}],
     ("order", "speaker", "wav", "text", "segment_id"), r"line 3: segment_id 's' repeats line 2"),
    ([{"order": "1", "wav": "a.wav", "text": "x"}], ("order", "wav", "text"), r"line 1: missing column\(s\) speaker"),
    ([{"order": "1", "speaker": "A", "wav": "a.wav", "txt": "x"}], ("order", "speaker", "wav", "txt"),
     r"line 1: unknown column\(s\) txt"),
    ([], ("order", "speaker", "wav"), r"line 1: no utterance rows"),
])
def test_manifest_errors_name_the_line(two_wavs, lines, columns, message):
    (two_wavs / "b.txt").write_text("transcript of b\n", encoding="utf-8")
    write_manifest(two_wavs, lines, columns)
    with pytest.raises(ManifestError, match=message):
        conversation_table(two_wavs)


def test_an_empty_transcript_file_is_refused_and_text_cells_are_cleaned(two_wavs):
    (two_wavs / "b.txt").write_text("\n", encoding="utf-8")
    write_manifest(two_wavs, [{"order": "2", "speaker": "A", "wav": "a.wav", "text": "l/ 아 진짜*"},
                              {"order": "1", "speaker": "B", "wav": "b.wav", "text": ""}])
    with pytest.raises(ManifestError, match=r"line 3: transcript .*b\.txt is empty"):
        conversation_table(two_wavs)
    (two_wavs / "b.txt").write_bytes("(3시)/(세 시)에 가자\n".encode("cp949"))
    table = conversation_table(two_wavs)
    assert table["segment_id"].tolist() == ["b", "a"]  # order 1 first
    assert table["text"].tolist() == ["3시에 가자", "아 진짜"]
    assert table["text_raw"].tolist() == ["(3시)/(세 시)에 가자", "l/ 아 진짜*"]


def test_the_command_reports_a_manifest_error_with_exit_code_2(pipeline, two_wavs, tmp_path, capsys):
    write_manifest(two_wavs, [{"order": "1", "speaker": "A", "wav": "a.wav", "text": "x"},
                              {"order": "2", "speaker": "B", "wav": "missing.wav", "text": "y"}])
    out = tmp_path / "predictions.csv"
    code = main(["--stage1", str(pipeline["run_dir"]), "--stage3", str(pipeline["stage3"]), "--conversation", str(two_wavs),
                 "--out", str(out), "--device", "cpu", "--threads", "1", "--no-progress"])
    assert code == 2
    assert "line 3: wav 'missing.wav' not found" in capsys.readouterr().err
    assert not out.exists()


def three_speakers(folder):
    write_manifest(folder, [{"order": "1", "speaker": "A", "wav": "a.wav", "text": "x", "segment_id": "s1"},
                            {"order": "2", "speaker": "B", "wav": "b.wav", "text": "y", "segment_id": "s2"},
                            {"order": "3", "speaker": "C", "wav": "a.wav", "text": "z", "segment_id": "s3"}],
                   columns=("order", "speaker", "wav", "text", "segment_id"))


def test_a_third_speaker_is_predicted_when_the_relations_do_not_depend_on_the_speaker_count(pipeline, two_wavs, tmp_path):
    """The trained model uses the default same_other relations, though its training data had 2 speakers."""
    assert json.loads((pipeline["stage3"] / "config.json").read_text())["num_speakers"] == 2
    three_speakers(two_wavs)
    out = tmp_path / "x.csv"
    run_predict(pipeline, out, conversation=str(two_wavs))
    frame = read_predictions(out)
    assert frame["speaker"].tolist() == ["A", "B", "C"]
    assert_probabilities(frame)


def test_more_speakers_than_a_speaker_pair_model_knows_are_refused(pipeline, two_wavs, tmp_path):
    train(stage3_config(pipeline["pickle"], tmp_path / "pairs", "trainer.max_epochs=1", "model.relations=speaker_pair"))
    three_speakers(two_wavs)
    with pytest.raises(CheckpointMismatchError, match=r"3 speakers \(A, B, C\); the stage-3 model .* at most 2 "
                       r"\(relations=speaker_pair"):
        run_predict(pipeline, tmp_path / "x.csv", stage3=tmp_path / "pairs", conversation=str(two_wavs))
    assert not list(tmp_path.glob("x.csv*"))


# -- gold labels in the manifest: an evaluation ----------------------------------------------------------
def test_an_emotion_column_makes_the_prediction_an_evaluation(pipeline, tree_no_ties, tmp_path, capsys):
    folder = tmp_path / "conversation"
    folder_of(pipeline, folder, NO_TIES)
    manifest = pd.read_csv(folder / MANIFEST_NAME, dtype=str, keep_default_na=False)
    rows = dialogue_rows(pipeline, NO_TIES)
    by_wav = {f"utt_{len(rows) - 1 - turn:02d}.wav": emotion for turn, emotion in enumerate(rows["emotion"])}
    manifest["emotion"] = [by_wav[wav] for wav in manifest["wav"]]
    unlabelled = manifest["wav"].iloc[0]
    manifest.loc[0, "emotion"] = ""  # a blank cell: an utterance without a gold label
    write_manifest(folder, manifest.to_dict("records"), columns=("order", "speaker", "wav", "text", "emotion"))
    out = tmp_path / "predictions.csv"
    summary = run_predict(pipeline, out, conversation=str(folder))
    frame = read_predictions(out)
    expected_gold = ["" if f"{segment}.wav" == unlabelled else by_wav[f"{segment}.wav"] for segment in frame["segment_id"]]
    assert frame["gold"].tolist() == expected_gold
    np.testing.assert_allclose(frame[PROBABILITY_COLUMNS].to_numpy(), tree_no_ties[PROBABILITY_COLUMNS].to_numpy(), atol=1e-6)
    labelled = frame[frame["gold"] != ""]
    assert summary["labelled"] == len(rows) - 1
    assert summary["accuracy"] == pytest.approx((labelled["gold"] == labelled["predicted"]).mean())
    assert summary["weighted_f1"] == pytest.approx(f1_score(labelled["gold"], labelled["predicted"], average="weighted"))
    assert f"acc {100 * summary['accuracy']:.2f} wF1 {100 * summary['weighted_f1']:.2f}" in capsys.readouterr().out
    config = json.loads((tmp_path / "predictions.csv.config.json").read_text(encoding="utf-8"))
    assert config["weighted_f1"] == pytest.approx(summary["weighted_f1"])


def test_a_gold_label_that_is_not_a_class_of_the_model_is_one_error_line(pipeline, two_wavs, tmp_path, capsys):
    write_manifest(two_wavs, [{"order": "1", "speaker": "A", "wav": "a.wav", "text": "x", "emotion": "happy"},
                              {"order": "2", "speaker": "B", "wav": "b.wav", "text": "y", "emotion": "calm"}],
                   columns=("order", "speaker", "wav", "text", "emotion"))
    out = tmp_path / "predictions.csv"
    code = main(["--stage1", str(pipeline["run_dir"]), "--stage3", str(pipeline["stage3"]), "--conversation", str(two_wavs),
                 "--out", str(out), "--device", "cpu", "--threads", "1", "--no-progress"])
    assert code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == (f"error: {two_wavs / MANIFEST_NAME} line 3: column emotion: 'calm' is not a class of the model; "
                    f"expected one of {', '.join(EMOTIONS)}, or a blank cell for an unlabelled utterance")
    assert not out.exists()


def test_help_shows_an_example_and_the_batch_defaults(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "examples: kemdy-synthetic-corpus" in text
    assert "kemdy-predict --stage1 model_checkpoints/demo_stage1 --stage3 model_checkpoints/demo_stage3_at" in text
    assert "--batch-size BATCH_SIZE utterances per stage-1 forward pass (default: 16)" in text
    assert "--num-workers NUM_WORKERS data-loading worker processes; 0 = in the main process (default: 0)" in text


# -- checkpoints that do not fit -----------------------------------------------------------------------
def test_a_stage3_model_with_other_feature_widths_is_refused(pipeline, tmp_path):
    dialogues = make_dialogues(count=12, dims={"a": 32, "t": 8}, num_classes=len(EMOTIONS), seed=1)
    write_conversations(tmp_path / "other.pkl", dialogues, EMOTIONS, {"producer": "tests"})
    train(stage3_config(tmp_path / "other.pkl", tmp_path / "other", "trainer.max_epochs=1"))
    with pytest.raises(CheckpointMismatchError, match=r"t: stage 3 expects 8, stage 1 gives 32"):
        run_predict(pipeline, tmp_path / "x.csv", stage3=tmp_path / "other", corpus=str(pipeline["root"]), dialogue=NO_TIES)
    assert not list(tmp_path.glob("x.csv*"))


def edited_checkpoint(pipeline, target, edit):
    shutil.copytree(pipeline["stage3"], target)
    info = json.loads((target / "config.json").read_text(encoding="utf-8"))
    edit(info)
    (target / "config.json").write_text(json.dumps(info), encoding="utf-8")
    return target


def other_producer(info):
    info["data"]["pickle_config"]["checkpoint_weights_sha256"] = "0" * 64


def renamed_class(info):
    info["label_names"] = ["calm", *info["label_names"][1:]]


def visual_modality(info):
    info["modality"], info["feature_dims"] = "v", {"v": 64}


@pytest.mark.parametrize("edit, message", [
    (other_producer, r"trained on features of stage-1 weights 000000000000 .*--allow-other-stage1"),
    (renamed_class, r"classes differ: stage 3 \['calm'"),
    (visual_modality, r"reads modality 'v' \(features v\), but the stage-1 export produces t, a, fused, p"),
])
def test_a_stage3_model_made_for_other_features_is_refused_before_any_work(pipeline, tmp_path, edit, message):
    """Checked from the files alone: the conversation folder here does not even exist."""
    other = edited_checkpoint(pipeline, tmp_path / "other", edit)
    with pytest.raises(CheckpointMismatchError, match=message):
        run_predict(pipeline, tmp_path / "x.csv", stage3=other, conversation=str(tmp_path / "nowhere"))
    assert not list(tmp_path.glob("x.csv*"))


# -- holes -----------------------------------------------------------------------------------------------
def test_unusable_utterances_are_refused_unless_skips_are_allowed(pipeline, two_wavs, tmp_path):
    (two_wavs / "broken.wav").write_bytes(b"not a wav file")
    write_manifest(two_wavs, [{"order": "1", "speaker": "A", "wav": "a.wav", "text": "하나"},
                              {"order": "2", "speaker": "B", "wav": "broken.wav", "text": "둘"},
                              {"order": "3", "speaker": "A", "wav": "b.wav", "text": "셋"}])
    out = tmp_path / "predictions.csv"
    with pytest.raises(SkippedUtterancesError, match=r"1 utterance\(s\) cannot be used: broken \(unreadable"):
        run_predict(pipeline, out, conversation=str(two_wavs))
    assert not out.exists()
    assert pd.read_csv(skipped_path(out))["segment_id"].tolist() == ["broken"]

    summary = run_predict(pipeline, out, conversation=str(two_wavs), allow_skips=True)
    frame = read_predictions(out)
    assert frame["segment_id"].tolist() == ["a", "b"] and frame["order"].tolist() == [1, 3]
    assert summary["skipped"] == 1
    assert_probabilities(frame)


# -- the utterance-table form ---------------------------------------------------------------------------
def write_table(pipeline, path, with_labels: bool):
    """Two dialogues of the index as a user's table: file order shuffled, order values with gaps,
    audio paths relative to the corpus root."""
    rows = pd.concat([dialogue_rows(pipeline, NO_TIES), dialogue_rows(pipeline, WITH_TIE)])
    table = pd.DataFrame({"conv": rows["dialogue_id"], "idx": 3 * rows["turn"], "who": rows["speaker"],
                          "utterance": rows["text"], "wav": rows["wav_path"]})
    if with_labels:
        table["feeling"] = rows["emotion"]
    table.sample(frac=1.0, random_state=2).to_csv(path, index=False)
    return ["dialogue=conv", "order=idx", "speaker=who", "text=utterance", "audio=wav", "label=feeling"]


@pytest.mark.parametrize("with_labels", [True, False])
def test_table_rows_give_the_tree_forms_probabilities_and_labels_make_it_an_evaluation(
        pipeline, tree_no_ties, tmp_path, with_labels):
    columns = write_table(pipeline, tmp_path / "talk.csv", with_labels)
    out = tmp_path / "predictions.csv"
    summary = run_predict(pipeline, out, table=str(tmp_path / "talk.csv"), dialogue=NO_TIES, columns=columns,
                          audio_root=str(pipeline["root"]))
    frame = read_predictions(out)
    np.testing.assert_allclose(frame[PROBABILITY_COLUMNS].to_numpy(), tree_no_ties[PROBABILITY_COLUMNS].to_numpy(),
                               atol=1e-6)
    assert ("gold" in frame.columns) == with_labels
    if with_labels:
        assert frame["gold"].tolist() == tree_no_ties["gold"].tolist()
        assert summary["accuracy"] == pytest.approx((frame["gold"] == frame["predicted"]).mean())


def test_table_labels_outside_the_models_classes_end_as_one_line(pipeline, tmp_path, capsys):
    columns = write_table(pipeline, tmp_path / "talk.csv", with_labels=True)
    table = pd.read_csv(tmp_path / "talk.csv")
    table.loc[3, "feeling"] = "bored"
    table.to_csv(tmp_path / "talk.csv", index=False)
    code = main(["--stage1", str(pipeline["run_dir"]), "--stage3", str(pipeline["stage3"]), "--out",
                 str(tmp_path / "p.csv"), "--table", str(tmp_path / "talk.csv"), "--dialogue", NO_TIES,
                 "--audio-root", str(pipeline["root"]), "--device", "cpu", "--columns", *columns])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "talk.csv" in err[0] and "line 5" in err[0] and "feeling" in err[0] and "bored" in err[0]
    assert not (tmp_path / "p.csv").exists()
