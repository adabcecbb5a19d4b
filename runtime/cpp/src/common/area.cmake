# common: errors, SHA-256, file reading, numpy's .npy and .npz (ZIP, with zlib).
find_package(ZLIB REQUIRED)
frozenseg_area(common DEPS ZLIB::ZLIB)

frozenseg_test(test_common_sha256 LIBS frozenseg_common)
frozenseg_test(test_common_file LIBS frozenseg_common)
frozenseg_test(test_common_zip SANITIZED LIBS frozenseg_common)
