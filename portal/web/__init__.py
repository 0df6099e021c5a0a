"""The Flask portal (a channel): the app factory (:mod:`.factory`), one blueprint per page group, forms,
error pages, the login session, rate limits, slow-body buffering (:mod:`.request_body`), templates and
static files.  Views are thin: they call the features (:mod:`portal.analyses`, :mod:`portal.museum`,
:mod:`portal.jobs`, :mod:`portal.accounts`)."""
