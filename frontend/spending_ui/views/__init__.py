"""The dashboard's views, each a `pn.viewable.Viewer` over the session's state."""
