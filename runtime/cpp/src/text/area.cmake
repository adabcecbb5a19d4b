# text: CLIP tokenizer, vocabularies, template averaging, the vocabulary cache (.npz like numpy).
find_package(ZLIB REQUIRED)
find_package(nlohmann_json REQUIRED)

frozenseg_area(text JSON DEPS frozenseg_common ZLIB::ZLIB nlohmann_json::nlohmann_json)
# The bundled merges file of the source tree (FROZENSEG_BPE_PATH overrides it at run time).
include(GNUInstallDirs)
target_compile_definitions(frozenseg_text PRIVATE
  FS_DEFAULT_BPE_PATH="${CMAKE_CURRENT_SOURCE_DIR}/runtime/data/bpe_simple_vocab_16e6.txt.gz")
target_link_libraries(frozenseg_text PUBLIC ${CMAKE_DL_LIBS})  # dladdr: where an installed copy lives
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/runtime/data/bpe_simple_vocab_16e6.txt.gz
        DESTINATION ${CMAKE_INSTALL_DATADIR}/frozenseg)
# float32 sums in numpy's order: no fused multiply-add that numpy does not do.
target_compile_options(frozenseg_text PRIVATE -ffp-contract=off)

# fs_tokenize: texts on stdin -> their token ids as JSON lines (driven by Python tests).
add_executable(fs_tokenize ${FS_ROOT}/tools/fs_tokenize.cpp)
target_link_libraries(fs_tokenize PRIVATE frozenseg_text)

frozenseg_test(test_text_unicode SANITIZED LIBS frozenseg_text)
frozenseg_test(test_text_tokenizer SANITIZED LIBS frozenseg_text)
frozenseg_test(test_text_vocabulary SANITIZED LIBS frozenseg_text)
frozenseg_test(test_text_embedding LIBS frozenseg_text)
frozenseg_test(test_text_cache SANITIZED LIBS frozenseg_text)
frozenseg_test(test_text_pyregex SANITIZED LIBS frozenseg_text)

if(FROZENSEG_BUILD_TESTS)
  # fs_tokenize's line protocol: one JSON list of ids per input line, errors as JSON objects.
  # Through the cross-compiling emulator (qemu-aarch64) when there is one: sh is the host's.
  list(JOIN CMAKE_CROSSCOMPILING_EMULATOR " " _fs_emulator)
  add_test(NAME TextTools.fs_tokenize
           COMMAND sh -c "printf 'a photo of a cat.\\n\"caf\\\\u00e9\"\\n' | ${_fs_emulator} $<TARGET_FILE:fs_tokenize> --json")
  set_tests_properties(TextTools.fs_tokenize PROPERTIES
                       PASS_REGULAR_EXPRESSION "^\\{\"error\":[^\n]*\"status\":1\\}\n\\[15304\\]\n$")
endif()
