"""Test doubles (stand-ins) for hardware that cannot run here: clearly labelled, tests only."""
