"""Build the Cython extensions of emu/_core.

Compiler directives live here, in one place. EMU_DEBUG=1 in the environment turns
on bounds checks, wraparound and initialised-variable checks and builds without
optimisation, for debugging the core; the default is the fast build.
EMU_BUILD_ONLY=ooo,fetch (module names) limits a development build to those modules.
"""

import os
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("EMU_DEBUG", "") not in ("", "0")

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,  # division semantics are handled explicitly in semantics.pxd
    "nonecheck": DEBUG,
    "embedsignature": True,
}

CFLAGS = ["-O0", "-g"] if DEBUG else ["-O3"]

ONLY = {name for name in os.environ.get("EMU_BUILD_ONLY", "").split(",") if name}

extensions = [
    Extension(
        f"emu._core.{pyx.stem}",
        [str(pyx)],
        include_dirs=[numpy.get_include()],
        extra_compile_args=CFLAGS + ["-Wno-unused-function"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for pyx in sorted(Path("emu/_core").glob("*.pyx"))
    if not ONLY or pyx.stem in ONLY
]

setup(ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES, annotate=DEBUG))
