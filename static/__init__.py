"""The web client (HTML, CSS, JavaScript), shipped inside the package as `peer_support_static`."""
