"""The web layer: the Flask portal (this package's modules; app factory in :mod:`portal.web.factory`),
the Gradio interface (:mod:`portal.gradio_app`) and what both need (:mod:`portal.analyses`).

Light on purpose: importing ``portal`` (or ``portal.analyses``) does not import Flask.
"""
