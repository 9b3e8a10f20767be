"""EmotionRecognizer on the shipped checkpoints (model_checkpoints/demo_stage1 + demo_stage3_at) and a
dialogue of the generated demo corpus: the same probabilities as kemdy-predict's CSV, audio as paths
or arrays, models loaded once for many conversations, bad utterances named, the docs' example runs."""

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile
import torch

from erc_core.errors import UserError
from feature_extractor.extraction import recognizer as recognizer_module
from feature_extractor.extraction.conversation_folder import MANIFEST_NAME
from feature_extractor.extraction.predict import main as predict_main
from feature_extractor.extraction.recognizer import EmotionRecognizer, SkippedUtterancesError, Utterance
from feature_extractor.synthetic.generator import generate_corpus

REPO = Path(__file__).resolve().parents[1]
STAGE1 = REPO / "model_checkpoints" / "demo_stage1"
STAGE3 = REPO / "model_checkpoints" / "demo_stage3_at"
DIALOGUE = "Sess19_script01"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo_corpus") / "corpus"
    generate_corpus(root, preset="tiny", dataset="KEMDy19", seed=3)  # the README's prediction example
    return root


@pytest.fixture(scope="module")
def dialogue(corpus):
    """The dialogue's utterances in conversation order: segment id, speaker, wav file, raw transcript."""
    truth = pd.read_csv(corpus / "synthetic_ground_truth.csv", dtype=str, keep_default_na=False)
    rows = truth[truth["dialogue_id"] == DIALOGUE].assign(turn=lambda t: t["turn"].astype(int)).sort_values("turn")
    wavs = {path.stem: path for path in corpus.rglob(f"{DIALOGUE}_*.wav")}
    return [{"segment_id": row.segment_id, "speaker": row.speaker, "wav": wavs[row.segment_id],
             "text": wavs[row.segment_id].with_suffix(".txt").read_text(encoding="utf-8")} for row in rows.itertuples()]


@pytest.fixture(scope="module")
def recognizer():
    torch.set_num_threads(1)
    return EmotionRecognizer.from_checkpoints(STAGE1, STAGE3, device="cpu")


