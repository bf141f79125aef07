"""One HIMO iteration: the three ways to take the natural path gradient step.

``newton``
    Algorithm 1 as printed: dense ``C``, ``I = B C B^T`` (Eq. 19), ``g = B C R``
    (Eq. 18), direction ``I^-1 g`` on the free preferences (Eq. 20).
``natural``
    The same direction computed exactly without ``C`` or ``I``: by the block
    structure of the Fisher information it is the advantage ``Q_ij - V_i``
    (docs/MATH.md, identity 4), one sparse factorization per iteration.
``multiplicative``
    ``pi_ij <- pi_ij exp(alpha (Q_ij - V_i)) / Z_i`` for every action, which follows
    the same policy flow to first order in ``alpha`` and is always feasible
    (identity 5).

Two first-order baselines, for comparison with the natural (second-order) step:

``gradient``
    Path-gradient ascent in the paper's own parametrization, ``A_free += alpha g``
    with ``g`` the path gradient of Eq. 18 and no Fisher information. Its closed
    form is ``g_ij = D_0i pi_ij (Q_ij - Q_iw(i))`` (docs/MATH.md, identity 7): unlike the natural
    step it depends on which action is dependent, and it is weighted by the
    occupancy ``D_0i``, so states far from the start move slowly. It shares the
    step rule (halving to stay feasible) of ``newton`` and ``natural``.
``softmax``
    Vanilla policy gradient in the softmax parametrization ``pi_ij ~ exp(theta_ij)``:
    ``theta_ij += alpha D_0i pi_ij (Q_ij - V_i)`` for every action (identity 8),
    always feasible. The natural gradient in this parametrization drops the factor
    ``D_0i pi_ij`` and gives the ``multiplicative`` step.

And the state-averaged natural policy gradient the paper's Discussion sets HIMO
against:

``kakade``
    Kakade's (2001) natural policy gradient in the softmax parametrization:
    ``theta += alpha F^+ g`` with ``g`` the softmax policy gradient (identity 8) and
    ``F = sum_i d_i F_i`` the Fisher information of the policy averaged over the
    normalized discounted state distribution ``d_i = (1 - lambda) D_0i``, ``F_i =
    diag(pi_i) - pi_i pi_i^T`` (``F^+``: the minimum-norm solution, computed block by
    block with a pseudo-inverse, :func:`kakade_direction`). It moves no state the
    start never reaches (``d_i = 0``); elsewhere it equals ``multiplicative`` with its
    step divided by ``1 - lambda`` (docs/MATH.md, identity 11).

**Step size.** Each iteration starts from the step its :class:`StepSchedule` gives
(the setting ``step_rule``: by default ``step`` while the flow is fast, then growing
geometrically, docs/MATH.md "The step schedule").

**Halving (newton and natural).** Eq. 20 is printed with step size 1. A step of
size ``alpha`` on the free preferences, ``A_free += alpha * direction``, may leave
the feasible set (``sum_{j != w} exp(A_ij) >= 1``: no probability left for the
dependent action). The step starts at the configured ``step`` and is halved, for
the whole iteration, until every state keeps at least ``BOUNDARY_FRACTION`` of its
dependent action's probability (a fraction-to-the-boundary rule, as in interior
point methods); the step taken is recorded, and planning time is the sum of steps.

With a fixed dependent action that is not optimal, its probability absorbs the
second-order error ``alpha^2/2 sum_j pi_ij d_ij^2`` of every other action at each
step, falls to the boundary far faster than the flow says, and the halvings then
freeze planning time: the run stops as ``stalled``. The ``argmax`` rule of
:func:`himo.solver.policy.dependent_pairs` avoids this.

**Unreachable states.** A state the start never reaches (``D_0i = 0``) has a zero
Fisher block: the printed step is undefined there. Both ``newton`` and ``natural``
then step along the advantage, the limit of giving the state a vanishing start
probability, so that its policy still converges and nothing is NaN. ``newton``
does the same for every pair whose expected count ``<n_ij> = D_0i pi_ij`` is
positive but below ``occupancy_floor`` times the largest occupancy: its row and
column of ``I`` are below the rounding error of the dense ``C`` they are computed
from, and exactly zero once ``pi_ij`` has underflowed to 0 (its score ``n_ij`` is
then never seen). The limit of Eq. 20 there is again the advantage
(identity 4 holds for every ``pi > 0``); the other pairs of the state are solved
with that direction moved to the right-hand side.

**Strictly positive policies.** Eq. 21 takes ``log pi``, and a probability of
exactly 0 can never grow back: every step keeps each probability's relative
precision (``pi_ij exp(alpha d_ij)``, not ``pi_ij (1 + expm1(alpha d_ij))``,
which rounds to 0 once ``alpha d_ij < -37``), so a probability is 0 only when it
truly underflows (``alpha d_ij`` far below ``-700``). The loop then tells a flow
at rest from one stopped by underflow (:mod:`himo.solver.loop`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
import typing
from typing import Literal

import numpy as np
import scipy.linalg

from himo.errors import ParameterError
from himo.mdp import MDP
from himo.solver.counters import EForm, counter_correlations, fisher_information, path_gradient
from himo.solver.evaluation import Evaluation
from himo.solver.policy import score_projection, state_max, state_sums

Method = Literal["newton", "natural", "multiplicative", "gradient", "softmax", "kakade"]
METHODS = typing.get_args(Method)
StepRule = Literal["geometric", "fixed", "bounded"]

#: A feasible step keeps at least this fraction of each dependent action's probability.
BOUNDARY_FRACTION = 0.01
#: Halvings tried before the run is declared stalled (planning time has frozen).
MAX_HALVINGS = 30
#: Relative occupancy below which ``newton`` treats a Fisher block as zero.
OCCUPANCY_FLOOR = 1e-12
#: ``geometric``: the flow is slow once no probability moves faster than this per unit of
#: planning time (its speed ``max |pi (Q - V)|``, or a first-order method's weighted one).
SLOW_SPEED = 0.03
#: ``geometric``: once the flow is slow, each iteration starts from at least this many
#: times the step the previous one took (HIMO's methods: more when the largest
#: advantage shrank by more than this since the previous iteration, by that ratio).
GROWTH_FACTOR = 4.0
#: ``geometric``: the step of HIMO's methods is at most this divided by the largest
#: advantage, so that no probability grows by more than ``e^GROWTH_LOG_LIMIT`` relative
#: to its state's others in one step (nothing is pushed to exactly 0, and a halving
#: always finds a feasible step).
GROWTH_LOG_LIMIT = 100.0
#: The convergence test's scale is ``|R(A)|``, but at least this fraction of ``max |V|``.
SCALE_FLOOR = 1e-3
#: Largest ``r_ij = pi_ij / pi_iw`` at which Eq. 19 still keeps digits: its terms
#: ``r^2 C`` cancel to entries of size ``r C``, with rounding error ``eps r^2 C``.
RATIO_LIMIT = 1e6


class StepFailed(ArithmeticError):
    """No step can be taken; ``reason`` is the run's stop reason."""

    reason = "failed"


