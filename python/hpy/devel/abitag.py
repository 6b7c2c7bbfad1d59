# python/hpy/devel/abitag.py: hpy.devel.abitag, HPy's public name for the ABI version, tag and file suffixes.
"""See hpy._abitag, where these live so that loading modules never needs setuptools."""
from hpy._abitag import (  # noqa: F401
    HPY_ABI_TAG,
    HPY_ABI_VERSION,
    HPY_ABI_VERSION_MINOR,
    HPY_ABI_VERSION_MINOR_LATEST,
    HPY_ABIS,
    get_hpy_ext_suffix,
    parse_ext_suffix,
)
