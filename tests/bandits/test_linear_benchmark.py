"""The linear benchmark's NumPy baselines compute the same OFUL as ours."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

from algorithms.bandits.linear import oful
from experiments import benchmark_linear_bandits as bench


def test_numpy_oful_loop_and_vectorised_match_ours():
    rng = np.random.default_rng(0)
    x, th = bench._numpy_instances(rng, 2, 8, 3)
    x = x * rng.uniform(0.5, 1.0, size=(2, 8, 1))  # generic norms: no first-round ties
    T, delta = 40, 0.05
    noise = rng.normal(size=(T, 2))
    learner = oful(3, regularization=1.0, noise_std=1.0, theta_bound=1.0, delta=delta)
    act, update = jax.jit(learner.act), jax.jit(learner.update)
    regrets = []
    for s in range(2):
        expected, regret = bench.numpy_oful_loop(x[s], th[s], noise[:, s], delta)
        regrets.append(regret)
        obs, mu = jnp.asarray(x[s], jnp.float32), x[s] @ th[s]
        state = learner.init(jax.random.key(0))
        for t in range(T):
            a, state = act(jax.random.key(t), state, obs)
            assert int(a) == expected[t]
            state = update(state, obs, a, jnp.float32(mu[int(a)] + noise[t, s]))
    np.testing.assert_allclose(
        bench.numpy_oful_vectorised(x, th, noise, delta), regrets, rtol=1e-9
    )


def test_restrict_cores_one_device_per_core_and_only_before_jax_starts():
    """Fresh processes: one XLA CPU device per allowed core and the affinity set;
    after JAX's first computation it raises instead of silently doing nothing."""
    before = (
        "import os, jax\n"
        "from experiments.benchmark_linear_bandits import restrict_cores\n"
        "cores = restrict_cores(1)\n"
        "assert len(cores) == 1 and sorted(os.sched_getaffinity(0)) == cores\n"
        "assert len(jax.devices()) == 1, jax.devices()\n"
        "print('ok')\n"
    )
    after = (
        "import jax\n"
        "from experiments.benchmark_linear_bandits import restrict_cores\n"
        "jax.numpy.zeros(1).block_until_ready()\n"
        "try:\n"
        "    restrict_cores(1)\n"
        "except RuntimeError:\n"
        "    print('ok')\n"
    )
    env = dict(os.environ, PYTHONPATH=os.getcwd(), JAX_PLATFORMS="cpu")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for code in (before, after)
    ]
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        assert stdout.strip() == "ok", (stdout, stderr)
