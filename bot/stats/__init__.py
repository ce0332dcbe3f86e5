"""Statistics for leaders: the figures (``figures``), SVG charts (``svg``) and the monthly report (``report``)."""
