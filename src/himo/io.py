"""Reading and writing files: outputs that a failure never leaves half-written, the CSV tables, netCDF.

The CSV tables of the workflow (results/robustness.csv, results/priority_ranks.csv,
results/baselines.csv) are written by :func:`csv_text` and read by :func:`read_csv`,
both through the :mod:`csv` module (so a text with a comma or a quote is quoted and
escaped); their floats, and those of results/claims.json, keep :data:`TABLE_DIGITS`
significant digits (:func:`table_number`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

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


def write_texts(texts: dict[str | os.PathLike, str]) -> None:
    """Write each text to its path, every file or none (:func:`atomic_output` for each,
    moved into place only once all are written)."""
    with contextlib.ExitStack() as stack:
        for path, text in texts.items():
            stack.enter_context(atomic_output(path)).write_text(text)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------ CSV tables
#: Floats in the written tables (CSV and JSON) keep this many significant digits.
TABLE_DIGITS = 6


def table_number(value: float) -> str:
    """A float as the tables write it: :data:`TABLE_DIGITS` significant digits (``0.9``, ``1.97405e-06``)."""
    return f"{float(value):.{TABLE_DIGITS}g}"


def csv_text(rows: Iterable[dict], columns: Sequence[str]) -> str:
    """The rows as CSV text with a header of ``columns`` (a column a row lacks is empty):
    floats by :func:`table_number`, NaN, infinities and None empty, booleans
    ``true``/``false``; the same rows give the same bytes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])
    return out.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return table_number(value) if math.isfinite(value) else ""
    return str(value)


def cell_number(text: str | None) -> float | None:
    """A number cell of a table read back (:func:`read_csv`): the float, or None for an
    empty cell (:func:`csv_text` writes None, NaN and infinities empty)."""
    return float(text) if text else None


def read_csv(path: str | os.PathLike, needs: Sequence[str] = (), error: type[HimoError] = HimoError
             ) -> list[dict[str, str]]:
    """The rows of a CSV table with a header, each ``{column: text}`` (an empty cell is
    ``""``); ``error``, naming the file, when it cannot be read or its header lacks a
    column of ``needs``."""
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            columns = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise error(f"{path}: not a readable CSV table ({err})") from None
    missing = [name for name in needs if name not in columns]
    if missing:
        raise error(f"{path}: the table misses the column(s) {', '.join(missing)}")
    return rows


#: The compression of large variables: zlib at level 1 with HDF5's byte shuffle for
#: numbers (byte k of every value together, so that the slowly varying sign, exponent
#: and leading mantissa bytes of a time series compress). Lossless and deterministic,
#: and readable by every netCDF-4/HDF5 reader without filter plugins. Measured on the
#: workflow's results (trajectories and measures, 204 files): 430 MB against 494 MB
#: with Zstandard at level 1, for which netCDF4-python applies no shuffle (it shuffles
#: only with zlib), and 425 MB at zlib level 4 for a fifth more time; writing them all
#: takes 15 s of CPU against 6 s (Blosc's Zstandard with its own shuffle is as small
#: and faster, but its bytes depend on BLOSC_NTHREADS: not reproducible).
COMPRESSION = {"zlib": True, "complevel": 1}


def compressed_encoding(ds: xr.Dataset, min_size: int = 1024) -> dict:
    """:data:`COMPRESSION` for every variable with at least ``min_size`` values, with
    the byte shuffle for numbers.

    Large string variables (such as ``pair_state(pair)`` of a large MDP) are
    stored as compressed character arrays: netCDF's variable-length strings cannot
    be compressed and cost tens of bytes each.
    """
    encoding = {}
    for name, var in ds.variables.items():
        if var.size < min_size:
            continue
        if var.dtype.kind in "fiub":
            encoding[name] = {**COMPRESSION, "shuffle": True}
        elif var.dtype.kind in "UO" and name not in ds.dims:
            encoding[name] = {**COMPRESSION, "dtype": "S1"}
    return encoding


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike) -> None:
    """Write ``ds`` to netCDF4 at ``path``, compressed and atomically."""
    with atomic_output(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=compressed_encoding(ds))


def read_netcdf(path: str | os.PathLike, what: str, error: type[HimoError] = HimoError,
                load_max_size: int | None = None) -> xr.Dataset:
    """Read a netCDF dataset into memory, or raise ``error`` naming the file.

    With ``load_max_size``, only the variables of at most that many values are
    read now; the larger ones (the time series of a long run) are read when first
    used, and the file stays open until the dataset is closed. A reader that needs
    a few small variables of many files (the claims) then reads only those.
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such {what} file")
    try:
        if load_max_size is None:
            with xr.open_dataset(path, engine="netcdf4") as opened:
                return opened.load()
        opened = xr.open_dataset(path, engine="netcdf4")
        for variable in opened.variables.values():
            if variable.size <= load_max_size:
                variable.load()
        return opened
    except (OSError, ValueError) as err:
        raise error(f"{path}: not a readable netCDF {what} file ({err})") from None
