"""TensorRT engines from the exported graphs: `builder` (TensorRT's Python API), `trtexec` (the
same builds as a script), `command` (`frozenseg-deploy build`)."""
