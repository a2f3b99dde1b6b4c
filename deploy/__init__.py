"""Deployment files: nginx config, and its rendering for a local run without Docker."""
