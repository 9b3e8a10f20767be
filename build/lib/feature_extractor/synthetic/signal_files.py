"""Physiological signal files in the raw layouts, plus the sensor readings the annotation quotes.

KEMDy19 (one file per session and actor, the device running through all dialogue recordings):
    {ECG,EDA,TEMP}/SessionNN/Original/SessNN{F,M}.csv
    inside a segment:  value,unix_time,seconds_since_file_start,segment_id
    outside:           value,unix_time,seconds_since_file_start
  (basenames and the meaning of the two time fields are not confirmed for the real corpus; these
  follow one public loader's `Sess01F.csv` and its 3-or-4-field rows.)
KEMDy20 (one E4 file per dialogue and participant):
    {EDA,TEMP}/SessionNN/SessNN_scriptMM_UserNNNG.csv: 2 header lines (start unix time, rate in Hz),
        rows `value[,unix_time,segment_id]`;
    IBI/SessionNN/...csv: 1 header line (`start, IBI`), rows `offset,ibi[,unix_time,segment_id]`.
Every segment is tagged in both wearers' files (both wear sensors while either speaks). Dialogues
listed in `missing_e4_dialogues` lose their E4 data: KEMDy19 keeps only the leading
`covered_share_when_missing` of the recording; KEMDy20 drops the second participant's files."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from erc_core.labels import EMOTIONS
from feature_extractor.synthetic import physiology
from feature_extractor.synthetic.audio import expression_of
from feature_extractor.synthetic.csv_rows import format_tagged_rows, segment_tags
from feature_extractor.synthetic.plan import CorpusPlan, stream
from feature_extractor.synthetic.reference import VA_CENTROIDS

KEMDY19_EPOCH = 1_546_300_800  # 2019-01-01 UTC; session n is recorded on day n at 10:00
KEMDY20_EPOCH = 1_577_836_800  # 2020-01-01 UTC
EDGE_S = 20.0  # device running before the first / after the last recording
# Signal name -> (sampling knob, generator, value format) for KEMDy19.
KEMDY19_SIGNALS = {
    "ECG": ("ecg_rate_hz", physiology.ecg, "%.4f"),
    "EDA": ("e4_rate_hz", physiology.eda, "%.3f"),
    "TEMP": ("e4_rate_hz", physiology.temperature, "%.2f"),
}
ANNOTATION_SIGNALS = ("ECG", "EDA", "TEMP")  # order of the annotation's ECG / E4-EDA / E4-TEMP columns


@dataclass(frozen=True)
class SensorReadings:
    """Sensor value at the start and end of each segment for one wearer (None = not covered)."""

    values: dict  # (signal, segment_id) -> (start_value | None, end_value | None)

    def cells(self, segment_id: str) -> list:
        cells = []
        for name in ANNOTATION_SIGNALS:
            start, end = self.values.get((name, segment_id), (None, None))
            cells += ["" if start is None else f"{start:.4f}", "" if end is None else f"{end:.4f}"]
        return cells


def write_kemdy19_session(root: Path, plan: CorpusPlan, session: int) -> dict:
    """Write the session's ECG/EDA/TEMP files; return {gender: SensorReadings} for the annotation."""
    rng = stream(plan.seed, "physio", session)
    dialogues = plan.session_dialogues(session)
    offsets = _recording_offsets(dialogues, plan.preset.physio.session_break_s, rng)
    total_s = offsets[-1] + dialogues[-1].recording_ms / 1000 + EDGE_S
    segment_ids, starts, ends = _session_segments(dialogues, offsets)
    unix_start = KEMDY19_EPOCH + (session - 1) * 86_400 + 36_000
    readings = {}
    for slot, speaker in enumerate(plan.speakers[session]):
        change_t, change_v = _wearer_changes(dialogues, offsets, slot, plan.dataset)
        values = {}
        for name, (rate_knob, generate, value_format) in KEMDY19_SIGNALS.items():
            rate = getattr(plan.preset.physio, rate_knob)
            times = np.arange(0.0, total_s, 1.0 / rate)
            level = physiology.arousal_level(times, change_t, change_v, rest=_rest_level(plan.dataset))
            samples = generate(level, rate, speaker.physio, rng)
            present = np.ones(len(times), dtype=bool) if name == "ECG" else _e4_present(times, dialogues, offsets, plan)
            times, samples = times[present], samples[present]
            tags = segment_tags(times, starts, ends)
            text = format_tagged_rows(
                tags, segment_ids, f"{value_format},%.3f,%.3f,{{segment}}\n", f"{value_format},%.3f,%.3f\n",
                samples, unix_start + times, times,
            )
            path = root / name / f"Session{session:02d}" / "Original" / f"Sess{session:02d}{speaker.gender}.csv"
            _write_text(path, text)
            values.update(_readings_at(name, times, samples, rate, segment_ids, starts, ends))
        readings[speaker.gender] = SensorReadings(values)
    return readings


