"""One progress convention (erc_core/progress.py): a terminal gets bars, a log file a line every N
seconds, epochs count from 1, scores are percent; stage 1's Lightning bar and lines follow it."""

import io

import lightning.pytorch as pl
import pytest
import torch

from erc_core.progress import ProgressLines, progress, progress_mode
from feature_extractor.training.callbacks import ProgressLinesCallback, Stage1ProgressBar, shown_metrics
from feature_extractor.training.trainer import progress_callbacks


class Clock:
    """Advances `step` seconds each time it is read (0: only when the test moves `now`)."""

    def __init__(self, step: float = 0.0):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_auto_means_bars_on_a_terminal_and_lines_in_a_file():
    assert progress_mode(None, Terminal()) == "bar" and progress_mode("auto", io.StringIO()) == "lines"
    assert progress_mode(True, io.StringIO()) == "bar" and progress_mode(False, Terminal()) == "off"
    assert progress_mode("lines", Terminal()) == "lines"
    with pytest.raises(ValueError, match="expected one of auto, bar, lines, off"):
        progress_mode("loud")


def test_a_log_file_gets_a_line_every_n_seconds_and_a_last_one():
    out, clock = io.StringIO(), Clock()
    lines = ProgressLines("stage 2 features", total=10, every_s=25.0, stream=out, clock=clock)
    for _ in range(10):
        clock.now += 10.0  # each item takes 10 s
        lines.update()
    lines.close()
    assert out.getvalue().splitlines() == [
        "stage 2 features: 3/10 (30.0%), 30 s, about 1 min 10 s left",
        "stage 2 features: 6/10 (60.0%), 1 min, about 40 s left",
        "stage 2 features: 9/10 (90.0%), 1 min 30 s, about 10 s left",
        "stage 2 features: 10/10 (100.0%), 1 min 40 s",
    ]


def test_a_short_step_stays_silent_in_a_log_file():
    out = io.StringIO()
    assert list(progress(range(5), desc="quick", mode="lines", every_s=30.0, stream=out)) == list(range(5))
    assert out.getvalue() == ""
    assert list(progress(range(3), desc="x", mode="off", stream=out)) == [0, 1, 2] and out.getvalue() == ""


def test_scores_are_shown_in_percent():
    assert shown_metrics({"dev/weighted_f1": 0.0756, "train/loss": 1.23456}) == {"dev wF1": "7.56", "loss": "1.2346"}


class Tiny(pl.LightningModule):
    """A one-layer model that logs what the stage-1 module logs for the bar."""

    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        loss = self.layer(batch[0]).pow(2).mean()
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("dev/weighted_f1", 0.125, prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(8, 2)), batch_size=2)

    def val_dataloader(self):
        return self.train_dataloader()


def fit(callbacks, bar: bool) -> None:
    trainer = pl.Trainer(max_epochs=2, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                         enable_model_summary=False, enable_progress_bar=bar, num_sanity_val_steps=0,
                         callbacks=callbacks)
    trainer.fit(Tiny())


def test_stage1_lines_count_epochs_from_1(capsys):
    fit([ProgressLinesCallback(every_s=15.0, clock=Clock(100.0))], bar=False)  # every batch is "slow"
    err = capsys.readouterr().err.splitlines()
    train = [line for line in err if " train: " in line]
    assert train[0].startswith("stage 1 epoch 1/2 train: 1/4 (25.0%), ") and ", loss " in train[0]
    assert train[-1].startswith("stage 1 epoch 2/2 train: 4/4 (100.0%)")
    assert any(line.startswith("stage 1 epoch 2/2 dev: ") for line in err)
    assert not [line for line in err if "epoch 0" in line or "epoch 3" in line]


def test_stage1_bar_says_epoch_1_of_2_and_shows_percent(capsys):
    fit([Stage1ProgressBar()], bar=True)
    err = capsys.readouterr().err
    assert "stage 1 epoch 1/2" in err and "stage 1 epoch 2/2" in err and "Epoch 0" not in err
    assert "dev wF1=12.50" in err and "0.125" not in err


def test_the_trainer_picks_the_callbacks_of_the_mode():
    assert [type(c) for c in progress_callbacks("bar", 30.0)] == [Stage1ProgressBar]
    assert [type(c) for c in progress_callbacks("lines", 30.0)] == [ProgressLinesCallback]
    assert progress_callbacks("off", 30.0) == []


def test_a_resumed_step_counts_on_from_where_it_was():
    out, clock = io.StringIO(), Clock()
    lines = ProgressLines("stage 3 epochs", total=10, every_s=5.0, stream=out, clock=clock, initial=6)
    for _ in range(4):
        clock.now += 10.0
        lines.update()
    lines.close()  # the last update wrote 10/10 already: no second closing line
    assert out.getvalue().splitlines() == [
        "stage 3 epochs: 7/10 (70.0%), 10 s, about 30 s left",  # the rate of this run's own epochs
        "stage 3 epochs: 8/10 (80.0%), 20 s, about 20 s left",
        "stage 3 epochs: 9/10 (90.0%), 30 s, about 10 s left",
        "stage 3 epochs: 10/10 (100.0%), 40 s",
    ]
    shown = progress(range(2), desc="x", mode="lines", every_s=30.0, initial=3, stream=out)
    shown.close()  # a loop left early can close what it iterates, in every mode
    assert list(progress(range(2), desc="x", mode=False)) == [0, 1]


# -- stage 2 (kemdy-extract) and stage 3 follow the convention ------------------------------------------


