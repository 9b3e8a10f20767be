"""report.html as written, without a browser: write_evaluation leaves it beside metrics.json; the
summary, baseline, provenance, per-class table and confusion matrix carry the metrics' numbers;
one row per utterance with errors and emotion shifts marked as the labels say; a prediction page
has no gold column; text is escaped, the page's only script is its static one, and nothing is
loaded from anywhere. (tests/test_report_page_browser.py opens pages in Chromium.)"""

import numpy as np
import pytest

from erc_core.errors import UserError
from erc_core.evaluation_report import write_evaluation
from erc_core.report_page import TEMPLATES, write_report_page
from erc_core.report_view import class_colours, emotion_shifts
from erc_core.utterance_texts import texts_by_segment
from tests.test_report_page_browser import HOSTILE_IMAGE, HOSTILE_SCRIPT, KOREAN, parse_dom

LABELS = ["neu", "hap", "ang"]


def conversation(seed=0, dialogues=3, turns=7, speakers=2):
    rng = np.random.default_rng(seed)
    rows = [(f"d{d}", f"d{d}_u{t}", f"spk{(t * 5 + d) % speakers}") for d in range(dialogues) for t in range(turns)]
    gold = rng.integers(0, len(LABELS), size=len(rows))
    probabilities = rng.dirichlet(np.ones(len(LABELS)), size=len(rows))
    return rows, gold, probabilities


def timeline_rows(dom):
    return [row for section in dom.find_all("section", "dialogue")
            for row in section.find_all("tbody")[0].find_all("tr")]


@pytest.fixture
def evaluated(tmp_path):
    rows, gold, probabilities = conversation()
    texts = [f"utterance {i}" for i in range(len(rows))]
    texts[4] = None
    extra = {"split": "test", "checkpoint": "ckpt/at", "data": "feats.pkl",
             "checkpoint_provenance": {"git": {"commit": "0123456789abcdef0123", "dirty": True}},
             "data_provenance": {"imported_from": {"path": "iemocap.pkl", "format": "cogmen"}},
             "context_free_baseline": {"accuracy": 0.25, "weighted_f1": 0.5, "macro_f1": 0.125}}
    metrics = write_evaluation(tmp_path, "at / test", LABELS, rows, gold, probabilities, extra, texts=texts)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    return {"rows": rows, "gold": gold, "predicted": probabilities.argmax(1), "texts": texts, "metrics": metrics,
            "page": page, "dom": parse_dom(page)}


def table_cells(dom, table_id):
    table = next(t for t in dom.find_all("table") if t.attrs.get("id") == table_id)
    return [[cell.text() for cell in row.find_all("td")] for row in table.find_all("tbody")[0].find_all("tr")]


def test_evaluation_writes_the_page_with_one_row_per_utterance(evaluated):
    dom = evaluated["dom"]
    assert [s.find_all("h3")[0].text() for s in dom.find_all("section", "dialogue")] == ["d0", "d1", "d2"]
    rows = timeline_rows(dom)
    assert [row.attrs["title"] for row in rows] == [segment for _, segment, _ in evaluated["rows"]]
    assert [row.attrs["data-speaker"] for row in rows] == [speaker for _, _, speaker in evaluated["rows"]]
    assert [int(row.attrs["data-gold"]) for row in rows] == evaluated["gold"].tolist()
    assert [int(row.attrs["data-predicted"]) for row in rows] == evaluated["predicted"].tolist()
    errors = [row.attrs["title"] for row in rows if "error" in row.classes()]
    pairs = zip(evaluated["rows"], evaluated["gold"], evaluated["predicted"])
    assert errors == [segment for (_, segment, _), g, p in pairs if g != p]
    assert [cell.text() for cell in dom.find_all("td", "text")] == [t if t else "–" for t in evaluated["texts"]]


