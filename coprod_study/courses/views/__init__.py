"""Views for /courses, one module a seam; each registers its routes on courses.bp."""
