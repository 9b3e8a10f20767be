"""The synthetic KEMDy corpus generator: layout, determinism, labels, audio, physiology, statistics.

Expected values come from the format description (/work/shared/KEMDY_FORMAT.md), the real KEMDy19
figures, and the generator's own ground truth file; never from a previous run's output."""

import collections
import csv
import dataclasses
import hashlib
import re

import numpy as np
import pandas as pd
import pytest
import soundfile

from feature_extractor.corpus import report_command as corpus_report
from feature_extractor.synthetic import command as make_synthetic_corpus
from feature_extractor.synthetic import generator, physiology
from feature_extractor.synthetic.audio import AudioKnobs, expression_of, synthesize
from feature_extractor.synthetic.layout_kemdy20 import write_annotation
from feature_extractor.synthetic.plan import ground_truth_frame, plan_corpus
from feature_extractor.synthetic.presets import get_preset
from feature_extractor.synthetic.raters import majority_labels
from feature_extractor.synthetic.reference import (
    KEMDY19_CLASS_MIX,
    KEMDY19_DURATION,
    KEMDY19_DYNAMICS,
    VA_CENTROIDS,
)
from feature_extractor.synthetic.statistics import corpus_statistics, ground_truth_table
from feature_extractor.synthetic.voices import draw_voice

EMOTION_WORDS = {"neutral", "happy", "surprise", "angry", "sad", "disgust", "fear"}


@pytest.fixture(scope="module")
def tiny19(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "tiny19"
    summary = generator.generate_corpus(root, preset="tiny", dataset="KEMDy19", seed=0)
    return root, summary, pd.read_csv(root / generator.GROUND_TRUTH_FILE, keep_default_na=False)


@pytest.fixture(scope="module")
def tiny20(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "tiny20"
    summary = generator.generate_corpus(root, preset="tiny", dataset="KEMDy20", seed=0)
    return root, summary, pd.read_csv(root / generator.GROUND_TRUTH_FILE, keep_default_na=False)


@pytest.fixture(scope="module")
def demo19_truth():
    """Ground truth of three demo-preset plans (no files: planning alone is fast), ~4,500 segments."""
    frames = []
    for seed in (0, 1, 2):
        truth = ground_truth_frame(plan_corpus(get_preset("demo", "KEMDy19"), seed))
        frames.append(truth.assign(dialogue_id=f"seed{seed}_" + truth["dialogue_id"]))
    return pd.concat(frames, ignore_index=True)


def read_rows(path, encoding="utf-8"):
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def tree_digest(root):
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*")) if path.is_file()
    }


# --- determinism and safe writing -------------------------------------------------------------

def test_same_seed_gives_identical_bytes_and_another_seed_differs(tiny19, tmp_path):
    root, _, _ = tiny19
    again = tmp_path / "again"
    assert make_synthetic_corpus.main(["--out", str(again), "--preset", "tiny", "--seed", "0"]) == 0
    first, second = tree_digest(root), tree_digest(again)
    assert len(first) > 100 and first == second
    other = generator.generate_corpus(tmp_path / "other", preset="tiny", seed=1)
    third = tree_digest(tmp_path / "other")
    assert other["utterances"] > 0
    assert first["annotation/Session01_F_res.csv"] != third["annotation/Session01_F_res.csv"]


def test_refuses_a_foreign_folder_and_leaves_nothing_after_a_crash(tmp_path, monkeypatch):
    foreign = tmp_path / "real_corpus"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="real_corpus"):
        generator.generate_corpus(foreign, preset="tiny")
    assert (foreign / "keep.txt").read_text() == "precious"

    def crashing_writer(root, plan):
        (root / "annotation").mkdir()
        (root / "annotation" / "half.csv").write_text("Numb")
        raise RuntimeError("disk full")

    monkeypatch.setitem(generator.WRITERS, "KEMDy19", crashing_writer)
    with pytest.raises(RuntimeError, match="disk full"):
        generator.generate_corpus(tmp_path / "crashed", preset="tiny")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real_corpus"]


