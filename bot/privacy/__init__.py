"""Personal data over time: retention (``retention``) and reporters' data requests (``requests``)."""
