"""Services: the rules of each feature. Each operation commits once."""
