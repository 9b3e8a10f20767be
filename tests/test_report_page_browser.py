"""report.html in a real browser: headless Chromium opens the page of the shipped demo checkpoint
and of a page made of hostile and Korean text, a screenshot is taken, and the DOM after the page's
script has run is read back (--dump-dom): one section per dialogue and one row per utterance, the
filters and the sort (driven through the URL fragment, which feeds the same controls a user
clicks) change what is visible exactly as predictions.csv says they should, and hostile text is
shown as text and never runs. Skips when Chromium is not installed (`.ci/run` installs it)."""

import csv
import html.parser
import shutil
import struct
import subprocess
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

from cgnn.eval import evaluate_checkpoint
from erc_core.report_page import write_report_page

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HOSTILE_SCRIPT = "</script><script>document.documentElement.setAttribute('data-pwned', 'script')</script>"
HOSTILE_IMAGE = "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned', 'img')\"> & <b>bold</b>"
KOREAN = "안녕하세요, 오늘 기분이 어때요?"


# -- driving the browser ------------------------------------------------------------------------------
def chromium_binary() -> str | None:
    return next((path for path in map(shutil.which, CHROMIUM_NAMES) if path), None)


def chromium_command(binary: str, profile: Path) -> list:
    return [binary, "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run",
            "--disable-extensions", f"--user-data-dir={profile}"]


def dump_dom(binary: str, page: Path, fragment: str = "", profile: Path | None = None) -> str:
    """The page's DOM after its script has run, opened at `page#fragment`."""
    profile = profile or page.parent / ".chromium-profile"
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    done = subprocess.run(chromium_command(binary, profile) + ["--virtual-time-budget=5000", "--dump-dom", url],
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def screenshot(binary: str, page: Path, out: Path, width: int = 1280, height: int = 2000) -> Path:
    subprocess.run(chromium_command(binary, page.parent / ".chromium-profile")
                   + [f"--window-size={width},{height}", f"--screenshot={out}", page.resolve().as_uri()],
                   capture_output=True, timeout=120, check=True)
    return out


# -- reading the dumped DOM -----------------------------------------------------------------------------
class Element:
    def __init__(self, tag, attrs):
        self.tag, self.attrs, self.children, self.parts = tag, dict(attrs), [], []

    def text(self) -> str:
        return "".join(part if isinstance(part, str) else part.text() for part in self.parts)

    def find_all(self, tag, css_class=None) -> list:
        found = []
        for child in self.children:
            if child.tag == tag and (css_class is None or css_class in child.classes()):
                found.append(child)
            found.extend(child.find_all(tag, css_class))
        return found

    def classes(self) -> set:
        return set((self.attrs.get("class") or "").split())

    @property
    def hidden(self) -> bool:
        return "hidden" in self.attrs


class DomReader(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs)
        self.stack[-1].children.append(element)
        self.stack[-1].parts.append(element)
        if tag not in VOID_TAGS:
            self.stack.append(element)

    def handle_endtag(self, tag):
        if tag in VOID_TAGS:
            return
        while len(self.stack) > 1 and self.stack.pop().tag != tag:
            pass

    def handle_data(self, data):
        self.stack[-1].parts.append(data)


def parse_dom(markup: str) -> Element:
    reader = DomReader()
    reader.feed(markup)
    reader.close()
    return reader.root


def visible_rows(dom: Element) -> list:
    """The utterance rows a reader sees: not hidden, in a dialogue that is not hidden."""
    return [row for section in dom.find_all("section", "dialogue") if not section.hidden
            for row in section.find_all("tbody")[0].find_all("tr") if not row.hidden]


def html_attribute(dom: Element, name: str):
    return dom.find_all("html")[0].attrs.get(name)


# -- fixtures -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chromium():
    binary = chromium_binary()
    if binary is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    return binary


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    """The shipped demo checkpoint evaluated on the shipped pickle's test split."""
    out = tmp_path_factory.mktemp("demo_eval")
    evaluate_checkpoint(REPO / "model_checkpoints" / "demo_stage3_at", REPO / "data" / "demo_features.pkl",
                        "test", out)
    with open(out / "predictions.csv", encoding="utf-8", newline="") as handle:
        predictions = list(csv.DictReader(handle))
    return out / "report.html", predictions


@pytest.fixture(scope="module")
def demo_dom(chromium, demo_report):
    return parse_dom(dump_dom(chromium, demo_report[0]))


def hostile_page(folder: Path) -> Path:
    """Two dialogues: one with hostile text and a hostile speaker name, one long Korean one (50
    turns, 9 speakers)."""
    labels = ["중립", "행복", "<b>angry</b>"]
    rows, texts = [], []
    for turn, text in enumerate([HOSTILE_SCRIPT, HOSTILE_IMAGE, "plain"]):
        rows.append(("evil</script>", f"evil_{turn}", "<script>alert(1)</script>" if turn == 1 else "A"))
        texts.append(text)
    for turn in range(50):
        rows.append(("대화_01", f"k_{turn}", f"화자{turn % 9}"))
        texts.append(f"{KOREAN} {turn}")
    probabilities = np.random.default_rng(0).dirichlet(np.ones(3), size=len(rows))
    gold = np.random.default_rng(1).integers(0, 3, size=len(rows))
    return write_report_page(folder / "report.html", "hostile </title><script>x</script>", labels, rows, gold,
                             probabilities, texts)


# -- the demo checkpoint's page -----------------------------------------------------------------------------
def test_the_screenshot_is_a_full_page_image(chromium, demo_report, tmp_path):
    image = screenshot(chromium, demo_report[0], tmp_path / "report.png")
    header = image.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1280, 2000)
    assert image.stat().st_size > 50_000  # a blank page compresses to a few kB


