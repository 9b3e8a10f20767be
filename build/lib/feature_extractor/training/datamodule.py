"""DataLoaders for stage 1: length-aware batches, sharded across ranks by the batch sampler."""

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader

from feature_extractor.inputs.batching import LengthBucketBatchSampler


class Stage1DataModule(pl.LightningDataModule):
    def __init__(self, datasets: dict, collator, data_cfg, seed: int, equal_length_eval: bool = False):
        """`equal_length_eval`: dev / test batches hold only utterances of one length (for audio
        encoders whose features depend on batch padding), so stage-1 metrics match stage 2."""
        super().__init__()
        self.equal_length_eval = equal_length_eval
        self.datasets = datasets
        self.collator = collator
        self.cfg = data_cfg
        self.seed = seed

    def train_dataloader(self):
        return self._loader("train", shuffle=True, batch_size=self.cfg.batch_size)

    def val_dataloader(self):
        return self._loader("dev", shuffle=False, batch_size=self.cfg.eval_batch_size)

    def test_dataloader(self):
        return self._loader("test", shuffle=False, batch_size=self.cfg.eval_batch_size)

    def _loader(self, split: str, shuffle: bool, batch_size: int) -> DataLoader:
        dataset = self.datasets[split]
        trainer = self.trainer
        sampler = LengthBucketBatchSampler(
            dataset.lengths(),
            batch_size=batch_size,
            shuffle=shuffle,
            seed=self.seed,
            bucket_batches=self.cfg.bucket_batches,
            num_replicas=trainer.world_size if trainer else 1,
            rank=trainer.global_rank if trainer else 0,
            equal_lengths=self.equal_length_eval and not shuffle,
        )
        workers = self.cfg.num_workers
        return DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=self.collator,
            num_workers=workers,
            persistent_workers=workers > 0 and shuffle,
            pin_memory=torch.cuda.is_available(),
        )
