"""Terminal profiles: inheritance, app catalogue, school overrides, teacher requests."""
