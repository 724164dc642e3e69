"""@-mentions, kept under their old name: they live in the post kernel (posts.mentions)."""

from coprod_study.posts.mentions import mentioned_members, mentioned_names, render

__all__ = ["mentioned_members", "mentioned_names", "render"]
