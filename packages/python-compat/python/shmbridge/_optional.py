"""Optional dependencies (numpy, torch, pyarrow): imported when first used,
so ``import shmbridge`` needs only the standard library."""
import importlib
import sys


def need(module, feature):
    """Import ``module`` for ``feature``, or raise an ImportError that says how to install it."""
    found = sys.modules.get(module)  # the per-call path (worker arguments): no import machinery
    if found is not None:
        return found
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError("shmbridge.%s needs %s: pip install %s" % (feature, module, module)) from None
