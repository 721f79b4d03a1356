"""Scaling out: what lets engines the field already runs (ansible-pull on each PC…) take over the work."""
