"""The on-disk cache of frozen encoders' utterance vectors.

One .npy (float32) per utterance under `<root>/<fingerprint>/`, where the fingerprint hashes the
encoder's identity (model, weights, settings): another encoder or setting never reads these vectors.
Each file is named by segment id and a hash of the utterance's content (the audio file's bytes and
clip window, or the transcript), so an edited file or transcript is recomputed, never served stale.
Writes are atomic, so processes filling the same cache at once cannot corrupt it."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from erc_core.files import atomic_path


class FrozenFeatureCache:
    def __init__(self, root, identity: dict):
        self.identity = identity
        self.folder = Path(root) / fingerprint(identity)
        self._digests = {}  # (path, inode, size, mtime) -> content hash, so a file is hashed once

    def audio_key(self, wav_file, clip) -> str:
        status = os.stat(wav_file)
        key = (str(wav_file), status.st_ino, status.st_size, status.st_mtime_ns)
        if key not in self._digests:
            with open(wav_file, "rb") as handle:
                self._digests[key] = hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=12)).hexdigest()
        return _short_hash(f"{self._digests[key]}|{clip}")

    @staticmethod
    def text_key(text: str) -> str:
        return _short_hash(str(text))

    def load(self, segment_id: str, key: str) -> np.ndarray | None:
        path = self._path(segment_id, key)
        return np.load(path, allow_pickle=False) if path.exists() else None

    def store(self, segment_id: str, key: str, vector: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        identity_file = self.folder / "identity.json"
        if not identity_file.exists():
            with atomic_path(identity_file) as tmp:
                Path(tmp).write_text(json.dumps(self.identity, indent=1, sort_keys=True))
        with atomic_path(self._path(segment_id, key)) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, np.asarray(vector, dtype=np.float32), allow_pickle=False)

    def _path(self, segment_id: str, key: str) -> Path:
        return self.folder / f"{segment_id}.{key}.npy"


def fingerprint(identity: dict) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]


def _short_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()
