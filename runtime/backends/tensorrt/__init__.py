"""The native TensorRT backend: `loader` finds, checks and deserializes a graph's engine, `runner`
runs it (cuda-python, no torch); `env` says whether TensorRT is usable here at all."""
