"""Applications: citizens (private persons or associations) apply; staff screen them onto the ballot."""