def test_invalid_preset_is_named():
    preset = dataclasses.replace(get_preset("tiny", "KEMDy19"), sessions=(1, 21))
    with pytest.raises(ValueError, match=r"sessions \(1, 21\).*1\.\.20"):
        plan_corpus(preset, 0)
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        get_preset("huge")


# --- KEMDy19 layout ---------------------------------------------------------------------------

def test_kemdy19_tree_layout(tiny19):
    root, summary, truth = tiny19
    preset = get_preset("tiny", "KEMDy19")
    assert {17, 18, 19, 20} <= set(preset.sessions)  # the default dev (17-18) and test (19-20) blocks
    assert summary["utterances"] == len(truth) > 0
    expected = {f"Session{s:02d}_{g}_res.csv" for s in preset.sessions for g in "FM"}
    assert {p.name for p in (root / "annotation").iterdir()} == expected
    for session in preset.sessions:
        for signal_name in ("ECG", "EDA", "TEMP"):
            folder = root / signal_name / f"Session{session:02d}" / "Original"
            assert {p.name for p in folder.iterdir()} == {f"Sess{session:02d}F.csv", f"Sess{session:02d}M.csv"}
    for row in truth.itertuples():
        folder = root / "wav" / f"Session{row.session:02d}" / row.dialogue_id
        assert (folder / f"{row.segment_id}.wav").is_file()
        text = (folder / f"{row.segment_id}.txt").read_bytes().decode("utf-8")
        assert text.endswith("\n") and text.count("\n") == 1 and re.search("[가-힣]", text)
        assert text.rstrip("\n") == row.transcript


def test_kemdy19_annotation_format_and_speaker_listener_rows(tiny19):
    root, _, truth = tiny19
    by_id = truth.set_index("segment_id")
    listener_differs = 0
    for session, session_truth in truth.groupby("session"):
        for actor in "FM":
            rows = read_rows(root / "annotation" / f"Session{session:02d}_{actor}_res.csv")
            assert all(len(row) == 43 for row in rows)
            header, sub_header, data = rows[0], rows[1], rows[2:]
            assert header[:4] == ["Numb", "Wav", "", "ECG"] and header[9:11] == ["Segment ID", "Total Evaluation"]
            assert header[13::3] == [f"Eval{i:02d}" for i in range(1, 11)]
            assert sub_header[1:3] == ["start", "end"] and sub_header[10:13] == ["Emotion", "Valence", "Arousal"]
            assert [row[0] for row in data] == [str(i) for i in range(1, len(data) + 1)]
            ids = [row[9] for row in data]
            assert sorted(ids) == sorted(session_truth["segment_id"])  # every segment, once
            for row in data:
                segment = by_id.loc[row[9]]
                own = segment["gender"] == actor
                expected = segment["total_emotion_written"] if own else segment["listener_emotion"]
                assert row[10] == expected
                listener_differs += (not own) and row[10] != segment["total_emotion_written"]
    assert listener_differs > 0


def test_rater_columns_agree_with_totals(tiny19):
    root, _, _ = tiny19
    for path in sorted((root / "annotation").glob("*.csv")):
        for row in read_rows(path)[2:]:
            votes = row[13::3]
            valence, arousal = [int(v) for v in row[14::3]], [int(v) for v in row[15::3]]
            assert set(votes) <= EMOTION_WORDS and len(votes) == 10
            assert all(1 <= v <= 5 for v in valence + arousal)
            assert float(row[11]) == pytest.approx(np.mean(valence))
            assert float(row[12]) == pytest.approx(np.mean(arousal))
            counts = collections.Counter(votes)
            top = max(counts.values())
            assert row[10].split(";") == sorted((e for e in counts if counts[e] == top), key=votes.index)


