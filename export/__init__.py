"""frozenseg_export: from the PyTorch reference to verified graphs and engines, by stage.

`onnx` (`frozenseg-deploy export`), `precision` (`quantize`), `tensorrt` (`build`); the modules
at this level are shared by the stages (noise floor, reference chain, metrics, test images), and
`cli` is the tool's one entry point."""
