"""The virtual school lab: one school built out of real peers in network namespaces."""
