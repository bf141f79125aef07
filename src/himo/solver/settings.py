"""The solver settings: the one definition of each setting of a HIMO run.

Every setting is a field of :class:`SolverSettings` with its type, its default, its
help text and its constraints (a JSON schema fragment). Everything else is derived
from these fields:

* :func:`setting_schemas` gives ``{name: JSON schema}`` (type, ``enum`` of the
  choices, bounds, ``description`` and ``default``), from which the workflow's
  config schema is built;
* :func:`himo.solve` takes them as keyword arguments, in the same order and with
  the same defaults, and its docstring's parameter entries are
  :func:`numpydoc_parameters`;
* ``himo solve`` has one option per setting (``--max-iter`` for ``max_iter``), with
  the type, choices and help of the field and the default appended.

:meth:`SolverSettings.__post_init__` checks each value against that same schema
(:func:`check_setting`), so a value the schema rejects is rejected here too, and
the other way round; it also rejects NaN and infinity, which JSON cannot carry.
One rule involves two settings and is checked only here: ``e_form="printed"``
needs ``method="newton"``.

**The defaults converge like policy iteration.** With no options a run re-chooses
each state's dependent action as its most probable one before every step
(``argmax``), takes Eq. 20's printed step ``alpha = 1`` (halved only where it would
leave the feasible set) while the policy flow is fast and a geometrically growing
one once it is slow (``step_rule="geometric"``, docs/MATH.md "The step schedule"),
and stops once no action improves its state by more than ``tol (1 - lambda) |R(A)|``,
which puts every value within ``tol = 1e-8`` of the optimum relative to the objective
(docs/MATH.md, "Convergence criterion"). ``python -m benchmarks.convergence``
measures the iterations this takes against policy iteration (benchmarks/RESULTS.md).
The fixed step (``step_rule="fixed"``) and the fixed dependent rules ``last`` and
``first`` remain selectable: with a fixed dependent action that is not optimal the
discrete step stalls, or Eq. 19 loses its digits, before convergence (a documented
finding).
"""

from __future__ import annotations

import math
import re
import textwrap
import typing
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np

from himo.errors import ParameterError
from himo.solver.counters import EForm
from himo.solver.linear import LINEAR_SOLVER_HELP, LinearSolverName
from himo.solver.policy import DependentRule
from himo.solver.steps import GROWTH_FACTOR, SLOW_SPEED, Method, StepRule


def _setting(default: Any, help: str, **constraints: Any):
    """A settings field: ``default``, a one-paragraph ``help`` and JSON-schema ``constraints``."""
    return field(default=default, metadata={"help": help, "constraints": constraints})


