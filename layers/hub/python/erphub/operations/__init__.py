"""The operator API's library: the exceptions inbox, operator actions, the audit trail, roles, and the
Powertools routers the ops_api function mounts (routes/)."""
