"""The report lifecycle: submitting, tracking, following, closing the loop."""
