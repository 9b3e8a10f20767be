"""Size and load time of report.html for the IEMOCAP test split (31 dialogues, 1,623 utterances)
with its real transcripts: the page must stay under 2 MB and open in under 2 s in headless
Chromium. A benchmark line, not a timed test.

    python benchmarks/report_page_bench.py
    python benchmarks/report_page_bench.py --pickle P.pkl --transcripts T.csv --repeats 5 --keep /tmp/page

The predictions only have to be realistic in shape, not good: a logistic regression (scikit-learn
defaults, standardised features) on the pickle's MiniLM text vectors of the train split, scored on
test, written through erc_core.evaluation_report.write_evaluation like any evaluation. Texts are
matched to utterances by segment id (erc_core/utterance_texts.py: `<dialogue>_<turn:03d>`, the
importer's ids for this pickle).

Measured: the page's size; Jinja2 render time (write_evaluation's report.html alone); in Chromium,
the page's own `data-ready-ms` (performance.now() when its script has filtered and sorted, i.e. the
whole document parsed and the page usable) and the wall time of `chromium --dump-dom` for the page
and for an empty page (the browser's own start-up), each the median of --repeats. Without the
shared files it prints `skipped: <path> not found` and exits 0; without Chromium it measures size
and render time only."""

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cgnn.importers.cogmen_tuple import LABEL_SETS, import_cogmen_tuple, load_cogmen_tuple  # noqa: E402
from erc_core.evaluation_report import write_evaluation  # noqa: E402
from erc_core.report_page import PAGE_NAME, page_context, render_report_page  # noqa: E402
from erc_core.utterance_texts import texts_by_segment  # noqa: E402
from tests.test_report_page_browser import chromium_binary, dump_dom, html_attribute, parse_dom  # noqa: E402

SHARED = REPO.parent / "shared" / "benchmarks"
SIZE_LIMIT_MB = 2.0
LOAD_LIMIT_S = 2.0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pickle", type=Path, default=SHARED / "iemocap6_text_minilm.pkl", help="COGMEN 9-tuple")
    parser.add_argument("--transcripts", type=Path, default=SHARED / "iemocap6_text.csv",
                        help="dialogue_id, turn, speaker, text, emotion, split")
    parser.add_argument("--repeats", type=int, default=5, help="browser loads per page (median reported)")
    parser.add_argument("--keep", type=Path, help="write the evaluation folder here (default: a temporary one)")
    return parser.parse_args(argv)


def logistic_regression_on_test(pickle_path):
    """(test dialogues, probabilities [n, K]) of a logistic regression fitted on the train split."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    dialogues, _ = import_cogmen_tuple(load_cogmen_tuple(pickle_path), LABEL_SETS["iemocap"], str(pickle_path))
    train = [d for d in dialogues if d["split"] == "train"]
    test = [d for d in dialogues if d["split"] == "test"]
    features = np.concatenate([d["features"]["t"] for d in train])
    scaler = StandardScaler().fit(features)
    model = LogisticRegression(max_iter=2000).fit(scaler.transform(features),
                                                  np.concatenate([d["labels"] for d in train]))
    return test, model.predict_proba(scaler.transform(np.concatenate([d["features"]["t"] for d in test])))


def browser_times(binary, page: Path, repeats: int) -> tuple:
    """(median data-ready-ms of the page, median dump-dom wall seconds of the page, of an empty page)."""
    empty = page.parent / "empty.html"
    empty.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    ready, page_wall, empty_wall = [], [], []
    for _ in range(repeats):
        for target, walls in ((page, page_wall), (empty, empty_wall)):
            start = time.perf_counter()
            dom = dump_dom(binary, target)
            walls.append(time.perf_counter() - start)
            if target == page:
                ready.append(float(html_attribute(parse_dom(dom), "data-ready-ms")))
    return statistics.median(ready), statistics.median(page_wall), statistics.median(empty_wall)


def main(argv=None) -> int:
    args = parse_args(argv)
    for path in (args.pickle, args.transcripts):
        if not path.is_file():
            print(f"skipped: {path} not found")
            return 0
    dialogues, probabilities = logistic_regression_on_test(args.pickle)
    texts_of = texts_by_segment(args.transcripts)
    rows = [(d["dialogue_id"], s, speaker) for d in dialogues for s, speaker in zip(d["segment_ids"], d["speakers"])]
    gold = np.concatenate([d["labels"] for d in dialogues])
    texts = [texts_of.get(segment) for _, segment, _ in rows]
    label_names = LABEL_SETS["iemocap"]
    with tempfile.TemporaryDirectory() as scratch:
        out = args.keep or Path(scratch)
        metrics = write_evaluation(out, "IEMOCAP test, logistic regression (benchmark)", label_names, rows, gold,
                                   probabilities, {"split": "test", "data": str(args.pickle)}, texts=texts)
        render_s = render_seconds(label_names, rows, gold, probabilities, texts, metrics)
        page = out / PAGE_NAME
        size_mb = page.stat().st_size / 1e6
        print(f"report page, IEMOCAP test split: {len(dialogues)} dialogues, {len(rows):,} utterances, "
              f"{sum(t is not None for t in texts):,} with their transcript; predictions of a logistic regression "
              f"(wF1 {100 * metrics['weighted_f1']:.2f}); {platform.node()}, "
              f"{platform.processor() or platform.machine()}")
        print(f"  size {size_mb:.2f} MB (limit {SIZE_LIMIT_MB:g} MB)  {'ok' if size_mb < SIZE_LIMIT_MB else 'OVER'}")
        print(f"  render (Jinja2, Python) {render_s:.2f} s")
        binary = chromium_binary()
        if binary is None:
            print("  headless Chromium: not installed, load time not measured")
            return 0
        ready_ms, page_wall, empty_wall = browser_times(binary, page, args.repeats)
        print(f"  headless Chromium, median of {args.repeats}: page ready (parsed, script done) "
              f"after {ready_ms:.0f} ms "
              f"(limit {1000 * LOAD_LIMIT_S:.0f})  {'ok' if ready_ms < 1000 * LOAD_LIMIT_S else 'OVER'}; "
              f"--dump-dom wall {page_wall:.2f} s against {empty_wall:.2f} s for an empty page")
    return 0


def render_seconds(label_names, rows, gold, probabilities, texts, metrics) -> float:
    start = time.perf_counter()
    render_report_page(page_context("bench", label_names, rows, gold, probabilities, texts, {}, metrics))
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
