"""Stage 2's place in a torch.distributed group (torchrun), or one process alone.

The device is chosen, and made the current CUDA device, before the process group exists: NCCL's
object collectives (`gather_object`) put their buffers on `torch.cuda.current_device()`, which
is cuda:0 on every rank unless it was set, and `init_process_group(device_id=...)` binds the
group to this rank's GPU from the start. So `from_environment` does both in that order.
"""

import os

import torch
import torch.distributed as dist

from erc_core.device import choose_device, local_rank


class DistributedContext:
    """Rank, world size and device of this process; size 1 when not started by torchrun."""

    def __init__(self, rank: int = 0, size: int = 1, local_rank: int = 0, owns_group: bool = False,
                 device: torch.device = torch.device("cpu")):
        self.rank, self.size, self.local_rank, self.owns_group = rank, size, local_rank, owns_group
        self.device = device

    @property
    def is_zero(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls, requested_device: str = "auto") -> "DistributedContext":
        """Join the group torchrun describes (WORLD_SIZE, RANK, LOCAL_RANK), with this rank's
        device chosen first."""
        size = int(os.environ.get("WORLD_SIZE", "1"))
        local = local_rank()
        device = choose_device(requested_device, rank=local)
        if size <= 1:
            return cls(device=device)
        owns = not dist.is_initialized()
        if owns:
            on_gpu = device.type == "cuda"
            dist.init_process_group(backend="nccl" if on_gpu else "gloo", device_id=device if on_gpu else None)
        return cls(dist.get_rank(), dist.get_world_size(), local, owns, device)

    def merge(self, features: dict) -> dict:
        """Every rank's {segment_id: features} on rank 0 (others get {})."""
        if self.size == 1:
            return merge_shards([features])
        shards = [None] * self.size if self.is_zero else None
        dist.gather_object(features, shards, dst=0)
        return merge_shards(shards) if self.is_zero else {}

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()


def merge_shards(shards: list[dict]) -> dict:
    """Union of per-rank {segment_id: features}. The sampler pads the batch list across ranks, so a
    few segments come twice; the lowest rank's copy wins, which keeps the result deterministic."""
    merged = {}
    for shard in shards:
        for segment_id, vectors in shard.items():
            merged.setdefault(segment_id, vectors)
    return merged
