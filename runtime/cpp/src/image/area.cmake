# image: loading (libpng, libjpeg), Pillow-exact resize, preprocessing, torch-equal bilinear resize.
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json REQUIRED)

frozenseg_area(image DEPS frozenseg_common PNG::PNG JPEG::JPEG ZLIB::ZLIB)
# Float results must match numpy's operation by operation: no fused multiply-add. GCC's -O2 only
# vectorises loops it need not version; the row blends of the resizes want it (element-wise,
# so the results do not change).
target_compile_options(frozenseg_image PRIVATE -ffp-contract=off
                       $<$<CXX_COMPILER_ID:GNU>:-fvect-cost-model=dynamic>)

frozenseg_test(test_image_view LIBS frozenseg_image)
frozenseg_test(test_image_exif SANITIZED LIBS frozenseg_image)
frozenseg_test(test_image_loading SANITIZED LIBS frozenseg_image nlohmann_json::nlohmann_json)
frozenseg_test(test_image_pil_resize LIBS frozenseg_image nlohmann_json::nlohmann_json)
frozenseg_test(test_image_resize_bilinear LIBS frozenseg_image nlohmann_json::nlohmann_json)
frozenseg_test(test_image_preprocess LIBS frozenseg_image nlohmann_json::nlohmann_json)
