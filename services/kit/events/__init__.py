"""Events for the people who act on them: CloudEvents to subscribers, signed, delivered by jobs.

`envelope` is the pure part (what is sent, its signature, the retry delays); `repository` the
SQL of the shared `events` schema; `service` emitting an event and managing subscriptions;
`delivery` the job that sends one event to one subscriber; `retention` the periodic job that
deletes settled events after `ROADMAP_EVENTS_RETENTION_DAYS`.
"""
