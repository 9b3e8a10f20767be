"""The experiment runner: stage 3 (and stage 1) over seeds x session folds, with tables of
mean ± std, per-run rows, paired tests between configs and a per-seed plot (docs/experiments.md).

    kemdy-experiment --config configs/experiments/demo_folds.yaml"""
