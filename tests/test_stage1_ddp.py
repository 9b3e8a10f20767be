"""Stage 1 with DDP: 2 CPU processes over gloo (Lightning's subprocess launcher). The run must show
two ranks that trained on distinct shards covering the train split, and metrics computed once on
the complete dev/test splits (gathered from both ranks, padding duplicates dropped)."""

import json
import os
import subprocess

from feature_extractor.corpus import read_index
from tests.stage12_fixtures import python, repo_root, tiny_corpus, tiny_overrides


def test_two_process_ddp_trains_on_disjoint_shards(tmp_path_factory, tmp_path):
    corpus = tiny_corpus(tmp_path_factory)
    run_dir = tmp_path / "run"
    overrides = tiny_overrides(run_dir, corpus["index"], "trainer.devices=2", "trainer.strategy=ddp", "data.log_shards=true")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(repo_root()))
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    result = subprocess.run(
        [python(), "-m", "feature_extractor.training.train", "--config", str(repo_root() / "configs/stage1/demo.yaml"), *overrides],
        cwd=repo_root(), env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    index = read_index(corpus["index"])
    train_ids = set(index.loc[index["split"] == "train", "segment_id"])
    shards = [json.loads((run_dir / "shards" / f"rank{rank}_epoch0.json").read_text()) for rank in (0, 1)]
    assert [shard["rank"] for shard in shards] == [0, 1]
    assert all(shard["world_size"] == 2 for shard in shards)
    seen = [set(shard["segment_ids"]) for shard in shards]
    assert seen[0] and seen[1]
    assert seen[0] | seen[1] == train_ids
    n_batches = -(-len(train_ids) // 8)
    overlap_allowed = 8 if n_batches % 2 else 0  # an odd batch count repeats one batch on rank 1
    assert len(seen[0] & seen[1]) <= overlap_allowed
    assert len(shards[0]["segment_ids"]) + len(shards[1]["segment_ids"]) >= len(train_ids)

    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["dev_history"][0]["n"] == int((index["split"] == "dev").sum())
    assert metrics["test"]["n"] == int((index["split"] == "test").sum())
    assert (run_dir / "export/model.safetensors").is_file()
