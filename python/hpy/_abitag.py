# python/hpy/_abitag.py: the HPy ABI version and tag, and the file-name suffixes of HPy extensions per ABI (stdlib only).
"""ABI version numbers and file-name suffixes of HPy extensions.

A universal module is named ``NAME.hpy0.so``; a hybrid one carries the host's
CPython ABI tag too, ``NAME.hpy0-cp311.so``; a CPython-ABI module is an ordinary
extension named with ``EXT_SUFFIX``.

Public as ``hpy.devel.abitag``; it lives here, importing nothing but the standard library,
so that the import hook (at interpreter start) and the host use the same names as the build.
"""

import sysconfig

# Kept equal to HPY_ABI_VERSION / HPY_ABI_VERSION_MINOR / HPY_ABI_VERSION_MINOR_LATEST / HPY_ABI_TAG
# in include/hpy.h. HPY_ABI_VERSION_MINOR is the minor a module requests by default (0: HPy 0.9's ABI,
# which every 0.9 host loads; HPy 0.9's own tests read it as the host's current version);
# HPY_ABI_VERSION_MINOR_LATEST the newest minor unihpy's headers and host speak (docs/beyond-0.9.md).
HPY_ABI_VERSION = 0
HPY_ABI_VERSION_MINOR = 0
HPY_ABI_VERSION_MINOR_LATEST = 1
HPY_ABI_TAG = 'hpy%d' % HPY_ABI_VERSION

HPY_ABIS = ('cpython', 'universal', 'hybrid')

# How many dash-separated parts of the SOABI name the interpreter's ABI (the
# rest names the platform), by the prefix of its first part.
_ABI_PARTS_BY_PREFIX = (
    ('cpython', 2),   # cpython-311-x86_64-linux-gnu  -> cpython-311
    ('cp', 1),        # cp311-win_amd64               -> cp311
    ('pypy', 2),      # pypy39-pp73-x86_64-linux-gnu  -> pypy39-pp73
    ('graalpy', 3),   # graalpy-38-native-x86_64-...  -> graalpy-38-native
)


def _default_ext_suffix():
    suffix = sysconfig.get_config_var('EXT_SUFFIX')
    if not suffix:
        raise ValueError('this interpreter has no EXT_SUFFIX in sysconfig')
    return suffix


def parse_ext_suffix(ext_suffix=None):
    """Split an extension suffix (default: this interpreter's EXT_SUFFIX) into
    ``(abi_tag, ext)``.

    ``abi_tag`` is the interpreter's ABI in the short form wheels use, e.g.
    ``'cp311'``, ``'cp313t'``, ``'cp311d'`` or ``'pypy39-pp73'``; ``ext`` is the
    file extension without its dot (``'so'``, ``'pyd'``, ``'dylib'``).
    ``abi_tag`` is ``''`` for a bare suffix like ``'.so'``.
    """
    if ext_suffix is None:
        ext_suffix = _default_ext_suffix()
    if not ext_suffix.startswith('.') or ext_suffix.count('.') not in (1, 2):
        raise ValueError('not an extension-module suffix: %r' % (ext_suffix,))
    parts = ext_suffix[1:].split('.')
    ext = parts[-1]
    if len(parts) == 1:
        return '', ext
    soabi = parts[0].split('-')
    keep = len(soabi)
    for prefix, n in _ABI_PARTS_BY_PREFIX:
        if soabi[0].startswith(prefix):
            keep = n
            break
    abi_tag = '-'.join(soabi[:keep])
    if abi_tag.startswith('cpython-'):
        abi_tag = 'cp' + abi_tag[len('cpython-'):]
    return abi_tag, ext


def get_hpy_ext_suffix(hpy_abi, ext_suffix=None):
    """The file-name suffix of an extension built for ``hpy_abi``.

    On CPython 3.11 / Linux: ``'cpython'`` gives EXT_SUFFIX
    (``'.cpython-311-x86_64-linux-gnu.so'``), ``'universal'`` gives
    ``'.hpy0.so'`` and ``'hybrid'`` gives ``'.hpy0-cp311.so'``.
    ``ext_suffix`` stands for this interpreter's EXT_SUFFIX.
    """
    if hpy_abi not in HPY_ABIS:
        raise ValueError('unknown HPy ABI %r: expected one of %s'
                         % (hpy_abi, ', '.join(HPY_ABIS)))
    if ext_suffix is None:
        ext_suffix = _default_ext_suffix()
    if hpy_abi == 'cpython':
        return ext_suffix
    abi_tag, ext = parse_ext_suffix(ext_suffix)
    if hpy_abi == 'universal':
        return '.%s.%s' % (HPY_ABI_TAG, ext)
    if not abi_tag:
        raise ValueError('EXT_SUFFIX %r names no interpreter ABI, which a hybrid '
                         'module needs' % (ext_suffix,))
    return '.%s-%s.%s' % (HPY_ABI_TAG, abi_tag, ext)
