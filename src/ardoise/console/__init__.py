"""The shared web console: each commune sees and drives its own schools, the syndicat sees them all.

Server-rendered pages (FastAPI + Jinja2, no external asset), accounts with argon2 hashes, server-side
sessions, and one query layer (:mod:`ardoise.console.portee`) through which every page and action
reads the manifest and the results store, scoped to the user's communes.
"""
