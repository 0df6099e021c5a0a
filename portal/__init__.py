"""The web layer: the Flask portal (this package's modules; app factory in :mod:`portal.factory`),
the Gradio interface (:mod:`portal.gradio_app`) and what both need (:mod:`portal.records`).

Light on purpose: importing ``portal`` (or ``portal.records``) does not import Flask.
"""