def test_shift_marks_follow_the_gold_emotion_of_the_previous_turn(evaluated):
    rows = timeline_rows(evaluated["dom"])
    marked = [bool(row.find_all("span", "mark-shift")) for row in rows]
    expected = [t > 0 and evaluated["gold"][i] != evaluated["gold"][i - 1]
                for i, (_, segment, _) in enumerate(evaluated["rows"]) for t in [int(segment.split("_u")[1])]]
    assert marked == expected and any(expected)


def test_emotion_shifts_match_a_plain_loop():
    labels = np.random.default_rng(3).integers(-1, 4, size=200)
    slow = [i > 0 and labels[i] != -1 and labels[i - 1] != -1 and labels[i] != labels[i - 1] for i in range(200)]
    assert emotion_shifts(labels).tolist() == slow


def test_summary_baseline_provenance_and_per_class_carry_the_metrics(evaluated):
    metrics, dom = evaluated["metrics"], evaluated["dom"]
    assert table_cells(dom, "headline") == [
        ["n", str(metrics["n"]), ""],
        ["accuracy", f"{100 * metrics['accuracy']:.2f}", "25.00"],
        ["weighted F1", f"{100 * metrics['weighted_f1']:.2f}", "50.00"],
        ["macro F1", f"{100 * metrics['macro_f1']:.2f}", "12.50"]]
    provenance = dict(table_cells_of_facts(dom))
    assert provenance["checkpoint commit"] == "0123456789ab (uncommitted changes)"
    assert provenance["corpus"] == "imported from iemocap.pkl (cogmen)"
    assert provenance["label set"] == "neu, hap, ang" and provenance["split"] == "test"
    per_class = table_cells(dom, "per-class")
    assert [row[0] for row in per_class] == LABELS
    for row, name in zip(per_class, LABELS):
        scores = metrics["per_class"][name]
        assert row[1:] == [f"{100 * scores['precision']:.2f}", f"{100 * scores['recall']:.2f}",
                           f"{100 * scores['f1-score']:.2f}", str(int(scores["support"]))]


def table_cells_of_facts(dom):
    table = next(t for t in dom.find_all("table") if t.attrs.get("id") == "provenance")
    return [(row.find_all("th")[0].text(), row.find_all("td")[0].text()) for row in table.find_all("tr")]


def test_the_confusion_matrix_has_counts_and_row_shares(evaluated):
    matrix = evaluated["metrics"]["confusion_matrix"]
    assert table_cells(evaluated["dom"], "confusion-counts") == [[str(c) for c in row] for row in matrix]
    assert table_cells(evaluated["dom"], "confusion-normalised") == [
        [f"{100 * c / sum(row):.0f}" for c in row] for row in matrix]


def test_the_baseline_of_a_whole_fit_result_is_read_for_the_split(tmp_path):
    rows, gold, probabilities = conversation()
    baseline = {"dev": {"weighted_f1": 0.9}, "test": {"weighted_f1": 0.4}, "chosen": {"C": 1.0}}
    write_evaluation(tmp_path, "x", LABELS, rows, gold, probabilities,
                     {"split": "test", "context_free_baseline": baseline})
    cells = table_cells(parse_dom((tmp_path / "report.html").read_text(encoding="utf-8")), "headline")
    assert cells[2] == ["weighted F1", cells[2][1], "40.00"] and cells[1][2] == "–"


