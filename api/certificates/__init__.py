"""Verifiable certificates: Open Badges 3.0 credentials signed with eddsa-rdfc-2022.

jsonld (canonical form over bundled contexts) -> dataintegrity (proofs, key encodings)
-> credential (building OpenBadgeCredentials) / statuslist (revocation) / keys (issuer keys,
did:web document) -> verify (checks with readable reasons). No database here.
"""
