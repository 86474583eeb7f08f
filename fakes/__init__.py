"""In-process stand-ins for the providers calsync talks to, shared by tests/ and bench/.

- fakegoogle: Google Calendar v3 (and its batch and OAuth token endpoints), driven
  through the real googleapiclient;
- fakeintervals: the intervals.icu API;
- radicale_server: a real Radicale CalDAV server in a subprocess on 127.0.0.1;
- memory: an in-memory sync backend with etags, owner edits and injectable faults.
"""