def test_chronology_and_per_speaker_index(tiny19):
    root, _, truth = tiny19
    file_order_differs = False
    for dialogue_id, rows in truth.groupby("dialogue_id"):
        rows = rows.sort_values("turn")
        assert rows["turn"].tolist() == list(range(len(rows)))
        starts, ends = rows["start"].to_numpy(), rows["end"].to_numpy()
        assert (starts[1:] > ends[:-1]).all()  # chronological, no overlap
        for _, own in rows.groupby("gender"):
            assert own["segment_id"].str[-3:].astype(int).tolist() == list(range(1, len(own) + 1))
        session = rows["session"].iloc[0]
        annotated = [r[9] for r in read_rows(root / "annotation" / f"Session{session:02d}_F_res.csv")[2:]]
        in_file = [segment for segment in annotated if segment.startswith(dialogue_id + "_")]
        file_order_differs |= in_file != rows["segment_id"].tolist()
    assert file_order_differs  # readers must order by start time, not by file order


def test_audio_is_16k_mono_pcm16_with_the_written_duration(tiny19):
    root, _, truth = tiny19
    for session in truth["session"].unique():
        for row in read_rows(root / "annotation" / f"Session{session:02d}_M_res.csv")[2:]:
            dialogue = row[9].rsplit("_", 1)[0]
            path = root / "wav" / f"Session{session:02d}" / dialogue / f"{row[9]}.wav"
            info = soundfile.info(str(path))
            assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
            assert info.frames == round((float(row[2]) - float(row[1])) * 16000)
            samples, _ = soundfile.read(str(path), dtype="int16")
            assert np.abs(samples).max() > 1000


def test_kemdy19_physiology_files(tiny19):
    root, _, truth = tiny19
    missing_dialogue = get_preset("tiny", "KEMDy19").physio.missing_e4_dialogues[0]
    session_truth = truth[truth["session"] == 1]
    for signal_name in ("ECG", "EDA", "TEMP"):
        for actor in "FM":
            lines = (root / signal_name / "Session01" / "Original" / f"Sess01{actor}.csv").read_text().splitlines()
            fields = [line.split(",") for line in lines]
            assert {len(f) for f in fields} == {3, 4}  # inside segments 4 fields, outside 3
            tagged = collections.Counter(f[3] for f in fields if len(f) == 4)
            assert set(tagged) <= set(session_truth["segment_id"])
            times = np.array([float(f[2]) for f in fields])
            assert (np.diff(times) > 0).all()
            for row in session_truth.itertuples():
                covered = tagged[row.segment_id] > 0
                if signal_name == "ECG" or row.dialogue_id != missing_dialogue:
                    assert covered, (signal_name, row.segment_id)
            if signal_name != "ECG":
                lost = session_truth[session_truth["dialogue_id"] == missing_dialogue]["segment_id"]
                assert sum(tagged[s] == 0 for s in lost) >= len(lost) // 2
    annotation = read_rows(root / "annotation" / "Session01_F_res.csv")[2:]
    lost_rows = [row for row in annotation if row[9].startswith(missing_dialogue) and row[9][-4] == "F"]
    assert any(row[5] == "" for row in lost_rows) and all(row[3] != "" for row in annotation)


def test_physiological_levels_follow_arousal():
    baseline = physiology.PhysioBaseline(heart_rate_bpm=75.0, eda_us=2.0, temp_c=33.0, reactivity=1.0)
    calm, agitated = np.full(2400, -1.0), np.full(2400, 1.5)
    for generate, rate, direction in ((physiology.eda, 4.0, 1), (physiology.ecg, 64.0, 1),
                                      (physiology.temperature, 4.0, -1)):
        low = generate(calm, rate, baseline, np.random.default_rng(0)).mean()
        high = generate(agitated, rate, baseline, np.random.default_rng(0)).mean()
        assert direction * (high - low) > 0, generate.__name__
    beats_calm = physiology.ibi_events(calm, 4.0, baseline, 0.0, np.random.default_rng(0))[1]
    beats_agitated = physiology.ibi_events(agitated, 4.0, baseline, 0.0, np.random.default_rng(0))[1]
    assert beats_agitated.mean() < beats_calm.mean()  # faster heart, shorter intervals


def test_audio_carries_arousal_cues_across_draws():
    rng = np.random.default_rng(0)
    voice = draw_voice("F", rng)
    centroids = VA_CENTROIDS["KEMDy19"]

    def mean_rms(emotion):
        clips = [synthesize(32000, voice, expression_of(emotion, centroids), AudioKnobs(), rng) for _ in range(12)]
        return np.mean([np.sqrt(np.mean(clip.astype(np.float64) ** 2)) for clip in clips])

    assert mean_rms("angry") > 1.3 * mean_rms("sad")


