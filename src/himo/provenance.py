"""Provenance: the package versions and parameters that made a result.

netCDF attributes can only be strings, numbers and arrays, so nested settings are
flattened to JSON strings. Nothing here records dates or host names, so that the
same inputs give identical files.
"""

from __future__ import annotations

import json
import platform
from importlib.metadata import PackageNotFoundError, version

TRACKED_PACKAGES = ("himo", "numpy", "scipy", "xarray", "netCDF4")


def package_versions() -> dict[str, str]:
    """``{"<package>_version": "x.y.z"}`` for the packages that compute results."""
    versions = {"python_version": platform.python_version()}
    for package in TRACKED_PACKAGES:
        try:
            versions[f"{package}_version"] = version(package)
        except PackageNotFoundError:
            versions[f"{package}_version"] = "not installed"
    return versions


def netcdf_attrs(values: dict) -> dict:
    """Attributes fit for netCDF: booleans as 0/1, None as "", the rest as JSON text."""
    out = {}
    for key, value in values.items():
        if isinstance(value, bool):
            out[key] = int(value)
        elif value is None:
            out[key] = ""
        elif isinstance(value, (str, int, float)):
            out[key] = value
        else:
            out[key] = json.dumps(value, sort_keys=True)
    return out
