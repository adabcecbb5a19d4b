"""Serving on NVIDIA Triton Inference Server: the wire protocol, the server-side models the
generated repository runs (`frozenseg-deploy triton`) and the client (`triton-client`)."""
