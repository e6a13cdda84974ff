"""Citizens' sign-in: the e-mailed one-time link, the reference and personal code from a printed
receipt, and the applicant's session that applications, meetings and grants read."""