class IllConditioned(StepFailed):
    """Eq. 19 can no longer be formed in double precision (``r_ij > RATIO_LIMIT``)."""

    reason = "ill_conditioned"


class Stalled(StepFailed):
    """Every step, however small, would leave the feasible set."""

    reason = "stalled"


@dataclass(frozen=True)
class Step:
    policy: np.ndarray  # (n_pairs,) the new policy
    size: float  # the step size alpha taken
    halvings: int


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ParameterError(f"method must be one of {METHODS}, got {method!r}")


def newton_direction(
    mdp: MDP,
    policy: np.ndarray,
    lam: float,
    dependent: np.ndarray,
    free: np.ndarray,
    evaluation: Evaluation,
    e_form: EForm = "exact",
    occupancy_floor: float = OCCUPANCY_FLOOR,
) -> np.ndarray:
    """``I^-1 g`` on the free preferences (Eq. 20), from the dense ``C`` and ``I``.

    Pairs whose expected count ``D_0i pi_ij`` is at most ``occupancy_floor`` times
    the largest occupancy take the limit direction, their advantage (module
    docstring, "Unreachable states"). Raises :class:`IllConditioned` when a fixed dependent action's probability has
    fallen so far that Eq. 19 would be rounding noise.
    """
    ratio = policy[free] / policy[dependent[mdp.pair_state[free]]]
    if ratio.size and ratio.max() > RATIO_LIMIT:
        raise IllConditioned(f"max r_ij = {ratio.max():.3g} > {RATIO_LIMIT:g}")
    C, _ = counter_correlations(mdp, policy, lam, e_form)
    B = score_projection(mdp, policy, dependent)
    g = path_gradient(C, B, mdp.R)
    fisher = fisher_information(C, B)
    occupancy = evaluation.occupancy
    expected_count = occupancy[mdp.pair_state[free]] * policy[free]  # <n_ij> = D_0i pi_ij
    solved = expected_count > occupancy_floor * occupancy.max()
    direction = evaluation.advantage[free].copy()  # the limit step where I is zero
    if solved.any():
        rest = ~solved
        rhs = g[solved] - fisher[np.ix_(solved, rest)] @ direction[rest]
        direction[solved] = _solve_scaled(fisher[np.ix_(solved, solved)], rhs)
    return direction


