"""Views for /groups, one module a seam; each registers its routes on groups.bp."""
