print("route: not built yet")