def _solve_scaled(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``matrix x = rhs`` for a symmetric positive definite ``matrix``.

    With Jacobi scaling ``S = diag(matrix)^-1/2`` first: near a deterministic policy
    the Fisher blocks have entries from ``pi_ij`` to ``1 / pi_iw``, and the scaling
    removes that spread (it changes no solution, only rounding).
    """
    scale = 1.0 / np.sqrt(np.diag(matrix))
    scaled = matrix * scale[:, None] * scale[None, :]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        return scale * scipy.linalg.solve(scaled, scale * rhs, assume_a="sym")


def natural_direction(evaluation: Evaluation, free: np.ndarray) -> np.ndarray:
    """``I^-1 g = Q - V`` on the free preferences (docs/MATH.md, identity 4)."""
    return evaluation.advantage[free]


def natural_pair_direction(evaluation: Evaluation, dependent: np.ndarray) -> np.ndarray:
    """:func:`natural_direction` on every pair, 0 at the dependent pairs (for
    :func:`pair_preference_step`)."""
    direction = evaluation.advantage.copy()
    direction[dependent] = 0.0
    return direction


def gradient_direction(mdp: MDP, policy: np.ndarray, evaluation: Evaluation, dependent: np.ndarray,
                       free: np.ndarray) -> np.ndarray:
    """The path gradient ``g`` of Eq. 18 on the free preferences, in closed form.

    ``g_ij = D_0i pi_ij (Q_ij - Q_iw(i))`` (docs/MATH.md, identity 7), equal to the dense ``B C R``
    of Algorithm 1 without forming ``C``. The difference ``Q_ij - Q_iw`` is taken
    from the advantages (``(Q_ij - V_i) - (Q_iw - V_i)``), which keep their precision
    as the policy becomes deterministic.
    """
    state = mdp.pair_state[free]
    relative_q = evaluation.advantage[free] - evaluation.advantage[dependent[state]]
    return evaluation.occupancy[state] * policy[free] * relative_q


def preference_step(
    mdp: MDP,
    policy: np.ndarray,
    dependent: np.ndarray,
    free: np.ndarray,
    direction: np.ndarray,
    step: float,
) -> Step:
    """``A_free += alpha * direction``, then ``A_iw`` by Eq. 4, halving ``alpha`` if needed.

    ``direction`` is given on the free pairs ``free``; :func:`pair_preference_step`
    takes the same step from a direction on every pair.
    """
    on_pairs = np.zeros(mdp.n_pairs)
    on_pairs[free] = direction
    return pair_preference_step(mdp, policy, dependent, on_pairs, step)


def pair_preference_step(
    mdp: MDP,
    policy: np.ndarray,
    dependent: np.ndarray,
    direction: np.ndarray,
    step: float,
) -> Step:
    """:func:`preference_step` with ``direction`` on every pair (its entries at the
    dependent pairs are ignored: those preferences follow from Eq. 4).

    Working on whole pair vectors, with 0 at the dependent pairs, the step needs no
    gather or scatter of the free pairs; the dependent pairs add exact zeros to
    each state's sum, so the result is the free-pair computation's, bit for bit.
    """
    alpha = step
    has_free = mdp.actions_per_state > 1  # every action of a state but its dependent one is free
    policy_dependent = policy[dependent]
    floor = (BOUNDARY_FRACTION * policy_dependent)[has_free]
    scaled = alpha * direction  # alpha d; halving alpha halves it exactly
    scaled[dependent] = 0.0
    for halvings in range(MAX_HALVINGS + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            growth = np.expm1(scaled)  # pi_new / pi - 1, exact for small steps
        if np.all(np.isfinite(growth)):
            # Eq. 4 without cancellation: pi_iw' = 1 - sum pi_ij' = pi_iw - sum pi_ij (e^{alpha d} - 1)
            growth *= policy
            new_dependent = policy_dependent - state_sums(mdp, growth)
            if np.all(new_dependent[has_free] >= floor):
                # pi e^{alpha d}, not pi (1 + growth): that rounds to 0 once alpha d < -37
                new = np.exp(scaled, out=scaled)
                new *= policy
                new[dependent] = new_dependent
                return Step(policy=new, size=alpha, halvings=halvings)
        alpha /= 2
        scaled *= 0.5
    raise Stalled(f"no feasible step after {MAX_HALVINGS} halvings of {step}")


def multiplicative_direction(evaluation: Evaluation) -> np.ndarray:
    """The logit direction of ``multiplicative``: ``Q_ij - V_i`` on every pair (identity 5)."""
    return evaluation.advantage


def softmax_direction(mdp: MDP, policy: np.ndarray, evaluation: Evaluation) -> np.ndarray:
    """The logit direction of ``softmax``: ``D_0i pi_ij (Q_ij - V_i)`` on every pair (identity 8).

    ``theta_ij += alpha D_0i pi_ij (Q_ij - V_i)`` with ``pi_ij ~ exp(theta_ij)``; with
    ``theta = log pi`` up to a constant per state, the new policy is
    ``pi_ij exp(alpha D_0i pi_ij (Q_ij - V_i)) / Z_i``: the ``multiplicative`` step
    with the advantage weighted by how often the pair is taken, ``<n_ij> = D_0i pi_ij``.
    """
    return evaluation.occupancy[mdp.pair_state] * policy * evaluation.advantage


def kakade_direction(mdp: MDP, policy: np.ndarray, evaluation: Evaluation, lam: float) -> np.ndarray:
    """The logit direction of ``kakade``: ``F^+ g``, Kakade's natural policy gradient.

    ``g_ij = D_0i pi_ij (Q_ij - V_i)`` (the softmax policy gradient, identity 8) and the
    Fisher information ``F`` is block-diagonal over states, ``F_i = d_i (diag(pi_i) -
    pi_i pi_i^T)`` with ``d_i = (1 - lambda) D_0i``. The minimum-norm solution of each
    block's system ``F_i x = g_i`` is computed as it stands (states grouped by their
    number of actions, one batched ``numpy.linalg.pinv`` per group), with one guard:
    a block's null direction is the all-ones vector (adding a constant to a state's
    logits leaves its policy alone), on which round-off leaves an eigenvalue of order
    ``eps max_j pi_ij`` that a pseudo-inverse would amplify. Solving with
    ``d_i (diag(pi_i) - pi_i pi_i^T + 1 1^T / k)`` instead gives the same minimum-norm
    solution (``g_i`` sums to zero, so the solution does too and the added term
    vanishes on it) from a block whose smallest eigenvalue is the policy's own. A state
    with ``d_i = 0`` has a zero block and does not move. Written out, not simplified,
    so that identity 11 (the direction is ``(Q_i - V_i - mean_j (Q_ij - V_i)) / (1 -
    lambda)`` where ``d_i > 0``) is tested against it.
    """
    d = (1 - lam) * evaluation.occupancy
    g = evaluation.occupancy[mdp.pair_state] * policy * evaluation.advantage
    direction = np.zeros(mdp.n_pairs)
    first = mdp.state_offsets[:-1]
    for k in np.unique(mdp.actions_per_state):
        chosen = np.flatnonzero((mdp.actions_per_state == k) & (d > 0))
        pairs = first[chosen][:, None] + np.arange(k)[None, :]  # (n, k) the pairs of each state
        p = policy[pairs]
        fisher = p[:, :, None] * np.eye(k) - p[:, :, None] * p[:, None, :] + 1.0 / k
        blocks = d[chosen][:, None, None] * fisher
        direction[pairs] = np.einsum("nij,nj->ni", np.linalg.pinv(blocks, hermitian=True), g[pairs])
    return direction


def bounded_step_size(direction: np.ndarray, step: float, tol: float) -> float:
    """``alpha_k = min(step / tol, step / max_x |direction_x|)``: the step rule ``bounded``.

    ``direction`` is what ``alpha`` multiplies (the free preferences' direction for
    ``newton``, ``natural`` and ``gradient``, the logits' for ``multiplicative`` and
    ``softmax``), so no preference or logit changes by more than ``step`` in one
    iteration, and the largest change is exactly ``step`` unless the cap is hit.
    The cap ``step / tol`` is reached only when every entry of the direction is below
    ``tol``, the resolution at which the run judges the flow at rest: a larger
    ``alpha`` would blow rounding noise in a vanishing direction up into changes of
    size ``step`` (and a zero direction, for instance with no free pair, into an
    infinite step).
    """
    largest = float(np.max(np.abs(direction))) if direction.size else 0.0
    return step / max(largest, tol)


class StepSchedule:
    """The step size each iteration starts from (before any halving), by ``step_rule``.

    ``fixed``
        ``step`` at every iteration.
    ``bounded``
        :func:`bounded_step_size`: no preference or logit moves by more than ``step``.
    ``geometric`` (the default)
        ``step`` while the flow is fast, then growing geometrically (docs/MATH.md,
        "The step schedule"). The flow is slow from the first iteration at which its
        speed (:func:`flow_speed`) is below :data:`SLOW_SPEED`; from then on each
        iteration starts from :data:`GROWTH_FACTOR` times the step the previous one
        took (or ``step``, if that was halved below it). For HIMO's methods (the
        natural policy gradient, whose infinite step is policy iteration) the factor
        is the larger of :data:`GROWTH_FACTOR` and the ratio by which the largest
        advantage ``max (Q - V)`` shrank since the previous iteration, so that the
        step in the flow's own time scale, ``alpha max (Q - V)``, never shrinks (a
        near tie left alone once every other state has settled is met at its own
        time scale at once), and the step is capped only by :data:`GROWTH_LOG_LIMIT`
        over the largest advantage; for the
        first-order baselines and ``kakade`` (:data:`STATE_AVERAGED_METHODS`: their
        directions are not the advantage the limit is read from), by :func:`bounded_step_size`,
        so that they cross their plateaus geometrically and still take steps that
        change no preference or logit by more than ``step`` where they settle.

    Until the flow is slow every rule but ``bounded`` takes ``step``: a ``geometric``
    run's first iterations are the ``fixed`` run's, bit for bit.
    """

    def __init__(self, rule: StepRule, step: float, tol: float, first_order: bool):
        self.rule, self.step, self.tol, self.first_order = rule, step, tol, first_order
        self.growing = False  # geometric: the flow has been slow
        self.last = step  # geometric: the step the previous iteration took (at least step)
        self.largest = 0.0  # geometric: the largest advantage at the previous iteration

    def size(self, direction: np.ndarray, speed: float, evaluation: Evaluation) -> float:
        """The step this iteration starts from: ``direction`` is what ``alpha`` multiplies,
        ``speed`` the flow's speed at this iteration's policy, ``evaluation`` its evaluation."""
        if self.rule == "fixed":
            return self.step
        if self.rule == "bounded":
            return bounded_step_size(direction, self.step, self.tol)
        was_slow, self.growing = self.growing, self.growing or speed < SLOW_SPEED
        largest, before = float(evaluation.advantage.max()), self.largest
        self.largest = largest
        if not was_slow:  # fast, or slow from this iteration on: the fixed step, and growth from the next
            return self.step
        if self.first_order:
            return min(GROWTH_FACTOR * self.last, max(self.step, bounded_step_size(direction, self.step, self.tol)))
        if largest <= 0:
            return GROWTH_FACTOR * self.last
        return min(max(GROWTH_FACTOR, before / largest) * self.last, GROWTH_LOG_LIMIT / largest)

    def taken(self, size: float) -> None:
        """Record the step the iteration took (after any halving)."""
        self.last = max(size, self.step)


def multiplicative_step(mdp: MDP, policy: np.ndarray, evaluation: Evaluation, step: float) -> Step:
    """``pi_ij <- pi_ij exp(alpha (Q_ij - V_i)) / Z_i`` (docs/MATH.md, identity 5)."""
    return logit_step(mdp, policy, multiplicative_direction(evaluation), step)


def softmax_gradient_step(mdp: MDP, policy: np.ndarray, evaluation: Evaluation, step: float) -> Step:
    """``theta_ij += alpha D_0i pi_ij (Q_ij - V_i)``, ``pi_ij ~ exp(theta_ij)`` (:func:`softmax_direction`)."""
    return logit_step(mdp, policy, softmax_direction(mdp, policy, evaluation), step)


def logit_step(mdp: MDP, policy: np.ndarray, direction: np.ndarray, step: float) -> Step:
    """``pi_ij <- pi_ij exp(alpha d_ij) / Z_i``, computed in log space (always feasible)."""
    with np.errstate(divide="ignore"):  # a probability that underflowed to 0 stays 0 (log 0 = -inf)
        logits = np.log(policy) + step * direction
    logits -= state_max(mdp, logits)[mdp.pair_state]
    weights = np.exp(logits)
    new = weights / state_sums(mdp, weights)[mdp.pair_state]
    return Step(policy=new, size=step, halvings=0)


#: The first-order methods: their flow at a state is weighted by its occupancy ``D_0i``.
FIRST_ORDER_METHODS = ("gradient", "softmax")
#: The methods whose convergence test weighs each state by its occupancy: the
#: first-order ones, and ``kakade``, which leaves the states the start never reaches
#: where they are.
STATE_AVERAGED_METHODS = (*FIRST_ORDER_METHODS, "kakade")


def rest_weight(mdp: MDP, method: str, evaluation: Evaluation) -> np.ndarray | None:
    """``(n_pairs,)`` how much each pair's flow counts in the convergence test of ``method``:
    ``D_0i`` for the :data:`STATE_AVERAGED_METHODS`, ``None`` (1 everywhere) for HIMO's.

    A first-order flow moves a state at a rate proportional to its occupancy
    (identities 7 and 8), so it leaves the states the start does not reach where
    they are: it is at rest when ``D_0i pi_ij (Q_ij - V_i)``, the objective's
    gradient in the softmax parametrization, vanishes, not when ``pi_ij (Q_ij - V_i)``
    does (docs/MATH.md, "Convergence criterion").
    """
    return evaluation.occupancy[mdp.pair_state] if method in STATE_AVERAGED_METHODS else None


def flow_speed(policy: np.ndarray, evaluation: Evaluation, weight: np.ndarray | None = None) -> float:
    """``max |d pi_ij / dt| = max |pi_ij (Q_ij - V_i)|``, the speed of the policy flow
    (times ``weight``, :func:`rest_weight`, for a first-order method's flow)."""
    rate = policy * evaluation.advantage
    if weight is not None:
        rate *= weight
    return float(max(rate.max(), -rate.min()))


def objective_scale(evaluation: Evaluation) -> float:
    """The scale the convergence test is relative to: ``|R(A)|``, the objective's size,
    but at least :data:`SCALE_FLOOR` times the largest ``|V_i|`` (an objective near 0,
    by cancellation or a start far from every reward, would otherwise ask for
    advantages below their rounding error)."""
    return max(abs(evaluation.objective), SCALE_FLOOR * float(np.abs(evaluation.value).max()))


def convergence_threshold(evaluation: Evaluation, lam: float, tol: float) -> float:
    """``epsilon = tol (1 - lambda) scale``: a HIMO run has converged once no action
    improves its state by more than this, ``max_ij (Q_ij - V_i) <= epsilon``.

    By the performance-difference lemma every state's value is then within
    ``epsilon / (1 - lambda) = tol scale`` of the optimum, the objective's too: with
    the scale ``|R(A)|`` (:func:`objective_scale`) the relative gap to the optimum is
    at most ``tol`` (docs/MATH.md, "Convergence criterion").
    """
    return tol * (1 - lam) * objective_scale(evaluation)


@dataclass(frozen=True)
class Rest:
    """The convergence test at one iteration (:func:`rest_test`)."""

    converged: bool
    threshold: float  # what the test compared with (epsilon, or tol times the peak weighted speed)
    lost: np.ndarray | None = None  # the improving pairs, when each has probability 0 (underflow)


def rest_test(mdp: MDP, method: str, policy: np.ndarray, evaluation: Evaluation, lam: float, tol: float,
              speed: float, peak_speed: float) -> Rest:
    """Whether a run of ``method`` has converged at ``policy``, and if not whether it
    cannot (docs/MATH.md, "Convergence criterion").

    HIMO's methods: converged once ``max_ij (Q_ij - V_i) <= epsilon``
    (:func:`convergence_threshold`), which bounds the gap to the optimum; this implies
    that the flow's ``speed`` is at most ``epsilon`` too. First-order methods: their
    occupancy-weighted ``speed`` below ``tol`` times its ``peak_speed`` so far, with no
    weighted improving action (:func:`improving_pairs`). Either way a run whose flow is
    otherwise at rest but whose improving actions all have probability exactly 0 can
    never get there: ``lost`` names them (the loop stops it as ``underflow``).
    """
    weight = rest_weight(mdp, method, evaluation)
    if weight is None:
        threshold = convergence_threshold(evaluation, lam, tol)
        improving = evaluation.advantage > threshold
        at_rest = speed <= threshold
    else:
        threshold = tol * peak_speed
        at_rest = speed < threshold or speed == 0
        improving = improving_pairs(mdp, evaluation, threshold, weight)
    if not improving.any():
        return Rest(converged=at_rest or weight is None, threshold=threshold)
    lost = improving if at_rest and not policy[improving].any() else None
    return Rest(converged=False, threshold=threshold, lost=lost)


def convergence_rule(method: str) -> str:
    """The convergence test of :func:`rest_test` for ``method``, in one line (a trajectory attribute)."""
    if method in STATE_AVERAGED_METHODS:
        return "max |D_0i pi_ij (Q_ij - V_i)| < tol * its peak, and no D_0i (Q_ij - V_i) >= |A_i| tol * that peak"
    return f"max (Q_ij - V_i) <= tol (1 - lambda) max(|R(A)|, {SCALE_FLOOR:g} max |V|)"


def improving_pairs(mdp: MDP, evaluation: Evaluation, tol: float, weight: np.ndarray | None = None) -> np.ndarray:
    """``(n_pairs,)`` mask of the actions that would still improve their state by a
    first-order method's test: ``weight (Q_ij - V_i) >= |A_i| tol`` (``weight`` is
    :func:`rest_weight`, 1 when ``None``).

    The flow at rest (:func:`flow_speed` below ``tol``) has none: a state's best
    actions then hold its probability, so one of them has ``pi_ij >= 1 / |A_i|``
    (ties share it) and ``Q_ij - V_i <= |A_i| pi_ij (Q_ij - V_i) < |A_i| tol``, while
    the others have ``Q_ij - V_i <= 0`` (the same with both sides times the weight).
    An improving action at a flow speed below ``tol`` is one whose probability has
    fallen so low (after a large step, to 0 by underflow) that ``pi_ij (Q_ij - V_i)``
    is small although ``Q_ij - V_i`` is not: the flow is not at rest there, and its
    value ``V_i`` is below what that action gives (docs/MATH.md, "Convergence criterion").
    """
    advantage = evaluation.advantage if weight is None else weight * evaluation.advantage
    return advantage >= mdp.actions_per_state[mdp.pair_state] * tol
