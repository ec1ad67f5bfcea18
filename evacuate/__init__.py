"""evacuate: get a hosted Linux server out before (or after) its hoster pulls the plug."""

__version__ = "0.1.0"
