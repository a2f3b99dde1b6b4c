"""One module per facilitator action, each with the same shape (see `registry`)."""
