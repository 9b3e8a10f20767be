import numpy as np
import pytest

from feature_extractor.inputs.batching import LengthBucketBatchSampler, padding_ratio


def long_tailed_lengths(n=2000, seed=0):
    """Utterance lengths in samples shaped like KEMDy19 durations (median ~4 s, long tail)."""
    rng = np.random.default_rng(seed)
    return (rng.lognormal(mean=np.log(4.2), sigma=0.6, size=n) * 16000).astype(np.int64)


def test_each_utterance_once_per_epoch_in_full_batches():
    lengths = long_tailed_lengths(103)
    sampler = LengthBucketBatchSampler(lengths, batch_size=8, shuffle=True, seed=1, bucket_batches=4)
    batches = list(sampler)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(103))
    assert len(batches) == len(sampler) == 13  # ceil(103 / 8)
    assert sorted(len(b) for b in batches)[1:] == [8] * 12  # only one short batch


def test_epochs_reshuffle_and_seed_reproduces():
    lengths = long_tailed_lengths(200)
    sampler = LengthBucketBatchSampler(lengths, batch_size=8, shuffle=True, seed=3)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    again = LengthBucketBatchSampler(lengths, batch_size=8, shuffle=True, seed=3)
    again.set_epoch(1)
    assert first != second
    assert list(again) == second


def test_length_aware_batches_waste_far_less_padding_than_random_ones():
    lengths = long_tailed_lengths()
    bucketed = LengthBucketBatchSampler(lengths, batch_size=16, shuffle=True, seed=0, bucket_batches=50)
    random_order = np.random.default_rng(0).permutation(len(lengths))
    random_batches = [random_order[i : i + 16] for i in range(0, len(lengths), 16)]
    bucketed_waste = padding_ratio(lengths, list(bucketed))
    random_waste = padding_ratio(lengths, random_batches)
    assert bucketed_waste < 0.10
    assert random_waste > 0.5  # a long-tailed mix pads heavily when batched at random
    assert bucketed_waste < random_waste / 5


def test_padding_ratio_by_hand():
    # batch [3, 5]: pad 2 for real 8; batch [4]: pad 0 for real 4 -> 2 / 12
    assert padding_ratio([3, 5, 4], [[0, 1], [2]]) == pytest.approx(2 / 12)


def test_evaluation_order_is_longest_first_and_deterministic():
    lengths = [5, 9, 1, 7, 3]
    sampler = LengthBucketBatchSampler(lengths, batch_size=2, shuffle=False)
    assert list(sampler) == [[1, 3], [0, 4], [2]]


@pytest.mark.parametrize("n", [40, 41, 47])
def test_replicas_get_disjoint_shards_of_equal_step_count(n):
    lengths = long_tailed_lengths(n)
    shards = [
        list(LengthBucketBatchSampler(lengths, batch_size=4, shuffle=True, seed=5, num_replicas=2, rank=rank))
        for rank in (0, 1)
    ]
    assert len(shards[0]) == len(shards[1])
    seen = [{i for batch in shard for i in batch} for shard in shards]
    assert seen[0] | seen[1] == set(range(n))
    n_batches = -(-n // 4)
    if n_batches % 2 == 0:  # nothing to pad: shards are disjoint
        assert not seen[0] & seen[1]
    else:  # one batch is repeated to even out the step count
        assert len(seen[0] & seen[1]) <= 4


def test_single_replica_shard_equals_global_batches():
    lengths = long_tailed_lengths(30)
    sampler = LengthBucketBatchSampler(lengths, batch_size=4, shuffle=True, seed=2)
    assert list(sampler) == sampler.global_batches()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="batch_size"):
        LengthBucketBatchSampler([1, 2], batch_size=0, shuffle=False)
    with pytest.raises(ValueError, match="rank 2"):
        LengthBucketBatchSampler([1, 2], batch_size=1, shuffle=False, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="empty"):
        LengthBucketBatchSampler([], batch_size=1, shuffle=False)


def test_equal_length_batches_by_hand():
    lengths = [7, 5, 7, 7, 5, 3, 7]
    sampler = LengthBucketBatchSampler(lengths, batch_size=3, shuffle=False, equal_lengths=True)
    # longest first; the four 7s fill a batch of 3 and one of 1; never a 7 with a 5
    assert list(sampler) == [[0, 2, 3], [6], [1, 4], [5]]
    assert len(sampler) == 4


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("replicas", [1, 2])
def test_equal_length_batches_never_pad_and_cover_every_utterance(shuffle, replicas):
    crop = 10 * 16000  # utterances beyond the 10 s crop all have its length
    lengths = np.minimum(long_tailed_lengths(300) // 4000 * 4000, crop)  # many ties, as after a crop
    shards = [list(LengthBucketBatchSampler(lengths, batch_size=8, shuffle=shuffle, seed=1, num_replicas=replicas,
                                            rank=rank, equal_lengths=True)) for rank in range(replicas)]
    batches = [batch for shard in shards for batch in shard]
    assert padding_ratio(lengths, batches) == 0
    assert {i for batch in batches for i in batch} == set(range(300))
    assert max(len(batch) for batch in batches) == 8  # equal lengths still share batches
    sampler = LengthBucketBatchSampler(lengths, batch_size=8, shuffle=shuffle, seed=1, num_replicas=replicas,
                                       equal_lengths=True)
    assert all(len(shard) == len(sampler) for shard in shards)


def test_stage1_evaluates_padding_sensitive_encoders_in_equal_length_batches():
    """Dev / test batches of a group-norm audio encoder hold one length each (as in stage 2);
    training batches still mix lengths."""
    from types import SimpleNamespace

    from feature_extractor.training.datamodule import Stage1DataModule

    lengths = [5, 5, 7, 9, 9, 9, 12]
    dataset = SimpleNamespace(lengths=lambda: lengths, __len__=lambda: len(lengths))
    cfg = SimpleNamespace(bucket_batches=4, num_workers=0, batch_size=4, eval_batch_size=4)
    for equal in (True, False):
        module = Stage1DataModule({"train": dataset, "dev": dataset, "test": dataset}, None, cfg, seed=0,
                                  equal_length_eval=equal)
        dev_batches = list(module.val_dataloader().batch_sampler)
        mixed = [batch for batch in dev_batches if len({lengths[i] for i in batch}) > 1]
        assert (not mixed) == equal, dev_batches
        assert not module.train_dataloader().batch_sampler.equal_lengths
