"""The corpus plan: every session, speaker, dialogue and utterance with its hidden truth.

Everything random except the waveforms and physiological samples is decided here, before any file
is written; the layout writers only render the plan. Each concern draws from its own random
stream (`numpy.random.default_rng([seed, stream, ...])`), so the same seed gives the same corpus."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from erc_core.labels import EMOTIONS
from feature_extractor.synthetic.dynamics import simulate_dialogues
from feature_extractor.synthetic.physiology import PhysioBaseline, draw_baseline
from feature_extractor.synthetic.presets import CorpusPreset, check_preset
from feature_extractor.synthetic.raters import Ratings, draw_rater_biases, rate_segments, written_total
from feature_extractor.synthetic.reference import VA_CENTROIDS
from feature_extractor.synthetic.sentences import compose_transcript
from feature_extractor.synthetic.timeline import dialogue_times, utterance_durations_ms
from feature_extractor.synthetic.voices import Voice, draw_voice

STREAMS = {"lengths": 1, "dynamics": 2, "ratings": 3, "timing": 4, "speakers": 5, "text": 6, "audio": 7, "physio": 8}
RATER_GROUP_SESSIONS = 10  # KEMDy20: the rater set changes every 10 sessions


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, STREAMS[name], *keys])


@dataclass(frozen=True)
class Speaker:
    speaker_id: str  # as in the utterance index: Sess01_F (KEMDy19), User002M (KEMDy20)
    gender: str
    id_part: str  # the speaker part of a segment id: F / M (KEMDy19), User002M (KEMDy20)
    voice: Voice
    physio: PhysioBaseline


@dataclass(frozen=True)
class SegmentRating:
    labels: tuple  # Total Evaluation emotions (EMOTIONS indices); more than one = tie
    votes: tuple  # per rater
    valence: tuple
    arousal: tuple

    @property
    def valence_mean(self) -> float:
        return float(np.mean(self.valence))

    @property
    def arousal_mean(self) -> float:
        return float(np.mean(self.arousal))


@dataclass(frozen=True)
class Utterance:
    segment_id: str
    turn: int
    speaker: int  # slot in Dialogue.speakers
    start_ms: int
    end_ms: int
    state: int  # the speaker's hidden emotion (EMOTIONS index)
    listener_state: int  # the listener's hidden emotion at this turn
    rating: SegmentRating  # the speaker's own annotation row
    listener_rating: SegmentRating | None  # KEMDy19: the other actor's row for this segment
    transcript: str
    text_cue: bool

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class Dialogue:
    dialogue_id: str
    session: int
    speakers: tuple  # (Speaker, Speaker)
    utterances: tuple  # turn order
    recording_ms: int


@dataclass(frozen=True)
class CorpusPlan:
    preset: CorpusPreset
    seed: int
    dialogues: tuple
    speakers: dict  # session -> (Speaker, Speaker)
    rater_names: dict  # session -> tuple of 10 column names
    vocabulary: dict  # canonical emotion -> word written in the files

    @property
    def dataset(self) -> str:
        return self.preset.dataset

    def session_dialogues(self, session: int) -> list:
        return [dialogue for dialogue in self.dialogues if dialogue.session == session]

    def written(self, rating: SegmentRating) -> str:
        """The Total Evaluation emotion as written: `angry`, or `happy;neutral` for a tie."""
        return written_total(rating.labels, self.vocabulary)

    def word(self, emotion_index: int) -> str:
        """One emotion as written in this corpus (KEMDy20 writes `disqust`)."""
        return self.vocabulary[EMOTIONS[emotion_index]]


def plan_corpus(preset: CorpusPreset, seed: int) -> CorpusPlan:
    check_preset(preset)
    keys = [(session, name) for session in preset.sessions for name in preset.dialogues]
    low, high = preset.utterances
    lengths = stream(seed, "lengths").integers(low, high + 1, size=len(keys))
    states = simulate_dialogues(lengths, [name.startswith("script") for _, name in keys], preset.dynamics,
                                stream(seed, "dynamics"))
    valid = np.arange(states.hidden.shape[1])[None, :] < lengths[:, None]
    dialogue_of = np.nonzero(valid)[0]
    sessions_of = np.array([keys[d][0] for d in dialogue_of])

    own, heard = _rate(states.hidden[valid], states.listener[valid], sessions_of, preset, seed)
    durations = utterance_durations_ms(len(dialogue_of), preset.timing, stream(seed, "timing"))
    speakers = {session: _draw_speakers(preset.dataset, session, seed) for session in preset.sessions}
    text_rng, timing_rng = stream(seed, "text"), stream(seed, "timing", 1)

    dialogues, first = [], 0
    for index, (session, name) in enumerate(keys):
        count = int(lengths[index])
        rows = slice(first, first + count)
        dialogue_id = f"Sess{session:02d}_{name}"
        times = dialogue_times(durations[rows], preset.timing, timing_rng)
        utterances = _utterances(
            dialogue_id, preset.dataset, speakers[session], states.speakers[index, :count],
            states.hidden[index, :count], states.listener[index, :count], times,
            own[rows], heard[rows] if heard else [None] * count,
            preset, text_rng,
        )
        dialogues.append(Dialogue(dialogue_id, session, speakers[session], tuple(utterances), times.recording_ms))
        first += count

    return CorpusPlan(
        preset=preset, seed=seed, dialogues=tuple(dialogues), speakers=speakers,
        rater_names=_rater_names(preset, seed), vocabulary=_vocabulary(preset.dataset),
    )


def ground_truth_frame(plan: CorpusPlan) -> pd.DataFrame:
    """One row per segment, turn order within dialogues (see docs/synthetic_corpus.md)."""
    rows = []
    for dialogue in plan.dialogues:
        for utterance in dialogue.utterances:
            speaker = dialogue.speakers[utterance.speaker]
            rows.append({
                "segment_id": utterance.segment_id,
                "dialogue_id": dialogue.dialogue_id,
                "session": dialogue.session,
                "speaker": speaker.speaker_id,
                "gender": speaker.gender,
                "turn": utterance.turn,
                "start": utterance.start_ms / 1000,
                "end": utterance.end_ms / 1000,
                "duration": utterance.duration_ms / 1000,
                "hidden_state": EMOTIONS[utterance.state],
                "total_emotion_written": plan.written(utterance.rating),
                "listener_state": EMOTIONS[utterance.listener_state],
                "listener_emotion": plan.written(utterance.listener_rating) if utterance.listener_rating else "",
                "valence": utterance.rating.valence_mean,
                "arousal": utterance.rating.arousal_mean,
                "text_cue": utterance.text_cue,
                "transcript": utterance.transcript,
            })
    return pd.DataFrame(rows)


def _rate(hidden, listener, sessions_of, preset: CorpusPreset, seed: int):
    """Ratings of each segment's speaker row and (KEMDy19) listener row, as SegmentRating lists."""
    rng = stream(seed, "ratings")
    groups = (sessions_of - 1) // RATER_GROUP_SESSIONS if preset.dataset == "KEMDy20" else np.zeros_like(sessions_of)
    biases = {group: draw_rater_biases(preset.raters, rng) for group in np.unique(groups)}
    bias_rows = np.stack([biases[group] for group in groups])
    centroids = VA_CENTROIDS[preset.dataset]
    own = _as_segments(rate_segments(hidden, centroids, bias_rows, preset.raters, rng))
    if preset.dataset != "KEMDy19":
        return own, None
    return own, _as_segments(rate_segments(listener, centroids, bias_rows, preset.raters, rng))


