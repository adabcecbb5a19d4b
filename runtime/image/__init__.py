"""Images in: `loading` (any source -> RGB uint8, typed refusals, pixel limit), `preprocess` (the
official resize, normalisation and padding for both encoders), `ops` (torch-equal resizing)."""
