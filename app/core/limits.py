"""Sizes the databases impose on what clients send, shared by the schemas and security."""

# Ids are 32-bit integers in both databases: a larger number is invalid input, not a 500.
INT32_MAX = 2**31 - 1
# A list filter's free text: no name or email the service stores is longer.
SEARCH_TEXT_MAX_LENGTH = 255
