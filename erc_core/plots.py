"""Every figure the toolkit draws, as PNG files written atomically: confusion matrices, learning
curves, embedding maps and the runner's per-seed strip plots. matplotlib's object API only (no
pyplot), so no global backend state and no display is needed."""

import numpy as np

from erc_core.files import atomic_path


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _save(figure, path) -> None:
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120)


def headline_title(name: str, metrics: dict) -> str:
    """`name` plus n / accuracy / weighted-F1 / macro-F1 in percent, for a figure's title."""
    if not metrics.get("n"):
        return name
    return (f"{name}\nn={metrics['n']}  acc {100 * metrics['accuracy']:.2f}  wF1 {100 * metrics['weighted_f1']:.2f}"
            f"  mF1 {100 * metrics['macro_f1']:.2f}")


def save_confusion_matrix(matrix, label_names, path, title="") -> None:
    """Row-normalised colours with raw counts written in each cell; written atomically as PNG."""
    matrix = np.asarray(matrix)
    row_sums = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, row_sums, out=np.zeros(matrix.shape, float), where=row_sums > 0)
    size = 1.0 + 0.7 * len(label_names)
    figure = _figure(size + 1.5, size + (0.4 if "\n" in title else 0.0))
    axes = figure.subplots()
    image = axes.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(label_names)), label_names, rotation=45, ha="right")
    axes.set_yticks(range(len(label_names)), label_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    if title:
        axes.set_title(title, fontsize=9)
    for (row, col), count in np.ndenumerate(matrix):
        axes.text(col, row, str(count), ha="center", va="center",
                  color="white" if share[row, col] > 0.5 else "black", fontsize=8)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of gold row")
    _save(figure, path)


def save_learning_curves(history, path, title="", best_epoch=None) -> None:
    """Loss (train and dev, where recorded) and dev weighted-F1 per epoch; `history` rows hold
    'epoch' and any of 'train_loss', 'dev_loss', 'dev_weighted_f1'."""
    _save(learning_curves_figure(history, title, best_epoch), path)


def learning_curves_figure(history, title="", best_epoch=None):
    from matplotlib.ticker import MaxNLocator

    figure = _figure(9, 3.4)
    loss_axes, f1_axes = figure.subplots(1, 2)
    for key, label in (("train_loss", "train"), ("dev_loss", "dev")):
        points = [(row["epoch"], row[key]) for row in history if row.get(key) is not None]
        if points:
            loss_axes.plot(*zip(*points), marker=".", label=label)
    points = [(row["epoch"], 100 * row["dev_weighted_f1"]) for row in history if row.get("dev_weighted_f1") is not None]
    if points:
        f1_axes.plot(*zip(*points), marker=".", color="tab:green", label="dev")
    for axes, ylabel in ((loss_axes, "loss"), (f1_axes, "dev weighted-F1 (%)")):
        if best_epoch is not None:
            axes.axvline(best_epoch, color="grey", linestyle=":", label=f"best dev epoch ({best_epoch})")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        axes.set_xlabel("epoch")
        axes.set_ylabel(ylabel)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    return figure


def save_embedding_map(points, labels, label_names, path, title="") -> None:
    """A 2-D scatter of `points` [n, 2], one colour per class of `labels`."""
    from matplotlib import colormaps

    points, labels = np.asarray(points), np.asarray(labels)
    figure = _figure(7, 6)
    axes = figure.subplots()
    colours = colormaps["tab10"]
    for index, name in enumerate(label_names):
        chosen = labels == index
        if chosen.any():
            axes.scatter(points[chosen, 0], points[chosen, 1], s=6, alpha=0.7, color=colours(index % 10),
                         label=f"{name} ({int(chosen.sum())})")
    axes.set_xticks([])
    axes.set_yticks([])
    axes.legend(markerscale=3, fontsize=8, loc="best")
    if title:
        axes.set_title(title, fontsize=10)
    _save(figure, path)


SEED_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def save_seed_plot(runs_by_config: dict, path, ylabel="test weighted-F1 (%)", title="") -> None:
    _save(seed_plot_figure(runs_by_config, ylabel, title), path)


def seed_plot_figure(runs_by_config: dict, ylabel="test weighted-F1 (%)", title=""):
    """One box per config over its runs, each run drawn as a point on top: its colour is its fold,
    its marker its seed, both named in the legend (horizontal jitter from a fixed seed, so the
    figure is reproducible). `runs_by_config`: config name -> list of {'value', 'seed', 'fold'}
    (fold None = the data's own split), drawn in the dict's order."""
    from matplotlib.lines import Line2D

    names = list(runs_by_config)
    figure = _figure(3.2 + 1.1 * len(names), 4.0)
    axes = figure.subplots()
    data = [np.asarray([run["value"] for run in runs_by_config[name]], dtype=float) for name in names]
    axes.boxplot(data, positions=range(1, len(names) + 1), widths=0.5, showfliers=False,
                 medianprops={"color": "black"})
    runs = [run for name in names for run in runs_by_config[name]]
    folds = sorted({run["fold"] for run in runs}, key=lambda f: -1 if f is None else f)
    seeds = sorted({run["seed"] for run in runs})
    colour = {fold: f"C{i % 10}" for i, fold in enumerate(folds)}
    marker = {seed: SEED_MARKERS[i % len(SEED_MARKERS)] for i, seed in enumerate(seeds)}
    jitter = np.random.default_rng(0)
    for position, name in enumerate(names, start=1):
        for run in runs_by_config[name]:
            axes.scatter(position + jitter.uniform(-0.12, 0.12), run["value"], s=20, alpha=0.8, zorder=3,
                         color=colour[run["fold"]], marker=marker[run["seed"]])
    handles = [Line2D([], [], linestyle="", marker="o", color=colour[f], label=f"fold {f}") for f in folds
               if f is not None]
    handles += [Line2D([], [], linestyle="", marker=marker[s], color="grey", label=f"seed {s}") for s in seeds]
    axes.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    axes.set_xticks(range(1, len(names) + 1), names, rotation=20 if len(names) > 4 else 0)
    axes.set_ylabel(ylabel)
    axes.grid(axis="y", alpha=0.3)
    if title:
        axes.set_title(title, fontsize=10)
    return figure
