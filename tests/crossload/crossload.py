#!/usr/bin/env python3
# tests/crossload/crossload.py: builds HPy modules with unihpy's and HPy 0.9's headers and runs each build in both hosts.
"""Cross-loading check: the HPy 0.9 universal ABI is the same in unihpy and in HPy 0.9.

Two sides, each an interpreter with its own ``hpy`` package:
  unihpy  this project's .venv (headers, helper sources, host ``hpy.universal``);
  hpy09   .venv-hpy09 with PyPI's hpy==0.9.0 (its headers, helper sources and host).

For each side, the proof of concept (pof.c, pofcpp.cpp, pofpackage/foo.c) and xmod.c are compiled
with gcc/g++ directly into NAME.hpy0.so, and the porting example's after/vec.c into the hybrid
vec.hpy0-cp311.so, with that side's include folder and helper sources (found through that side's
``hpy.devel.HPyDevel``). Then each build is tested in each host:
  built by unihpy -> run in hpy09   (a: our modules in HPy 0.9's host)
  built by hpy09  -> run in unihpy  (b: HPy 0.9's modules in our host)
then the unihpy build in HPy 0.9's debug and trace modes, and the two native pairs as the
reference. The tests are the same files everywhere: proof-of-concept/test_pof.py (with
--pof-installed), tests/crossload/test_xmod.py and proof-of-concept/porting/test_porting.py.

    python tests/crossload/crossload.py [--hpy09-python .venv-hpy09/bin/python] [--out build/crossload]

The exact compiler commands go to OUT/build-commands.txt. Exit status 0 when every run passes.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / 'tests' / 'crossload'
POF = ROOT / 'proof-of-concept'

# (module name, source, language, extra link flags, HPy ABI)
MODULES = [
    ('pof', POF / 'pof.c', 'c', ['-lm'], 'universal'),
    ('pofcpp', POF / 'pofcpp.cpp', 'c++', [], 'universal'),
    ('pofpackage.foo', POF / 'pofpackage' / 'foo.c', 'c', [], 'universal'),
    ('xmod', HERE / 'xmod.c', 'c', [], 'universal'),
    # the porting example after its partial port: universal context plus the C API
    ('vec', POF / 'porting' / 'after' / 'vec.c', 'c', ['-lm'], 'hybrid'),
]

COMMON_FLAGS = ['-O2', '-g', '-fPIC', '-fvisibility=hidden', '-Wall', '-DHPY']
# unihpy's headers are clean C11 / C++17 with -Wextra -Werror. HPy 0.9's are built as HPy 0.9's
# setuptools integration builds them: the compiler's default GNU dialect (its inline helpers call
# alloca(), which strict -std=c11 does not declare). Universal modules get each side's
# forbid_python_h folder first, as each hpy.devel does; hybrid modules see the interpreter's
# include folder instead.
SIDE_FLAGS = {
    'unihpy': {'c': ['-std=c11', '-Wextra', '-Werror'], 'c++': ['-std=c++17', '-Wextra', '-Werror']},
    'hpy09': {'c': [], 'c++': ['-std=c++17']},
}

# (modules built by, host that runs them, HPY mode): (a) and (b), then HPy 0.9's debug context
# (its handles are not object pointers, the strictest check of our headers) and trace context,
# then the two native pairs as the reference.
RUNS = [
    ('unihpy', 'hpy09', 'universal'),
    ('hpy09', 'unihpy', 'universal'),
    ('unihpy', 'hpy09', 'debug'),
    ('unihpy', 'hpy09', 'trace'),
    ('unihpy', 'unihpy', 'universal'),
    ('hpy09', 'hpy09', 'universal'),
    # unihpy's debug and trace contexts, with both builds.
    ('hpy09', 'unihpy', 'debug'),
    ('unihpy', 'unihpy', 'debug'),
    ('hpy09', 'unihpy', 'trace'),
]

PROBE = r'''
import json, sysconfig, hpy, hpy.universal
from hpy.devel import HPyDevel
d = HPyDevel()
forbid = getattr(d, 'get_include_dir_forbid_python_h', None)
print(json.dumps({
    'hpy_package': hpy.__path__[0],
    'version': list(hpy.universal.get_version()),
    'include_dirs': [str(p) for p in d.get_extra_include_dirs()],
    'forbid_python_h': str(forbid()) if forbid else None,
    'sources': [str(p) for p in d.get_extra_sources()],
    'python_include': sysconfig.get_paths()['include'],
}))
'''


def clean_env(pythonpath=None):
    """The environment of a child interpreter: nothing inherited that could put the other side's
    hpy package on its path."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'PYTHONHOME', 'HPY', 'HPY_LOG', 'VIRTUAL_ENV')}
    if pythonpath:
        env['PYTHONPATH'] = os.pathsep.join(str(p) for p in pythonpath)
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    return env


def probe(python):
    proc = subprocess.run([python, '-c', PROBE], capture_output=True, text=True, env=clean_env(), cwd='/')
    if proc.returncode != 0:
        sys.exit('crossload: cannot inspect the hpy package of %s:\n%s' % (python, proc.stderr))
    return json.loads(proc.stdout)


def run(cmd, log, **kwargs):
    log.write(' '.join(shlex.quote(str(c)) for c in cmd) + '\n')
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        sys.exit('crossload: command failed:\n%s\n%s%s' % (' '.join(map(str, cmd)), proc.stdout, proc.stderr))


def write_stub(stub, ext_file, abi):
    """The loader stub beside a universal module: the same one hpy.devel writes, which speaks to
    both hosts (HPy 0.9's _load_bootstrap, unihpy's load)."""
    from hpy.devel import _write_hpy_stub
    _write_hpy_stub(str(stub), str(ext_file), abi)


