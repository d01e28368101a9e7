"""spending-dashboard: the Panel (HoloViz) dashboard, talking to the API over HTTP."""
