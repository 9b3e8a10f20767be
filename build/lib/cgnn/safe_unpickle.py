"""Load a pickle without running code from it.

A pickle can name any importable callable and have it called while loading (`os.system`,
`builtins.open`, ...). `RestrictedUnpickler` resolves only the globals that plain containers,
numbers, strings and numpy arrays need; any other global stops the load before it is called.

The allowed globals were found by pickling numpy arrays (numeric, string, structured, object,
Fortran-ordered, non-contiguous, empty, big-endian), numpy scalars, sets, bytes and complex
numbers with every protocol 0-5, as written by numpy 1.x (`numpy.core...`), numpy 2.x
(`numpy._core...`) and Python 2 (`__builtin__...`, read with encoding latin1)."""

import io
import pickle
from pathlib import Path

import numpy as np
from numpy._core import multiarray as _multiarray
from numpy._core import numeric as _numeric

from erc_core.errors import UserError


class UnsafePickleError(pickle.UnpicklingError, UserError):
    """The pickle asks for a global outside the allowed set."""


def _latin1_encode(text, encoding="latin1"):
    # Protocols 0-2 store bytes as `_codecs.encode(str, "latin1")`; no other codec is allowed,
    # because a codec name makes Python import a module from the `encodings` package.
    spelled = str(encoding).lower().replace("-", "").replace("_", "")
    if spelled not in {"latin1", "iso88591", "l1"} or not isinstance(text, str):
        raise UnsafePickleError(f"_codecs.encode is allowed only for latin1 text, got {encoding!r}")
    return text.encode("latin1")


_BUILTINS = {"set": set, "frozenset": frozenset, "complex": complex, "bytes": bytes,
             "bytearray": bytearray}

ALLOWED_GLOBALS = {
    **{("builtins", name): obj for name, obj in _BUILTINS.items()},
    **{("__builtin__", name): obj for name, obj in _BUILTINS.items()},  # Python 2 / protocol < 3
    ("_codecs", "encode"): _latin1_encode,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy._core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy.core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy._core.numeric", "_frombuffer"): _numeric._frombuffer,  # protocol 5 arrays
    ("numpy.core.numeric", "_frombuffer"): _numeric._frombuffer,
}


class RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source="pickle"):
        super().__init__(file, encoding="latin1")
        self.source = source

    def find_class(self, module, name):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self.source}: refusing to load global {module}.{name}; this loader admits only "
                "plain containers, numbers, strings and numpy arrays"
            ) from None

    def persistent_load(self, pid):
        raise UnsafePickleError(f"{self.source}: persistent ids are not allowed ({pid!r})")


def safe_load(path):
    """Unpickle the file at `path` with `RestrictedUnpickler`; a damaged or cut-off file is named."""
    path = Path(path)
    with open(path, "rb") as handle:
        try:
            return RestrictedUnpickler(handle, source=str(path)).load()
        except UnsafePickleError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError) as error:
            raise UserError(f"{path}: not a readable pickle ({type(error).__name__}: {error}); the file is damaged, "
                            "cut off or not a pickle") from None


def safe_loads(data: bytes, source="pickle bytes"):
    return RestrictedUnpickler(io.BytesIO(data), source=source).load()
