"""Process-wide choices of the two entry points: the command line and the dashboard.

Both ``python -m pannet_core`` (``__main__.py``) and ``app.py`` call
:func:`configure` before anything imports numpy or pyarrow, because the two
libraries read these settings once, when they load:

* **One BLAS thread** (``OPENBLAS_NUM_THREADS=1``).  OpenBLAS splits some
  reductions (dot products, ``Xᵀv`` with few columns) between its threads
  and adds the partial sums in an order that depends on the thread count,
  which by default is the number of cores.  The propensity scores then
  differ in their last bits between a 2-core and an 8-core machine, and at
  registry scale (tens of thousands of patients) a few near-tied matches
  flip.  With one thread the same file and settings give the same pairs on
  every machine with the same CPU kernels, in the dashboard and headless
  alike.  The matrices are narrow (n × at most ~30 covariates), and idle
  OpenBLAS threads busy-wait, taking a core from pyarrow's reader.
* **Arrow's system memory pool** (``ARROW_DEFAULT_MEMORY_POOL=system``, glibc
  ``malloc``) instead of the bundled mimalloc, which asks the kernel for
  huge pages and then zeroes them.  Where the memory comes from changes no result.

A variable the user has already set is left as it is.
"""
from __future__ import annotations

import os

#: environment variable -> value set unless the user has set it
DEFAULTS = {
    "OPENBLAS_NUM_THREADS": "1",
    "ARROW_DEFAULT_MEMORY_POOL": "system",
}


def configure() -> None:
    """Set :data:`DEFAULTS` in ``os.environ`` (only the variables not already set).

    Has its effect only when called before numpy and pyarrow are imported.
    """
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
