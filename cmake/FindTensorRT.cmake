# FindTensorRT: NVIDIA TensorRT's C++ headers and libnvinfer as the imported target TensorRT::nvinfer.
#
# Looks in TENSORRT_ROOT (an unpacked TensorRT-<ver>.Linux.<arch>.tar.gz: include/ and lib/), then
# where the Debian/Ubuntu packages (libnvinfer-dev) and JetPack put them.
#
# Sets TensorRT_FOUND, TensorRT_VERSION, TensorRT_INCLUDE_DIR, TensorRT_LIBRARY.

set(TENSORRT_ROOT "" CACHE PATH "TensorRT folder (include/NvInfer.h, lib/libnvinfer.so) when not in a system path")

find_path(TensorRT_INCLUDE_DIR NvInfer.h
  HINTS ${TENSORRT_ROOT}/include
  PATHS /usr/include/x86_64-linux-gnu /usr/include/aarch64-linux-gnu /usr/local/TensorRT/include)
find_library(TensorRT_LIBRARY nvinfer
  HINTS ${TENSORRT_ROOT}/lib ${TENSORRT_ROOT}/lib64
  PATHS /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/local/TensorRT/lib)

if(TensorRT_INCLUDE_DIR AND EXISTS ${TensorRT_INCLUDE_DIR}/NvInferVersion.h)
  # TensorRT 10 spells the numbers TRT_*_ENTERPRISE and aliases NV_TENSORRT_*; 8 has NV_TENSORRT_*.
  file(STRINGS ${TensorRT_INCLUDE_DIR}/NvInferVersion.h _trt_lines
       REGEX "^#define (NV_TENSORRT|TRT)_(MAJOR|MINOR|PATCH)(_ENTERPRISE)? +[0-9]+")
  foreach(part MAJOR MINOR PATCH)
    set(_trt_${part} "")
    foreach(line IN LISTS _trt_lines)
      if(line MATCHES "_${part}(_ENTERPRISE)? +([0-9]+)")
        set(_trt_${part} ${CMAKE_MATCH_2})
      endif()
    endforeach()
  endforeach()
  if(NOT _trt_MAJOR STREQUAL "")
    set(TensorRT_VERSION "${_trt_MAJOR}.${_trt_MINOR}.${_trt_PATCH}")
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(TensorRT
  REQUIRED_VARS TensorRT_LIBRARY TensorRT_INCLUDE_DIR
  VERSION_VAR TensorRT_VERSION)

if(TensorRT_FOUND AND NOT TARGET TensorRT::nvinfer)
  add_library(TensorRT::nvinfer SHARED IMPORTED)
  set_target_properties(TensorRT::nvinfer PROPERTIES
    IMPORTED_LOCATION "${TensorRT_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${TensorRT_INCLUDE_DIR}")
endif()
mark_as_advanced(TensorRT_INCLUDE_DIR TensorRT_LIBRARY)