# --- KEMDy20 layout ---------------------------------------------------------------------------

def test_kemdy20_tree_layout_and_quirks(tiny20):
    root, _, truth = tiny20
    preset = get_preset("tiny", "KEMDy20")
    assert {p.name for p in (root / "annotation").iterdir()} == {f"Sess{s:02d}_eval.csv" for s in preset.sessions}
    for session in preset.sessions:
        rows = read_rows(root / "annotation" / f"Sess{session:02d}_eval.csv")
        assert all(len(row) == 37 for row in rows)
        assert rows[0][3:5] == ["Segment ID", "Total Evaluation"] and rows[1][4:7] == ["Emotion", "Valence", "Arousal"]
        assert all(re.fullmatch(r"Eval\d\d[FM]", name) for name in rows[0][7::3])
        written_ids = [row[3] for row in rows[2:]]
        expected = truth[truth["session"] == session]["segment_id"]
        if session == 17:
            wrong = [s for s in written_ids if not s.startswith("Sess17_")]
            assert wrong and all(s.startswith("Sess18_") for s in wrong)
            written_ids = [re.sub(r"^Sess\d\d_", "Sess17_", s) for s in written_ids]
        assert sorted(written_ids) == sorted(expected)
    utf8_failures = 0
    for row in truth.itertuples():
        folder = root / "wav" / f"Session{row.session:02d}"
        assert (folder / f"{row.segment_id}.wav").is_file()
        raw = (folder / f"{row.segment_id}.txt").read_bytes()
        assert raw.decode("cp949").rstrip("\n") == row.transcript
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            utf8_failures += 1
    assert utf8_failures > 0


def test_kemdy20_signal_files(tiny20):
    root, _, truth = tiny20
    eda = (root / "EDA" / "Session01").iterdir()
    for path in eda:
        lines = path.read_text().splitlines()
        float(lines[0])
        assert float(lines[1]) == 4.0  # sampling rate line
        assert {len(line.split(",")) for line in lines[2:]} == {1, 3}
        assert all(f[2].startswith(path.stem.split("_User")[0]) for f in (l.split(",") for l in lines[2:]) if len(f) == 3)
    ibi = sorted((root / "IBI" / "Session01").iterdir())[0].read_text().splitlines()
    assert ibi[0].endswith(", IBI") and {len(line.split(",")) for line in ibi[1:]} == {2, 4}
    missing_dialogue = get_preset("tiny", "KEMDy20").physio.missing_e4_dialogues[0]
    session = int(missing_dialogue[4:6])
    present = {p.name for p in (root / "EDA" / f"Session{session:02d}").iterdir() if p.name.startswith(missing_dialogue)}
    assert len(present) == 1  # the second participant's E4 files are missing


def test_kemdy20_demo_writes_disqust_and_is_mostly_neutral(tmp_path):
    plan = plan_corpus(get_preset("demo", "KEMDy20"), 0)
    for session in plan.preset.sessions:
        write_annotation(tmp_path, plan, session)
    text = "".join(p.read_text() for p in (tmp_path / "annotation").iterdir())
    assert "disqust" in text and "disgust" not in text
    truth = ground_truth_frame(plan)
    truth.to_csv(tmp_path / "truth.csv", index=False)
    assert corpus_statistics(ground_truth_table(tmp_path / "truth.csv")).class_mix["neutral"] > 0.8


# --- the generative process against the real figures ------------------------------------------

