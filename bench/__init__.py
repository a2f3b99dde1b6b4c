"""Load generator and scenarios that print figures (`make bench`, docs/performance.md)."""
