"""report.html: every evaluation and prediction as one self-contained page (no network, no
external scripts, styles or fonts; opens from disk): the summary and provenance, per-class scores
and the confusion matrix, and every dialogue as a timeline (speaker, text, gold and predicted
emotion, the probabilities as a bar, errors and emotion shifts marked), sortable by error rate and
filterable by speaker, class and errors only.

    write_report_page(out / "report.html", name, label_names, rows, gold, probabilities, texts, extra)

Rendered by Jinja2 from erc_core/templates/report.html.j2 with autoescaping on: every text,
speaker, id and class name reaches the page escaped, and no data is ever written inside the
page's <script> (the script is static; it reads the rendered rows' data-* attributes). The page's
state lives in the URL fragment (report.html#errors&speaker=M&class=2&sort=error-rate), so a view
can be shared and a headless browser can open a filtered view. docs/report.md has the details."""

import base64
import hashlib
from pathlib import Path

import jinja2
import numpy as np

from erc_core.files import atomic_open
from erc_core.metrics import classification_metrics
from erc_core.report_summary import confusion_rows, headline_rows, per_class_rows, provenance_lines
from erc_core.report_view import (
    SPEAKER_COLOURS,
    class_colours,
    dialogue_views,
    shift_accuracy,
    speakers_by_frequency,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "report.html.j2"
SCRIPT_NAME = "report.js"
STYLES_NAME = "report.css"
PAGE_NAME = "report.html"


def write_report_page(path, name: str, label_names, rows, gold, probabilities, texts=None,
                      extra: dict | None = None, metrics: dict | None = None) -> Path:
    """Write the page for one evaluation or prediction. `rows`: (dialogue_id, segment_id, speaker)
    per utterance, each dialogue's in order; `gold`: class ids, -1 = no label (all -1: a prediction
    page, without the gold column); `probabilities`: [n, K]; `texts`: the utterances' text or None
    (no text column); `metrics`: erc_core.metrics numbers (computed here when not given)."""
    label_names = list(label_names)
    if texts is not None and len(texts) != len(rows):
        raise ValueError(f"report page: {len(texts)} texts for {len(rows)} utterances")
    if metrics is None:
        predicted = np.asarray(probabilities).argmax(axis=1)
        metrics = classification_metrics(np.asarray(gold, dtype=np.int64), predicted, label_names)
    html = render_report_page(page_context(name, label_names, rows, gold, probabilities, texts,
                                           extra or {}, metrics))
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(html)
    return Path(path)


def page_context(name, label_names, rows, gold, probabilities, texts, extra: dict, metrics: dict) -> dict:
    dialogues = dialogue_views(rows, gold, probabilities, label_names, texts)
    has_gold = bool(metrics.get("n"))
    return {
        "title": name,
        "label_names": label_names,
        "class_colours": class_colours(len(label_names)),
        "speaker_colours": SPEAKER_COLOURS,
        "has_gold": has_gold,
        "has_text": texts is not None,
        "n": metrics.get("n", 0),
        "utterances": sum(len(d.utterances) for d in dialogues),
        "dialogues": dialogues,
        "speakers": speakers_by_frequency(dialogues),
        "headline": headline_rows(metrics, extra) if has_gold else [],
        "has_baseline": any(row[2] is not None for row in headline_rows(metrics, extra)),
        "shift_accuracy": shift_accuracy(dialogues) if has_gold else None,
        "per_class": per_class_rows(metrics, label_names) if has_gold else [],
        "confusion": confusion_rows(metrics) if has_gold else [],
        "provenance": provenance_lines(extra, label_names),
        **static_parts(),
    }


def static_parts() -> dict:
    """The page's script and styles (files beside the template, inlined so the page needs nothing
    else) and the script's hash for the Content-Security-Policy, which lets no other script run."""
    script = (TEMPLATES / SCRIPT_NAME).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return {"script": script, "script_hash": f"sha256-{digest}",
            "styles": (TEMPLATES / STYLES_NAME).read_text(encoding="utf-8")}


def render_report_page(context: dict) -> str:
    return _environment().get_template(TEMPLATE_NAME).render(**context)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
