"""Deleting a Mi/Xiaomi Account at Xiaomi (not just signing it out of a phone): the ledger of
deletion requests and their 30-day waiting periods, the typed confirmation a request needs,
and the tasks the account-deletion flows record with."""
