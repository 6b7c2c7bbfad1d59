# tests/port/conftest.py: running `python -m hpy.port report`, and third-party sources fetched from PyPI.
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("UNIHPY_PORT_CACHE", ROOT / "build" / "port-cache"))


def run_port(*args, check=True):
    """`python -m hpy.port ARGS` in this interpreter; the CompletedProcess."""
    result = subprocess.run([sys.executable, "-m", "hpy.port", *map(str, args)],
                            capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"hpy.port {args} failed ({result.returncode}):\n{result.stderr}")
    return result


def report(source, *cflags, options=()):
    """The JSON report of one source file, flags after `--`."""
    args = ["report", source, "--json", *options] + (["--", *cflags] if cflags else [])
    return json.loads(run_port(*args).stdout)


def function(rep, name):
    return next(f for f in rep["functions"] if f["name"] == name)


def lines_of(rep, name, fn=None):
    """The lines where the report lists a use of NAME (in function fn, or anywhere)."""
    functions = [function(rep, fn)] if fn else rep["functions"]
    uses = [u for f in functions for u in f["uses"]] + ([] if fn else rep["file_scope"])
    return sorted(u["line"] for u in uses if u["name"] == name)


# What pip prints when it cannot connect to its index (as opposed to a download that really failed).
NETWORK_ERRORS = ("NewConnectionError", "Failed to establish a new connection", "Max retries exceeded",
                  "Temporary failure in name resolution", "Name or service not known",
                  "Network is unreachable", "ConnectTimeoutError", "ProxyError")


def _pypi_unreachable(pip_output):
    """Why pip could not reach its index, or None when it could (the failure is then real)."""
    for line in pip_output.splitlines():
        if any(e in line for e in NETWORK_ERRORS):
            return f"PyPI unreachable, no cached copy: {line.strip()[:200]}"
    return None


def sdist(name, version):
    """The unpacked source distribution NAME==VERSION from PyPI, cached under build/port-cache
    (one folder per name and version); skips the test only when PyPI cannot be reached."""
    target = CACHE / f"{name}-{version}"
    if target.is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               f"{name}=={version}", "-d", tmp]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            reason = _pypi_unreachable(result.stdout + result.stderr)
            if reason:
                pytest.skip(reason)
            raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}")
        archive = next(Path(tmp).glob("*.tar.gz"))
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        (top,) = unpacked.iterdir()   # the sdist's one top folder
        try:
            os.replace(top, target)   # atomic: a parallel worker may have won the race
        except OSError:
            if not target.is_dir():
                raise
    return target
