import os
import pickle

import numpy as np
import pytest

from cgnn.conversation_pickle import read_conversations
from cgnn.importers import command as import_features
from cgnn.importers.cogmen_tuple import (
    LABEL_SETS,
    ImportFormatError,
    check_dialogues,
    import_cogmen_tuple,
    load_cogmen_tuple,
)
from cgnn.importers.kemdy_cogmen import import_kemdy_cogmen, load_kemdy_cogmen
from cgnn.safe_unpickle import UnsafePickleError
from erc_core.files import file_sha256
from erc_core.labels import EMOTIONS


def iemocap_like():
    """Ten train dialogues stored in a deliberately unsorted order, two test dialogues; text is
    a list of vectors, audio an [n, d] array, visual empty (as in pickles without video)."""
    train = ["d9", "d3", "d7", "d1", "d5", "d0", "d8", "d2", "d6", "d4"]
    test = ["t1", "t0"]
    ids, speakers, labels, text, audio, sentences = {}, {}, {}, {}, {}, {}
    for number, vid in enumerate(train + test):
        n = 2 + number % 3
        ids[vid] = [f"{vid}_utt{i}" for i in range(n)]
        speakers[vid] = ["M", "F"] * n
        speakers[vid] = speakers[vid][:n]
        labels[vid] = [(number + i) % 4 for i in range(n)]
        text[vid] = [np.full(4, number + i / 10, np.float32) for i in range(n)]
        audio[vid] = np.full((n, 3), -number, np.float64)
        sentences[vid] = [f"sentence {i}" for i in range(n)]
    return (ids, speakers, labels, text, audio, {}, sentences, train, test)


