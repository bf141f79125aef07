"""The paper's figures, laid out from the panels of :mod:`himo.plotting.panels`.

One function draws every figure: :func:`dynamics_figure` lays out, for any
environment (the paper's or a user's),

    A  state space          B  PD (or PD~)      C  dPD/dt
    D  value and priorities E  CD (or CD~)      F  dCD/dt

(panel D labels the states the paper's claims name, :func:`claimed_states`, and zooms
where the priority dots crowd), and the paper's figures are that function with the paper's choices, made by flags
rather than by environment name: :func:`figure_1` (Tower of Hanoi: normalized PD~
and CD~, bottlenecks dotted), :func:`figure_2` (room world: raw PD and CD) and
:func:`figure_s1` (wormhole: raw, bottlenecks in short dashes, wormhole states in
long dashes). Bottleneck line styles follow the data by default: short dashes when
the dataset has wormhole states (so they stay distinct from the long dashes), dots
otherwise.

:func:`save_figure` writes PNG and PDF deterministically: the same data give the
same bytes (no software, date or producer metadata, a fixed dpi, the Agg and PDF
backends only).
"""

from __future__ import annotations

import contextlib
import os
from importlib import resources
from pathlib import Path
from typing import Iterator

import matplotlib
import matplotlib.style
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from himo.measures.dataset import TIME_SERIES, time_series
from himo.plotting import panels

