"""Research and benchmark tools built on the engine (not product code): labelled scenes, detector
evaluation, crop calibration, speed bench, the tiny stand-in model, the FER2013 face loader."""
