"""The HIMO iteration loop: from the prior (Eq. 22) to convergence.

Each iteration evaluates the policy exactly (:mod:`himo.solver.evaluation`, with
one :class:`~himo.solver.linear.LinearSolver` for the whole run, so that an
iterative solve starts from the previous iteration's solution), stops
if the policy flow has come to rest, and otherwise takes one step of the chosen
method (:mod:`himo.solver.steps`), of the size the ``step_rule`` gives
(:class:`~himo.solver.steps.StepSchedule`: ``geometric``, ``step`` until the flow is
slow and then growing; ``fixed``: ``step``; ``bounded``: ``step`` divided by the
direction's largest entry). Planning time is the sum of the step sizes taken. The
settings of a run, and their defaults, are defined in :mod:`himo.solver.settings`.

**Dependent actions.** With ``argmax`` (the default) they are re-chosen before every
step; with a fixed rule (``last``, ``first``) they are chosen once (see
:func:`himo.solver.policy.dependent_pairs`).

**Convergence** (:func:`~himo.solver.steps.rest_test`, docs/MATH.md "Convergence
criterion"). A HIMO run has converged when no action improves its state by more
than ``tol (1 - lambda) |R(A)|``: every value is then within ``tol |R(A)|`` of the
optimum (the performance-difference lemma), and the speed of the policy flow,
``max_ij |pi_ij (Q_ij - V_i)|`` (docs/MATH.md, identity 5), is below that threshold
too. For the first-order baselines (``gradient``, ``softmax``) the speed and the
improving actions are weighted by the occupancy ``D_0i``, as their flows are
(:func:`~himo.solver.steps.rest_weight`), and ``tol`` is relative to the largest
weighted speed the run has had: on their plateau the weighted speed is
exponentially small in the distance to the reward, and an absolute ``tol`` would
take the uniform prior for a flow at rest. Otherwise the loop stops after ``max_iter``
steps (``max_iter``); for ``newton`` when Eq. 19 is ill-conditioned
(``ill_conditioned``: a fixed dependent action's probability has gone to 0, see
:data:`himo.solver.steps.RATIO_LIMIT`); when no feasible step is left (``stalled``,
see :mod:`himo.solver.steps`); or when the flow is slow only because every action
that would improve its state has a probability of exactly 0 (``underflow``: no
step can bring it back, a smaller ``step`` avoids it). :class:`Run` says which
happened.

**Log-linear policies.** With ``features`` (:mod:`himo.solver.features`) the policy is
``pi_ij ~ exp(phi_ij . theta)`` from ``theta = 0``, and each step is the natural path
gradient in ``theta``, ``theta += alpha I_theta^+ g_theta`` (docs/MATH.md, identity 12): always
feasible, so never halved. The compatible advantage takes the place of ``Q - V`` in the
flow's speed, the step rule and the convergence test (:func:`~himo.solver.features.feature_flow`),
and the run records ``theta`` beside the policy.

**Storage.** Every iteration is recorded in the :class:`Run`, which holds at most as
many as ``storage_budget`` allows: a longer run is thinned as it goes
(:mod:`himo.solver.storage`).
"""

from __future__ import annotations

import sys
import time as wallclock
from dataclasses import dataclass, field

import numpy as np

from himo.errors import ParameterError
from himo.mdp import MDP
from himo.solver.evaluation import evaluate
from himo.solver.features import Features, check_feature_method, feature_flow, feature_policy
from himo.solver.linear import LinearSolver, LinearSolveRecord, choose_linear_solver
from himo.solver.policy import dependent_pairs, free_pairs, prior_policy, validate_policy
from himo.solver.settings import SolverSettings
from himo.solver.storage import THINNED_FRACTION, storage_capacity, thinned_positions
from himo.solver.steps import (
    STATE_AVERAGED_METHODS,
    Rest,
    Step,
    StepFailed,
    StepSchedule,
    flow_speed,
    gradient_direction,
    logit_step,
    kakade_direction,
    multiplicative_direction,
    natural_pair_direction,
    newton_direction,
    pair_preference_step,
    preference_step,
    rest_test,
    rest_weight,
    softmax_direction,
)


#: With ``progress=True``, at most one line per this many seconds (plus the first and the last).
PROGRESS_INTERVAL = 1.0