def write_kemdy20_dialogue(root: Path, plan: CorpusPlan, dialogue_index: int) -> None:
    dialogue = plan.dialogues[dialogue_index]
    knobs = plan.preset.physio
    rng = stream(plan.seed, "physio", dialogue_index)
    lead_s, tail_s = rng.uniform(5.0, 20.0, size=2)
    span_s = lead_s + dialogue.recording_ms / 1000 + tail_s
    unix_start = KEMDY20_EPOCH + (dialogue.session - 1) * 86_400 + 36_000 + 1_200 * dialogue_index
    segment_ids = [u.segment_id for u in dialogue.utterances]
    starts = lead_s + np.array([u.start_ms for u in dialogue.utterances]) / 1000
    ends = lead_s + np.array([u.end_ms for u in dialogue.utterances]) / 1000
    folder = f"Session{dialogue.session:02d}"
    for slot, speaker in enumerate(dialogue.speakers):
        change_t, change_v = _wearer_changes([dialogue], np.array([lead_s]), slot, plan.dataset)
        times = np.arange(0.0, span_s, 1.0 / knobs.e4_rate_hz)
        level = physiology.arousal_level(times, change_t, change_v, rest=_rest_level(plan.dataset))
        signals = {
            "EDA": physiology.eda(level, knobs.e4_rate_hz, speaker.physio, rng),
            "TEMP": physiology.temperature(level, knobs.e4_rate_hz, speaker.physio, rng),
        }
        offsets, intervals = physiology.ibi_events(level, knobs.e4_rate_hz, speaker.physio, knobs.ibi_dropout, rng)
        if slot == 1 and dialogue.dialogue_id in knobs.missing_e4_dialogues:
            continue  # this wearer's E4 data is missing for the whole dialogue
        name = f"{dialogue.dialogue_id}_{speaker.id_part}.csv"
        tags = segment_tags(times, starts, ends)
        header = f"{unix_start:.6f}\n{knobs.e4_rate_hz:.6f}\n"
        for signal_name, samples in signals.items():
            value_format = "%.3f" if signal_name == "EDA" else "%.2f"
            body = format_tagged_rows(tags, segment_ids, f"{value_format},%.3f,{{segment}}\n", f"{value_format}\n",
                                      samples, unix_start + times)
            _write_text(root / signal_name / folder / name, header + body)
        body = format_tagged_rows(segment_tags(offsets, starts, ends), segment_ids, "%.6f,%.6f,%.3f,{segment}\n",
                                  "%.6f,%.6f\n", offsets, intervals, unix_start + offsets)
        _write_text(root / "IBI" / folder / name, f"{unix_start:.6f}, IBI\n" + body)


def _recording_offsets(dialogues, break_s, rng) -> np.ndarray:
    """Start of each dialogue recording, in seconds from the session file's first sample."""
    offsets, clock = [], EDGE_S
    for dialogue in dialogues:
        offsets.append(clock)
        clock += dialogue.recording_ms / 1000 + rng.uniform(*break_s)
    return np.array(offsets)


def _session_segments(dialogues, offsets):
    segment_ids, starts, ends = [], [], []
    for dialogue, offset in zip(dialogues, offsets):
        for utterance in dialogue.utterances:
            segment_ids.append(utterance.segment_id)
            starts.append(offset + utterance.start_ms / 1000)
            ends.append(offset + utterance.end_ms / 1000)
    return segment_ids, np.array(starts), np.array(ends)


def _wearer_changes(dialogues, offsets, slot: int, dataset: str):
    """Times (file clock) and arousal levels at which the wearer's level changes."""
    times, levels = [], []
    for dialogue, offset in zip(dialogues, offsets):
        for utterance in dialogue.utterances:
            state = utterance.state if utterance.speaker == slot else utterance.listener_state
            times.append(offset + utterance.start_ms / 1000)
            levels.append(expression_of(EMOTIONS[state], VA_CENTROIDS[dataset]).arousal)
        times.append(offset + dialogue.recording_ms / 1000)
        levels.append(_rest_level(dataset))
    return np.array(times), np.array(levels)


def _rest_level(dataset: str) -> float:
    return expression_of("neutral", VA_CENTROIDS[dataset]).arousal


def _e4_present(times, dialogues, offsets, plan: CorpusPlan) -> np.ndarray:
    knobs = plan.preset.physio
    present = np.ones(len(times), dtype=bool)
    for dialogue, offset in zip(dialogues, offsets):
        if dialogue.dialogue_id in knobs.missing_e4_dialogues:
            recording_s = dialogue.recording_ms / 1000
            gap_start = offset + knobs.covered_share_when_missing * recording_s
            present &= ~((times >= gap_start) & (times <= offset + recording_s))
    return present


def _readings_at(name, times, samples, rate, segment_ids, starts, ends) -> dict:
    """Value of the sample nearest to each segment's start and end, if within one sample period."""
    readings = {}
    for segment_id, start, end in zip(segment_ids, starts, ends):
        readings[(name, segment_id)] = (_nearest(times, samples, start, rate), _nearest(times, samples, end, rate))
    return readings


def _nearest(times, samples, when: float, rate: float):
    if len(times) == 0:
        return None
    position = int(np.clip(np.searchsorted(times, when), 1, len(times) - 1))
    best = position if abs(times[position] - when) < abs(times[position - 1] - when) else position - 1
    return float(samples[best]) if abs(times[best] - when) <= 1.0 / rate else None


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
