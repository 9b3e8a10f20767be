"""A 2-D map (t-SNE) of a conversation pickle's per-utterance features, coloured by emotion:
do the classes separate in the features stage 3 gets?

    kemdy-embedding-map --data data/demo_features.pkl --modality fused --out runs/maps/fused.png
    kemdy-embedding-map --data work/iemocap6.pkl --modality t --split test --max-points 2000

Features are standardised per dimension, then scikit-learn's TSNE (PCA initialisation, a fixed
seed) places at most --max-points labelled utterances (a seeded random subset beyond that)."""

import argparse
import sys

import numpy as np

from cgnn.conversation_pickle import SPLITS, modality_matrix, read_conversations, resolve_modality
from erc_core.cli import add_common_flags, quiet_libraries, run_command
from erc_core.errors import UserError
from erc_core.plots import save_embedding_map


def labelled_points(data, modality: str, split: str):
    """([n, d] features, [n] labels) of the labelled utterances of `split` ('all' = every split)."""
    dialogues = data.dialogues if split == "all" else data.in_split(split)
    if not dialogues:
        raise UserError(f"{data.source}: no dialogues in split {split!r}")
    try:
        resolve_modality(modality, data.feature_dims)
    except ValueError as error:
        raise UserError(f"{data.source}: --modality {modality}: {error}") from None
    features = np.concatenate([modality_matrix(d, modality) for d in dialogues])
    labels = np.concatenate([d["labels"] for d in dialogues])
    keep = labels >= 0
    return features[keep], labels[keep]


def embed(features: np.ndarray, seed: int, perplexity: float) -> np.ndarray:
    from sklearn.manifold import TSNE

    scale = features.std(axis=0)
    standard = (features - features.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    perplexity = min(perplexity, max(2.0, (len(standard) - 1) / 3))
    return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(standard)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="conversation pickle")
    parser.add_argument("--modality", default="fused",
                        help="features to map: a, t, at, fused, all (the features present) (default: %(default)s)")
    parser.add_argument("--split", default="all", choices=("all", *SPLITS),
                        help="utterances of this split only; all = every split (default: %(default)s)")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--max-points", type=int, default=3000,
                        help="at most this many labelled utterances, a seeded random subset (default: %(default)s)")
    parser.add_argument("--perplexity", type=float, default=30.0,
                        help="t-SNE perplexity, capped at (points - 1) / 3 (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the subset and of t-SNE (default: %(default)s)")
    return add_common_flags(parser)


def draw(argv) -> int:
    args = build_parser().parse_args(argv)
    quiet_libraries(args.verbose)
    data = read_conversations(args.data)
    features, labels = labelled_points(data, args.modality, args.split)
    if len(labels) < 5:
        raise UserError(f"{args.data}: only {len(labels)} labelled utterances in split {args.split!r}; a map needs more")
    chosen = np.random.default_rng(args.seed).permutation(len(labels))[: args.max_points]
    chosen.sort()
    points = embed(features[chosen], args.seed, args.perplexity)
    title = f"t-SNE of {args.modality} features, {args.split} ({len(chosen)} utterances)"
    save_embedding_map(points, labels[chosen], data.label_names, args.out, title=title)
    print(f"embedding map of {len(chosen)} utterances -> {args.out}")
    return 0


def main(argv=None) -> int:
    return run_command(draw, argv)


if __name__ == "__main__":
    sys.exit(main())
