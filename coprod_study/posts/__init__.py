"""What answers, replies and thread posts share: one kernel, and a kind for each (posts.kinds)."""
