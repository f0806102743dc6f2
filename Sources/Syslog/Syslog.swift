// Syslog.
