"""Account features as framework-free services (no Flask, FastAPI or Gradio): API tokens and
their scopes (:mod:`.tokens`)."""
