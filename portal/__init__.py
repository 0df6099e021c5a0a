"""The web layer, in three kinds of rooms (README's "What is where"; rules in tests/test_architecture.py):

* features, services with no web framework: :mod:`portal.analyses` (a photo analysed and kept),
  :mod:`portal.museum`, :mod:`portal.jobs`, :mod:`portal.accounts`;
* channels, thin adapters over the features that never import one another: :mod:`portal.web` (Flask),
  :mod:`portal.api` (FastAPI), :mod:`portal.gradio_app` (Gradio); only ``run.py`` wires them;
* shared: :mod:`portal.config` (the one place that reads the environment) and :mod:`portal.http`.

Light on purpose: importing ``portal`` imports nothing.
"""
