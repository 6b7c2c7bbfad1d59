# unihpyConfig.cmake: the CMake package of unihpy, for HPy extensions built with CMake (docs/packaging.md).
#
#   find_package(unihpy CONFIG REQUIRED)
#   hpy_add_extension(pof SOURCES pof.c [ABI universal|cpython|hybrid] [OUTPUT_NAME name] [DESTINATION dir])
#
# It lives in the installed unihpy, at hpy/devel/lib/cmake/unihpy/: scikit-build-core finds it through
# unihpy's `cmake.prefix` entry point; elsewhere pass -Dunihpy_DIR="$(python -m hpy.devel --cmakedir)".
#
# The ABI of a module is its ABI argument, else the HPY_ABI variable (-DHPY_ABI=...), else the HPY_ABI
# environment variable, else universal. Per ABI a module gets:
#   universal  NAME.hpy0.so and a NAME.py loader stub; compiled without Python's headers (Python.h is
#              an error), linked with libhpy-universal.a: the same file loads on every HPy host;
#   hybrid     NAME.hpy0-<interpreter abi>.so (e.g. .hpy0-cp311.so) and a stub; Python's headers too;
#   cpython    an ordinary extension (EXT_SUFFIX), linked with libhpy-cpython.a and the C++ runtime.
cmake_minimum_required(VERSION 3.18)

