"""Inference backends: one runner protocol (base), ONNX Runtime (onnxrt), native TensorRT
(tensorrt/), and the factory that maps a backend name to a runner."""
