r"""Sparse, uniformly misspecified linear bandits on a fixed finite action set.

The reward of action ``x_a`` (rows of a fixed ``[K, d]`` feature matrix, ``||x_a||
<= 1``) is

.. math::

    \mu_a = \langle x_a, \theta^* \rangle + b_a, \qquad \|\theta^*\|_0 \le s,\;
    \|\theta^*\|_2 \le B,\; |b_a| \le \varepsilon,

observed with Gaussian noise of level ``sigma`` (0: the noiseless query model).
This is ``envs.linear_bandits.linear_bandit`` (which already carries the
misspecification ``bias``) with two additions: each seed draws an s-sparse ``theta*``
and a misspecification ``b`` of size ``epsilon`` on the fixed action set, and the info
reports whether the pull was ``c epsilon``-optimal (``near_optimal``, ``c = 4``: the
guarantee of ``algorithms.bandits.sparse.sparse_net_search``) and whether it differs
from the previous pull (``switched``; the env state carries the previous action), so
that the last switch tells when a learner settled on its answer.

The misspecification is adversarial to least squares: ``b_a = -epsilon`` on the
actions whose linear value is within ``epsilon`` of the linear maximum, ``+epsilon``
elsewhere, so the best action by reward differs from the linear argmax (when some action
has linear value within ``2 epsilon`` of it) and the rewards are not linear.

Hard instances (``dense_needle_instances``, ``sparse_needle_instances``,
``needle_bandit``): one hidden action among K carries all the reward, the rest return
exactly 0, and the rewards are linear up to ``epsilon``. Dense (Du et al. 2020): K
pairwise nearly orthogonal actions and a dense ``theta*``; every learner needs ~K / 2
queries, and K can be exp(Omega(d)). Sparse: K random sign vectors (K <= 2^d) and d / s
candidate targets with an s-sparse ``theta*``; OFUL and phased elimination, which see
only zeros until they pull the target, still need ~K / 2 (measured), the sparse net
search needs d / s. The derivations are in the builders' docstrings.

References:
  Dong and Yang, "Does Sparsity Help in Learning Misspecified Linear Bandits?", ICML
  2023 (the setting: linear features with uniform misspecification epsilon and an
  s-sparse ground truth); Du, Kakade, Wang and Yang, "Is a Good Representation
  Sufficient for Sample Efficient Reinforcement Learning?", ICLR 2020 (uniform
  misspecification).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.core import Env, check_int, float_dtype
from envs.linear_bandits import LinearBanditParams, linear_bandit

Array = jax.Array

__all__ = [
    "NeedleInfo",
    "NeedleInstances",
    "NeedleParams",
    "dense_needle_instances",
    "near_orthogonal_signs",
    "needle_bandit",
    "needle_params",
    "sparse_needle_instances",
    "NEAR_OPTIMAL_FACTOR",
    "SparseBanditInfo",
    "sample_sparse_theta",
    "sparse_misspecified_bandit",
]

# An action is "near optimal" when its gap is at most NEAR_OPTIMAL_FACTOR * epsilon.
NEAR_OPTIMAL_FACTOR = 4.0


class SparseBanditInfo(NamedTuple):
    """Per-round oracle quantities."""

    regret: Array  # [] max_a mu_a - mu_{A_t}
    best_arm_played: Array  # [] 1.0 when the pull is optimal
    near_optimal: Array  # [] 1.0 when the gap is <= 4 epsilon
    switched: Array  # [] 1.0 when the pull differs from the previous one (round 1: 1)


def sample_sparse_theta(key, dim: int, sparsity: int, norm, dtype=None) -> Array:
    """``[d]``: a uniformly random support of size ``s`` and a direction uniform on its
    unit sphere, scaled to ``norm``."""
    dtype = float_dtype() if dtype is None else dtype
    k_support, k_dir = jax.random.split(key)
    # The s largest of d uniforms: a uniformly random support (cheaper to compile
    # than a permutation).
    _, support = jax.lax.top_k(jax.random.uniform(k_support, (dim,)), sparsity)
    g = jax.random.normal(k_dir, (sparsity,), dtype)
    g = g / jnp.maximum(jnp.linalg.norm(g), jnp.finfo(dtype).tiny)
    return jnp.zeros((dim,), dtype).at[support].set(jnp.asarray(norm, dtype) * g)


def adversarial_bias(features: Array, theta: Array, epsilon) -> Array:
    """``-epsilon`` on actions within ``epsilon`` of the linear maximum, ``+epsilon``
    elsewhere (``[K]``)."""
    linear = features @ theta
    return jnp.where(linear >= jnp.max(linear) - epsilon, -epsilon, epsilon).astype(
        linear.dtype
    )


def sparse_misspecified_bandit(
    features, sparsity: int, epsilon, *, theta_norm=1.0, noise_std=0.0
) -> Env:
    """Random sparse misspecified instances on a fixed action set.

    Each seed draws ``theta*`` (:func:`sample_sparse_theta`, ``||theta*|| =
    theta_norm``) and the adversarial misspecification of size ``epsilon``.

    Args:
      features: ``[K, d]`` actions with ``||x_a|| <= 1``.
      sparsity: s, the number of nonzero coordinates of ``theta*`` (static).
      epsilon: misspecification level ``>= 0``.
      theta_norm: ``||theta*||_2``.
      noise_std: Gaussian reward noise (0: noiseless queries).

    Raises:
      ValueError: on ``s`` outside ``[1, d]``, feature rows longer than 1, or negative
        ``epsilon`` / ``noise_std``.
    """
    x = np.asarray(features, np.float64)
    base = linear_bandit(x, np.zeros(x.shape[-1]), noise_std=noise_std)
    num_arms, dim = x.shape
    sparsity = check_int(sparsity, "sparsity")
    if sparsity > dim:
        raise ValueError(f"sparsity must be <= d = {dim}, got {sparsity}")
    if np.any(np.linalg.norm(x, axis=1) > 1 + 1e-6):
        raise ValueError("feature rows must have norm <= 1")
    if not float(epsilon) >= 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon}")
    feats = base.params.features
    eps = float(epsilon)

    def sample_params(key):
        theta = sample_sparse_theta(key, dim, sparsity, theta_norm, feats.dtype)
        bias = adversarial_bias(feats, theta, eps)
        return LinearBanditParams(feats, theta, bias, base.params.noise_std)

    def reset(key, params):
        state, obs = base.reset(key, params)
        return (state, jnp.asarray(-1, jnp.int32)), obs

    def step(key, state, action, params):
        inner, previous = state
        inner, obs, reward, info = base.step(key, inner, action, params)
        dtype = info.regret.dtype
        near = (info.regret <= NEAR_OPTIMAL_FACTOR * eps).astype(dtype)
        switched = (action != previous).astype(dtype)
        info = SparseBanditInfo(*info, near, switched)
        return (inner, jnp.asarray(action, jnp.int32)), obs, reward, info

    del num_arms
    return Env(reset, step, None, sample_params, "sparse_misspecified")


# --------------------------------------------------------------------------------------
# Hard instances: a needle among nearly orthogonal actions (Du et al. 2020), dense and
# sparse.
# --------------------------------------------------------------------------------------


class NeedleInstances(NamedTuple):
    r"""A family of needle instances on ONE fixed action set (NumPy, float64).

    Instance ``m`` hides the action ``targets[m]``: its mean reward vector is
    ``means[m]`` (zero on every other action), and ``(thetas[m], biases[m])`` is its
    decomposition ``means[m] = features @ thetas[m] + biases[m]`` with ``|biases| <=
    epsilon``. ``features`` is the same for every instance, so the rewards a learner
    sees before its first pull of the target (all zero) do not depend on ``m``.
    """

    features: np.ndarray  # [K, d] the fixed action set, unit rows
    targets: np.ndarray  # [M] int64, the hidden action of each instance
    thetas: np.ndarray  # [M, d] theta*_m
    means: np.ndarray  # [M, K] mu_m(a): 0 except at targets[m]
    biases: np.ndarray  # [M, K] means - thetas @ features.T, |.| <= epsilon
    epsilon: float  # the uniform misspecification level
    tau: float  # the bound certified for the instance's tau / delta (see builders)


def _distinct_signs(rng: np.random.Generator, num: int, dim: int) -> np.ndarray:
    """``[num, dim]`` int8: distinct uniformly random sign vectors (rejection of
    repeats; ``num <= 2^dim``)."""
    if num > 2**dim:
        raise ValueError(f"only 2^{dim} distinct sign vectors exist, asked {num}")
    rows: dict[bytes, np.ndarray] = {}
    while len(rows) < num:
        batch = rng.choice(np.array([-1, 1], np.int8), size=(num - len(rows), dim))
        for row in batch:
            rows.setdefault(row.tobytes(), row)
    return np.stack(list(rows.values())[:num])


def near_orthogonal_signs(
    dim: int, num: int, tau: float, *, seed=0, max_candidates=200_000
) -> np.ndarray:
    """``[num, dim]`` float64 rows ``sigma / sqrt(d)``, ``sigma in {-1, 1}^d``, with
    pairwise ``|<x_i, x_j>| <= tau`` (``i != j``), by greedy rejection sampling of
    random sign vectors.

    The check is exact: ``<sigma_i, sigma_j>`` is an integer and the test is
    ``|<sigma_i, sigma_j>| <= floor(tau d)``. For random signs, Hoeffding gives
    ``P(|<x_i, x_j>| > tau) <= 2 exp(-d tau^2 / 2)``, so ``num`` up to about
    ``exp(d tau^2 / 4)`` vectors are found with few rejections: exponentially many
    in ``d``.

    Raises:
      RuntimeError: when ``max_candidates`` draws do not give ``num`` vectors.
    """
    check_int(dim, "dim")
    check_int(num, "num")
    if not 0 < float(tau) < 1:
        raise ValueError(f"tau must be in (0, 1), got {tau}")
    rng = np.random.default_rng(seed)
    limit = int(np.floor(float(tau) * dim + 1e-9))
    accepted = np.zeros((0, dim), np.int64)
    drawn = 0
    while accepted.shape[0] < num:
        if drawn >= max_candidates:
            raise RuntimeError(
                f"found {accepted.shape[0]} of {num} sign vectors in R^{dim} with "
                f"pairwise |<x, y>| <= {tau} after {drawn} draws"
            )
        batch = rng.choice(np.array([-1, 1], np.int64), size=(256, dim))
        drawn += batch.shape[0]
        # Against the accepted set (one matmul), then greedily within the batch.
        ok = np.all(np.abs(batch @ accepted.T) <= limit, axis=1)
        for row in batch[ok]:
            if accepted.shape[0] >= num:
                break
            if np.all(np.abs(accepted @ row) <= limit):
                accepted = np.concatenate([accepted, row[None]])
    return accepted.astype(np.float64) / np.sqrt(dim)


def _needle_means(features, targets, thetas, epsilon):
    """``means[m] = (<x_target, theta_m> + eps) e_target`` and the biases."""
    num, num_arms = len(targets), features.shape[0]
    means = np.zeros((num, num_arms))
    rows = np.arange(num)
    means[rows, targets] = np.einsum("md,md->m", features[targets], thetas) + float(
        epsilon
    )
    biases = means - thetas @ features.T
    return means, biases


def dense_needle_instances(
    dim: int, num_actions: int, epsilon: float, *, tau=0.3, seed=0
) -> NeedleInstances:
    r"""The near-orthogonal needle family of Du et al. (2020), one instance per action.

    Construction (a reconstruction from the papers' idea, derived here). Take unit
    actions ``x_1, ..., x_K`` with ``|<x_i, x_j>| <= tau`` for ``i != j``
    (:func:`near_orthogonal_signs`; ``K`` can be ``exp(d tau^2 / 4)``). Instance
    ``i`` has

    .. math::

        \theta_i = \frac{\varepsilon}{\tau_i} x_i, \quad
        \tau_i = \max_{j \ne i} |\langle x_j, x_i \rangle| \le \tau, \qquad
        \mu_i(j) = 0 \; (j \ne i), \quad
        \mu_i(i) = \langle x_i, \theta_i \rangle + \varepsilon
        = \varepsilon / \tau_i + \varepsilon .

    *Uniform misspecification <= eps*: for ``j != i``, ``|mu_i(j) - <x_j, theta_i>|
    = (eps / tau_i) |<x_j, x_i>| <= eps``; at ``i`` the error is ``eps``.
    *Gap*: every ``j != i`` has gap ``eps / tau_i + eps >= eps (1 / tau + 1)``, more
    than ``4 eps`` when ``tau < 1/3``: the hidden action is the ONLY 4 eps-optimal
    one (the guarantee level of ``algorithms.bandits.sparse.sparse_net_search``).
    *Why no learner finds it fast*: an action ``j != i`` returns reward 0 in every
    instance but ``j``'s own, so until its first pull of the target a (deterministic)
    learner sees only zeros and plays one fixed sequence of actions whatever ``i`` is;
    with ``i`` uniform, the first pull of the target comes at expected distinct-query
    count ``>= (K + 1) / 2`` (randomised learners are mixtures of deterministic ones).
    With ``K = exp(d tau^2 / 4)`` that is ``exp(Omega(d))`` queries although the
    rewards are linear up to ``eps`` in ``d`` dimensions (Du et al. 2020, and the
    matching ``eps sqrt(d)`` picture of Lattimore, Szepesvari and Weisz 2020).
    ``theta_i`` is dense (``||theta_i||_0 = d``), so the sparse net search has no
    guarantee here.

    Returns:
      :class:`NeedleInstances` with ``M = K`` (target ``m`` = action ``m``) and
      ``tau`` the measured ``max_{i != j} |<x_i, x_j>|``.

    References:
      Du, Kakade, Wang and Yang, "Is a Good Representation Sufficient for Sample
      Efficient Reinforcement Learning?", ICLR 2020 (the near-orthogonal-actions
      lower bound; its statement is recalled, not read here); Lattimore, Szepesvari
      and Weisz, "Learning with Good Feature Representations in Bandits and in RL
      with a Generative Model", ICML 2020.
    """
    if not 0 < float(tau) < 1.0 / 3.0:
        raise ValueError(f"tau must be in (0, 1/3) for a 4 eps gap, got {tau}")
    if not float(epsilon) > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    x = near_orthogonal_signs(dim, num_actions, tau, seed=seed)
    gram = np.abs(x @ x.T)
    np.fill_diagonal(gram, 0.0)
    tau_i = gram.max(axis=1)
    targets = np.arange(num_actions)
    thetas = (float(epsilon) / tau_i)[:, None] * x
    means, biases = _needle_means(x, targets, thetas, epsilon)
    return NeedleInstances(
        x, targets, thetas, means, biases, float(epsilon), float(tau_i.max())
    )


def sparse_needle_instances(
    dim: int, num_decoys: int, sparsity: int, epsilon: float, *, rho=3.25, seed=0
) -> NeedleInstances:
    r"""A needle whose parameter is s-sparse: hard for linear methods, easy for a
    sparse search (derived here; a reconstruction in the spirit of Dong and Yang
    2023, whose constructions could not be read).

    Action set (fixed, ``K + M`` unit rows in random order):

    * ``K`` decoys: distinct random sign vectors ``sigma / sqrt(d)`` (``K <= 2^d``,
      so ``K`` can be exponential in ``d``).
    * ``M = floor(d / s)`` candidate targets ("spikes"): block ``m`` has support
      ``S_m = {m s, ..., m s + s - 1}`` and direction ``u_m = sign_m / sqrt(s)`` on
      it (random signs, ``||u_m|| = 1``, s-sparse); the spike is

      .. math::

          x^{(m)} = a\, u_m + \sqrt{1 - a^2}\, w_m, \qquad a = \rho \sqrt{s / d},

      with ``w_m`` random signs off ``S_m`` over ``sqrt(d - s)`` (unit, ``w_m
      perp u_m``). Needs ``a < 1``, i.e. ``d > rho^2 s``.

    Instance ``m`` hides spike ``m``: ``theta_m = c_m u_m`` (s-sparse) with

    .. math::

        c_m = \varepsilon / \delta_m, \quad
        \delta_m = \max_{j \ne \text{spike } m} |\langle x_j, u_m \rangle|, \qquad
        \mu_m(j) = 0 \; (j \ne \text{spike } m), \quad
        \mu_m(\text{spike } m) = c_m a + \varepsilon .

    *Alignment bound* (the role of ``tau``): a decoy has ``|<x_j, u_m>| = |sum_{k in
    S_m} sigma_k sign_{m,k}| / sqrt(s d) <= sqrt(s / d)``; another spike ``m'`` has
    disjoint support, so ``|<x^{(m')}, u_m>| = sqrt(1 - a^2) |<w_{m'}, u_m>| <=
    sqrt(1 - a^2) sqrt(s / (d - s)) <= sqrt(s / d)`` (as ``a^2 >= s / d``). Hence
    ``delta_m <= sqrt(s / d)`` and ``c_m a >= rho eps``. *Uniform misspecification*:
    off the target ``|mu - <x_j, theta_m>| = c_m |<x_j, u_m>| <= c_m delta_m = eps``;
    at the target it is ``eps``. *Gap*: every other action has gap ``c_m a + eps >=
    (rho + 1) eps > 4 eps`` for ``rho > 3``: the target is the only 4 eps-optimal
    action. ``||theta_m|| = c_m`` must be at most the search's bound ``B = 1``, i.e.
    ``eps <= delta_m`` (``~ sqrt(s / d)``): checked.

    *Why linear methods do not find it*: as in :func:`dense_needle_instances`, every
    action but the target returns 0, so before the first pull of the target OFUL has
    ``theta_hat = 0`` and plays the widest action ``argmax ||x||_{V^{-1}}``, and
    phased elimination plays its G-optimal design: both sequences depend on the
    features only, not on ``m``. Nothing in the geometry singles the spikes out for a
    rotation-invariant method: every row has norm 1, the decoys' second moment is
    ``(K/d) I`` in expectation (each ``x_k^2 = 1/d``) and a spike is as orthogonal to
    the decoys as they are to each other; the target is found when the fixed
    sequence reaches it, after about half the ``K + M`` actions. *Why the sparse
    search does*: in the coordinate basis the spikes are exactly the greedy actions
    of the large s-sparse hypotheses; a hypothesis supported on ``S'`` has as greedy
    action a spike or a decoy whose signs match it on ``S'`` (all such decoys tie;
    the lowest index wins), so the search queries at most ``M + sum_{s' <= s} C(d,
    s') 2^{s'}`` distinct actions, and at most its net size ``O(eps^-s d^s)``,
    independent of ``K``.

    Returns:
      :class:`NeedleInstances` with ``M = floor(d / s)``; ``tau`` is ``max_m
      delta_m`` (``<= sqrt(s / d)``).

    Raises:
      ValueError: when ``a = rho sqrt(s / d) >= 1``, ``rho <= 3``, or some ``c_m >
        1`` (``epsilon`` too large for ``||theta*|| <= 1``).
    """
    dim = check_int(dim, "dim")
    sparsity = check_int(sparsity, "sparsity")
    num_decoys = check_int(num_decoys, "num_decoys")
    eps = float(epsilon)
    if not eps > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    if not float(rho) > 3:
        raise ValueError(f"rho must be > 3 for a gap above 4 eps, got {rho}")
    a = float(rho) * np.sqrt(sparsity / dim)
    if not a < 1:
        raise ValueError(
            f"rho sqrt(s / d) = {a:.3f} must be < 1: take d > rho^2 s = "
            f"{float(rho) ** 2 * sparsity:.1f}"
        )
    rng = np.random.default_rng(seed)
    num_targets = dim // sparsity
    decoys = _distinct_signs(rng, num_decoys, dim).astype(np.float64) / np.sqrt(dim)
    directions = np.zeros((num_targets, dim))
    spikes = np.zeros((num_targets, dim))
    for m in range(num_targets):
        support = np.arange(m * sparsity, (m + 1) * sparsity)
        signs = rng.choice([-1.0, 1.0], size=sparsity)
        directions[m, support] = signs / np.sqrt(sparsity)
        w = rng.choice([-1.0, 1.0], size=dim) / np.sqrt(dim - sparsity)
        w[support] = 0.0
        spikes[m] = a * directions[m] + np.sqrt(1.0 - a * a) * w
    features = np.concatenate([decoys, spikes])
    order = rng.permutation(features.shape[0])
    features = features[order]
    position = np.argsort(order)  # position[i] = new row of old row i
    targets = position[num_decoys + np.arange(num_targets)]
    align = np.abs(features @ directions.T)  # [K + M, M]
    align[targets, np.arange(num_targets)] = 0.0
    delta = align.max(axis=0)  # [M]
    scale = eps / delta
    if np.any(scale > 1.0 + 1e-12):
        raise ValueError(
            f"epsilon = {eps} needs ||theta*|| = eps / delta up to {scale.max():.3f} > "
            f"1: take epsilon <= {delta.min():.3f}"
        )
    thetas = scale[:, None] * directions
    means, biases = _needle_means(features, targets, thetas, eps)
    return NeedleInstances(
        features, targets, thetas, means, biases, eps, float(delta.max())
    )


class NeedleParams(NamedTuple):
    """One needle instance, as the env reads it."""

    features: Array  # [K, d]
    theta: Array  # [d] theta*
    bias: Array  # [K] misspecification
    means: Array  # [K] mu = features @ theta + bias (exact, from float64)
    target: Array  # [] int32 the hidden action
    noise_std: Array  # []


class NeedleInfo(NamedTuple):
    """Per-round oracle quantities; ``first_hit`` and ``last_switch`` are snapshots."""

    regret: Array  # [] mu* - mu_{A_t}
    near_optimal: Array  # [] 1.0 when the gap is <= 4 epsilon
    switched: Array  # [] 1.0 when the pull differs from the previous one
    first_hit: Array  # [] round (1-based) of the first 4 eps-optimal pull, 0 before
    last_switch: Array  # [] round (1-based) of the last change of action so far

    SNAPSHOT_FIELDS = ("first_hit", "last_switch")


def needle_params(instances: NeedleInstances, noise_std=0.0) -> NeedleParams:
    """All ``M`` instances as a batched :class:`NeedleParams` (leading axis ``M``),
    for the runner's ``instances=``."""
    dtype = float_dtype()
    num = len(instances.targets)
    feats = jnp.broadcast_to(
        jnp.asarray(instances.features, dtype), (num, *instances.features.shape)
    )
    return NeedleParams(
        feats,
        jnp.asarray(instances.thetas, dtype),
        jnp.asarray(instances.biases, dtype),
        jnp.asarray(instances.means, dtype),
        jnp.asarray(instances.targets, jnp.int32),
        jnp.full((num,), float(noise_std), dtype),
    )


