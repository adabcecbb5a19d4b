# engine: one graph on one backend (ONNX Runtime now; native TensorRT when FROZENSEG_HAVE_TENSORRT).
find_package(OnnxRuntime REQUIRED)

frozenseg_area(engine DEPS frozenseg_common)
# PRIVATE: ONNX Runtime's headers stay inside the engine; static linking still passes the library on.
target_link_libraries(frozenseg_engine PRIVATE onnxruntime::onnxruntime)
if(FROZENSEG_HAVE_TENSORRT)
  # The TensorRT engine sources will link TensorRT::nvinfer and CUDA::cudart here.
  target_compile_definitions(frozenseg_engine PUBLIC FROZENSEG_HAVE_TENSORRT=1)
endif()

frozenseg_test(test_engine_tensor LIBS frozenseg_engine)
frozenseg_test(test_engine_check_feed LIBS frozenseg_engine)
frozenseg_test(test_engine_onnxruntime LIBS frozenseg_engine)