def _as_segments(ratings: Ratings) -> list:
    return [
        SegmentRating(labels=ratings.tied[i], votes=tuple(int(v) for v in ratings.votes[i]),
                      valence=tuple(int(v) for v in ratings.valence[i]), arousal=tuple(int(v) for v in ratings.arousal[i]))
        for i in range(len(ratings.tied))
    ]


def _utterances(dialogue_id, dataset, speakers, slots, hidden, listener, times, own, heard, preset, text_rng):
    counters = [0, 0]
    utterances = []
    for turn in range(len(slots)):
        slot = int(slots[turn])
        counters[slot] += 1
        part = speakers[slot].id_part
        segment_id = f"{dialogue_id}_{part}{counters[slot]:03d}" if dataset == "KEMDy19" \
            else f"{dialogue_id}_{part}_{counters[slot]:03d}"
        start_ms, end_ms = int(times.start_ms[turn]), int(times.end_ms[turn])
        transcript, text_cue = compose_transcript(EMOTIONS[hidden[turn]], (end_ms - start_ms) / 1000, preset.text, text_rng)
        utterances.append(Utterance(
            segment_id=segment_id, turn=turn, speaker=slot, start_ms=start_ms, end_ms=end_ms,
            state=int(hidden[turn]), listener_state=int(listener[turn]), rating=own[turn],
            listener_rating=heard[turn], transcript=transcript, text_cue=bool(text_cue),
        ))
    return utterances


def _draw_speakers(dataset: str, session: int, seed: int) -> tuple:
    rng = stream(seed, "speakers", session)
    if dataset == "KEMDy19":
        return tuple(
            Speaker(f"Sess{session:02d}_{gender}", gender, gender, draw_voice(gender, rng), draw_baseline(rng))
            for gender in ("F", "M")
        )
    speakers = []
    for user in (2 * session - 1, 2 * session):
        gender = "F" if rng.random() < 0.5 else "M"
        name = f"User{user:03d}{gender}"
        speakers.append(Speaker(name, gender, name, draw_voice(gender, rng), draw_baseline(rng)))
    return tuple(speakers)


def _rater_names(preset: CorpusPreset, seed: int) -> dict:
    """KEMDy19: Eval01..Eval10. KEMDy20: Eval01F.. with a gender per rater, changing per rater group."""
    if preset.dataset == "KEMDy19":
        names = tuple(f"Eval{i:02d}" for i in range(1, preset.raters.num_raters + 1))
        return {session: names for session in preset.sessions}
    by_group = {}
    for session in preset.sessions:
        group = (session - 1) // RATER_GROUP_SESSIONS
        if group not in by_group:
            rng = stream(seed, "ratings", 1000 + group)
            by_group[group] = tuple(
                f"Eval{i:02d}{'F' if rng.random() < 0.5 else 'M'}" for i in range(1, preset.raters.num_raters + 1)
            )
    return {session: by_group[(session - 1) // RATER_GROUP_SESSIONS] for session in preset.sessions}


def _vocabulary(dataset: str) -> dict:
    vocabulary = {name: name for name in EMOTIONS}
    if dataset == "KEMDy20":
        vocabulary["disgust"] = "disqust"  # the KEMDy20 spelling
    return vocabulary
