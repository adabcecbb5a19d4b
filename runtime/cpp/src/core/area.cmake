# core: the manifest, the Segmenter over every stage, and the C API (libfrozenseg).
find_package(nlohmann_json REQUIRED)
frozenseg_area(core JSON DEPS frozenseg_common frozenseg_runner frozenseg_text frozenseg_image
               frozenseg_output nlohmann_json::nlohmann_json)
frozenseg_test(test_core_manifest SANITIZED LIBS frozenseg_core)
frozenseg_test(test_core_schedule LIBS frozenseg_core)

# libfrozenseg: the C API (include/frozenseg/frozenseg.h) and its C++ wrapper (frozenseg.hpp).
add_library(frozenseg SHARED ${FS_ROOT}/src/capi/c_api.cpp)
target_include_directories(frozenseg PUBLIC ${FS_ROOT}/include)
target_link_libraries(frozenseg PRIVATE frozenseg_core)
set_target_properties(frozenseg PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
                      CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
# Export the fs_* functions (FS_API) and nothing else: the static areas' C++ symbols stay inside,
# so they can neither clash with an application's (nor with the C++ wrapper's) nor be interposed.
target_link_options(frozenseg PRIVATE -Wl,--exclude-libs,ALL
                    -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/cmake/frozenseg.map)
set_property(TARGET frozenseg APPEND PROPERTY LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cmake/frozenseg.map)
target_compile_definitions(frozenseg PRIVATE FROZENSEG_BUILDING_LIBRARY=1)

# frozenseg-segment: `frozenseg-deploy segment`'s files, without Python.
add_executable(frozenseg-segment ${FS_ROOT}/tools/frozenseg_segment.cpp)
target_link_libraries(frozenseg-segment PRIVATE frozenseg_core)

# fs_soak: the C library under long load through its C ABI (benchmarks/soak.py drives and judges it).
find_package(Threads REQUIRED)
add_executable(fs_soak ${FS_ROOT}/tools/fs_soak.cpp)
target_link_libraries(fs_soak PRIVATE frozenseg Threads::Threads)

# The 30-line C embedding example (compiled to prove it builds; nothing runs it under sanitizers).
if(NOT FROZENSEG_SANITIZE)
  add_executable(frozenseg_example ${FS_ROOT}/examples/segment.c)
  target_link_libraries(frozenseg_example PRIVATE frozenseg)
endif()

frozenseg_test(test_core_c_api SANITIZED LIBS frozenseg nlohmann_json::nlohmann_json)

# `cmake --install build --prefix DIR`: the library, its headers, frozenseg-segment and (text area)
# the tokenizer's merges file, which an installed library finds without the source tree.
# ONNX Runtime's shared library goes beside ours (the SDK's own file, whatever its version suffix),
# and both binaries look for their libraries in the prefix's lib/, so the prefix can be moved.
include(GNUInstallDirs)
set_target_properties(frozenseg PROPERTIES INSTALL_RPATH "$ORIGIN")
set_target_properties(frozenseg-segment PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
install(TARGETS frozenseg frozenseg-segment
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
get_filename_component(_fs_ort_real "${OnnxRuntime_LIBRARY}" REALPATH)
file(GLOB _fs_ort_files "${OnnxRuntime_LIBRARY}*" "${_fs_ort_real}")
install(FILES ${_fs_ort_files} DESTINATION ${CMAKE_INSTALL_LIBDIR})
# With OpenVINO: its runtime and what openvino-cpu loads from beside it (the CPU plugin, the ONNX
# and IR readers, TBB, hwloc); OpenVINO finds its plugins in the folder of libopenvino.so.
if(FROZENSEG_HAVE_OPENVINO)
  get_target_property(_fs_ov_lib openvino::runtime IMPORTED_LOCATION_RELEASE)
  if(NOT _fs_ov_lib)
    get_target_property(_fs_ov_lib openvino::runtime IMPORTED_LOCATION)
  endif()
  get_filename_component(_fs_ov_dir "${_fs_ov_lib}" DIRECTORY)
  file(GLOB _fs_ov_files "${_fs_ov_dir}/libopenvino.so*" "${_fs_ov_dir}/libopenvino_intel_cpu_plugin.so"
       "${_fs_ov_dir}/libopenvino_onnx_frontend.so*" "${_fs_ov_dir}/libopenvino_ir_frontend.so*"
       "${_fs_ov_dir}/libtbb*.so*" "${_fs_ov_dir}/libhwloc.so*")
  install(FILES ${_fs_ov_files} DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(DIRECTORY ${FS_ROOT}/include/frozenseg DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