def test_cogmen_tuple_import():
    fields = iemocap_like()
    dialogues, report = import_cogmen_tuple(fields, LABEL_SETS["iemocap_4"], "iemo.pkl")
    by_id = {d["dialogue_id"]: d for d in dialogues}
    # dev = first int(10 * 0.1) = 1 train id in stored order: d9
    assert [d["dialogue_id"] for d in dialogues if d["split"] == "dev"] == ["d9"]
    assert [d["dialogue_id"] for d in dialogues if d["split"] == "train"] == fields[7][1:]
    assert [d["dialogue_id"] for d in dialogues if d["split"] == "test"] == ["t1", "t0"]
    d3 = by_id["d3"]  # number 1: n = 3
    assert d3["segment_ids"] == ["d3_utt0", "d3_utt1", "d3_utt2"]
    assert d3["speakers"] == ["M", "F", "M"]
    assert d3["labels"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(d3["features"]["t"][:, 0], [1.0, 1.1, 1.2], rtol=1e-6)
    assert d3["features"]["a"].tolist() == [[-1.0] * 3] * 3
    assert set(d3["features"]) == {"t", "a"}
    assert report.counts == {"train": 9, "dev": 1, "test": 2}
    assert report.empty_features == ["v"] and report.features == ["t", "a"]
    data = check_dialogues(dialogues, LABEL_SETS["iemocap_4"], "iemo.pkl")
    assert data.feature_dims == {"t": 4, "a": 3}


def test_speakers_as_ints_and_meld_one_hot():
    fields = list(iemocap_like())
    nine = np.eye(9)
    for number, vid in enumerate(fields[1]):
        n = len(fields[2][vid])
        fields[1][vid] = [nine[(number + i) % 9].tolist() for i in range(n)] if number % 2 else \
            [np.int64(i % 2) for i in range(n)]
    dialogues, _ = import_cogmen_tuple(fields, LABEL_SETS["iemocap_4"], "meld.pkl")
    by_id = {d["dialogue_id"]: d for d in dialogues}
    assert by_id["d3"]["speakers"] == ["1", "2", "3"]        # number 1: one-hot rows 1, 2, 3
    assert by_id["d9"]["speakers"] == ["0", "1"]             # number 0: ints


def test_set_ids_are_sorted_and_single_vectors_squeezed():
    fields = list(iemocap_like())
    fields[7] = set(fields[7])
    fields[3] = {vid: [v[None, :] for v in rows] for vid, rows in fields[3].items()}  # (1, d) rows
    dialogues, _ = import_cogmen_tuple(fields, LABEL_SETS["iemocap_4"], "x.pkl")
    assert [d["dialogue_id"] for d in dialogues if d["split"] != "test"] == [f"d{i}" for i in range(10)]
    assert dialogues[0]["features"]["t"].shape == (len(dialogues[0]["labels"]), 4)


@pytest.mark.parametrize("change, message", [
    (lambda f: f[1].update(d3=[[1, 1], [0, 1], [1, 0]]), r"dialogue 'd3': speaker row 0 \[1.0, 1.0\] is not one-hot"),
    (lambda f: f[3].update(d5=[]), r"feature 't' is empty for 1 dialogue\(s\) \(d5\)"),
    (lambda f: f[8].append("d1"), r"1 dialogue\(s\) in both train and test ids: d1"),
    (lambda f: f[2].pop("d7"), r"dialogue 'd7': not found in video_labels"),
    (lambda f: f[0].update(d1=["only_one"]), r"dialogue 'd1': 1 segment/utterance ids for 2 labels"),
    (lambda f: f[2].update(d1=[0.5, 1, 2]), r"dialogue 'd1': labels .* are not class ids"),
])
def test_import_errors_name_the_dialogue(change, message):
    fields = iemocap_like()
    change(fields)
    with pytest.raises(ImportFormatError, match=message):
        import_cogmen_tuple(fields, LABEL_SETS["iemocap_4"], "x.pkl")


def test_labels_outside_the_label_names_are_rejected():
    fields = iemocap_like()
    dialogues, _ = import_cogmen_tuple(fields, ["a", "b", "c"], "x.pkl")
    with pytest.raises(ValueError, match=r"x.pkl \(imported\).*label 3 .* out of range"):
        check_dialogues(dialogues, ["a", "b", "c"], "x.pkl")


def test_python2_style_pickle_and_wrong_length(tmp_path):
    path = tmp_path / "iemo.pkl"
    path.write_bytes(pickle.dumps(iemocap_like(), protocol=2))
    assert len(load_cogmen_tuple(path)) == 9
    path.write_bytes(pickle.dumps(iemocap_like()[:8], protocol=2))
    with pytest.raises(ImportFormatError, match="expected the COGMEN 9-tuple"):
        load_cogmen_tuple(path)


class _Payload:
    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def test_foreign_pickle_payload_does_not_run(tmp_path):
    target = tmp_path / "owned"
    fields = list(iemocap_like())
    fields[6] = {"d1": _Payload(target)}
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(tuple(fields)))
    with pytest.raises(UnsafePickleError, match="posix.system|os.system"):
        load_cogmen_tuple(path)
    assert not target.exists()


def kemdy_like():
    ids = ["Sess01_script01", "Sess01_impro01", "Sess19_script01"]
    segments = {"Sess01_script01": ["Sess01_script01_F001", "Sess01_script01_M001"],
                "Sess01_impro01": ["Sess01_impro01_M001", "Sess01_impro01_F001", "Sess01_impro01_M002"],
                "Sess19_script01": ["Sess19_script01_F001"]}
    speakers = {k: [s.split("_")[-1][0] for s in v] for k, v in segments.items()}
    # the pipeline's numbering: neutral 0, angry 1, happy 2, surprise 3, sad 4, fear 5, disgust 6
    labels = {"Sess01_script01": [1, 6], "Sess01_impro01": [0, 2, 5], "Sess19_script01": [4]}
    text = {k: [np.full((1, 2), i, np.float32) for i in range(len(v))] for k, v in segments.items()}
    audio = {k: [np.full((1, 3), 7, np.float32) for _ in v] for k, v in segments.items()}
    visual = {k: [] for k in ids}
    sentences = {k: ["..."] * len(v) for k, v in segments.items()}
    return [ids, speakers, labels, text, audio, visual, sentences, ids[:2], ids[2:], segments]


