"""Museum features as framework-free services (no Flask, FastAPI or Gradio): who may do what in
an organisation (:mod:`.roles`), the one recorder of visitors for the live page, kiosks and API cameras
(:mod:`.recording`), the analytics and what members may be shown of them (:mod:`.analytics`, :mod:`.stats`,
:mod:`.curator`, :mod:`.privacy`, :mod:`.published`), exports, charts, the visitor notice, the printable
report, opted-in visits and suggestions.  The channels call these and turn their exceptions into 403/404."""
