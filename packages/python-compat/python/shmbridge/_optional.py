"""Optional dependencies (numpy, torch, pyarrow): imported when first used,
so ``import shmbridge`` needs only the standard library."""
import importlib


def need(module, feature):
    """Import ``module`` for ``feature``, or raise an ImportError that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError("shmbridge.%s needs %s: pip install %s" % (feature, module, module)) from None