def test_kemdy_cogmen_import_renumbers_labels_to_project_order(tmp_path):
    path = tmp_path / "kemdy.pkl"
    path.write_bytes(pickle.dumps(kemdy_like()))
    dialogues, report = import_kemdy_cogmen(load_kemdy_cogmen(path), str(path))
    by_id = {d["dialogue_id"]: d for d in dialogues}
    first = by_id["Sess01_script01"]
    assert [EMOTIONS[i] for i in first["labels"]] == ["angry", "disgust"]
    assert [EMOTIONS[i] for i in by_id["Sess01_impro01"]["labels"]] == ["neutral", "happy", "fear"]
    assert first["segment_ids"] == ["Sess01_script01_F001", "Sess01_script01_M001"]
    assert first["speakers"] == ["F", "M"]
    assert by_id["Sess19_script01"]["split"] == "test"
    assert report.counts == {"train": 2, "dev": 0, "test": 1}  # int(2 * 0.1) = 0 dev dialogues
    assert report.empty_features == ["v"]


def test_import_script_end_to_end(tmp_path, capsys):
    source = tmp_path / "iemo.pkl"
    source.write_bytes(pickle.dumps(iemocap_like(), protocol=2))
    out = tmp_path / "iemo_conv.pkl"
    assert import_features.main(["--format", "cogmen", "--labels", "iemocap_4", str(source), str(out)]) == 0
    data = read_conversations(out)
    assert data.label_names == ["hap", "sad", "neu", "ang"]
    assert data.config["importer"] == "cogmen" and data.config["empty_features"] == ["v"]
    assert "empty in the source, left out: v" in capsys.readouterr().out
    kemdy_source = tmp_path / "k.pkl"
    kemdy_source.write_bytes(pickle.dumps(kemdy_like()))
    assert import_features.main(["--format", "kemdy-cogmen", str(kemdy_source), str(tmp_path / "k_conv.pkl")]) == 0
    assert read_conversations(tmp_path / "k_conv.pkl").label_names == list(EMOTIONS)
    assert import_features.main(["--format", "cogmen", str(source), str(tmp_path / "no_labels.pkl")]) == 2
    assert "error: --format cogmen needs --labels or --label-names" in capsys.readouterr().err


def test_an_explicit_dev_list_replaces_the_ten_percent_rule():
    fields = list(iemocap_like())
    for name in (1, 2, 3):  # a dialogue listed in neither train nor test ids, as official dev sets are
        fields[name]["v0"] = fields[name]["d0"]
    for name in (0, 3, 4):
        fields[name]["v0"] = fields[name]["d0"]
    dialogues, report = import_cogmen_tuple(fields, LABEL_SETS["iemocap_4"], "meld.pkl", dev_ids=["d3", "v0"])
    splits = {d["dialogue_id"]: d["split"] for d in dialogues}
    assert sorted(v for v, s in splits.items() if s == "dev") == ["d3", "v0"]
    assert "d9" in splits and splits["d9"] == "train"  # the 10 % rule is not applied on top
    assert report.counts == {"train": 9, "dev": 2, "test": 2}
    assert report.dev_rule == "an explicit list of 2 dev dialogue ids"
    assert "dev: an explicit list of 2 dev dialogue ids" in report.lines()


def test_a_dev_list_naming_test_or_unknown_dialogues_is_refused():
    fields = iemocap_like()
    with pytest.raises(ImportFormatError, match="listed dev id\\(s\\) are test ids: t0"):
        import_cogmen_tuple(fields, LABEL_SETS["iemocap_4"], "x.pkl", dev_ids=["d1", "t0"])
    with pytest.raises(ImportFormatError, match="not dialogues of the pickle: nope"):
        import_cogmen_tuple(fields, LABEL_SETS["iemocap_4"], "x.pkl", dev_ids=["nope"])


