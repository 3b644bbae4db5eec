"""Officers of the review console: accounts, sign-in, sessions and who may see which units
(issue #4). Other parts of review take the principal and the tenant session from ``deps``."""