def test_written_labels_match_real_kemdy19_statistics(demo19_truth, tmp_path):
    demo19_truth.to_csv(tmp_path / "truth.csv", index=False)
    stats = corpus_statistics(ground_truth_table(tmp_path / "truth.csv"))
    assert stats.utterances > 4000
    for name, real in KEMDY19_CLASS_MIX.items():
        assert stats.class_mix[name] == pytest.approx(real, abs=0.04 if name == "neutral" else 0.03), name
    assert stats.speaker_change_rate == pytest.approx(KEMDY19_DYNAMICS["speaker_change_rate"], abs=0.02)
    assert stats.same_speaker_persistence == pytest.approx(KEMDY19_DYNAMICS["same_speaker_persistence"], abs=0.035)
    assert stats.partner_agreement == pytest.approx(KEMDY19_DYNAMICS["partner_agreement"], abs=0.035)
    assert stats.duration["median"] == pytest.approx(KEMDY19_DURATION["median"], abs=0.35)
    assert stats.duration["mean"] == pytest.approx(KEMDY19_DURATION["mean"], abs=0.5)
    assert stats.duration["p95"] == pytest.approx(KEMDY19_DURATION["p95"], abs=2.0)
    assert stats.duration["max"] <= 40.0


def test_ties_listener_rows_and_text_cues(demo19_truth):
    tie_rate = demo19_truth["total_emotion_written"].str.contains(";").mean()
    assert 0.005 < tie_rate < 0.08
    ties = demo19_truth.loc[demo19_truth["total_emotion_written"].str.contains(";"), "total_emotion_written"]
    assert all(set(t.split(";")) <= EMOTION_WORDS and len(set(t.split(";"))) == len(t.split(";")) for t in ties)
    assert (demo19_truth["listener_emotion"] != demo19_truth["total_emotion_written"]).mean() > 0.4
    emotional = demo19_truth[demo19_truth["hidden_state"] != "neutral"]
    assert 0.55 < emotional["text_cue"].mean() < 0.75  # words carry the state only part of the time
    transcripts = demo19_truth["transcript"]
    assert transcripts.str.contains(r"(?:^| )[cnNulboI]/(?: |$)").mean() > 0.1
    duals = transcripts.str.findall(r"\(([^)]*)\)/\(([^)]*)\)").explode().dropna()
    assert len(duals) > 0 and not any(re.search(r"[cnNulboI]/", a + b) for a, b in duals)  # tags stay outside
    assert transcripts.str.contains(r"\*").any() and transcripts.str.contains(r"\+").any()


def test_majority_labels_against_a_counting_reference():
    votes = np.random.default_rng(0).integers(0, 3, size=(500, 10))
    for row, labels in zip(votes, majority_labels(votes)):
        counts = collections.Counter(row.tolist())
        top = max(counts.values())
        expected = sorted((k for k in counts if counts[k] == top), key=row.tolist().index)
        assert list(labels) == expected


# --- round trip through the corpus readers (feature_extractor.corpus) ------------------------

@pytest.mark.parametrize("corpus", ["tiny19", "tiny20"])
def test_round_trip_through_the_corpus_readers(corpus, request):
    from feature_extractor.corpus import build_index

    root, _, truth = request.getfixturevalue(corpus)
    frame = build_index(root, tie_policy="soft").frame
    assert sorted(frame["segment_id"]) == sorted(truth["segment_id"])
    merged = frame.merge(truth, on="segment_id", suffixes=("", "_truth"))
    assert (merged["emotion_raw"] == merged["total_emotion_written"]).all()  # own row, never the listener's
    assert (merged["turn"] == merged["turn_truth"]).all()
    assert (merged["speaker"] == merged["speaker_truth"]).all()
    assert np.allclose(merged["start"], merged["start_truth"]) and np.allclose(merged["valence"], merged["valence_truth"])
    assert (merged["text_raw"] == merged["transcript"]).all()
    assert set(frame["split"]) == {"train", "dev", "test"}


def test_corpus_report_command(tiny19, tmp_path, capsys):
    root, _, truth = tiny19
    out = tmp_path / "stats.json"
    assert corpus_report.main(["--ground-truth", str(root / generator.GROUND_TRUTH_FILE), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    kept = (~truth["total_emotion_written"].str.contains(";")).sum()
    assert f"{kept} utterances in {truth['dialogue_id'].nunique()} dialogues" in printed
    assert "partner agreement" in printed and out.is_file()
    assert corpus_report.main(["--ground-truth", str(tmp_path / "absent.csv")]) == 2
