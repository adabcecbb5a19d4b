"""`frozenseg-deploy quantize`: FP16 graphs with FP32 islands (`fp16`) and INT8 Q/DQ graphs
(`int8`), what stays in higher precision chosen by measurement (`node_groups`, `search`) on real
inputs (`feeds`), judged end to end (`accuracy`, `metrics`, `floor`) and reported (`report`);
`run` does it all."""
