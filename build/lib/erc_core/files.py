"""Files every stage writes and checks: atomic output (write to a temp file in the same folder,
then rename over the target, so an interrupted write leaves the previous file intact and no
half-written file behind) and the SHA-256 that ties a weights file to its JSON description.

Temp files and staging folders are created private (0600 / 0700, Python's tempfile); before they
take their final name they get the mode a plain `open()` / `mkdir()` would give them under the
user's umask, so colleagues on a shared server can read features and checkpoints."""

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to `path`; on success it is renamed to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        try:
            yield Path(tmp)
        except OSError as error:
            if error.errno == errno.ENOSPC:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None
            raise
        except RuntimeError as error:
            # torch.save reports a failed write (a full disk) as "unexpected pos ..."; say what it is
            if "unexpected pos" in str(error) or "file write failed" in str(error):
                raise OSError(errno.ENOSPC, "could not write the file (is the disk full?)", str(path)) from None
            raise
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_open(path, mode="w", **kwargs):
    """Open a temp file for writing; it replaces `path` only if the block finishes."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())


def staging_folder(target) -> Path:
    """A new empty folder next to `target` (to be renamed onto it when complete), with the mode a
    plain mkdir would give it."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    os.chmod(folder, 0o777 & ~current_umask())
    return folder


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path, data) -> None:
    with atomic_open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False, sort_keys=True, default=str)
        handle.write("\n")


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
