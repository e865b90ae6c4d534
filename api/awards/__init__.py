"""The award cycle (Change Architect of the Year): cycles and their milestones, nominations merged per
person, nominees' entries, outcomes and the announcement into the hall of fame (api/halloffame).

For other domains (judging): `service.get_cycle`, `service.cycle_by_slug`, `service.entries_for_judging`
(keyset by id), `service.entry_contact` (organisation, email, account, nominators, endorsers),
`service.record_outcomes` (deliberating -> decided), and `states.transition` for every state change.
"""