@dataclass
class Run:
    """The stored iterations of one HIMO run: every iteration while they fit the storage
    budget (``capacity`` of them), else those a thinning keeps (:mod:`himo.solver.storage`)."""

    iteration: list[int] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    step_size: list[float] = field(default_factory=list)
    policy: list[np.ndarray] = field(default_factory=list)
    objective: list[float] = field(default_factory=list)
    occupancy: list[np.ndarray] = field(default_factory=list)
    flow_speed: list[float] = field(default_factory=list)
    dependent: np.ndarray | None = None  # the initial choice
    dependent_history: list[np.ndarray] = field(default_factory=list)  # per stored iteration, chosen from its policy
    divergence: list[np.ndarray | None] = field(default_factory=list)  # PD per stored iteration, once a thinning needs it
    theta: list[np.ndarray | None] = field(default_factory=list)  # a log-linear run's parameters (None: tabular)
    converged: bool = False
    stop_reason: str = "max_iter"  # or "converged", "ill_conditioned", "stalled", "underflow"
    stop_note: str = ""
    n_iterations: int = 0
    linear_solver: str = "direct"  # the linear solver chosen ("auto" resolved)
    linear: LinearSolveRecord = field(default_factory=LinearSolveRecord)  # what the solves did
    capacity: int | None = None  # how many iterations the storage budget holds (None: no bound)
    thinning_passes: int = 0  # how often the stored iterations were thinned
    measured_dropped: int = 0  # stored iterations that states' measures read, dropped by a thinning short of room

    def keep(self, positions: np.ndarray) -> None:
        """Keep only the stored iterations at ``positions`` (ascending)."""
        for name in STORED_SERIES:
            values = getattr(self, name)
            setattr(self, name, [values[k] for k in positions])


#: The per-iteration series of a :class:`Run`, one entry per stored iteration.
STORED_SERIES = ("iteration", "time", "step_size", "policy", "objective", "occupancy", "flow_speed",
                 "dependent_history", "divergence", "theta")


def run_himo(
    mdp: MDP,
    settings: SolverSettings,
    initial_policy: np.ndarray | None = None,
    progress: bool = False,
    features: Features | None = None,
) -> Run:
    """Iterate HIMO from ``initial_policy`` (default: the prior of the settings, the uniform
    one of Eq. 22 unless ``prior_seed`` draws one near it: :func:`~himo.solver.policy.prior_policy`),
    or, with ``features``, the log-linear policy from ``theta = 0`` (the uniform prior)."""
    if initial_policy is not None and settings.prior_seed:
        raise ParameterError("give either an initial policy or prior_seed, not both: each sets where the run starts")
    theta = None
    if features is not None:
        check_feature_method(settings.method)
        if initial_policy is not None or settings.prior_seed:
            raise ParameterError("a log-linear run (features) starts at theta = 0, the uniform prior: "
                                 "it takes no initial_policy nor prior_seed")
        theta = np.zeros(features.n_features)
        policy = feature_policy(mdp, features, theta)
    else:
        policy = (prior_policy(mdp, settings.prior_seed, settings.prior_concentration) if initial_policy is None
                  else validate_policy(mdp, initial_policy))
    adaptive = settings.dependent == "argmax"
    dependent = dependent_pairs(mdp, settings.dependent, policy)
    run = Run(dependent=dependent, capacity=storage_capacity(mdp, settings.storage_budget))
    planning_time, size, peak_speed = 0.0, 0.0, 0.0
    schedule = StepSchedule(settings.step_rule, settings.step, settings.tol, settings.method in STATE_AVERAGED_METHODS)
    started = reported = wallclock.perf_counter()
    linear = LinearSolver(choose_linear_solver(settings.linear_solver, mdp.n_states, settings.lam), lam=settings.lam)
    run.linear = linear.record
    evaluation = evaluate(mdp, policy, settings.lam, linear)
    run.linear_solver = linear.choice  # (auto may decide with the first evaluation's LU)
    for iteration in range(settings.max_iter + 1):
        if adaptive:  # re-chosen from this iteration's policy: recorded with it, used by its step
            dependent = evaluation.most_probable  # dependent_pairs(mdp, "argmax", policy), found by the evaluation
        # the flow as the run moves it: Q - V, or a log-linear run's compatible advantage
        direction, flow = (None, evaluation) if features is None else feature_flow(mdp, features, policy, evaluation)
        speed = flow_speed(policy, flow, rest_weight(mdp, settings.method, flow))
        peak_speed = max(peak_speed, speed)
        rest = rest_test(mdp, settings.method, policy, flow, settings.lam, settings.tol, speed, peak_speed)
        run.converged = rest.converged
        if rest.lost is not None:
            run.stop_reason = "underflow"
            run.stop_note = f"stopped at iteration {iteration}: {_underflow_note(mdp, flow, rest.lost)}"
        elif iteration == settings.max_iter and not run.converged:
            run.stop_note = f"stopped at iteration {iteration}: {_unfinished_note(settings.method, flow, rest)}"
        last = run.converged or run.stop_reason == "underflow" or iteration == settings.max_iter
        _record(run, mdp, iteration, planning_time, size, policy, evaluation, speed, dependent, theta)
        if progress and (last or iteration == 0 or wallclock.perf_counter() - reported >= PROGRESS_INTERVAL):
            _report(iteration, evaluation.objective, speed, started, final=last)
            reported = wallclock.perf_counter()
        if last:
            break
        try:
            if features is None:
                step = _take_step(mdp, policy, settings, dependent, evaluation, schedule, speed)
            else:
                theta, step = _take_feature_step(mdp, features, theta, direction, schedule.size(direction, speed, flow))
        except StepFailed as err:
            run.stop_reason = err.reason
            run.stop_note = f"stopped at iteration {iteration}: {err}"
            break
        policy, size = step.policy, step.size
        schedule.taken(size)
        planning_time += size
        evaluation = evaluate(mdp, policy, settings.lam, linear)
    if run.converged:
        run.stop_reason = "converged"
    run.n_iterations = iteration
    return run


