# common: errors, SHA-256, file reading. No third-party dependency.
frozenseg_area(common)

frozenseg_test(test_common_sha256 LIBS frozenseg_common)
frozenseg_test(test_common_file LIBS frozenseg_common)
