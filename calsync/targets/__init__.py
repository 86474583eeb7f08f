"""The targets: .ics, Google Calendar, CalDAV, intervals.icu, behind one backend protocol."""
