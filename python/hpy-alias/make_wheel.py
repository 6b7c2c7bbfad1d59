#!/usr/bin/env python3
# python/hpy-alias/make_wheel.py: writes the `hpy` distribution that stands for unihpy, so requirements on hpy 0.9 are met.
"""The ``hpy`` requirement alias.

unihpy installs the import package ``hpy`` under the distribution name ``unihpy``. Projects written
for HPy 0.9 declare the distribution ``hpy`` instead (``setup_requires=['hpy>=0.9.0rc1']``,
``build-system.requires = ["hpy>=0.9"]``, ``install_requires``): without an installed distribution of
that name, setuptools or pip fetch PyPI's HPy and install it beside unihpy (two distributions owning
the import ``hpy``), and offline the build fails.

This writes ``hpy-0.9.0+unihpy.<unihpy version>-py3-none-any.whl``: a distribution named ``hpy``
with no files of its own, whose only requirement is this exact unihpy. Its public version is the HPy
API it implements (0.9.0, so ``hpy>=0.9``, ``hpy==0.9.0`` and ``hpy~=0.9.0`` are met); the local
label names unihpy's version. Installed next to unihpy (``make install`` does) it meets requirements
on hpy; in a wheel folder beside unihpy's wheel it serves pip's isolated build environments offline
(``pip install --no-index --find-links FOLDER project``).

    python python/hpy-alias/make_wheel.py --out DIR

The wheel is deterministic: the same unihpy version gives the same bytes.
"""
import argparse
import base64
import hashlib
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HPY_API_VERSION = "0.9.0"  # the HPy release whose API and universal ABI unihpy implements


def record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def alias_files(unihpy_version, requires_python):
    """The alias's version and its dist-info files (RECORD is added by write_wheel)."""
    version = f"{HPY_API_VERSION}+unihpy.{unihpy_version}"
    dist_info = f"hpy-{version}.dist-info"
    metadata = "\n".join([
        "Metadata-Version: 2.1",
        "Name: hpy",
        f"Version: {version}",
        "Summary: The HPy 0.9 API as implemented by unihpy: this distribution only requires unihpy",
        "License: MIT",
        f"Requires-Python: {requires_python}",
        f"Requires-Dist: unihpy=={unihpy_version}",
        "",
        "Projects that require `hpy` (0.9) get unihpy, which installs the `hpy` import package.",
        "",
    ])
    files = {f"{dist_info}/METADATA": metadata.encode(),
             f"{dist_info}/WHEEL": wheel_file("py3-none-any", purelib=True).encode()}
    return version, files


def wheel_file(tag, purelib):
    """The text of a wheel's .dist-info/WHEEL."""
    return "\n".join(["Wheel-Version: 1.0", "Generator: unihpy make_wheel.py",
                      "Root-Is-Purelib: %s" % ("true" if purelib else "false"), f"Tag: {tag}", ""])


def write_wheel(path, files):
    """Writes the wheel `path` holding `files` ({name in the archive: bytes}, one .dist-info folder
    among them) and its RECORD (sha256 and size of each file). Deterministic: the same files give
    the same bytes."""
    (dist_info,) = {name.split("/")[0] for name in files if name.split("/")[0].endswith(".dist-info")}
    record = "".join(f"{name},{record_hash(data)},{len(data)}\n" for name, data in files.items())
    files = dict(files, **{f"{dist_info}/RECORD": (record + f"{dist_info}/RECORD,,\n").encode()})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as whl:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            whl.writestr(info, data, zipfile.ZIP_DEFLATED)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder to write the wheel into")
    args = ap.parse_args()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    version, files = alias_files(project["version"], project["requires-python"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = write_wheel(out / f"hpy-{version}-py3-none-any.whl", files)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
