"""The runner: the only place that combines a learner with an environment.

``run`` plays one learner on one environment for ``num_rounds`` rounds over
``num_seeds`` seeds; ``sweep`` does the same over a grid of traced hyperparameters (and,
optionally, a batch of instances). Both compile ONE program: the seed, grid and instance
axes are flattened into a single batch axis that is ``vmap``-ed once and sharded over
every local device.

A round, for one seed (DESIGN.md):

.. code-block:: text

    k_env_t = fold_in(k_env, t);  k_learner_t = fold_in(k_learner, t)
    action, learner_state = learner.act(k_learner_t, learner_state, obs)
    env_state, obs', feedback, info = env.step(k_env_t, env_state, action, params)
    learner_state = learner.update(learner_state, obs, action, feedback)

The seed's key is split once into (instance, env reset, learner init, env rounds,
learner rounds) keys; round keys are ``fold_in`` of the round index. The environment's
stream never depends on the learner, so algorithms run on the same seed see the same
instance and the same draws (common random numbers), and a seed's trajectory does not
depend on how many seeds run beside it or on how the batch is sharded.

Every field of ``info`` is summed over rounds with Kahan-compensated summation (accurate
over 10^7 rounds in float32) and recorded on a grid of rounds (log-spaced by default);
fields the info type lists in ``SNAPSHOT_FIELDS`` (a last iterate's duality gap, say)
are recorded as their value at the recorded round instead
(``envs.core.snapshot_fields``).
Long runs go in chunks: after each chunk the host prints progress and, with
``checkpoint=``, saves the whole carry atomically, so an interrupted run resumes where
it stopped with identical results.

Multi-host: call ``jax.distributed.initialize()`` on every host before ``run``; the
batch is then sharded over ``jax.devices()`` (all hosts' devices) by the same code.
Results are gathered to every host.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from algorithms.core import Learner, check_int, float_dtype
from envs import threefry
from envs.core import Env, KahanSum, kahan_add, snapshot_fields

PyTree = Any

# --------------------------------------------------------------------------------------
# Record grids and results.
# --------------------------------------------------------------------------------------


def log_rounds(num_rounds: int, num: int = 60) -> np.ndarray:
    """About ``num`` log-spaced rounds in [1, num_rounds], unique, always ending
    at T.
    """
    check_int(num_rounds, "num_rounds")
    grid = np.unique(np.round(np.geomspace(1, num_rounds, num)).astype(np.int64))
    return np.unique(np.append(grid, num_rounds))


def linear_rounds(num_rounds: int, num: int = 60) -> np.ndarray:
    """About ``num`` evenly spaced rounds in [1, num_rounds], always ending at T."""
    check_int(num_rounds, "num_rounds")
    grid = np.unique(np.round(np.linspace(1, num_rounds, num)).astype(np.int64))
    return np.unique(np.append(grid, num_rounds))


@dataclasses.dataclass(frozen=True)
class RunResult:
    """Cumulative metrics recorded on a grid of rounds.

    Attributes:
      rounds: ``[M]`` the number of rounds played at each record (1-indexed).
      metrics: name -> ``[..., M]`` cumulative sum of that field of the env's info
        (for a snapshot field, ``envs.core.snapshot_fields``, its value at the round).
        Leading axes: ``[num_seeds]`` for ``run``; ``[G, num_seeds]`` for ``sweep``, or
        ``[G, I, num_seeds]`` with a batch of ``I`` instances.
      grid: the hyperparameter grid (name -> ``[G]``) for a sweep, else empty.
      wall_time: seconds spent running (compile time apart).
      compile_time: seconds spent compiling.
    """

    rounds: np.ndarray
    metrics: dict[str, np.ndarray]
    grid: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    wall_time: float = 0.0
    compile_time: float = 0.0

    @property
    def regret(self) -> np.ndarray:
        """Cumulative regret ``[..., M]`` at ``rounds``."""
        return self.metrics["regret"]

    @property
    def final_regret(self) -> np.ndarray:
        """Cumulative regret after the last round, ``[...]``."""
        return self.metrics["regret"][..., -1]


def mean_ci(x, axis: int = 0, level: float = 0.95):
    """Mean and normal-approximation confidence interval over ``axis`` (seeds).

    Returns ``(mean, low, high)``. With hundreds of seeds the normal approximation to
    the mean's sampling distribution is accurate; ``level`` must be 0.9, 0.95 or 0.99.
    """
    z = {0.9: 1.6448536, 0.95: 1.959964, 0.99: 2.5758293}.get(level)
    if z is None:
        raise ValueError(f"level must be one of 0.9, 0.95, 0.99, got {level}")
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[axis]
    mean = x.mean(axis=axis)
    if n < 2:
        return mean, mean, mean
    half = z * x.std(axis=axis, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def summary_table(
    result: RunResult, metric: str = "regret", level: float = 0.95
) -> str:
    """A text table of the final value of ``metric`` per grid point: mean and CI over
    seeds.
    """
    values = result.metrics[metric][..., -1]
    names = list(result.grid)
    if not names:
        values = values[None]
    mean, low, high = mean_ci(values, axis=-1, level=level)
    mean, low, high = (np.reshape(v, (values.shape[0], -1)) for v in (mean, low, high))
    head = [*names, f"{metric} mean", f"{int(level * 100)}% CI"]
    rows = []
    for g in range(values.shape[0]):
        labels = [f"{float(result.grid[n][g]):.4g}" for n in names]
        for i in range(mean.shape[1]):
            extra = [] if mean.shape[1] == 1 else [f"instance {i}"]
            rows.append(
                [
                    *labels,
                    *extra,
                    f"{mean[g, i]:.4g}",
                    f"[{low[g, i]:.4g}, {high[g, i]:.4g}]",
                ]
            )
    if rows and len(rows[0]) > len(head):
        head.insert(len(names), "instance")
    widths = [max(len(str(r[j])) for r in [head, *rows]) for j in range(len(head))]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), *(fmt.format(*r) for r in rows)])


# --------------------------------------------------------------------------------------
# Validation.
# --------------------------------------------------------------------------------------


def _check_record(record, num_rounds: int) -> np.ndarray:
    if record is None:
        return log_rounds(num_rounds)
    if isinstance(record, str):
        if record == "log":
            return log_rounds(num_rounds)
        if record == "linear":
            return linear_rounds(num_rounds)
        raise ValueError(f"record must be 'log', 'linear' or an array, got {record!r}")
    rounds = np.asarray(record)
    if (
        rounds.ndim != 1
        or rounds.size == 0
        or not np.issubdtype(rounds.dtype, np.integer)
    ):
        raise ValueError("record must be a non-empty 1-D array of round counts (ints)")
    if np.any(np.diff(rounds) <= 0) or rounds[0] < 1 or rounds[-1] > num_rounds:
        raise ValueError(
            f"record rounds must increase strictly within [1, {num_rounds}]"
        )
    return rounds.astype(np.int64)


def _check_grid(grid: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], int]:
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError("grid must be a non-empty dict of name -> 1-D array of values")
    arrays = {}
    for name, values in grid.items():
        arr = np.asarray(values)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(
                f"grid[{name!r}] must be a non-empty 1-D array, got {arr.shape}"
            )
        arrays[name] = arr
    lengths = {name: arr.shape[0] for name, arr in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(
            f"grid values must all have the same length (one entry per grid point); "
            f"got {lengths}. Use experiments.runner.grid_product to build a Cartesian "
            "product."
        )
    return arrays, next(iter(lengths.values()))


def grid_product(**axes) -> dict[str, np.ndarray]:
    """The Cartesian product of 1-D value lists, flattened to equal-length grid arrays.

    ``grid_product(alpha=[0.5, 1, 2], eta=[0.1, 0.2])`` has 6 points, ``alpha`` varying
    slowest; reshape a sweep's leading axis to ``(3, 2)`` to index it by axis.
    """
    if not axes:
        raise ValueError("grid_product needs at least one axis")
    values = [np.asarray(v) for v in axes.values()]
    for name, v in zip(axes, values, strict=True):
        if v.ndim != 1 or v.size == 0:
            raise ValueError(f"axis {name!r} must be a non-empty 1-D list")
    mesh = np.meshgrid(*values, indexing="ij")
    return {name: m.reshape(-1) for name, m in zip(axes, mesh, strict=True)}


# --------------------------------------------------------------------------------------
# The compiled program.
# --------------------------------------------------------------------------------------


class _Carry(NamedTuple):
    params: PyTree  # the instance, per batch element
    env_state: PyTree
    obs: PyTree
    learner_state: PyTree
    sums: KahanSum  # info-shaped compensated running sums
    records: PyTree  # info-shaped, each leaf [M]


def _round_keys(seed_key):
    """instance, env reset, learner init, env rounds, learner rounds."""
    return jax.random.split(seed_key, 5)


def _stream_keys(seed_keys):
    """[B] seed keys -> ([B] env round-stream keys, [B] learner round-stream keys)."""
    keys = jax.vmap(_round_keys)(seed_keys)
    return keys[:, 3], keys[:, 4]


class _Program(NamedTuple):
    init: Callable
    chunk: Callable


def _avals(tree):
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), tree)


def _forwarded(fn, args, arg_index: int, out_index: int) -> list[int | None]:
    """For each leaf of output ``out_index`` of ``fn(*args)``: the position, among the
    leaves of ``args[arg_index]``, of the input leaf that ``fn`` returns unchanged as
    that output leaf (``None`` when it computes anything). Traced once, abstractly.
    """
    closed, out_shape = jax.make_jaxpr(fn, return_shape=True)(*_avals(args))
    in_counts = [len(jax.tree.leaves(a)) for a in args]
    first_in = sum(in_counts[:arg_index])
    in_vars = closed.jaxpr.invars[first_in : first_in + in_counts[arg_index]]
    out_counts = [len(jax.tree.leaves(o)) for o in out_shape]
    first_out = sum(out_counts[:out_index])
    out_vars = closed.jaxpr.outvars[first_out : first_out + out_counts[out_index]]
    return [
        next((i for i, v in enumerate(in_vars) if v is out), None) for out in out_vars
    ]


def _obs_from_params(env: Env, params, env_state, key, action) -> list[int | None]:
    """For each leaf of the observation: the index of the instance (``params``) leaf
    that BOTH ``env.reset`` and ``env.step`` return unchanged as that leaf, else None.

    Such an observation (a fixed action set's feature matrix) always equals that
    instance leaf, so the round loop reads it from the instance instead of carrying a
    copy: a loop carry that is overwritten every round with another carry's value
    costs two full copies of the array per round in XLA (measured on the fixed
    linear bandit, 2 MB at 10^3 seeds). Arguments are per-element (unbatched) values
    or shapes (``action``: the learner's action shape).
    """
    by_reset = _forwarded(lambda k, p: env.reset(k, p), (key, params), 1, 1)
    by_step = _forwarded(
        lambda k, s, a, p: env.step(k, s, a, p), (key, env_state, action, params), 3, 1
    )
    if len(by_reset) != len(by_step):
        return []
    return [r if r == s else None for r, s in zip(by_reset, by_step, strict=True)]


def _build_program(
    make_learner: Callable[[PyTree], Learner],
    env: Env,
    num_records: int,
    instance_mode: str,
) -> _Program:
    """Per-element functions, vmapped over the batch axis.

    ``instance_mode``: 'fixed' (env.params for all), 'sampled' (env.sample_params per
    seed), 'batched' (an instance per batch element).
    """
    dtype = float_dtype()

    def init_one(hp, instance, seed_key):
        k_inst, k_reset, k_init, _, _ = _round_keys(seed_key)
        if instance_mode == "sampled":
            params = env.sample_params(k_inst)
        elif instance_mode == "batched":
            params = instance
        else:
            params = env.params
        learner = make_learner(hp)
        env_state, obs = env.reset(k_reset, params)
        learner_state = learner.init(k_init)
        return params, env_state, obs, learner_state

    def step_one(hp, k_env, k_learner, params, env_state, obs, learner_state, t):
        learner = make_learner(hp)
        action, learner_state = learner.act(
            threefry.fold_in(k_learner, t), learner_state, obs
        )
        env_state, next_obs, feedback, info = env.step(
            threefry.fold_in(k_env, t), env_state, action, params
        )
        learner_state = learner.update(learner_state, obs, action, feedback)
        info = jax.tree.map(lambda x: jnp.asarray(x, dtype), info)
        return env_state, next_obs, learner_state, info

    def init(hp, instances, seed_keys):
        params, env_state, obs, learner_state = jax.vmap(init_one)(
            hp, instances, seed_keys
        )
        # Trace one step abstractly to learn the info structure.
        t0 = jnp.zeros((), jnp.int32)
        k_env, k_learner = _stream_keys(seed_keys)
        info = jax.eval_shape(
            lambda: jax.vmap(step_one, in_axes=(0, 0, 0, 0, 0, 0, 0, None))(
                hp, k_env, k_learner, params, env_state, obs, learner_state, t0
            )[3]
        )
        zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, dtype), info)
        records = jax.tree.map(
            lambda s: jnp.zeros((*s.shape, num_records), dtype), info
        )
        sums = KahanSum(zeros, zeros)
        return _Carry(params, env_state, obs, learner_state, sums, records)

    def chunk(carry: _Carry, hp, seed_keys, record_rounds, t_start, t_stop):
        """Plays rounds t_start <= t < t_stop (0-indexed) for every batch element."""

        # Per-seed stream keys, derived once per chunk (not once per round).
        k_env, k_learner = _stream_keys(seed_keys)
        # Observation leaves that are an instance leaf, unchanged: read from params.
        element = lambda tree: jax.tree.map(lambda x: x[0], tree)  # noqa: E731
        action = jax.eval_shape(
            lambda h, k, s, o: make_learner(h).act(k, s, o)[0],
            element(hp),
            k_learner[0],
            element(carry.learner_state),
            element(carry.obs),
        )
        from_params = _obs_from_params(
            env, element(carry.params), element(carry.env_state), k_env[0], action
        )
        obs_leaves, obs_def = jax.tree.flatten(carry.obs)
        if len(from_params) != len(obs_leaves):
            from_params = [None] * len(obs_leaves)

        def round_obs(carry):
            leaves = jax.tree.leaves(carry.obs)
            param_leaves = jax.tree.leaves(carry.params)
            return jax.tree.unflatten(
                obs_def,
                [
                    leaf if i is None else param_leaves[i]
                    for leaf, i in zip(leaves, from_params, strict=True)
                ],
            )

        def keep_static(new_obs, carry_obs):
            new = jax.tree.leaves(new_obs)
            old = jax.tree.leaves(carry_obs)
            return jax.tree.unflatten(
                obs_def,
                [
                    n if i is None else o
                    for n, o, i in zip(new, old, from_params, strict=True)
                ],
            )

        def body(t, state):
            carry, idx = state
            env_state, obs, learner_state, info = jax.vmap(
                step_one, in_axes=(0, 0, 0, 0, 0, 0, 0, None)
            )(
                hp,
                k_env,
                k_learner,
                carry.params,
                carry.env_state,
                round_obs(carry),
                carry.learner_state,
                t,
            )
            obs = keep_static(obs, carry.obs)
            sums = kahan_add(carry.sums, info)
            hit = (t + 1) == record_rounds[jnp.minimum(idx, num_records - 1)]
            values = sums.value
            snapshot = snapshot_fields(info)
            if snapshot:
                values = values._replace(**{n: getattr(info, n) for n in snapshot})

            def write(records):
                return jax.tree.map(lambda r, v: r.at[..., idx].set(v), records, values)

            records = jax.lax.cond(hit, write, lambda r: r, carry.records)
            new = _Carry(carry.params, env_state, obs, learner_state, sums, records)
            return new, idx + hit.astype(jnp.int32)

        idx = jnp.searchsorted(record_rounds, t_start + 1).astype(jnp.int32)
        carry, _ = jax.lax.fori_loop(t_start, t_stop, body, (carry, idx))
        return carry

    return _Program(init, chunk)


_CPU_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}


@functools.cache
def _compiler_options() -> dict[str, Any]:
    """XLA options of the chunk program.

    On CPU, XLA hands element-wise chains that end in a reduction to YNNPACK
    ("ynn fusions"); for the small per-seed reductions of a vmapped round (a sum or an
    argmax over 10 arms for 10^4 seeds) its own loop fusion is faster (a UCB1 round:
    measured 52 -> 36 ns per seed-round). The option exists only on CPU and only in
    recent jaxlibs: it is used where a trial compile accepts it.
    """
    if jax.default_backend() != "cpu":
        return {}
    try:
        jax.jit(lambda x: x + 1, compiler_options=_CPU_OPTIONS).lower(1.0).compile()
    except Exception:  # an XLA without the option: compile with the defaults
        return {}
    return dict(_CPU_OPTIONS)


# Compiled programs, keyed by everything that fixes them (learner / env identity,
# shapes).
_CACHE: dict[Any, Any] = {}
_CACHE_SIZE = 32


def _shardings():
    devices = jax.devices()
    if len(devices) <= 1:
        return None, 1
    mesh = Mesh(np.asarray(devices), ("batch",))
    return mesh, len(devices)


def _put(tree, mesh):
    if mesh is None:
        return tree
    sharding = NamedSharding(mesh, PartitionSpec("batch"))
    return jax.tree.map(lambda x: jax.device_put(x, sharding), tree)


def _fingerprint(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()[:16]


def _save_checkpoint(path: str, carry, rounds_done: int, fingerprint: str) -> None:
    leaves = jax.tree.leaves(carry)
    arrays = {f"leaf_{i}": _to_host(x) for i, x in enumerate(leaves)}
    tmp = f"{path}.tmp.{os.getpid()}.npz"
    np.savez(tmp, rounds_done=rounds_done, fingerprint=fingerprint, **arrays)
    os.replace(tmp, path)


def _to_host(x):
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    return np.asarray(jax.device_get(x))


def _load_checkpoint(path: str, carry_like, fingerprint: str):
    with np.load(path) as data:
        if str(data["fingerprint"]) != fingerprint:
            raise ValueError(
                f"checkpoint {path} was written by a different run (other learner, "
                "env, sizes, key or record grid); delete it or choose another "
                "checkpoint path"
            )
        leaves, treedef = jax.tree.flatten(carry_like)
        restored = []
        for i, like in enumerate(leaves):
            value = data[f"leaf_{i}"]
            if jnp.issubdtype(like.dtype, jax.dtypes.prng_key):
                value = jax.random.wrap_key_data(value, impl=jax.random.key_impl(like))
            restored.append(value)
        return jax.tree.unflatten(treedef, restored), int(data["rounds_done"])


class _Progress:
    def __init__(self, total: int, batch: int, enabled: bool, label: str):
        self.total, self.batch, self.enabled, self.label = total, batch, enabled, label
        self.start = time.perf_counter()
        self.first_done: int | None = None

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        if self.first_done is None:
            self.first_done, self.start = done, time.perf_counter()
            rate_txt, eta_txt = "", ""
        else:
            elapsed = max(time.perf_counter() - self.start, 1e-9)
            rate = (done - self.first_done) / elapsed
            eta = (self.total - done) / max(rate, 1e-9)
            rate_txt = f"  {rate * self.batch:,.0f} seed-rounds/s"
            eta_txt = f"  {eta:,.0f}s left"
        width = 24
        filled = int(width * done / self.total)
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(
            f"\r{self.label} [{bar}] {done:,}/{self.total:,} rounds"
            f"{rate_txt}{eta_txt}   "
        )
        if done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _execute(
    make_learner: Callable[[PyTree], Learner],
    cache_id: Any,
    ident: str,
    env: Env,
    num_rounds: int,
    *,
    key,
    num_seeds: int,
    hp: dict[str, np.ndarray],
    num_grid: int,
    instances: PyTree | None,
    record,
    chunk_size: int | None,
    checkpoint: str | os.PathLike | None,
    progress: bool | None,
    callback: Callable[[int], None] | None,
    label: str,
) -> tuple[np.ndarray, dict[str, np.ndarray], float, float]:
    if not isinstance(env, Env):
        raise ValueError(f"env must be an envs.core.Env, got {type(env).__name__}")
    num_rounds = check_int(num_rounds, "num_rounds")
    num_seeds = check_int(num_seeds, "num_seeds")
    record_rounds = _check_record(record, num_rounds)
    num_records = len(record_rounds)
    show = sys.stderr.isatty() if progress is None else bool(progress)
    if chunk_size is None:
        # One chunk unless the host has something to do between chunks.
        chunked = show or checkpoint is not None or callback is not None
        chunk_size = max(1, math.ceil(num_rounds / 20)) if chunked else num_rounds
    chunk_size = check_int(chunk_size, "chunk_size")
    if not isinstance(key, jax.Array) or not jnp.issubdtype(
        key.dtype, jax.dtypes.prng_key
    ):
        if isinstance(key, jax.Array) and key.dtype == jnp.uint32:
            key = jax.random.wrap_key_data(key)
        else:
            raise ValueError("key must be a typed PRNG key, e.g. jax.random.key(0)")
    if key.shape != ():
        raise ValueError(f"key must be a single key, got shape {key.shape}")

    if instances is not None:
        mode = "batched"
        leaves = jax.tree.leaves(instances)
        if not leaves:
            raise ValueError("instances must be a pytree of arrays with a leading axis")
        num_instances = leaves[0].shape[0]
        if any(leaf.shape[:1] != (num_instances,) for leaf in leaves):
            raise ValueError(
                "every leaf of instances must share the leading instance axis"
            )
    elif env.params is None:
        if env.sample_params is None:
            raise ValueError(f"env {env.name!r} has neither params nor sample_params")
        mode, num_instances = "sampled", 1
    else:
        mode, num_instances = "fixed", 1

    # Flatten grid x instance x seed into one batch axis (seed fastest).
    batch = num_grid * num_instances * num_seeds
    g_idx, i_idx, s_idx = np.unravel_index(
        np.arange(batch), (num_grid, num_instances, num_seeds)
    )
    seed_keys = jax.vmap(lambda s: jax.random.fold_in(key, s))(
        jnp.asarray(s_idx, jnp.uint32)
    )
    hp_batch = {name: jnp.asarray(v[g_idx]) for name, v in hp.items()}
    inst_batch = (
        jax.tree.map(lambda x: jnp.asarray(x)[i_idx], instances)
        if mode == "batched"
        else None
    )

    mesh, num_devices = _shardings()
    padded = -batch % num_devices
    if padded:
        pad = lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], padded, axis=0)])  # noqa: E731
        seed_keys = pad(seed_keys)
        hp_batch = jax.tree.map(pad, hp_batch)
        inst_batch = jax.tree.map(pad, inst_batch)
    seed_keys, hp_batch, inst_batch = _put((seed_keys, hp_batch, inst_batch), mesh)
    rec = jnp.asarray(record_rounds, jnp.int32)

    cache_key = (
        cache_id,
        id(env.reset),
        id(env.step),
        id(env.sample_params),
        mode,
        num_records,
        batch + padded,
        num_devices,
        tuple((n, v.dtype.str, v.shape[1:]) for n, v in hp.items()),
        str(jax.tree.structure(inst_batch)),
        float_dtype(),
    )
    compile_start = time.perf_counter()
    cached = _CACHE.get(cache_key)
    if cached is None:
        program = _build_program(make_learner, env, num_records, mode)
        init_fn = jax.jit(program.init)
        chunk_fn = jax.jit(
            program.chunk, donate_argnums=(0,), compiler_options=_compiler_options()
        )
        cached = (init_fn, chunk_fn)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[cache_key] = cached
    init_fn, chunk_fn = cached
    carry = init_fn(hp_batch, inst_batch, seed_keys)
    # A call playing zero rounds compiles the chunk program (jit caches it for later
    # runs).
    zero = jnp.zeros((), jnp.int32)
    carry = jax.block_until_ready(chunk_fn(carry, hp_batch, seed_keys, rec, zero, zero))
    compile_time = time.perf_counter() - compile_start

    rounds_done = 0
    ckpt_path = None
    fingerprint = ""
    if checkpoint is not None:
        ckpt_path = os.fspath(checkpoint)
        fingerprint = _fingerprint(
            ident,
            env.name,
            num_rounds,
            batch,
            record_rounds.tolist(),
            np.asarray(jax.random.key_data(key)).tolist(),
            {n: np.asarray(v).tolist() for n, v in hp.items()},
            [(x.shape, str(x.dtype)) for x in jax.tree.leaves(carry)],
        )
        if os.path.exists(ckpt_path):
            carry, rounds_done = _load_checkpoint(ckpt_path, carry, fingerprint)
            carry = _put(jax.tree.map(jnp.asarray, carry), mesh)

    bar = _Progress(num_rounds, batch, show, label)
    bar.update(rounds_done)
    run_start = time.perf_counter()
    while rounds_done < num_rounds:
        stop = min(rounds_done + chunk_size, num_rounds)
        carry = chunk_fn(
            carry, hp_batch, seed_keys, rec, jnp.int32(rounds_done), jnp.int32(stop)
        )
        jax.block_until_ready(carry)
        rounds_done = stop
        if ckpt_path is not None and rounds_done < num_rounds:
            _save_checkpoint(ckpt_path, carry, rounds_done, fingerprint)
        bar.update(rounds_done)
        if callback is not None:
            callback(rounds_done)
    wall_time = time.perf_counter() - run_start
    if ckpt_path is not None and os.path.exists(ckpt_path):
        os.remove(ckpt_path)

    names = _info_names(carry.records)
    leaves = jax.tree.leaves(carry.records)
    lead = (num_grid, num_instances, num_seeds)
    metrics = {
        name: np.asarray(jax.device_get(leaf))[:batch].reshape(*lead, num_records)
        for name, leaf in zip(names, leaves, strict=True)
    }
    return record_rounds, metrics, wall_time, compile_time


def _function_id(*fns) -> str:
    return ",".join(
        f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', f)}" for f in fns
    )


def _info_names(records) -> list[str]:
    if hasattr(records, "_fields"):
        return list(records._fields)
    if isinstance(records, Mapping):
        return list(records)
    return ["regret"]


def run(
    learner: Learner,
    env: Env,
    num_rounds: int,
    *,
    key,
    num_seeds: int = 1,
    params: PyTree | None = None,
    instances: PyTree | None = None,
    record: str | Sequence[int] | np.ndarray | None = None,
    chunk_size: int | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool | None = None,
    callback: Callable[[int], None] | None = None,
) -> RunResult:
    """Plays ``learner`` on ``env`` for ``num_rounds`` rounds, for ``num_seeds`` seeds.

    Args:
      learner: a :class:`~algorithms.core.Learner`.
      env: an :class:`~envs.core.Env`. Its ``params`` is the instance; when it has none,
        each seed draws its own instance with ``env.sample_params`` (the same instance
        for the same seed across learners).
      num_rounds: horizon T.
      key: a typed PRNG key (``jax.random.key(0)``); seed ``s`` uses
        ``fold_in(key, s)``.
      num_seeds: independent runs, batched in one compiled program.
      params: overrides ``env.params`` (one instance).
      instances: a batch of instances, a params pytree with a leading axis ``I``; every
        instance is run with the same ``num_seeds`` seeds.
      record: rounds at which cumulative metrics are recorded: 'log' (default, ~60
        log-spaced), 'linear', or an increasing int array within [1, T].
      chunk_size: rounds per compiled chunk (host sync, progress, checkpoint between
        chunks). Default: the whole run, or T/20 with a progress bar, a checkpoint or
        a callback.
      checkpoint: a path; the carry is saved there atomically after every chunk and a
        run finding a checkpoint of the same configuration resumes from it (identical
        results). Removed when the run completes.
      progress: print a progress bar to stderr (default: when stderr is a terminal).
      callback: called on the host with the number of rounds done after each chunk.

    Returns:
      A :class:`RunResult`; ``result.regret`` is ``[num_seeds, M]`` at ``result.rounds``
      (``[I, num_seeds, M]`` with ``instances``).
    """
    if not isinstance(learner, Learner):
        raise ValueError(
            f"learner must be an algorithms.core.Learner, got {type(learner)}"
        )
    if params is not None:
        env = env.with_params(params)
    rounds, metrics, wall, comp = _execute(
        lambda hp: learner,
        learner,
        _function_id(learner.act, learner.update),
        env,
        num_rounds,
        key=key,
        num_seeds=num_seeds,
        hp={},
        num_grid=1,
        instances=instances,
        record=record,
        chunk_size=chunk_size,
        checkpoint=checkpoint,
        progress=progress,
        callback=callback,
        label=env.name,
    )
    metrics = {
        name: m[0] if instances is not None else m[0, 0] for name, m in metrics.items()
    }
    return RunResult(rounds, metrics, {}, wall, comp)


def sweep(
    learner_fn: Callable[..., Learner],
    env: Env,
    num_rounds: int,
    *,
    key,
    grid: Mapping[str, Any],
    num_seeds: int = 1,
    instances: PyTree | None = None,
    static: Mapping[str, Any] | None = None,
    record: str | Sequence[int] | np.ndarray | None = None,
    chunk_size: int | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool | None = None,
    callback: Callable[[int], None] | None = None,
) -> RunResult:
    """Runs ``learner_fn(**static, **grid_point)`` for every grid point and seed, as ONE
    program.

    The grid's hyperparameters are traced (``vmap``-ed), never recompiled per value; the
    same seeds (hence instances and env draws) are used at every grid point, so
    differences between grid points are paired.

    Args:
      learner_fn: a learner factory, e.g. ``algorithms.bandits.ucb1``.
      env: the environment (see :func:`run`).
      num_rounds: horizon T.
      key: a typed PRNG key.
      grid: name -> 1-D values, all of one length G (one entry per grid point); see
        :func:`grid_product` for a Cartesian product.
      num_seeds: seeds per grid point (and per instance).
      instances: optional batch of instances, a params pytree with a leading axis I.
      static: keyword arguments passed unchanged (shape-fixing ones such as
        ``num_arms``).
      record, chunk_size, checkpoint, progress, callback: as in :func:`run`.

    Returns:
      A :class:`RunResult` whose metrics are ``[G, num_seeds, M]``, or
      ``[G, I, num_seeds, M]`` with ``instances``; ``result.grid`` holds the grid.
    """
    if not callable(learner_fn):
        raise ValueError("learner_fn must be a learner factory (a callable)")
    arrays, num_grid = _check_grid(grid)
    static = dict(static or {})
    clash = set(static) & set(arrays)
    if clash:
        raise ValueError(f"{sorted(clash)} given both in grid and in static")
    hp = {
        name: arr.astype(float_dtype()) if arr.dtype.kind == "f" else arr
        for name, arr in arrays.items()
    }
    # Build one learner eagerly with concrete values, so that bad names or values fail
    # here with the factory's own ValueError, before tracing.
    first = {name: arr[0].item() for name, arr in hp.items()}
    if not isinstance(learner_fn(**static, **first), Learner):
        raise ValueError("learner_fn must return an algorithms.core.Learner")
    for name, arr in hp.items():
        for value in np.unique(arr):
            learner_fn(**static, **{**first, name: value.item()})

    def make_learner(point):
        return learner_fn(**static, **point)

    cache_id = (learner_fn, repr(sorted(static.items())))
    rounds, metrics, wall, comp = _execute(
        make_learner,
        cache_id,
        _function_id(learner_fn) + repr(sorted(static.items())),
        env,
        num_rounds,
        key=key,
        num_seeds=num_seeds,
        hp=hp,
        num_grid=num_grid,
        instances=instances,
        record=record,
        chunk_size=chunk_size,
        checkpoint=checkpoint,
        progress=progress,
        callback=callback,
        label=f"{env.name} sweep",
    )
    if instances is None:
        metrics = {name: m[:, 0] for name, m in metrics.items()}
    return RunResult(rounds, metrics, dict(arrays), wall, comp)
