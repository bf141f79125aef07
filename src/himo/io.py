"""Writing files so that a failure never leaves a half-written output behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

import xarray as xr

from himo.errors import HimoError


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def compressed_encoding(ds: xr.Dataset, min_size: int = 1024) -> dict:
    """zlib compression for every variable with at least ``min_size`` values.

    Large string variables (such as ``dependent_action(iteration, state)``) are
    stored as compressed character arrays: netCDF's variable-length strings cannot
    be compressed and cost tens of bytes each.
    """
    encoding = {}
    for name, var in ds.variables.items():
        if var.size < min_size:
            continue
        if var.dtype.kind in "fiub":
            encoding[name] = {"zlib": True, "complevel": 4, "shuffle": True}
        elif var.dtype.kind in "UO" and name not in ds.dims:
            encoding[name] = {"zlib": True, "complevel": 4, "dtype": "S1"}
    return encoding


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike) -> None:
    """Write ``ds`` to netCDF4 at ``path``, compressed and atomically."""
    with atomic_output(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=compressed_encoding(ds))


def read_netcdf(path: str | os.PathLike, what: str, error: type[HimoError] = HimoError) -> xr.Dataset:
    """Read a whole netCDF dataset into memory, or raise ``error`` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such {what} file")
    try:
        with xr.open_dataset(path, engine="netcdf4") as opened:
            return opened.load()
    except (OSError, ValueError) as err:
        raise error(f"{path}: not a readable netCDF {what} file ({err})") from None
