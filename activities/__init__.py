"""Activities: one folder each (`activities/<name>/`), built on the contract in
`activities/contract/`, which imports nothing of ours. `activities/registry.py` is the
one list of activities the app serves. Nothing here imports `rooms/`."""