def test_the_import_command_takes_a_dev_id_file_and_records_the_rule(tmp_path, capsys):
    source = tmp_path / "iemo.pkl"
    source.write_bytes(pickle.dumps(iemocap_like(), protocol=2))
    ids = tmp_path / "dev_ids.txt"
    ids.write_text("# official dev\nd1\n\nd5\n")
    out = tmp_path / "conv.pkl"
    assert import_features.main(["--format", "cogmen", "--labels", "iemocap_4", "--dev-ids", str(ids),
                                 str(source), str(out)]) == 0
    data = read_conversations(out)
    assert sorted(d["dialogue_id"] for d in data.in_split("dev")) == ["d1", "d5"]
    assert data.config["dev_ids"] == ["d1", "d5"] and data.config["dev_rule"].startswith("an explicit list")
    assert data.config["provenance"]["imported_from"]["sha256"] == file_sha256(source)
    assert "dev: an explicit list of 2 dev dialogue ids" in capsys.readouterr().out
    default = tmp_path / "default.pkl"
    assert import_features.main(["--format", "cogmen", "--labels", "iemocap_4", str(source), str(default)]) == 0
    assert read_conversations(default).config["dev_rule"].startswith("the first 0.1 of train ids")


@pytest.mark.parametrize("empty_visual", [
    lambda n: np.zeros((n, 0), np.float32),                      # an [n, 0] array per dialogue
    lambda n: [np.zeros(0, np.float32) for _ in range(n)],       # n empty vectors
])
def test_visual_slots_of_width_zero_are_left_out_and_reported(tmp_path, capsys, empty_visual):
    fields = list(iemocap_like())
    fields[5] = {vid: empty_visual(len(labels)) for vid, labels in fields[2].items()}
    source, out = tmp_path / "iemo.pkl", tmp_path / "conv.pkl"
    source.write_bytes(pickle.dumps(tuple(fields), protocol=2))
    assert import_features.main(["--format", "cogmen", "--labels", "iemocap_4", str(source), str(out)]) == 0
    assert "empty in the source, left out: v" in capsys.readouterr().out
    data = read_conversations(out)
    assert data.feature_dims == {"t": 4, "a": 3} and data.config["empty_features"] == ["v"]


def test_modality_all_means_the_features_present_in_an_old_import_with_zero_width_visual(tmp_path):
    from cgnn.conversation_pickle import concrete_modality, modality_matrix, write_conversations
    from cgnn.embedding_map import labelled_points

    dialogues, _ = import_cogmen_tuple(iemocap_like(), LABEL_SETS["iemocap_4"], "x.pkl")
    for dialogue in dialogues:  # as the importer used to write it
        dialogue["features"]["v"] = np.zeros((len(dialogue["labels"]), 0), np.float32)
    data = write_conversations(tmp_path / "old.pkl", dialogues, LABEL_SETS["iemocap_4"], {})
    assert data.feature_dims["v"] == 0
    assert concrete_modality("all", data.feature_dims) == "ta"
    assert modality_matrix(dialogues[0], "all").shape == (len(dialogues[0]["labels"]), 7)
    features, _ = labelled_points(data, "all", "all")
    assert features.shape[1] == 7
    with pytest.raises(ValueError, match=r"modality 'v'.*width 0.*features present: t, a"):
        concrete_modality("v", data.feature_dims)


@pytest.mark.parametrize("value", ["-0.5", "1.5", "1", "nan"])
def test_a_dev_fraction_outside_0_1_is_one_error_line(tmp_path, capsys, value):
    source = tmp_path / "iemo.pkl"
    source.write_bytes(pickle.dumps(iemocap_like(), protocol=2))
    code = import_features.main(["--format", "cogmen", "--labels", "iemocap_4", "--dev-fraction", value,
                                 str(source), str(tmp_path / "conv.pkl")])
    assert code == 2 and not (tmp_path / "conv.pkl").exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --dev-fraction ") and "[0, 1)" in err[0], err