EXTRACT_ARGS = ["--checkpoint", "c", "--index", "i", "--out", "o"]


def test_kemdy_extract_takes_the_progress_flags_and_no_progress_still_means_off():
    from feature_extractor.extraction.extract import parse_args

    default = parse_args(EXTRACT_ARGS)
    assert (default.progress, default.progress_every) == ("auto", 30.0)
    assert parse_args([*EXTRACT_ARGS, "--no-progress"]).progress == "off"  # scripts of earlier versions
    forced = parse_args([*EXTRACT_ARGS, "--progress", "lines", "--progress-every", "0"])
    assert (forced.progress, forced.progress_every) == ("lines", 0.0)
    with pytest.raises(SystemExit):
        parse_args([*EXTRACT_ARGS, "--progress-every", "-1"])


def text_rows(texts) -> "pd.DataFrame":
    import pandas as pd

    return pd.DataFrame({"segment_id": [f"s{i}" for i in range(len(texts))], "wav_path": "", "wav_file": "",
                         "text": list(texts)})


def test_the_utterance_scan_reports_as_told_and_still_takes_true_and_false(capsys):
    from erc_core.progress import ProgressSetting
    from feature_extractor.inputs.dataset import scan_utterances

    table = text_rows(["네", "응", "  "])
    kept, skipped = scan_utterances(table, use_text=True, audio_kind=None, progress=ProgressSetting("lines", 0.0))
    assert kept["segment_id"].tolist() == ["s0", "s1", "s2"] and skipped.empty  # empty text: an empty input
    err = capsys.readouterr().err.splitlines()
    assert [line.split(", ")[0] for line in err] == [f"checking utterances: {n}/3 ({100 * n / 3:.1f}%)"
                                                      for n in (1, 2, 3)]
    scan_utterances(table, use_text=True, audio_kind=None, progress=False)
    assert capsys.readouterr().err == ""
    scan_utterances(table, use_text=True, audio_kind=None, progress=True)  # True: a bar
    assert "checking utterances" in capsys.readouterr().err


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    """Two dialogues of the tiny synthetic corpus's index (tests/stage12_fixtures.py)."""
    import shutil

    import pandas as pd

    from tests.stage12_fixtures import tiny_corpus

    index = tiny_corpus(tmp_path_factory)["index"]
    target = tmp_path_factory.mktemp("small_index") / "index"
    shutil.copytree(index, target)
    frame = pd.read_csv(target / "index.csv", dtype=str, keep_default_na=False)
    keep = frame["dialogue_id"].drop_duplicates().tolist()[:2]
    frame[frame["dialogue_id"].isin(keep)].to_csv(target / "index.csv", index=False)
    return target, int(frame["dialogue_id"].isin(keep).sum())


def test_kemdy_extract_writes_progress_lines_into_a_log_file(small_index, tmp_path, capsys):
    """The shipped stage-1 export over a small index, stderr a log file (not a terminal)."""
    from erc_core import commands
    from erc_core.progress import progress_mode

    index, utterances = small_index
    assert progress_mode("auto") == "lines"  # pytest's captured stderr is no terminal, as a log file
    code = commands.extract(["--checkpoint", "model_checkpoints/demo_stage1", "--index", str(index),
                             "--out", str(tmp_path / "features.pkl"), "--feature-cache", str(tmp_path / "cache"),
                             "--device", "cpu", "--threads", "1", "--num-workers", "0", "--batch-size", "4",
                             "--allow-train-overlap", "--progress", "lines", "--progress-every", "0"])
    err = capsys.readouterr().err
    assert code == 0, err
    scan = [line for line in err.splitlines() if line.startswith("checking utterances: ")]
    features = [line for line in err.splitlines() if line.startswith("stage 2 features: ")]
    assert len(scan) == utterances and scan[-1].startswith(f"checking utterances: {utterances}/{utterances} (100.0%)")
    assert features and features[0].startswith("stage 2 features: 1/")
    batches = int(features[0].split("/")[1].split(" ")[0])
    assert len(features) == batches and features[-1].startswith(f"stage 2 features: {batches}/{batches} (100.0%)")


def test_stage3_epochs_are_progress_lines_in_a_log_file_and_a_resumed_run_counts_on(tmp_path, capsys):
    from cgnn_fixtures import stage3_config, write_pickle

    from cgnn.train import train

    data = tmp_path / "d.pkl"
    write_pickle(data, count=6)
    lines_every_epoch = ("trainer.progress_bar=null", "trainer.progress_every_s=1e-9")  # null: auto
    train(stage3_config(data, tmp_path / "run", "trainer.max_epochs=2", *lines_every_epoch))
    train(stage3_config(data, tmp_path / "run", "trainer.max_epochs=3", "resume=true", *lines_every_epoch))
    captured = capsys.readouterr()
    shown = [line.split(" (")[0] for line in captured.err.splitlines() if line.startswith("stage 3 epochs: ")]
    assert shown == ["stage 3 epochs: 1/2", "stage 3 epochs: 2/2", "stage 3 epochs: 3/3"]
    summaries = [" ".join(line.split()[:4]) for line in captured.out.splitlines() if line.startswith("stage 3 epoch ")]
    assert summaries == ["stage 3 epoch 1/2", "stage 3 epoch 2/2", "stage 3 epoch 3/3"]  # the summary lines stay
    train(stage3_config(data, tmp_path / "quiet", "trainer.max_epochs=1", "trainer.progress_bar=false"))
    assert "stage 3 epochs" not in capsys.readouterr().err
