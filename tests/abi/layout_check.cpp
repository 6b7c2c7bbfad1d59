// tests/abi/layout_check.cpp: compiles the ABI layout asserts as C++17 (built once per ABI by tests/CMakeLists.txt).
#include "layout_asserts.h"

#include <type_traits>

// C++ adds what C cannot say: the ABI structs are plain data a host may copy byte by byte.
static_assert(std::is_standard_layout_v<HPy> && std::is_trivially_copyable_v<HPy>, "HPy is plain data");
static_assert(std::is_standard_layout_v<HPyField> && std::is_trivially_copyable_v<HPyField>, "HPyField");
static_assert(std::is_standard_layout_v<HPyGlobal> && std::is_trivially_copyable_v<HPyGlobal>, "HPyGlobal");
static_assert(std::is_standard_layout_v<HPyModuleDef>, "HPyModuleDef is standard layout");
static_assert(std::is_standard_layout_v<HPyDef>, "HPyDef is standard layout");
static_assert(std::is_standard_layout_v<HPyType_Spec>, "HPyType_Spec is standard layout");
static_assert(std::is_standard_layout_v<HPy_buffer>, "HPy_buffer is standard layout");
static_assert(std::is_standard_layout_v<HPyContext>, "HPyContext is standard layout");

extern "C" const int hpy_abi_layout_checked_cpp = 1;
