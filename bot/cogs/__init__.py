"""Discord features, one a file; each gets the shared State through its constructor."""