get_filename_component(_unihpy_devel "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)  # hpy/devel
set(unihpy_INCLUDE_DIR "${_unihpy_devel}/include")
set(unihpy_LIBRARY_DIR "${_unihpy_devel}/lib")
set(unihpy_STUB_TEMPLATE "${_unihpy_devel}/loader_stub.py.in")
get_filename_component(_unihpy_site "${_unihpy_devel}/../.." ABSOLUTE)  # the folder holding hpy/
foreach(_unihpy_file hpy.h hpy/forbid_python_h/Python.h)
  if(NOT EXISTS "${unihpy_INCLUDE_DIR}/${_unihpy_file}")
    set(${CMAKE_FIND_PACKAGE_NAME}_FOUND FALSE)
    set(${CMAKE_FIND_PACKAGE_NAME}_NOT_FOUND_MESSAGE "${unihpy_INCLUDE_DIR}/${_unihpy_file} is missing: reinstall unihpy")
    return()
  endif()
endforeach()

# The HPy ABI tag (hpy0) as hpy.h declares it: universal modules are NAME.<tag>.so.
file(STRINGS "${unihpy_INCLUDE_DIR}/hpy.h" _unihpy_tag REGEX "^#define HPY_ABI_TAG \"")
string(REGEX REPLACE "^#define HPY_ABI_TAG \"([^\"]*)\".*" "\\1" unihpy_ABI_TAG "${_unihpy_tag}")

set(unihpy_ABIS universal cpython hybrid)
if(DEFINED ENV{HPY_ABI} AND NOT "$ENV{HPY_ABI}" STREQUAL "")
  set(_unihpy_default_abi "$ENV{HPY_ABI}")
else()
  set(_unihpy_default_abi universal)
endif()
set(HPY_ABI "${_unihpy_default_abi}" CACHE STRING "ABI of hpy_add_extension's modules: universal, cpython or hybrid")
set_property(CACHE HPY_ABI PROPERTY STRINGS ${unihpy_ABIS})

# One interface target per ABI: flags, include folders and the static library of the runtime.
if(NOT TARGET unihpy::universal)
  set(_unihpy_exclude_libs "")
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    # What the static libraries define stays private to each module.
    set(_unihpy_exclude_libs "-Wl,--exclude-libs,ALL")
  endif()
  add_library(unihpy::universal INTERFACE IMPORTED)
  set_target_properties(unihpy::universal PROPERTIES
    INTERFACE_COMPILE_DEFINITIONS "HPY;HPY_ABI_UNIVERSAL"
    INTERFACE_INCLUDE_DIRECTORIES "${unihpy_INCLUDE_DIR}/hpy/forbid_python_h;${unihpy_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${unihpy_LIBRARY_DIR}/libhpy-universal.a"
    INTERFACE_LINK_OPTIONS "${_unihpy_exclude_libs}")
  add_library(unihpy::hybrid INTERFACE IMPORTED)
  set_target_properties(unihpy::hybrid PROPERTIES
    INTERFACE_COMPILE_DEFINITIONS "HPY;HPY_ABI_HYBRID"
    INTERFACE_INCLUDE_DIRECTORIES "${unihpy_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${unihpy_LIBRARY_DIR}/libhpy-universal.a;Python::Module"
    INTERFACE_LINK_OPTIONS "${_unihpy_exclude_libs}")
  add_library(unihpy::cpython INTERFACE IMPORTED)
  set_target_properties(unihpy::cpython PROPERTIES
    INTERFACE_COMPILE_DEFINITIONS "HPY;HPY_ABI_CPYTHON"
    INTERFACE_INCLUDE_DIRECTORIES "${unihpy_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${unihpy_LIBRARY_DIR}/libhpy-cpython.a;stdc++;Python::Module"
    INTERFACE_LINK_OPTIONS "${_unihpy_exclude_libs}")
endif()

# The interpreter's C API, for cpython and hybrid modules (a universal module never needs it).
macro(_unihpy_need_python)
  if(NOT TARGET Python::Module OR NOT DEFINED Python_SOABI)
    find_package(Python 3.9 COMPONENTS Interpreter Development.Module REQUIRED)
  endif()
endmacro()

# The file suffix of a module of `abi` other than cpython, into `out`.
function(_unihpy_suffix abi out)
  if(abi STREQUAL "universal")
    set(${out} ".${unihpy_ABI_TAG}${CMAKE_SHARED_MODULE_SUFFIX}" PARENT_SCOPE)
    return()
  endif()
  # hybrid: the interpreter's ABI tag too, named as hpy.devel names it (hpy/_abitag.py).
  execute_process(
    COMMAND "${Python_EXECUTABLE}" -c
            "import sys; sys.path.insert(0, sys.argv[1]); from hpy._abitag import get_hpy_ext_suffix as s; print(s('hybrid'))"
            "${_unihpy_site}"
    OUTPUT_VARIABLE suffix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE failed ERROR_VARIABLE error)
  if(failed)
    message(FATAL_ERROR "unihpy: ${Python_EXECUTABLE} could not name the hybrid suffix: ${error}")
  endif()
  set(${out} "${suffix}" PARENT_SCOPE)
endfunction()

# hpy_add_extension(<target> SOURCES <file>... [ABI <abi>] [OUTPUT_NAME <module>] [DESTINATION <dir>])
# A module target of an HPy extension; OUTPUT_NAME is the module's name (default: the target's), the
# one given to HPy_MODINIT. DESTINATION installs the module (and its stub) into that folder.
function(hpy_add_extension target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "ABI;OUTPUT_NAME;DESTINATION" "SOURCES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "hpy_add_extension(${target}): unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "hpy_add_extension(${target}): no SOURCES")
  endif()
  set(abi "${HPY_ABI}")
  if(arg_ABI)
    set(abi "${arg_ABI}")
  endif()
  if(NOT abi IN_LIST unihpy_ABIS)
    message(FATAL_ERROR "hpy_add_extension(${target}): unknown HPy ABI '${abi}' (from the "
                        "ABI argument, -DHPY_ABI or $HPY_ABI): use universal, cpython or hybrid")
  endif()
  set(module "${target}")
  if(arg_OUTPUT_NAME)
    set(module "${arg_OUTPUT_NAME}")
  endif()

  if(abi STREQUAL "cpython")
    _unihpy_need_python()
    Python_add_library(${target} MODULE WITH_SOABI ${arg_SOURCES})
  else()
    if(abi STREQUAL "hybrid")
      _unihpy_need_python()
    endif()
    add_library(${target} MODULE ${arg_SOURCES})
    _unihpy_suffix(${abi} suffix)
    set_target_properties(${target} PROPERTIES PREFIX "" SUFFIX "${suffix}")
  endif()
  set_target_properties(${target} PROPERTIES OUTPUT_NAME "${module}" HPY_ABI "${abi}"
                                             C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden)
  target_link_libraries(${target} PRIVATE unihpy::${abi})

  if(NOT abi STREQUAL "cpython")
    # The loader stub: HPy hosts without unihpy's import hook (PyPy's own) import the module through it.
    set(STUB_NAME "${module}.py")
    set(EXT_FILE "${module}${suffix}")
    set(MODULE_NAME "${module}")
    set(HPY_ABI "${abi}")
    set(stub "${CMAKE_CURRENT_BINARY_DIR}/hpy-stubs/${target}/${module}.py")
    configure_file("${unihpy_STUB_TEMPLATE}" "${stub}" @ONLY)
    add_custom_command(TARGET ${target} POST_BUILD
                       COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${stub}" "$<TARGET_FILE_DIR:${target}>")
  endif()
  if(arg_DESTINATION)
    install(TARGETS ${target} LIBRARY DESTINATION "${arg_DESTINATION}")
    if(NOT abi STREQUAL "cpython")
      install(FILES "${stub}" DESTINATION "${arg_DESTINATION}")
    endif()
  endif()
endfunction()

set(unihpy_FOUND TRUE)
