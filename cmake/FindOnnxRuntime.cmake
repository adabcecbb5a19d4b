# FindOnnxRuntime: ONNX Runtime's C/C++ SDK as the imported target onnxruntime::onnxruntime.
#
# Looks in ONNXRUNTIME_ROOT first (a folder with include/ and lib/: what
# scripts/fetch_onnxruntime_sdk.sh lays out, or an official onnxruntime-linux-<arch>-<ver>.tgz
# unpacked), then in the system's default paths (include/onnxruntime/ of a distribution package).
#
# Sets OnnxRuntime_FOUND, OnnxRuntime_VERSION (1.<ORT_API_VERSION>.x from the header, or the
# version the fetch script recorded), OnnxRuntime_INCLUDE_DIR, OnnxRuntime_LIBRARY.

set(ONNXRUNTIME_ROOT "${CMAKE_SOURCE_DIR}/third_party/onnxruntime" CACHE PATH
    "ONNX Runtime SDK folder (include/ and lib/); scripts/fetch_onnxruntime_sdk.sh fills the default")

# A changed root invalidates what an earlier configure found.
if(DEFINED _OnnxRuntime_LAST_ROOT AND NOT _OnnxRuntime_LAST_ROOT STREQUAL ONNXRUNTIME_ROOT)
  unset(OnnxRuntime_INCLUDE_DIR CACHE)
  unset(OnnxRuntime_LIBRARY CACHE)
endif()
set(_OnnxRuntime_LAST_ROOT "${ONNXRUNTIME_ROOT}" CACHE INTERNAL "")

find_path(OnnxRuntime_INCLUDE_DIR onnxruntime_cxx_api.h
  HINTS ${ONNXRUNTIME_ROOT}/include
  PATH_SUFFIXES onnxruntime onnxruntime/core/session)
find_library(OnnxRuntime_LIBRARY onnxruntime HINTS ${ONNXRUNTIME_ROOT}/lib ${ONNXRUNTIME_ROOT}/lib64)

if(OnnxRuntime_INCLUDE_DIR AND EXISTS ${OnnxRuntime_INCLUDE_DIR}/onnxruntime_c_api.h)
  file(STRINGS ${OnnxRuntime_INCLUDE_DIR}/onnxruntime_c_api.h _ort_api_line
       REGEX "^#define ORT_API_VERSION [0-9]+")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _ort_api "${_ort_api_line}")
  set(OnnxRuntime_VERSION "1.${_ort_api}")
  if(EXISTS ${ONNXRUNTIME_ROOT}/VERSION)
    file(STRINGS ${ONNXRUNTIME_ROOT}/VERSION _ort_stamp LIMIT_COUNT 1)
    if(_ort_stamp MATCHES "^onnxruntime ([0-9.]+)")
      set(OnnxRuntime_VERSION "${CMAKE_MATCH_1}")
    endif()
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OnnxRuntime
  REQUIRED_VARS OnnxRuntime_LIBRARY OnnxRuntime_INCLUDE_DIR
  VERSION_VAR OnnxRuntime_VERSION
  REASON_FAILURE_MESSAGE
    "looked under ONNXRUNTIME_ROOT=${ONNXRUNTIME_ROOT} for include/onnxruntime_cxx_api.h and lib/libonnxruntime.so. Run scripts/fetch_onnxruntime_sdk.sh (it fills third_party/onnxruntime, the default), or configure with -DONNXRUNTIME_ROOT=<folder with include/ and lib/>, e.g. the official onnxruntime-linux-x64-<version>.tgz unpacked")

if(OnnxRuntime_FOUND AND NOT TARGET onnxruntime::onnxruntime)
  add_library(onnxruntime::onnxruntime SHARED IMPORTED)
  set_target_properties(onnxruntime::onnxruntime PROPERTIES
    IMPORTED_LOCATION "${OnnxRuntime_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${OnnxRuntime_INCLUDE_DIR}")
endif()
mark_as_advanced(OnnxRuntime_INCLUDE_DIR OnnxRuntime_LIBRARY)
