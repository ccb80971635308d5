import { z } from 'zod';

/**
 * Request fields bounded by what the database columns hold, so a value PostgreSQL would refuse is
 * a 422 at the edge (never a 500 from the query), and the OpenAPI document states each bound.
 */

/** PostgreSQL `integer` (int4). */
export const INT4 = { min: -(2 ** 31), max: 2 ** 31 - 1 } as const;
/** The largest finite PostgreSQL `real` (float4). */
export const REAL_MAX = 3.4028234663852886e38;
/**
 * Times both PostgreSQL (4713 BC to 294276 AD) and an ISO 8601 string with a four-digit year (what
 * JavaScript's toISOString writes for these years) can hold: year 1 to 9999, in UTC.
 */
export const TIMESTAMP_RANGE = { min: Date.parse('0001-01-01T00:00:00.000Z'), max: Date.parse('9999-12-31T23:59:59.999Z') } as const;

/**
 * Text PostgreSQL stores: no NUL character, and no unpaired UTF-16 surrogate (it has no UTF-8
 * encoding). Written so it means the same with and without the regex `u` flag (JSON Schema
 * validators use it).
 */
// eslint-disable-next-line no-control-regex -- NUL is what it refuses
export const DB_TEXT_PATTERN = /^(?:[^\u0000\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;

/** Text for a `text` column: at most `max` characters (UTF-16 code units), no NUL, well-formed. */
export function dbText(options: { max: number; min?: number; trim?: boolean }): z.ZodString {
  let schema = z.string();
  if (options.trim) schema = schema.trim();
  if (options.min !== undefined) schema = schema.min(options.min);
  return schema.max(options.max).regex(DB_TEXT_PATTERN, 'text must not contain NUL characters or unpaired surrogates');
}

/** An `integer` (int4) column's value, within [min, max] (both default to int4's range). */
export const dbInt = (options: { min?: number; max?: number } = {}): z.ZodNumber =>
  z
    .number()
    .int()
    .min(Math.max(INT4.min, options.min ?? INT4.min))
    .max(Math.min(INT4.max, options.max ?? INT4.max));

/** The same, from a query string. */
export const dbIntQuery = (options: { min?: number; max?: number } = {}) =>
  z.coerce
    .number()
    .int()
    .min(Math.max(INT4.min, options.min ?? INT4.min))
    .max(Math.min(INT4.max, options.max ?? INT4.max));

/**
 * A `real` (float4) column's value: finite, within float4's range, and rounded to float4 (a value
 * too small for float4, such as 1e-300, becomes 0 instead of PostgreSQL's underflow error).
 */
export const dbReal = (options: { min?: number; max?: number } = {}) =>
  z
    .number()
    .min(Math.max(-REAL_MAX, options.min ?? -REAL_MAX))
    .max(Math.min(REAL_MAX, options.max ?? REAL_MAX))
    .transform((value) => Math.fround(value));

const TIMESTAMP_DESCRIPTION = 'ISO 8601 date-time with Z or an offset, from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z';

const inTimestampRange = (text: string): boolean => {
  const ms = Date.parse(text);
  return ms >= TIMESTAMP_RANGE.min && ms <= TIMESTAMP_RANGE.max;
};

/** A `timestamptz` value as an ISO 8601 string with an offset, in the range both ends hold. */
export const dbTimestamp = () =>
  z.iso
    .datetime({ offset: true })
    .refine(inTimestampRange, `a time from ${new Date(TIMESTAMP_RANGE.min).toISOString()} to ${new Date(TIMESTAMP_RANGE.max).toISOString()}`)
    .describe(TIMESTAMP_DESCRIPTION);

/** What `uuid` columns hold (PostgreSQL takes any hex digits; this is what the API hands out). */
export const Uuid = z.uuid();

/** A page boundary: the last item's sort time and id. */
export interface TimeIdCursor {
  at: Date;
  id: string;
}

/** The opaque cursor of a list sorted by (time, id): base64url of `<ISO time>|<uuid>`. */
export const encodeTimeIdCursor = (at: Date | string, id: string): string =>
  Buffer.from(`${typeof at === 'string' ? at : at.toISOString()}|${id}`).toString('base64url');

const TimestampText = dbTimestamp();

/** A cursor query parameter, decoded; anything not made by encodeTimeIdCursor is a 422. */
export const timeIdCursor = () =>
  z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/, 'a cursor is base64url')
    .transform((cursor, ctx): TimeIdCursor => {
      const [at = '', id = '', extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
      if (extra !== undefined || !TimestampText.safeParse(at).success || !Uuid.safeParse(id).success) {
        ctx.addIssue({ code: 'custom', message: 'not a cursor from this API' });
        return z.NEVER;
      }
      return { at: new Date(at), id };
    })
    .describe('nextCursor of the previous page');
