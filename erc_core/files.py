"""Files every stage writes and checks: atomic output (write to a temp file in the same folder,
then rename over the target, so an interrupted write leaves the previous file intact and no
half-written file behind) and the SHA-256 that ties a weights file to its JSON description.

Temp files and staging folders are created private (0600 / 0700, Python's tempfile); before they
take their final name they get the mode a plain `open()` / `mkdir()` would give them under the
user's umask, so colleagues on a shared server can read features and checkpoints. They are named
`.<target>.<host>.<pid>.<random>.tmp`: a killed process cannot remove its own, so the next write of
the same target removes those whose process is gone. A full disk, a read-only folder or a target
that is a folder is reported against the target, never the temp name."""

import contextlib
import errno
import glob
import hashlib
import json
import os
import shutil
import socket
import tempfile
from pathlib import Path

from erc_core.errors import UserError, is_disk_full

TEMP_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to `path`; on success it is renamed to `path`."""
    path = Path(path)
    tmp = _new_temp(path, lambda **names: _closed(tempfile.mkstemp(**names)))
    try:
        try:
            yield tmp
        except (OSError, RuntimeError) as error:
            if is_disk_full(error):
                raise OSError(errno.ENOSPC, "no space left on device (is the disk full?)", str(path)) from None
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
    folder = _new_temp(Path(target), lambda **names: Path(tempfile.mkdtemp(**names)), folder=True)
    os.chmod(folder, 0o777 & ~current_umask())
    return folder


def _new_temp(target: Path, make, folder: bool = False) -> Path:
    """A hidden temp file (or folder) next to `target`, named after the target, this machine and
    this process, so the next write of the same target removes those a killed process left.
    A read-only or otherwise unwritable folder is reported against the target, not the temp name."""
    if target.is_dir() and not folder:
        raise UserError(f"{target}: is a folder; expected a file name for this output")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(target)
        return Path(make(prefix=_temp_prefix(target.name), suffix=TEMP_SUFFIX, dir=target.parent))
    except OSError as error:
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM) or is_disk_full(error):
            raise type(error)(error.errno, error.strerror, str(target)) from None
        raise


def _closed(made) -> str:
    fd, name = made
    os.close(fd)
    return name


def _temp_prefix(name: str, host: str | None = None, pid: int | None = None) -> str:
    return f".{name}.{host or socket.gethostname()}.{pid or os.getpid()}."


def _remove_stale_temps(target: Path) -> None:
    """Temp files / folders of `target` whose process (on this machine) is gone."""
    host_prefix = f".{target.name}.{socket.gethostname()}."
    for leftover in target.parent.glob(f"{glob.escape(host_prefix)}*{TEMP_SUFFIX}"):
        pid = leftover.name[len(host_prefix):].partition(".")[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


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
