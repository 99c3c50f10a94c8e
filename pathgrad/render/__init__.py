"""The render stage: an Explanation or a Spec as a terminal table, JSON, LaTeX, Markdown, HTML.

Renderers return values (rich renderables, strings, dicts); the caller prints or writes them.
"""