@dataclass(frozen=True)
class SolverSettings:
    """The settings of one HIMO run (checked on construction; see :func:`setting_schemas`)."""

    lam: float = _setting(
        0.9,
        "the foresight lambda in (0, 1): after each step the path goes on with probability "
        "lambda and ends with probability 1 - lambda (paper section 7.2), so that the "
        "successor representation of Algorithm 1 is D = (I - lambda T)^-1",
        exclusiveMinimum=0, exclusiveMaximum=1,
    )
    method: Method = _setting(
        "natural",
        "newton: Algorithm 1 as printed (dense C and I, Eq. 19-20); natural: the same step "
        "computed exactly and sparsely as the advantage Q - V; multiplicative: "
        "pi <- pi exp(alpha (Q - V)) / Z, which is always feasible; two first-order "
        "baselines: gradient, A_free <- A_free + alpha g with g the path gradient of "
        "Eq. 18 (no Fisher information), and softmax, vanilla policy gradient "
        "theta <- theta + alpha D_0i pi (Q - V) with pi ~ exp(theta)",
    )
    step: float = _setting(
        1.0,
        "the step size alpha of each iteration (Eq. 20 is printed with 1); for newton and "
        "natural it is halved when a step would leave the feasible set",
        exclusiveMinimum=0,
    )
    step_rule: StepRule = _setting(
        "geometric",
        "how step sets each iteration's step size alpha_k: geometric, alpha_k = step while the "
        f"policy flow is fast, then growing by a factor {GROWTH_FACTOR:g} per iteration once no "
        f"probability moves faster than {SLOW_SPEED:g} per unit of planning time (the natural "
        "gradient's infinite step is policy iteration, so the run ends like policy iteration; the "
        "first-order methods' growth is capped by the bounded rule); fixed, alpha_k = step; bounded, "
        "alpha_k = min(step / tol, step / max |d|) with d the direction alpha multiplies (the "
        "free preferences' for newton, natural and gradient, the logits' for multiplicative "
        "and softmax), so that no preference or logit changes by more than step in one "
        "iteration (coarse steps where the flow is slow, fine ones where it is fast; the cap "
        "step / tol keeps a vanishing direction's rounding noise from being blown up). "
        "Planning time is the sum of the steps taken either way, and the halving rule still "
        "applies on top",
    )
    max_iter: int = _setting(
        20_000,
        "stop after this many iterations if the run has not converged",
        minimum=0,
    )
    tol: float = _setting(
        1e-8,
        "the convergence tolerance, relative to the problem's scale: a run of newton, natural or "
        "multiplicative has converged once no action improves its state by more than "
        "tol (1 - lambda) |R(A)| (Q - V), which puts every value within tol |R(A)| of the "
        "optimum; a first-order run once its occupancy-weighted flow speed is below tol times "
        "its peak",
        exclusiveMinimum=0,
    )
    dependent: DependentRule = _setting(
        "argmax",
        "the dependent action of each state (Eq. 4): argmax, its most probable action, "
        "re-chosen before every step; last or first, its last or first available action, "
        "fixed for the whole run (a documented finding: with a fixed dependent action that "
        "is not optimal the run stalls or loses its digits before convergence)",
    )
    e_form: EForm = _setting(
        "exact",
        "E of Algorithm 1: exact (with the factor lambda) or printed (without it, the "
        "erratum); printed changes only method newton",
    )
    storage_budget: float = _setting(
        256.0,
        "the most memory, in MB (10^6 bytes), that the trajectory's stored iterations may take, "
        "during the run and in the file before compression; a run that would take more thins "
        "its stored iterations where the policy moves least, keeping the first, the last and "
        "those each state's measures read, such as its peak of dPD/dt and two iterations on "
        "each side (himo.solver.storage)",
        exclusiveMinimum=0,
    )
    linear_solver: LinearSolverName = _setting("auto", LINEAR_SOLVER_HELP)
    prior_seed: int = _setting(
        0,
        "where the run starts: 0, the uniform prior of Eq. 22 (pi_ij = 1 / |A_i|); a positive seed, a "
        "prior drawn near it, each state's action probabilities from a symmetric Dirichlet distribution "
        "of total concentration prior_concentration, by numpy.random.default_rng(prior_seed) "
        "(himo.solver.policy.prior_policy): how firm the priorities are against the start",
        minimum=0,
    )
    prior_concentration: float = _setting(
        100.0,
        "the total concentration c of a drawn prior (prior_seed > 0): each state's k action "
        "probabilities are Dirichlet(c/k, ..., c/k), whose mean is the uniform prior and whose "
        "standard deviation is sqrt((1/k)(1 - 1/k) / (c + 1)) (0.043 for c = 100, k = 4); "
        "larger is nearer the uniform prior",
        exclusiveMinimum=0,
    )

    def __post_init__(self) -> None:
        for name, schema in setting_schemas().items():
            object.__setattr__(self, name, check_setting(name, getattr(self, name), schema))
        if self.e_form == "printed" and self.method != "newton":
            raise ParameterError("e_form='printed' changes only method='newton' (the others do not use C)")


# ------------------------------------------------------------------ derived
_JSON_TYPES = {float: "number", int: "integer"}


def setting_schemas() -> dict[str, dict]:
    """``{name: JSON schema}`` of every solver setting, in field order.

    Each schema has ``description`` (the help text), ``type``, ``enum`` for a
    setting with a fixed set of choices, the bounds, and ``default``.
    """
    hints = typing.get_type_hints(SolverSettings)
    return {f.name: _schema(hints[f.name], f) for f in fields(SolverSettings)}


