"""Compiled programs that outlive the process: JAX's persistent compilation cache.

A fit's programs take 1 to 2 s to compile on 2 cores, longer than a small
fit itself, and every new process (a notebook kernel, each ``skmnist``
command, each worker of a search) compiled them again. JAX can keep what
XLA compiled on disk, keyed by the program itself; skmnist turns that on,
under its data home, before the first program is compiled:

- folder: ``$SKMNIST_COMPILATION_CACHE`` if set, else
  ``<data home>/jax-cache`` (``$SKMNIST_DATA`` or ``~/skmnist_data``);
- off: ``SKMNIST_COMPILATION_CACHE=0`` (or ``off``); a folder chosen through
  JAX's own setting (``JAX_COMPILATION_CACHE_DIR``) is kept as it is;
- bounded: at most :data:`MAX_BYTES` on disk, the least recently used
  programs removed first (JAX's LRU cache, with a file lock so that
  processes sharing the folder take turns).

Every program compiled by skmnist is cached, however quick to compile (JAX's
default keeps only those over one second). A folder that cannot be created
means no cache, not an error (with a warning when the folder was the user's
own ``SKMNIST_COMPILATION_CACHE``).
"""

import os
import warnings

from .._utils._paths import data_home

VARIABLE = "SKMNIST_COMPILATION_CACHE"
MAX_BYTES = 512 * 1024 * 1024
_OFF = {"0", "off", "false", "no", "none"}


def configure(jax):
    """Point JAX's persistent cache at skmnist's folder, before any compile.

    Parameters
    ----------
    jax : module
        The imported ``jax``.

    Returns
    -------
    str or None
        The folder in use, or None when there is no cache.
    """
    setting = os.environ.get(VARIABLE, "").strip()
    if setting.lower() in _OFF:
        return None
    if jax.config.jax_compilation_cache_dir:  # the user's own JAX setting
        return jax.config.jax_compilation_cache_dir
    folder = os.path.expanduser(setting) if setting else data_home()
    folder = os.path.abspath(folder if setting else os.path.join(folder, "jax-cache"))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        if setting:  # the user's own choice: say why it is not used
            warnings.warn(
                f"{VARIABLE}={setting!r} cannot be used as the compilation cache "
                f"folder ({error.strerror or error}); programs are compiled "
                f"without a cache. Name a folder skmnist may create, or set "
                f"{VARIABLE}=0 to turn the cache off.",
                UserWarning,
                stacklevel=2,
            )
        return None
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    return folder
