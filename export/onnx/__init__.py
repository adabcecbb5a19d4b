"""`frozenseg-deploy export`: `units` (what each graph is), `build` (torch.export -> ONNX, slimmed
and checked), `trt_readiness`, `parity` and `verify` (against the float64 reference, per graph and
chained), `manifest_writer`, and `run`, which does it all into one atomic folder."""