def build_side(side, info, out, log):
    """Compiles every module with `side`'s headers and helpers into out/side; returns that folder."""
    from hpy.devel.abitag import get_hpy_ext_suffix

    dest = out / side
    objdir = out / ('obj-' + side)
    for d in (dest, objdir):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    log.write('\n# %s: headers and helper sources of %s (hpy %s)\n'
              % (side, info['hpy_package'], info['version'][0]))

    def flags(lang, abi):
        includes = ['-I' + d for d in info['include_dirs']]
        if abi == 'universal' and info['forbid_python_h'] and os.path.isdir(info['forbid_python_h']):
            includes = ['-I' + info['forbid_python_h']] + includes
        if abi == 'hybrid':
            includes.append('-I' + info['python_include'])
        return SIDE_FLAGS[side][lang] + COMMON_FLAGS + ['-DHPY_ABI_' + abi.upper()] + includes

    helper_objs = {}  # per ABI: the helper sources compiled for it

    def helpers(abi):
        if abi not in helper_objs:
            (objdir / abi).mkdir()
            helper_objs[abi] = []
            for src in info['sources']:
                obj = objdir / abi / (Path(src).stem + '.o')
                run(['gcc'] + flags('c', abi) + ['-c', src, '-o', obj], log)
                helper_objs[abi].append(obj)
        return helper_objs[abi]

    for name, src, lang, libs, abi in MODULES:
        parts = name.split('.')
        target = dest.joinpath(*parts[:-1]) / (parts[-1] + get_hpy_ext_suffix(abi))
        target.parent.mkdir(parents=True, exist_ok=True)
        obj = objdir / (parts[-1] + '.o')
        compiler = 'g++' if lang == 'c++' else 'gcc'
        run([compiler] + flags(lang, abi) + ['-c', src, '-o', obj], log)
        run([compiler, '-shared', obj] + helpers(abi) + libs + ['-o', target], log)
        write_stub(target.with_name(parts[-1] + '.py'), target, abi)
    shutil.copy2(POF / 'pofpackage' / '__init__.py', dest / 'pofpackage' / '__init__.py')
    return dest


def run_tests(host, python, build_dir, built_by, mode):
    cmd = [python, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--rootdir', str(ROOT),
           '-c', os.devnull,
           str(POF / 'test_pof.py'), '--pof-installed',
           # the file names of a build are checked by crossload.py itself (it wrote them)
           '--deselect', 'proof-of-concept/test_pof.py::test_built_file_names', '-rs',
           str(HERE / 'test_xmod.py'),
           str(POF / 'porting' / 'test_porting.py')]
    env = clean_env([build_dir])
    env['HPY_TEST_HOST'] = host
    env['HPY_TEST_HELPERS'] = 'hpy-0.9.0' if built_by == 'hpy09' else 'unihpy'
    env['HPY_TEST_VEC_DIR'] = str(build_dir)  # test_porting.py: test this hybrid build of vec
    env['HPY'] = mode  # read by both hosts' loaders (the stub passes os.environ to HPy 0.9's)
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(build_dir))
    elapsed = time.monotonic() - start
    lines = proc.stdout.strip().splitlines() or ['(no output)']
    summary = '; '.join([lines[-1]] + [line for line in lines if line.startswith('SKIPPED')])
    return proc.returncode == 0, summary, elapsed, proc.stdout + proc.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hpy09-python', default=str(ROOT / '.venv-hpy09' / 'bin' / 'python'))
    parser.add_argument('--unihpy-python', default=sys.executable)
    parser.add_argument('--out', default=str(ROOT / 'build' / 'crossload'))
    args = parser.parse_args()

    # absolute, but not resolved: a virtual environment's python is a symbolic link to the base one
    pythons = {'unihpy': os.path.abspath(args.unihpy_python), 'hpy09': os.path.abspath(args.hpy09_python)}
    if not Path(pythons['hpy09']).exists():
        sys.exit('crossload: %s does not exist; create it with `make hpy09-venv`' % pythons['hpy09'])
    infos = {side: probe(py) for side, py in pythons.items()}
    # Each side must see its own hpy package only.
    if infos['hpy09']['version'][0] != '0.9.0':
        sys.exit('crossload: %s imports hpy %s from %s, not HPy 0.9.0'
                 % (pythons['hpy09'], infos['hpy09']['version'][0], infos['hpy09']['hpy_package']))
    if infos['unihpy']['version'][0] == '0.9.0' or infos['unihpy']['hpy_package'] == infos['hpy09']['hpy_package']:
        sys.exit('crossload: %s does not import unihpy\'s hpy package' % pythons['unihpy'])

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(out / 'build-commands.txt', 'w') as log:
        log.write('# crossload.py: the commands that built every module (one side per section)\n')
        builds = {side: build_side(side, infos[side], out, log) for side in ('unihpy', 'hpy09')}
    print('crossload: built %d modules per side in %.1fs (commands: %s)'
          % (len(MODULES), time.monotonic() - start, out / 'build-commands.txt'))

    failures = 0
    for built_by, host, mode in RUNS:
        ok, summary, elapsed, output = run_tests(host, pythons[host], builds[built_by], built_by, mode)
        label = 'built with %-6s headers, run in %-6s host (%s mode)' % (built_by, host, mode)
        print('crossload: %s: %s  %s (%.1fs)' % (label, 'PASS' if ok else 'FAIL', summary, elapsed))
        if not ok:
            failures += 1
            print(output)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
