"""``python -m pannet_core`` entry point.

The process ends with ``os._exit`` once ``main`` has returned and the output
is flushed: every file has been written and closed by then and every thread
joined, so the interpreter's shutdown (a last garbage collection and freeing
hundreds of megabytes object by object) does nothing
the operating system does not do anyway when the process ends.
"""
import os
import sys

from pannet_core.runtime import configure

configure()  # before anything imports numpy or pyarrow

from pannet_core.cli import main  # noqa: E402

code = main()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
