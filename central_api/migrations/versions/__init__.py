"""The revisions, oldest first (`v<revision>_<what it does>.py`)."""
