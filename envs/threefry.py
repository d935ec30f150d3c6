"""Unrolled Threefry-2x32: JAX's default PRNG, bit for bit, at a fraction of the cost
on CPU.

On CPU, JAX lowers its ``threefry2x32`` primitive to a *rolled* loop over the cipher's
five four-round blocks; under ``vmap`` over 10^4 seeds that loop writes the whole state
to memory after every block and runs about 4x slower than the same cipher written out
as 80 integer operations, which XLA fuses into one loop that stays in registers. The
functions here are that unrolled cipher and the two uses the hot loops need:

* :func:`fold_in`: ``jax.random.fold_in(key, data)``, bit-identical;
* :func:`uniform`: ``jax.random.uniform(key, (), dtype, minval, maxval)``,
  bit-identical.

Both take a typed PRNG key and fall back to ``jax.random`` for any other key
implementation (``unsafe_rbg``, ``rbg``), so callers can use them unconditionally:
results never depend on whether the fast path was taken.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA


def threefry2x32(key0: Array, key1: Array, count0: Array, count1: Array):
    """The Threefry-2x32 block cipher, 20 rounds, unrolled (uint32 in, uint32 out).

    Bit-identical to JAX's ``threefry2x32`` primitive (Salmon, Moraes, Dror and Shaw,
    "Parallel random numbers: as easy as 1, 2, 3", SC 2011; the tests check the
    Random123 known-answer vectors). Arguments broadcast.
    """
    schedule = (key0, key1, key0 ^ key1 ^ jnp.uint32(_PARITY))
    x0, x1 = count0 + schedule[0], count1 + schedule[1]
    for block in range(5):
        for rotation in _ROTATIONS[block % 2]:
            x0 = x0 + x1
            x1 = (x1 << jnp.uint32(rotation)) | (x1 >> jnp.uint32(32 - rotation))
            x1 = x0 ^ x1
        x0 = x0 + schedule[(block + 1) % 3]
        x1 = x1 + schedule[(block + 2) % 3] + jnp.uint32(block + 1)
    return x0, x1


def is_threefry(key: Array) -> bool:
    """True for a typed key of JAX's default ``threefry2x32`` implementation."""
    return (
        jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
        and str(jax.random.key_impl(key)) == "threefry2x32"
    )


def fold_in(key: Array, data) -> Array:
    """``jax.random.fold_in(key, data)`` for a scalar typed key and uint32 ``data``.

    Threefry's ``fold_in`` encrypts the counter pair ``(0, data)`` under the key.
    """
    if key.shape != () or not is_threefry(key):
        return jax.random.fold_in(key, data)
    words = jax.random.key_data(key)
    data = jnp.asarray(data).astype(jnp.uint32)
    out = threefry2x32(words[0], words[1], jnp.zeros_like(data), data)
    return jax.random.wrap_key_data(jnp.stack(out), impl="threefry2x32")


def bits(key: Array, num: int) -> Array:
    """``jax.random.bits(key, (num,), jnp.uint32)`` of a scalar typed key, bit for bit.

    Falls back to ``jax.random.bits`` for other key implementations and for JAX's
    non-partitionable threefry scheme.
    """
    if (
        key.shape != ()
        or not is_threefry(key)
        or not jax.config.jax_threefry_partitionable
    ):
        return jax.random.bits(key, (num,), jnp.uint32)
    words = jax.random.key_data(key)
    # The partitionable scheme encrypts the 64-bit counter i as (high, low) words.
    counter = jnp.arange(num, dtype=jnp.uint32)
    high, low = threefry2x32(words[0], words[1], jnp.zeros_like(counter), counter)
    return high ^ low


def random_word(key: Array) -> Array:
    """The 32 random bits ``jax.random.bits(key, (), jnp.uint32)`` of a threefry key."""
    words = jax.random.key_data(key)
    zero = jnp.zeros((), jnp.uint32)
    if jax.config.jax_threefry_partitionable:
        high, low = threefry2x32(words[0], words[1], zero, zero)
        return high ^ low
    # The original scheme encrypts the (odd-length, zero-padded) counter [0] -> word 0.
    return threefry2x32(words[0], words[1], zero, zero)[0]


def uniform(key: Array, dtype=None, minval=0.0, maxval=1.0) -> Array:
    """``jax.random.uniform(key, (), dtype, minval, maxval)``, bit-identical.

    Float32 only on the fast path (64-bit floats need two words; they fall back).
    """
    dtype = jnp.dtype(jnp.result_type(float) if dtype is None else dtype)
    if key.shape != () or dtype != jnp.float32 or not is_threefry(key):
        return jax.random.uniform(key, (), dtype, minval, maxval)
    minval = jnp.asarray(minval, dtype)
    maxval = jnp.asarray(maxval, dtype)
    one = np.array(1.0, np.float32).view(np.uint32)
    mantissa = (random_word(key) >> jnp.uint32(9)) | jnp.uint32(one)
    floats = jax.lax.bitcast_convert_type(mantissa, jnp.float32) - jnp.float32(1.0)
    return jnp.maximum(minval, floats * (maxval - minval) + minval)


def split(key: Array, num: int = 2) -> Array:
    """``jax.random.split(key, num)`` of a scalar typed key, bit for bit (``[num]``).

    JAX's partitionable threefry scheme makes the ``i``-th key ``fold_in(key, i)``: the
    cipher of the counter ``(0, i)``. Falls back to ``jax.random.split`` for other key
    implementations and for the non-partitionable scheme.
    """
    if (
        key.shape != ()
        or not is_threefry(key)
        or not jax.config.jax_threefry_partitionable
    ):
        return jax.random.split(key, num)
    words = jax.random.key_data(key)
    counter = jnp.arange(num, dtype=jnp.uint32)
    high, low = threefry2x32(words[0], words[1], jnp.zeros_like(counter), counter)
    return jax.random.wrap_key_data(jnp.stack([high, low], -1), impl="threefry2x32")


def uniforms(key: Array, shape: tuple[int, ...], dtype=None) -> Array:
    """``jax.random.uniform(key, shape, dtype)`` on [0, 1) of a scalar key, bit for bit.

    Float32 and JAX's partitionable threefry scheme on the fast path (one cipher block
    per number, written out); everything else falls back to ``jax.random.uniform``.
    """
    dtype = jnp.dtype(jnp.result_type(float) if dtype is None else dtype)
    if (
        key.shape != ()
        or dtype != jnp.float32
        or not is_threefry(key)
        or not jax.config.jax_threefry_partitionable
    ):
        return jax.random.uniform(key, shape, dtype)
    words = bits(key, int(np.prod(shape, dtype=np.int64))).reshape(shape)
    one = np.array(1.0, np.float32).view(np.uint32)
    mantissa = (words >> jnp.uint32(9)) | jnp.uint32(one)
    floats = jax.lax.bitcast_convert_type(mantissa, jnp.float32) - jnp.float32(1.0)
    return jnp.maximum(jnp.float32(0.0), floats)
