import { z } from 'zod';

// A lone surrogate has no UTF-8 encoding: a JSON body can carry one (`"\ud800"`), and the Postgres driver would
// store it as U+FFFD without a word. In `u` mode a surrogate pair is one code point, so only lone halves match.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether a string a client sent can travel on as it is. Refused: NUL, the one character Postgres text cannot
 * hold (the query fails with 22021, a 5xx); U+FFFD, which is what invalid UTF-8 in a query string decodes to
 * (`%FF` — Node's querystring falls back to a lossy decode instead of failing), so the client's bytes are lost
 * already; and lone surrogates.
 */
export function isWellFormedText(value: string): boolean {
  return !value.includes('\0') && !value.includes('\uFFFD') && !LONE_SURROGATE.test(value);
}

/**
 * A string schema for free text from a client (search terms, names) that refuses what `isWellFormedText`
 * refuses, as a 400 naming the field through `validate()`. Chain the other checks after it.
 */
export function text() {
  return z.string().refine(isWellFormedText, { error: 'must be valid UTF-8 text without NUL characters' });
}