@pytest.fixture(scope="module")
def command_csv(dialogue, tmp_path_factory):
    """kemdy-predict on a conversation folder holding the dialogue's files (manifest with texts)."""
    root = tmp_path_factory.mktemp("command")
    folder = root / "conversation"
    folder.mkdir()
    with open(folder / MANIFEST_NAME, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order", "speaker", "wav", "text"])
        for order, item in enumerate(dialogue, 1):
            writer.writerow([order, item["speaker"], str(item["wav"]), item["text"]])
    out = root / "predictions.csv"
    code = predict_main(["--stage1", str(STAGE1), "--stage3", str(STAGE3), "--conversation", str(folder),
                         "--out", str(out), "--device", "cpu", "--threads", "1", "--no-progress"])
    assert code == 0
    return pd.read_csv(out, dtype={"segment_id": str}, keep_default_na=False)


def utterances(dialogue, arrays=()):
    """Utterances with the dialogue's segment ids; those at positions `arrays` carry their audio as samples."""
    items = []
    for position, item in enumerate(dialogue):
        audio = soundfile.read(item["wav"], dtype="float32")[0] if position in arrays else str(item["wav"])
        items.append(Utterance(item["speaker"], audio, item["text"], segment_id=item["segment_id"]))
    return items


def test_same_probabilities_as_the_predict_command(recognizer, dialogue, command_csv):
    result = recognizer.recognize(utterances(dialogue, arrays={1, 4}))
    probability_columns = [f"prob_{name}" for name in recognizer.label_names]
    assert result.segment_ids == [item["segment_id"] for item in dialogue]
    assert command_csv["segment_id"].tolist() == [Path(item["wav"]).stem for item in dialogue]
    np.testing.assert_allclose(result.probabilities, command_csv[probability_columns].to_numpy(), rtol=0, atol=1e-6)
    assert result.labels == command_csv["predicted"].tolist()
    assert result.frame["speaker"].tolist() == [item["speaker"] for item in dialogue]
    assert result.features is None


def test_models_are_loaded_once_for_many_conversations(dialogue, monkeypatch):
    loads = {"stage1": 0, "stage3": 0}

    def counting(name, load):
        def wrapper(*args, **kwargs):
            loads[name] += 1
            return load(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(recognizer_module, "load_export", counting("stage1", recognizer_module.load_export))
    monkeypatch.setattr(recognizer_module, "load_checkpoint", counting("stage3", recognizer_module.load_checkpoint))
    recognizer = EmotionRecognizer.from_checkpoints(STAGE1, STAGE3, device="cpu")
    first = recognizer.recognize(utterances(dialogue))
    second = recognizer.recognize([{"speaker": item["speaker"], "audio": str(item["wav"]), "text": item["text"]}
                                   for item in dialogue[:3]], features=True)
    assert loads == {"stage1": 1, "stage3": 1}
    assert len(first.labels) == len(dialogue) and second.segment_ids == ["utt_001", "utt_002", "utt_003"]
    assert set(second.features) == {"t", "a", "fused", "p"}
    assert all(len(matrix) == 3 for matrix in second.features.values())


def test_the_features_are_those_of_stage_2_for_the_same_utterances(recognizer, dialogue):
    """Arrays and paths of the same audio give the same features (an array is not resampled or cut)."""
    by_path = recognizer.recognize(utterances(dialogue), features=True)
    by_array = recognizer.recognize(utterances(dialogue, arrays=range(len(dialogue))), features=True)
    for name, matrix in by_path.features.items():
        assert matrix.shape[0] == len(dialogue)
        np.testing.assert_array_equal(by_array.features[name], matrix)
    np.testing.assert_allclose(by_path.probabilities.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("items, message", [
    ([{"speaker": "A", "audio": "WAV", "txt": "x"}], r"^utterance 1: unknown key\(s\) txt; expected"),
    ([{"speaker": "A", "text": "x"}], r"^utterance 1: missing key\(s\) audio; expected"),
    ([Utterance("A", "WAV", "x"), Utterance(" ", "WAV", "y")], r"^utterance 2: empty speaker"),
    ([Utterance("A", "WAV", "")], r"^utterance 1: no text"),
    ([Utterance("A", "nowhere.wav", "x")], r"^utterance 1: audio file nowhere\.wav not found"),
    ([Utterance("A", np.zeros((2, 2, 2)), "x")], r"^utterance 1: audio of shape \(2, 2, 2\)"),
    ([Utterance("A", "WAV", "x", segment_id="s"), Utterance("B", "WAV", "y", segment_id="s")],
     r"^utterance 2: segment_id 's' repeats utterance 1"),
    ([], r"no utterances"),
])
def test_a_bad_utterance_is_named_by_its_position(recognizer, dialogue, items, message):
    """WAV stands for a real wav file, so that only the named problem is wrong."""
    wav = str(dialogue[0]["wav"])
    for item in items:
        if isinstance(item, Utterance) and isinstance(item.audio, str) and item.audio == "WAV":
            item.audio = wav
        elif isinstance(item, dict) and item.get("audio") == "WAV":
            item["audio"] = wav
    with pytest.raises(UserError, match=message):
        recognizer.recognize(items)


def test_nan_audio_is_refused_unless_skips_are_allowed(recognizer, dialogue):
    items = utterances(dialogue[:3], arrays={1})
    items[1].audio[10] = np.nan
    with pytest.raises(SkippedUtterancesError, match=rf"{dialogue[1]['segment_id']} \(non_finite"):
        recognizer.recognize(items)
    result = recognizer.recognize(items, allow_skips=True)
    assert result.segment_ids == [dialogue[0]["segment_id"], dialogue[2]["segment_id"]]
    assert result.skipped["segment_id"].tolist() == [dialogue[1]["segment_id"]]


def test_the_example_in_docs_predict_md_runs(corpus, dialogue, capsys, monkeypatch):
    monkeypatch.chdir(REPO)  # the example names the shipped checkpoints relative to the checkout
    text = (REPO / "docs" / "predict.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert '"/tmp/corpus"' in example
    exec(compile(example.replace('"/tmp/corpus"', repr(str(corpus))), "docs/predict.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"{DIALOGUE}_M001 Sess19_M ")
    assert [line.split()[0] for line in printed] == [item["segment_id"] for item in dialogue]
