"""What report.html shows, as plain values: the conversations (one timeline per dialogue), the
summary, the per-class table, the confusion matrix and the provenance lines. The page itself is
rendered from these by erc_core/report_page.py; nothing here knows about HTML.

An utterance is an *error* when it has a gold label and the prediction differs. An *emotion
shift* is an utterance whose emotion differs from the previous utterance's in the same dialogue
(any speaker): the gold emotions where the dialogue has gold labels, else the predicted ones."""

import dataclasses

import numpy as np

UNLABELLED = -1
SMALLEST_BAR_PERCENT = 0.5   # probability segments below this are too thin to see; left out of the bar
SPEAKER_COLOURS = 9          # speakers of one dialogue get colours 0..8 in order of first turn


@dataclasses.dataclass
class UtteranceView:
    turn: int                 # 1-based position in the dialogue
    segment_id: str
    speaker: str
    speaker_colour: int
    text: str | None
    gold: int                 # class id, UNLABELLED = none
    predicted: int
    bar: list                 # [(class id, percent as text)] for the probability bar
    bar_title: str            # "neu 62% · fru 20%": the probabilities in words
    error: bool
    shift: bool


@dataclasses.dataclass
class DialogueView:
    position: int             # order in the evaluation
    dialogue_id: str
    utterances: list
    labelled: int
    errors: int

    @property
    def error_rate(self) -> float:
        return self.errors / self.labelled if self.labelled else 0.0


def dialogue_views(rows, gold, probabilities, label_names, texts=None) -> list:
    """`rows`: (dialogue_id, segment_id, speaker) per utterance, each dialogue's in order;
    `gold`: class ids (-1 = none); `probabilities`: [n, K]; `texts`: one per row or None."""
    gold = np.asarray(gold, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    texts = list(texts) if texts is not None else [None] * len(gold)
    by_dialogue: dict = {}
    for index, (dialogue_id, _, _) in enumerate(rows):
        by_dialogue.setdefault(str(dialogue_id), []).append(index)
    return [_dialogue(position, dialogue_id, indices, rows, gold, probabilities, texts, label_names)
            for position, (dialogue_id, indices) in enumerate(by_dialogue.items())]


def _dialogue(position, dialogue_id, indices, rows, gold, probabilities, texts, label_names) -> DialogueView:
    own_gold = gold[indices]
    predicted = probabilities[indices].argmax(axis=1)
    shifts = emotion_shifts(own_gold if (own_gold != UNLABELLED).any() else predicted)
    colours: dict = {}
    utterances = []
    for turn, (index, label, guess, shift) in enumerate(zip(indices, own_gold, predicted, shifts), 1):
        speaker = str(rows[index][2])
        colour = colours.setdefault(speaker, len(colours) % SPEAKER_COLOURS)
        bar, title = probability_bar(probabilities[index], label_names)
        utterances.append(UtteranceView(turn, str(rows[index][1]), speaker, colour, _text(texts[index]),
                                        int(label), int(guess), bar, title,
                                        error=bool(label != UNLABELLED and label != guess), shift=bool(shift)))
    labelled = int((own_gold != UNLABELLED).sum())
    return DialogueView(position, dialogue_id, utterances, labelled, sum(u.error for u in utterances))


def emotion_shifts(labels) -> np.ndarray:
    """True where an utterance's label differs from the previous one's (both known)."""
    labels = np.asarray(labels)
    shifts = np.zeros(labels.shape, dtype=bool)
    known = labels != UNLABELLED
    shifts[1:] = known[1:] & known[:-1] & (labels[1:] != labels[:-1])
    return shifts


def probability_bar(probs, label_names) -> tuple:
    """([(class id, "62.1")], "neu 62% · fru 20%") for one utterance's probabilities."""
    percents = 100.0 * np.asarray(probs, dtype=np.float64)
    bar = [(k, f"{p:.1f}") for k, p in enumerate(percents) if p >= SMALLEST_BAR_PERCENT]
    ranked = sorted(((p, k) for k, p in enumerate(percents) if p >= 1.0), reverse=True)
    return bar, " · ".join(f"{label_names[k]} {p:.0f}%" for p, k in ranked)


def _text(text):
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    return str(text)


def speakers_by_frequency(dialogues) -> list:
    """Every speaker of the report, most turns first (the speaker filter's options)."""
    counts: dict = {}
    for dialogue in dialogues:
        for utterance in dialogue.utterances:
            counts[utterance.speaker] = counts.get(utterance.speaker, 0) + 1
    return sorted(counts, key=lambda speaker: (-counts[speaker], speaker))


def shift_accuracy(dialogues) -> dict:
    """Accuracy on the labelled utterances at an emotion shift and elsewhere: {'shift', 'no_shift'}
    -> (correct, labelled)."""
    result = {"shift": [0, 0], "no_shift": [0, 0]}
    for dialogue in dialogues:
        for utterance in dialogue.utterances:
            if utterance.gold == UNLABELLED:
                continue
            tally = result["shift" if utterance.shift else "no_shift"]
            tally[0] += not utterance.error
            tally[1] += 1
    return {key: tuple(value) for key, value in result.items()}


def class_colours(count: int) -> list:
    """One CSS colour per class, the same on every page with this many classes: a qualitative
    palette up to 10 classes, evenly spread hues beyond."""
    palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
               "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
    if count <= len(palette):
        return palette[:count]
    return [f"hsl({(137.508 * k) % 360:.0f}, 62%, {52 + 10 * (k % 3)}%)" for k in range(count)]