def _underflow_note(mdp: MDP, evaluation, improving: np.ndarray) -> str:
    """Which lost action would improve its state most, in words."""
    x = int(np.flatnonzero(improving)[np.argmax(evaluation.advantage[improving])])
    return (f"the flow is slow only because {int(improving.sum())} action(s) that would improve their state "
            f"have probability 0 (underflow), e.g. {mdp.action_labels[mdp.pair_action[x]]!r} in state "
            f"{mdp.state_labels[mdp.pair_state[x]]!r}, whose Q - V is {evaluation.advantage[x]:.3g}")


def _take_step(mdp, policy, settings, dependent, evaluation, schedule: StepSchedule, speed: float):
    def size(direction):  # the step this iteration starts from, by the step rule
        return schedule.size(direction, speed, evaluation)

    if settings.method in ("multiplicative", "softmax", "kakade"):  # every logit moves: no free/dependent split
        if settings.method == "multiplicative":
            direction = multiplicative_direction(evaluation)
        elif settings.method == "kakade":
            direction = kakade_direction(mdp, policy, evaluation, settings.lam)
        else:
            direction = softmax_direction(mdp, policy, evaluation)
        return logit_step(mdp, policy, direction, size(direction))
    if settings.method == "natural":  # on whole pair vectors: no gathers of the free pairs
        direction = natural_pair_direction(evaluation, dependent)
        return pair_preference_step(mdp, policy, dependent, direction, size(direction))
    free = free_pairs(mdp, dependent)
    if settings.method == "gradient":
        direction = gradient_direction(mdp, policy, evaluation, dependent, free)
    elif settings.method == "newton":
        direction = newton_direction(mdp, policy, settings.lam, dependent, free, evaluation, settings.e_form)
    return preference_step(mdp, policy, dependent, free, direction, size(direction))


def _take_feature_step(mdp: MDP, features: Features, theta: np.ndarray, direction: np.ndarray,
                       size: float) -> tuple[np.ndarray, Step]:
    """``theta += alpha w`` and the log-linear policy of the new ``theta`` (always feasible)."""
    theta = theta + size * direction
    return theta, Step(policy=feature_policy(mdp, features, theta), size=size, halvings=0)


def _unfinished_note(method: str, evaluation, rest: Rest) -> str:
    """Why a run that reached ``max_iter`` has not converged, in words."""
    if method in STATE_AVERAGED_METHODS:
        return f"the weighted flow speed is still above tol times its peak, {rest.threshold:.3g}"
    return (f"an action still improves its state by {float(evaluation.advantage.max()):.3g}, more than "
            f"tol (1 - lambda) |R(A)| = {rest.threshold:.3g}")


def _record(run: Run, mdp: MDP, iteration, planning_time, size, policy, evaluation, speed, dependent,
            theta=None) -> None:
    """Store this iteration; if the stored ones fill the run's capacity, thin them first
    (:func:`himo.solver.storage.thinned_positions`), so that at most ``capacity`` are held."""
    if run.capacity is not None and len(run.iteration) >= run.capacity:
        kept, measured_dropped = thinned_positions(mdp, run.policy, run.occupancy, run.divergence, run.time,
                                                 int(THINNED_FRACTION * run.capacity))
        run.keep(kept)
        run.thinning_passes += 1
        run.measured_dropped += measured_dropped
    run.iteration.append(iteration)
    run.dependent_history.append(dependent)
    run.time.append(planning_time)
    run.step_size.append(size)
    run.policy.append(policy)
    run.objective.append(evaluation.objective)
    run.occupancy.append(evaluation.occupancy)
    run.flow_speed.append(speed)
    run.divergence.append(None)
    run.theta.append(theta)


def _report(iteration: int, objective: float, speed: float, started: float, final: bool = False) -> None:
    """One progress line on stderr; the loop calls it for the first iteration, the
    last, and otherwise at most once per :data:`PROGRESS_INTERVAL` seconds."""
    elapsed = wallclock.perf_counter() - started
    per_iteration = elapsed / iteration if iteration else 0.0
    print(
        f"iteration {iteration:6d}  objective {objective:.8g}  flow speed {speed:.3e}  "
        f"{per_iteration:.4f} s/iteration  {elapsed:.1f} s{'  (last)' if final else ''}",
        file=sys.stderr,
        flush=True,
    )
