"""The procedures' use cases. Every change of state goes through here, with its audit entry."""
