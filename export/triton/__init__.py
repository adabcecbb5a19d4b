"""`frozenseg-deploy triton`: a Triton Inference Server model repository from exported artifacts."""
