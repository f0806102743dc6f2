print("emit-syslog: not built yet")
