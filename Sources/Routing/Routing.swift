// Routing.