def test_a_prediction_page_has_no_gold_column_no_scores_and_no_text_column(tmp_path):
    rows, _, probabilities = conversation(dialogues=1, turns=5)
    write_evaluation(tmp_path, "predict", LABELS, rows, np.full(len(rows), -1), probabilities)
    dom = parse_dom((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert len(timeline_rows(dom)) == 5
    assert not dom.find_all("td", "gold") and not dom.find_all("td", "text")
    assert {t.attrs.get("id") for t in dom.find_all("table")} == {"provenance", None}  # no score tables
    assert not [i for i in dom.find_all("input") if i.attrs.get("id") == "errors"]
    assert not any(row.find_all("span", "mark-error") for row in timeline_rows(dom))
    assert len(dom.find_all("td", "predicted")) == 5


def test_text_is_escaped_and_the_only_script_is_the_static_one(tmp_path):
    rows = [("<i>d</i>", "s0", "<b>x</b>"), ("<i>d</i>", "s1", "y"), ("<i>d</i>", "s2", "y")]
    texts = [HOSTILE_SCRIPT, HOSTILE_IMAGE, KOREAN]
    page = write_report_page(tmp_path / "report.html", "</title><script>bad()</script>", ["a&b", "<c>"], rows,
                             [0, 1, -1], np.eye(2)[[0, 0, 1]], texts).read_text(encoding="utf-8")
    for raw in ("<script>document", "<img", "<b>", "<i>d", "<c>", "a&b<", "</title><script>"):
        assert raw not in page
    dom = parse_dom(page)
    scripts = dom.find_all("script")
    assert len(scripts) == 1 and scripts[0].text() == (TEMPLATES / "report.js").read_text(encoding="utf-8")
    assert [cell.text() for cell in dom.find_all("td", "text")] == texts
    assert dom.find_all("title")[0].text().startswith("</title><script>bad()</script>")


def test_the_page_loads_nothing_from_anywhere(evaluated):
    dom, page = evaluated["dom"], evaluated["page"]
    linked = [(e.tag, name) for e in all_elements(dom) for name in ("src", "href", "action") if name in e.attrs]
    assert linked == []
    assert "url(" not in page and "@import" not in page and "http" not in page.lower().replace("http-equiv", "")
    policy = next(m.attrs["content"] for m in dom.find_all("meta") if m.attrs.get("http-equiv"))
    assert policy.startswith("default-src 'none';")


def all_elements(node):
    for child in node.children:
        yield child
        yield from all_elements(child)


def test_every_class_gets_its_own_colour_whatever_the_label_set():
    for count in (2, 7, 10, 11, 28, 200):
        colours = class_colours(count)
        assert len(colours) == len(set(colours)) == count
    assert class_colours(7) == class_colours(10)[:7]  # a label set's colours do not depend on the page


def test_speakers_of_one_dialogue_get_colours_in_order_of_first_turn(tmp_path):
    rows = [("d", f"u{t}", f"p{[0, 1, 0, 2, 3, 4, 5, 6, 7, 8, 9][t]}") for t in range(11)]
    write_evaluation(tmp_path, "x", LABELS, rows, [0] * 11, np.eye(3)[[0] * 11])
    cells = parse_dom((tmp_path / "report.html").read_text(encoding="utf-8")).find_all("td", "speaker")
    colour = [next(c for c in cell.classes() if c.startswith("s") and c[1:].isdigit()) for cell in cells]
    assert colour == ["s0", "s1", "s0", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s0"]  # nine, then round again



def test_texts_are_read_by_segment_id_or_by_dialogue_and_turn(tmp_path):
    by_id = tmp_path / "index.csv"
    by_id.write_text("segment_id,speaker,text\ns1,A,\"hello, you\"\ns2,B,안녕\n", encoding="utf-8")
    assert texts_by_segment(by_id) == {"s1": "hello, you", "s2": "안녕"}
    by_turn = tmp_path / "transcripts.tsv"
    by_turn.write_text("dialogue_id\tturn\ttext\nSes05F_impro01\t0\tHi.\nSes05F_impro01\t11\tOkay.\n", encoding="utf-8")
    assert texts_by_segment(by_turn) == {"Ses05F_impro01_000": "Hi.", "Ses05F_impro01_011": "Okay."}


def test_a_text_table_without_the_columns_is_one_clear_error(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,utterance\n1,hi\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"t\.csv: expected the columns segment_id and text .*found id, utterance"):
        texts_by_segment(table)
    with pytest.raises(UserError, match="cannot read"):
        texts_by_segment(tmp_path / "missing.csv")
