"""Inference backends: one runner base (base), ONNX Runtime (onnxruntime_runner), native TensorRT
(tensorrt/), the shape ranges TensorRT engines are built for (profiles), and the factory that
opens a backend's runners."""