def test_one_section_per_dialogue_and_one_row_per_utterance(demo_dom, demo_report):
    predictions = demo_report[1]
    assert html_attribute(demo_dom, "data-ready-ms") is not None  # the script ran to its end
    sections = demo_dom.find_all("section", "dialogue")
    assert [s.find_all("h3")[0].text() for s in sections] == list(dict.fromkeys(r["dialogue_id"] for r in predictions))
    rows = [row for s in sections for row in s.find_all("tbody")[0].find_all("tr")]
    assert [row.attrs["title"] for row in rows] == [r["segment_id"] for r in predictions]
    assert len(visible_rows(demo_dom)) == len(predictions)  # unfiltered: everything shows


def test_errors_only_shows_exactly_the_wrong_predictions(chromium, demo_report):
    page, predictions = demo_report
    wrong = [r["segment_id"] for r in predictions if r["gold"] != r["predicted"]]
    assert 0 < len(wrong) < len(predictions)
    shown = visible_rows(parse_dom(dump_dom(chromium, page, "errors=1")))
    assert [row.attrs["title"] for row in shown] == wrong
    assert all("error" in row.classes() for row in shown)


def test_the_speaker_and_class_filters_show_exactly_their_rows(chromium, demo_report):
    page, predictions = demo_report
    speaker = predictions[0]["speaker"]
    label_names = [key[len("prob_"):] for key in predictions[0] if key.startswith("prob_")]
    chosen = predictions[0]["gold"]
    dom = parse_dom(dump_dom(chromium, page, f"speaker={quote(speaker)}&class={label_names.index(chosen)}"))
    expected = [r["segment_id"] for r in predictions
                if r["speaker"] == speaker and chosen in (r["gold"], r["predicted"])]
    assert 0 < len(expected) < len(predictions)
    assert [row.attrs["title"] for row in visible_rows(dom)] == expected
    shown_dialogues = [s for s in dom.find_all("section", "dialogue") if not s.hidden]
    assert len(shown_dialogues) == len({r["dialogue_id"] for r in predictions if r["segment_id"] in expected})


def test_sorting_by_error_rate_puts_the_worst_dialogue_first(chromium, demo_report):
    page, predictions = demo_report
    rates = {}
    for row in predictions:
        errors, count = rates.get(row["dialogue_id"], (0, 0))
        rates[row["dialogue_id"]] = (errors + (row["gold"] != row["predicted"]), count + 1)
    dom = parse_dom(dump_dom(chromium, page, "sort=error-rate"))
    order = [s.find_all("h3")[0].text() for s in dom.find_all("section", "dialogue")]
    by_rate = [rates[d][0] / rates[d][1] for d in order]
    assert sorted(order) == sorted(rates)
    assert by_rate == sorted(by_rate, reverse=True) and by_rate[0] > by_rate[-1]


# -- hostile text -------------------------------------------------------------------------------------------
def test_hostile_text_is_shown_as_text_and_never_runs(chromium, tmp_path):
    dom = parse_dom(dump_dom(chromium, hostile_page(tmp_path)))
    assert html_attribute(dom, "data-ready-ms") is not None
    assert html_attribute(dom, "data-pwned") is None
    assert not dom.find_all("img") and not dom.find_all("b")
    assert len(dom.find_all("script")) == 1  # the page's own
    texts = [cell.text() for cell in dom.find_all("td", "text")]
    assert texts[:3] == [HOSTILE_SCRIPT, HOSTILE_IMAGE, "plain"]
    assert texts[3] == f"{KOREAN} 0" and len(texts) == 53
    assert [s.find_all("h3")[0].text() for s in dom.find_all("section", "dialogue")] == ["evil</script>", "대화_01"]
    speakers = {cell.text() for cell in dom.find_all("td", "speaker")}
    assert "<script>alert(1)</script>" in speakers and len(speakers) == 2 + 9


def test_the_hostile_check_would_see_a_script_that_ran(chromium, tmp_path):
    """The control: the same payload pasted raw into a page does run here, and is seen."""
    page = tmp_path / "raw.html"
    page.write_text(f"<!DOCTYPE html><html><body><script>var s = '{HOSTILE_SCRIPT}';</script></body></html>",
                    encoding="utf-8")
    assert html_attribute(parse_dom(dump_dom(chromium, page)), "data-pwned") == "script"


# -- a prediction without gold labels -------------------------------------------------------------------------
def test_a_prediction_page_works_without_gold_labels(chromium, tmp_path):
    rows = [("conversation", f"utt_{t:03d}", ["mina", "junho"][t % 3 == 0]) for t in range(12)]
    probabilities = np.random.default_rng(2).dirichlet(np.ones(4), size=len(rows))
    page = write_report_page(tmp_path / "report.html", "predict", ["a", "b", "c", "d"], rows, [-1] * len(rows),
                             probabilities, [f"turn {t}" for t in range(12)])
    dom = parse_dom(dump_dom(chromium, page, "speaker=junho"))
    assert html_attribute(dom, "data-ready-ms") is not None  # the script copes with no errors filter
    assert not dom.find_all("td", "gold") and not dom.find_all("span", "mark-error")
    assert [row.attrs["title"] for row in visible_rows(dom)] == [s for _, s, who in rows if who == "junho"]
