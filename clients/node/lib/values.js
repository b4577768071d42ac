// The protocol's values that take more than a `typeof` to check: timestamps
// (RFC 3339, "2026-12-03T13:05:00Z", read into Dates) and lists of strings.
// On their own so that types.js (results) and errors.js (the members of
// second_factor_required) read them alike without importing each other;
// each caller throws its own ProtocolError for a bad one.

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The Date of a protocol timestamp, or null if `value` is not one. */
export function parseTimestamp(value) {
  if (typeof value !== 'string' || !TIMESTAMP.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A copy of `value` if it is an array of strings, else null. */
export function parseStrings(value) {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return null;
  return [...value];
}
