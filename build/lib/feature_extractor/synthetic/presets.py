"""Corpus presets: which sessions and dialogues are written, and every knob of the generator.

- `tiny`: for tests. A few sessions holding the whole default dev and test blocks (the readers
  require every default split session to be present): KEMDy19 train 1-2, dev 17-18, test 19-20;
  KEMDy20 train 1-2 and 17 (the Sess17 quirk), dev 33-36, test 37-40. 2 dialogues per session,
  short (1-3 s) utterances. Generates in about a second.
- `demo`: about 1,500 utterances with real-like durations (KEMDy19: 20 sessions x 3 dialogues x
  ~25 utterances; KEMDy20: 40 sessions x 2 dialogues x ~19 utterances).

The dynamics knobs were fitted with calibration.py (see there) against the written labels."""

import dataclasses
from dataclasses import dataclass

from feature_extractor.synthetic.audio import AudioKnobs
from feature_extractor.synthetic.dynamics import DynamicsKnobs
from feature_extractor.synthetic.physiology import PhysioKnobs
from feature_extractor.synthetic.raters import RaterKnobs
from feature_extractor.synthetic.reference import class_mix_vector
from feature_extractor.synthetic.sentences import TextKnobs
from feature_extractor.synthetic.timeline import TimingKnobs

DIALOGUE_NAMES = {
    "KEMDy19": tuple(f"script{i:02d}" for i in range(1, 7)) + tuple(f"impro{i:02d}" for i in range(1, 5)),
    "KEMDy20": tuple(f"script{i:02d}" for i in range(1, 7)),
}
SESSION_COUNT = {"KEMDy19": 20, "KEMDy20": 40}


@dataclass(frozen=True)
class CorpusPreset:
    name: str
    dataset: str
    sessions: tuple
    dialogues: tuple  # dialogue names written in every listed session
    utterances: tuple  # (min, max) utterances per dialogue
    timing: TimingKnobs
    dynamics: DynamicsKnobs
    raters: RaterKnobs
    text: TextKnobs
    audio: AudioKnobs
    physio: PhysioKnobs


# Scripted dialogues carry more fear/surprise, improvised ones more neutral/angry (EMOTIONS order:
# neutral, happy, surprise, angry, sad, disgust, fear).
SCRIPT_BIAS = (1.0, 1.0, 1.3, 1.0, 1.0, 1.0, 1.4)
IMPRO_BIAS = (1.15, 1.0, 1.0, 1.15, 1.0, 1.0, 1.0)
NO_BIAS = (1.0,) * 7

KEMDY19_DYNAMICS_KNOBS = DynamicsKnobs(
    speaker_change=0.887,
    partner_pull=0.123,
    self_boost=0.282,
    class_weights=(1.0, 0.918, 0.755, 0.857, 0.841, 0.909, 0.694),
    script_bias=SCRIPT_BIAS,
    impro_bias=IMPRO_BIAS,
    initial_mix=class_mix_vector("KEMDy19"),
)

# KEMDy20 is free talk on six topics (no script/improvisation contrast) and has no measured
# dynamics: rates are kept from KEMDy19, only the class weights are fitted to its class mix.
KEMDY20_DYNAMICS_KNOBS = dataclasses.replace(
    KEMDY19_DYNAMICS_KNOBS,
    class_weights=(1.0, 0.323, 0.207, 0.096, 0.184, 0.177, 0.106),
    script_bias=NO_BIAS,
    impro_bias=NO_BIAS,
    initial_mix=class_mix_vector("KEMDy20"),
)

DYNAMICS = {"KEMDy19": KEMDY19_DYNAMICS_KNOBS, "KEMDy20": KEMDY20_DYNAMICS_KNOBS}

TINY_TIMING = TimingKnobs(duration_model="uniform", min_s=1.0, max_s=3.0, lead_in_s=(0.3, 1.0), tail_s=(0.5, 1.0))


def _tiny(dataset: str) -> CorpusPreset:
    if dataset == "KEMDy19":
        sessions, dialogues, utterances = (1, 2, 17, 18, 19, 20), ("script01", "impro01"), (6, 8)
        missing = ("Sess01_impro01",)
    else:
        sessions, dialogues, utterances = (1, 2, 17) + tuple(range(33, 41)), ("script01", "script02"), (4, 6)
        missing = ("Sess02_script02",)
    return CorpusPreset(
        name="tiny", dataset=dataset, sessions=sessions, dialogues=dialogues, utterances=utterances,
        timing=TINY_TIMING, dynamics=DYNAMICS[dataset], raters=RaterKnobs(), text=TextKnobs(max_clauses=2),
        audio=AudioKnobs(), physio=PhysioKnobs(missing_e4_dialogues=missing, session_break_s=(5.0, 10.0)),
    )


def _demo(dataset: str) -> CorpusPreset:
    if dataset == "KEMDy19":
        sessions, dialogues, utterances = tuple(range(1, 21)), ("script01", "script02", "impro01"), (21, 29)
        # Stand-ins for the real dialogues with mostly missing E4 data (the real Sess01 ones are impro03/04).
        missing = ("Sess01_impro01", "Sess03_script02", "Sess06_script02", "Sess07_script02")
    else:
        sessions, dialogues, utterances = tuple(range(1, 41)), ("script01", "script02"), (15, 23)
        missing = tuple(f"Sess{session:02d}_script02" for session in range(3, 41, 7))
    return CorpusPreset(
        name="demo", dataset=dataset, sessions=sessions, dialogues=dialogues, utterances=utterances,
        timing=TimingKnobs(), dynamics=DYNAMICS[dataset], raters=RaterKnobs(), text=TextKnobs(),
        audio=AudioKnobs(), physio=PhysioKnobs(missing_e4_dialogues=missing),
    )


PRESET_BUILDERS = {"tiny": _tiny, "demo": _demo}


def get_preset(name: str, dataset: str = "KEMDy19") -> CorpusPreset:
    if name not in PRESET_BUILDERS:
        raise ValueError(f"unknown preset {name!r}; expected one of {', '.join(PRESET_BUILDERS)}")
    if dataset not in DIALOGUE_NAMES:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DIALOGUE_NAMES)}")
    return PRESET_BUILDERS[name](dataset)


def check_preset(preset: CorpusPreset) -> None:
    """Raise ValueError naming the first field that cannot describe a real-layout corpus."""
    if preset.dataset not in DIALOGUE_NAMES:
        raise ValueError(f"preset {preset.name}: dataset {preset.dataset!r}; "
                         f"expected one of {', '.join(DIALOGUE_NAMES)}")
    bad_sessions = [s for s in preset.sessions if not 1 <= s <= SESSION_COUNT[preset.dataset]]
    if bad_sessions or not preset.sessions or len(set(preset.sessions)) != len(preset.sessions):
        raise ValueError(f"preset {preset.name}: sessions {preset.sessions}; expected distinct numbers in "
                         f"1..{SESSION_COUNT[preset.dataset]}")
    bad_dialogues = [d for d in preset.dialogues if d not in DIALOGUE_NAMES[preset.dataset]]
    if bad_dialogues or not preset.dialogues or len(set(preset.dialogues)) != len(preset.dialogues):
        raise ValueError(f"preset {preset.name}: dialogues {preset.dialogues}; expected distinct names from "
                         f"{', '.join(DIALOGUE_NAMES[preset.dataset])}")
    low, high = preset.utterances
    if not 2 <= low <= high <= 999:
        raise ValueError(f"preset {preset.name}: utterances {preset.utterances}; "
                         "expected (min, max) with 2 <= min <= max <= 999 (3-digit per-speaker index)")