def needle_bandit(instances: NeedleInstances, *, noise_std=0.0) -> Env:
    """The bandit on a :class:`NeedleInstances` family: ``sample_params`` hides a
    uniformly random target; rewards are ``means[A_t]`` (+ Gaussian noise). The
    observation is the fixed action set; the state counts rounds and remembers the
    previous action, the first 4 eps-optimal pull and the last switch."""
    if not float(noise_std) >= 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std}")
    batched = needle_params(instances, noise_std)
    eps = float(instances.epsilon)
    num = len(instances.targets)

    def sample_params(key):
        m = jax.random.randint(key, (), 0, num)
        return jax.tree.map(lambda leaf: leaf[m], batched)

    def reset(key, params):
        del key
        zero = jnp.zeros((), jnp.int32)
        return (zero, jnp.asarray(-1, jnp.int32), zero, zero), params.features

    def step(key, state, action, params):
        t, previous, first_hit, last_switch = state
        t = t + 1
        mu = params.means
        dtype = mu.dtype
        reward = mu[action] + params.noise_std * jax.random.normal(key, (), dtype)
        regret = jnp.max(mu) - mu[action]
        near = regret <= NEAR_OPTIMAL_FACTOR * eps
        switched = action != previous
        first_hit = jnp.where((first_hit == 0) & near, t, first_hit)
        last_switch = jnp.where(switched, t, last_switch)
        info = NeedleInfo(
            regret,
            near.astype(dtype),
            switched.astype(dtype),
            first_hit.astype(dtype),
            last_switch.astype(dtype),
        )
        state = (t, jnp.asarray(action, jnp.int32), first_hit, last_switch)
        return state, params.features, reward, info

    return Env(reset, step, None, sample_params, "needle")