#: The house style, shipped with the package.
STYLE_PATH = Path(str(resources.files("himo.plotting").joinpath("himo.mplstyle")))
#: Panel layout (``subplot_mosaic``): A graph, B-C PD and dPD/dt, D value, E-F CD and dCD/dt.
MOSAIC = [["A", "B", "C"], ["D", "E", "F"]]
#: The width of every figure, inches: the NeurIPS text width.
TEXT_WIDTH = 7.2
FIGSIZE = (TEXT_WIDTH, 4.6)  # inches
DPI = 200
PNG_METADATA = {"Software": None}
PDF_METADATA = {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Draw (and save) inside this context to use the house style from defaults."""
    with matplotlib.style.context(["default", str(STYLE_PATH)]):
        yield


def dynamics_figure(
    measures: xr.Dataset,
    normalized: bool = True,
    bottleneck_style=None,
    wormhole_style=panels.LONG_DASHES,
    t_max: float | None = None,
    title: str | None = None,
) -> Figure:
    """The six-panel figure of a run's measures (Figs. 1, 2, S1 are instances).

    ``normalized`` picks PD~/CD~ (Eq. 14) over PD/CD (Eqs. 12-13);
    ``bottleneck_style`` None means short dashes when there are wormhole states,
    dots otherwise; ``t_max`` crops the planning-time axis (default:
    :func:`active_time`, where the dynamics have settled; ``inf`` for the whole run).
    """
    if t_max is None:
        t_max = active_time(measures, normalized)
    t_max = float(min(t_max, float(measures["time"].values[-1])))
    if bottleneck_style is None:
        bottleneck_style = panels.SHORT_DASHES if panels.wormhole_states(measures).any() else panels.DOTTED
    styles = panels.state_styles(measures, bottleneck_style=bottleneck_style, wormhole_style=wormhole_style)
    with house_style():
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        axes = fig.subplot_mosaic(MOSAIC)
        panels.plot_state_space(axes["A"], measures, styles)
        panels.plot_policy_divergence(axes["B"], measures, normalized, styles, t_max)
        panels.plot_policy_divergence_rate(axes["C"], measures, normalized, styles, t_max)
        panels.plot_value(axes["D"], measures, styles, t_max, claimed=claimed_states(measures))
        panels.plot_counter_difference(axes["E"], measures, normalized, styles, t_max)
        panels.plot_counter_difference_rate(axes["F"], measures, normalized, styles, t_max)
        for label, ax in axes.items():
            ax.set_title(label, loc="left", fontweight="bold")
        if title:
            fig.suptitle(title)
    return fig


def claimed_states(measures: xr.Dataset) -> list[tuple[int, str]]:
    """The states the paper's claims name on this run, with their roles (the Hanoi
    bridge, the doorways into the goal room, the wormhole's entrance and exit:
    :func:`himo.verdicts.judging.claimed_states` over :data:`himo.verdicts.claims.CLAIMS`);
    none for a run of no paper environment. Panel D labels them."""
    from himo.verdicts.claims import CLAIMS
    from himo.verdicts.judging import claimed_states as named

    return named(measures, CLAIMS)


def active_time(measures: xr.Dataset, normalized: bool = True, fraction: float = 0.01,
                margin: float = 1.2) -> float:
    """The planning time by which the run has settled, times ``margin``, at most the end.

    Settled: every plotted rate (dPD/dt, dCD/dt) is below ``fraction`` of its largest
    absolute value over all states and times, and the policy value is within
    ``fraction`` of its total change from its final value.
    """
    time = np.asarray(measures["time"].values, dtype=float)
    late = [time[0]]
    rates = [f"d{b}_norm_dt" if normalized else f"d{b}_dt" for b in ("PD", "CD")]
    for name in rates:
        if TIME_SERIES[name].base in measures:
            envelope = np.nanmax(np.abs(time_series(measures, name).values), axis=1)
            if np.nanmax(envelope) > 0:
                late.append(time[np.flatnonzero(envelope > fraction * np.nanmax(envelope))].max())
    value = np.asarray(measures["objective"].values, dtype=float)
    change = abs(value[-1] - value[0])
    if change > 0:
        late.append(time[np.flatnonzero(np.abs(value - value[-1]) > fraction * change)].max())
    end = float(max(late)) * margin
    return float(min(end, time[-1])) if end > time[0] else float(time[-1])


def figure_1(measures: xr.Dataset, **kwargs) -> Figure:
    """Fig. 1 (Tower of Hanoi): normalized PD~ and CD~, bottlenecks dotted."""
    return dynamics_figure(measures, normalized=True, **kwargs)


def figure_2(measures: xr.Dataset, **kwargs) -> Figure:
    """Fig. 2 (room world): PD and CD not normalized, bottlenecks dotted."""
    return dynamics_figure(measures, normalized=False, **kwargs)


def figure_s1(measures: xr.Dataset, **kwargs) -> Figure:
    """Fig. S1 (wormhole): as Fig. 2, bottlenecks in short dashes, wormhole states long."""
    kwargs.setdefault("bottleneck_style", panels.SHORT_DASHES)
    return dynamics_figure(measures, normalized=False, **kwargs)


def save_figure(fig: Figure, png: str | os.PathLike | None = None, pdf: str | os.PathLike | None = None,
                dpi: int = DPI) -> None:
    """Write ``fig`` as PNG and/or PDF, byte-for-byte reproducibly.

    The format is given explicitly, so the paths may have any suffix (e.g. the
    temporary files of :func:`himo.io.atomic_output`).
    """
    with house_style():
        if png is not None:
            fig.savefig(png, format="png", dpi=dpi, metadata=PNG_METADATA)
        if pdf is not None:
            fig.savefig(pdf, format="pdf", dpi=dpi, metadata=PDF_METADATA)


def write_figure(fig: Figure, png: str | os.PathLike, pdf: str | os.PathLike | None = None,
                 texts: dict[str | os.PathLike, str] | None = None) -> None:
    """Write ``fig`` as PNG (and PDF) with :func:`save_figure`, and the ``texts``
    ({path: text}, e.g. a table drawn in the figure), all or none: each file goes into
    place (:func:`himo.io.atomic_output`) only once every one has been written."""
    from himo.io import atomic_output

    with contextlib.ExitStack() as stack:
        png_tmp = stack.enter_context(atomic_output(png))
        pdf_tmp = stack.enter_context(atomic_output(pdf)) if pdf is not None else None
        for path, text in (texts or {}).items():
            stack.enter_context(atomic_output(path)).write_text(text)
        save_figure(fig, png=png_tmp, pdf=pdf_tmp)
