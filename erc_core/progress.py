"""One progress convention for every long step of every stage:

    mode = progress_mode(args.progress)          # auto | bar | lines | off
    for batch in progress(loader, total=len(loader), desc="stage 2 features", mode=mode):
        ...

- a terminal gets tqdm bars; a log file (stderr not a terminal) gets one line every `every_s`
  seconds and one at the end: `stage 2 features: 300/1450 (20.7%), 41 s, about 2 min 37 s left`;
  `off` prints nothing (the summary lines of the commands stay);
- epochs, batches and items are counted from 1 (`epoch 1/6` is the first of six);
- scores are percent with two decimals (`dev wF1 7.56`), as in every summary line and table.

`progress(...)` also takes the old True / False of a `progress=` argument (True = bar, False = off).
Stage 1 applies it through its Lightning callbacks (feature_extractor/training/callbacks.py); stage 2
(kemdy-extract `--progress`, erc_core.cli.add_progress_flags) and stage 3's epochs through `progress`."""

import dataclasses
import sys
import time

from tqdm.auto import tqdm

MODES = ("auto", "bar", "lines", "off")
EVERY_S = 30.0


def progress_mode(setting=None, stream=None) -> str:
    """bar | lines | off from a `--progress` value or a `trainer.progress_bar` setting:
    None / auto = bars on a terminal, else lines; True = bar; False = off."""
    if setting is True:
        return "bar"
    if setting is False:
        return "off"
    if setting is None or setting == "auto":
        return "bar" if (stream or sys.stderr).isatty() else "lines"
    if setting not in MODES:
        raise ValueError(f"progress {setting!r}: expected one of {', '.join(MODES)}")
    return setting


@dataclasses.dataclass(frozen=True)
class ProgressSetting:
    """A mode with its seconds between lines, handed down as one `progress=` value
    (`ProgressSetting(progress_mode(args.progress), args.progress_every)`)."""
    mode: str = "auto"
    every_s: float = EVERY_S


def percent(fraction) -> str:
    return f"{100 * fraction:.2f}"


def epoch_label(epoch_index: int, max_epochs: int) -> str:
    """`epoch 1/6` for Lightning's (0-based) current_epoch 0."""
    return f"epoch {epoch_index + 1}/{max_epochs}"


def duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    if not minutes:
        return f"{seconds} s"
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"


class ProgressLines:
    """The log-file form of a bar: `update()` after each item; a line when `every_s` seconds have
    passed since the last one, and a closing one from `close()` when the step lasted long enough
    to get a line at all (a short step stays silent; its command's summary line says enough)."""

    def __init__(self, desc: str, total=None, every_s: float = EVERY_S, stream=None, clock=time.monotonic,
                 initial: int = 0):
        self.desc, self.total, self.every_s = desc, total, every_s
        self.stream, self.clock = stream or sys.stderr, clock
        self.initial = self.done = initial  # a resumed step counts on from where it was
        self.started = clock()
        self.last_line, self.written, self.last_done = self.started, 0, None

    def update(self, count: int = 1, note: str = "") -> None:
        self.done += count
        if self.clock() - self.last_line >= self.every_s:
            self.write(note)

    def close(self, note: str = "") -> None:
        if self.written and self.done != self.last_done:
            self.write(note)

    def write(self, note: str = "") -> None:
        now = self.clock()
        self.last_line, self.written, self.last_done = now, self.written + 1, self.done
        print(self.line(now - self.started) + (f", {note}" if note else ""), file=self.stream, flush=True)

    def line(self, elapsed: float) -> str:
        if not self.total:
            return f"{self.desc}: {self.done}, {duration(elapsed)}"
        share = self.done / self.total
        text = f"{self.desc}: {self.done}/{self.total} ({100 * share:.1f}%), {duration(elapsed)}"
        if self.done > self.initial and share < 1:  # the rate of this process's own items
            text += f", about {duration(elapsed * (self.total - self.done) / (self.done - self.initial))} left"
        return text


def progress(iterable, *, desc: str, total=None, mode="auto", every_s: float = EVERY_S, stream=None,
             initial: int = 0):
    """`iterable`, reporting as `mode` says (auto | bar | lines | off, or True / False: bar / off).
    `initial`: items done before (a resumed run), counted in `total` (by default `initial` +
    len(iterable)). A ProgressSetting as `mode` brings its own `every_s`. The result has `close()`,
    for a loop left early (a bar is cleared, a log file gets its closing line)."""
    if isinstance(mode, ProgressSetting):
        mode, every_s = mode.mode, mode.every_s
    mode = progress_mode(mode, stream)
    if total is None and _length(iterable) is not None:
        total = initial + _length(iterable)
    if mode == "bar":
        return tqdm(iterable, total=total, initial=initial, desc=desc, file=stream or sys.stderr, leave=False)
    if mode == "off":
        return (item for item in iterable)
    return _with_lines(iterable, ProgressLines(desc, total, every_s, stream, initial=initial))


def write_line(text: str, file=None) -> None:
    """Print one line (a summary line, on stdout by default) without breaking a bar being drawn."""
    tqdm.write(text, file=file or sys.stdout)


def _with_lines(iterable, lines: ProgressLines):
    try:
        for item in iterable:
            yield item
            lines.update()
    finally:
        lines.close()


def _length(iterable):
    try:
        return len(iterable)
    except TypeError:
        return None