def _schema(hint: Any, f) -> dict:
    if typing.get_origin(hint) is Literal:
        kind: dict = {"type": "string", "enum": list(typing.get_args(hint))}
    else:
        kind = {"type": _JSON_TYPES[hint]}
    return {"description": f.metadata["help"], **kind, **f.metadata["constraints"], "default": f.default}


def setting_defaults() -> dict[str, Any]:
    """``{name: default}`` of every solver setting, in field order."""
    return {f.name: f.default for f in fields(SolverSettings)}


def check_setting(name: str, value: Any, schema: dict | None = None) -> Any:
    """``value`` if it is a valid setting ``name`` (an integral float becomes an ``int``).

    Interprets the keywords :func:`setting_schemas` uses (``type``, ``enum``,
    ``minimum``, ``exclusiveMinimum``, ``exclusiveMaximum``) as JSON Schema does,
    and also rejects NaN and infinity; raises :class:`~himo.errors.ParameterError`
    naming the setting and what it must be.
    """
    schema = setting_schemas()[name] if schema is None else schema
    if "enum" in schema:
        if value not in schema["enum"] or not isinstance(value, str):
            raise ParameterError(f"{name} must be one of {tuple(schema['enum'])}, got {value!r}")
        return value
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if schema["type"] == "integer":
        if is_number and not isinstance(value, (int, np.integer)) and math.isfinite(value) and value == int(value):
            value = int(value)  # JSON Schema counts 3.0 as an integer
        ok = is_number and isinstance(value, (int, np.integer))
    else:
        ok = is_number and math.isfinite(value)
    ok = ok and _within_bounds(value, schema)
    if not ok:
        raise ParameterError(f"{name} must be {requirement(schema)}, got {value!r}")
    return int(value) if schema["type"] == "integer" else value


def _within_bounds(value, schema: dict) -> bool:
    return (
        value >= schema.get("minimum", -math.inf)
        and value > schema.get("exclusiveMinimum", -math.inf)
        and value < schema.get("exclusiveMaximum", math.inf)
    )


def requirement(schema: dict) -> str:
    """What a value must be, in words: ``"a finite number in (0, 1)"``, ``"an integer >= 1"``."""
    if "enum" in schema:
        return f"one of {tuple(schema['enum'])}"
    noun = "an integer" if schema["type"] == "integer" else "a finite number"
    low, high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if low is not None and high is not None:
        return f"{noun} in ({low}, {high})"
    bounds = [f"> {low}" if low is not None else None, f">= {schema['minimum']}" if "minimum" in schema else None,
              f"< {high}" if high is not None else None]
    return " ".join([noun, " and ".join(b for b in bounds if b)]).strip()


def numpydoc_parameters(indent: str = "    ") -> str:
    """The numpydoc ``Parameters`` entries of the settings, from their help texts:
    each name at ``indent``, its help four spaces further in."""
    body_indent = indent + "    "
    entries = []
    for name, schema in setting_schemas().items():
        body = textwrap.fill(schema["description"] + ".", width=88, initial_indent=body_indent,
                             subsequent_indent=body_indent, break_long_words=False, break_on_hyphens=False)
        entries.append(f"{indent}{name}\n{body}")
    return "\n".join(entries)


def document_settings(function):
    """Decorator: replace the line ``{solver_settings}`` of ``function``'s docstring by
    :func:`numpydoc_parameters`, at that line's indentation."""
    function.__doc__ = re.sub(
        r"^([ \t]*)\{solver_settings\}$",
        lambda match: numpydoc_parameters(match.group(1)),
        function.__doc__,
        count=1,
        flags=re.MULTILINE,
    )
    return function


def cli_flag(name: str) -> str:
    """The command-line option of setting ``name``: ``max_iter`` -> ``--max-iter``."""
    return "--" + name.replace("_", "-")
