# output: post-processing (semantic / panoptic / instance) and result files, as
# runtime/output/{postprocess,files,visualize}.py.
find_package(nlohmann_json REQUIRED)
find_package(PNG REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)

frozenseg_area(output JSON DEPS frozenseg_common nlohmann_json::nlohmann_json PNG::PNG ZLIB::ZLIB
               Threads::Threads)
# The overlay palette: runtime/data/palette.rgb (the file the Python overlay reads) as a header.
set(FS_PALETTE_HEADER ${CMAKE_CURRENT_BINARY_DIR}/generated/output/palette_data.hpp)
add_custom_command(OUTPUT ${FS_PALETTE_HEADER}
                   COMMAND ${CMAKE_COMMAND} -DINPUT=${CMAKE_CURRENT_SOURCE_DIR}/runtime/data/palette.rgb
                           -DOUTPUT=${FS_PALETTE_HEADER} -DNAME=kPaletteRgb
                           -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed_bytes.cmake
                   DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/runtime/data/palette.rgb
                           ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed_bytes.cmake
                   COMMENT "Generating output/palette_data.hpp from runtime/data/palette.rgb")
target_sources(frozenseg_output PRIVATE ${FS_PALETTE_HEADER})
target_include_directories(frozenseg_output PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated)
# Float results must equal numpy's: products and sums are rounded one by one, never fused into
# FMAs (GCC fuses by default in GNU mode when FMA is enabled, as in the AVX2 kernels).
target_compile_options(frozenseg_output PRIVATE -ffp-contract=off)

frozenseg_test(test_output_numpy_math LIBS frozenseg_output)
frozenseg_test(test_output_mask_resize LIBS frozenseg_output)
frozenseg_test(test_output_postprocess LIBS frozenseg_output)
frozenseg_test(test_output_files LIBS frozenseg_output)
# The same parity tests on the portable scalar kernels (what non-x86 CPUs run).
if(FROZENSEG_BUILD_TESTS AND NOT FROZENSEG_SANITIZE)
  foreach(suite numpy_math mask_resize postprocess)
    add_test(NAME OutputScalarKernels.${suite} COMMAND test_output_${suite})
    set_tests_properties(OutputScalarKernels.${suite} PROPERTIES ENVIRONMENT FROZENSEG_OUTPUT_SCALAR=1)
  endforeach()
endif()

# Google Benchmark, when installed: post-processing at the full preset's sizes (not timed under
# sanitizers).
if(NOT FROZENSEG_SANITIZE)
  find_package(benchmark QUIET)
endif()
if(benchmark_FOUND AND NOT FROZENSEG_SANITIZE)
  add_executable(bench_postprocess ${FS_ROOT}/benchmarks/bench_postprocess.cpp)
  target_link_libraries(bench_postprocess PRIVATE frozenseg_output benchmark::benchmark)
  target_compile_definitions(bench_postprocess PRIVATE FS_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
endif()
