import fc from 'fast-check';

/** The part of JSON Schema (2020-12) the API's document uses. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

export type IdKind = 'calls' | 'conversations' | 'attachments' | 'users';

/**
 * Values the server handed out so far: ids of real records by kind (the first of each is the test's
 * own record, which the signed-in roles may use), cursors and message ids. Valid inputs that name
 * them reach past the 404 into the code that stores things.
 */
export interface Pools {
  ids: Record<IdKind, string[]>;
  cursors: string[];
  integers: number[];
}

/** Which records a field or parameter names, from its name (for `id`, from the path it is in). */
export function idKindOf(name: string, path = ''): IdKind | undefined {
  if (name === 'id')
    return /\/attachments/.test(path)
      ? 'attachments'
      : /\/conversations/.test(path)
        ? 'conversations'
        : /\/calls/.test(path)
          ? 'calls'
          : /\/users/.test(path)
            ? 'users'
            : undefined;
  if (/^(userIds?|inviteeIds|memberIds|participantId|initiatorId|senderId|identity)$/.test(name)) return 'users';
  if (name === 'conversationId') return 'conversations';
  if (name === 'attachmentId') return 'attachments';
  if (name === 'callId' || name === 'roomId') return 'calls';
  return undefined;
}

/** One of the pool's values (often its first), read when a value is generated, or the fallback. */
const fromPool = <T>(pool: T[], fallback: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof(
    fc.constant(0).chain(() => (pool.length > 0 ? fc.constant(pool[0]!) : fallback)),
    fc.nat().chain((i) => (pool.length > 0 ? fc.constant(pool[i % pool.length]!) : fallback)),
    fallback,
  );

const b64url = (text: string): string => Buffer.from(text).toString('base64url');
const ANY_UUID = '7a1c2a43-5b2e-4c1d-9f0e-3d2b1a0c9e8f';

/** Times a client might send, and the edges of what the API accepts (years 1 and 9999). */
const validDate = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  },
  { weight: 1, arbitrary: fc.constantFrom('0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2026-06-01T12:00:00+02:00', '2024-02-29T00:00:00.123456Z') },
);

/** Dates PostgreSQL or an ISO string with a four-digit year cannot hold, and strings that are no date. */
const BAD_DATES = [
  '0000-01-01T00:00:00Z',
  '0000-12-31T23:59:59.999Z',
  '0001-01-01T00:00:00+01:00',
  '9999-12-31T23:59:59.999-14:00',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '+010000-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-01-01',
  '2026-01-01T00:00:00',
  'now',
  '1e10',
  '',
  '2026-01-01T00:00:00Z\u0000',
];

const BAD_NUMBERS = [
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53,
  -(2 ** 53),
  2 ** 63,
  1e20,
  1e308,
  -1e308,
  1.7976931348623157e308,
  3.5e38,
  -3.5e38,
  5e-324,
  1e-300,
  -1e-300,
  1e-40,
  0.5,
  -1,
  -0,
];

const BAD_UUIDS = [
  '',
  'not-a-uuid',
  '00000000-0000-0000-0000-00000000000g',
  `${ANY_UUID}\u0000`,
  `\u0000${ANY_UUID}`,
  ANY_UUID.slice(0, 35),
  `${ANY_UUID}0`,
  ANY_UUID.replace(/-/g, ''),
  `{${ANY_UUID}}`,
  ` ${ANY_UUID}`,
  '../../etc/passwd',
  'ffffffff-ffff-ffff-ffff-fffffffffffff',
];

/** Cursors a client could forge: bad times, bad ids, NULs, no separator, not base64url. */
const BAD_CURSORS = [
  b64url(`0000-01-01T00:00:00.000Z|${ANY_UUID}`),
  b64url(`+275760-09-13T00:00:00.000Z|${ANY_UUID}`),
  b64url(`-271821-04-20T00:00:00.000Z|${ANY_UUID}`),
  b64url('2026-01-01T00:00:00.000Z|not-a-uuid'),
  b64url(`2026-01-01T00:00:00.000Z|${ANY_UUID}\u0000`),
  b64url(`2026-01-01T00:00:00.000Z\u0000|${ANY_UUID}`),
  b64url('2026-01-01T00:00:00.000Z|'),
  b64url(`|${ANY_UUID}`),
  b64url(`Jan 1 2026|${ANY_UUID}`),
  b64url(`2026-01-01T00:00:00.000Z|${ANY_UUID}|x`),
  b64url('\u0000'),
  b64url(`2026-01-01T00:00:00.000Z|${ANY_UUID.toUpperCase()}`),
  '%%%',
  '====',
  'a'.repeat(201),
  '\u0000',
  b64url(`1|${ANY_UUID}`),
];

/** Strings PostgreSQL refuses or a parser may trip on. */
const nastyString = fc.constantFrom(
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\uffff',
  '\u202e',
  '%00',
  '\\u0000',
  "'; drop table users; --",
  '${7*7}',
  '__proto__',
  'constructor',
  ' ',
  '\t\n',
  '😀'.repeat(3),
  'é',
  '',
);

const typeConfusion = fc.constantFrom<unknown>(null, true, 0, -1, 1.5, '', 'x', [], {}, [null], { a: 1 });

const isType = (schema: JsonSchema, type: string): boolean => schema.type === type || (Array.isArray(schema.type) && schema.type.includes(type));

const numberBounds = (schema: JsonSchema, integer: boolean): { min: number; max: number } => {
  const lo = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + (integer ? 1 : Number.EPSILON) : integer ? -(2 ** 31) : -1e9);
  const hi = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - (integer ? 1 : Number.EPSILON) : integer ? 2 ** 31 - 1 : 1e9);
  return { min: Math.max(lo, Number.MIN_SAFE_INTEGER), max: Math.min(hi, Number.MAX_SAFE_INTEGER) };
};

const isCursor = (schema: JsonSchema, name: string): boolean => name === 'cursor' || schema.pattern === '^[A-Za-z0-9_-]+$';

function validString(schema: JsonSchema, pools: Pools, kind: IdKind | undefined, name: string): fc.Arbitrary<string> {
  if (kind && (schema.format === 'uuid' || schema.format === undefined)) {
    return fromPool(pools.ids[kind], validString(schema, pools, undefined, name));
  }
  const minLength = schema.minLength ?? 0;
  const maxLength = schema.maxLength ?? 64;
  const fits = (s: string): boolean => s.length >= minLength && s.length <= maxLength;
  if (schema.format === 'uuid') return fc.uuid({ version: 4 });
  if (schema.format === 'date-time') return validDate;
  if (schema.format === 'email') return fc.oneof(fc.constantFrom('alice@patients.demo', 'grey@doctors.demo'), fc.emailAddress()).filter(fits);
  if (isCursor(schema, name)) {
    // An opaque cursor: one the server gave, or one of the same form.
    return fromPool(
      pools.cursors,
      fc.tuple(validDate, fc.uuid({ version: 4 })).map(([at, id]) => b64url(`${new Date(at).toISOString()}|${id}`)),
    );
  }
  const text = fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength, maxLength: Math.min(maxLength, 40) }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength: Math.min(maxLength, 20) }) },
    { weight: 1, arbitrary: fc.string({ minLength: Math.max(minLength, maxLength - 2), maxLength }) },
  );
  const pattern = schema.pattern ? new RegExp(schema.pattern) : undefined;
  return text.map((s) => (s.trim().length >= minLength ? s : 'x'.repeat(Math.max(1, minLength)))).filter((s) => fits(s) && (!pattern || pattern.test(s)));
}

/**
 * A value the schema accepts (bounded in size), with real ids where the field names a kind of
 * record (`kind`, or the property's name) and real cursors.
 */
export function valid(schema: JsonSchema, pools: Pools, kind?: IdKind, name = ''): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => valid(s, pools, kind, name)));
  if (schema.allOf) return valid(Object.assign({}, ...schema.allOf) as JsonSchema, pools, kind, name);
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type) => valid({ ...schema, type }, pools, kind, name)));
  switch (schema.type) {
    case 'string':
      return validString(schema, pools, kind, name);
    case 'integer': {
      const { min, max } = numberBounds(schema, true);
      return fc.oneof(
        fc.integer({ min, max }),
        fc.constantFrom(min, max),
        fromPool(
          pools.integers.filter((n) => n >= min && n <= max),
          fc.integer({ min, max }),
        ),
      );
    }
    case 'number': {
      const { min, max } = numberBounds(schema, false);
      return fc.oneof(
        fc.double({ min, max, noNaN: true, noDefaultInfinity: true }),
        fc.integer({ min: Math.ceil(Math.max(min, -1e6)), max: Math.floor(Math.min(max, 1e6)) }),
        fc.constantFrom(min, max),
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valid(schema.items ?? {}, pools, kind), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, Math.max(schema.minItems ?? 0, 4)),
      });
    case 'object': {
      const properties = schema.properties ?? {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, property] of Object.entries(properties)) model[key] = valid(property, pools, idKindOf(key), key);
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((k) => k in properties) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function invalidString(schema: JsonSchema, pools: Pools, kind: IdKind | undefined, name: string): fc.Arbitrary<unknown> {
  const base = valid(schema, pools, kind).map(String);
  const options: Array<fc.WeightedArbitrary<unknown>> = [
    { weight: 1, arbitrary: typeConfusion },
    { weight: 2, arbitrary: nastyString },
    { weight: 3, arbitrary: fc.tuple(base, fc.nat()).map(([v, at]) => `${v.slice(0, at % (v.length + 1))}\u0000${v.slice(at % (v.length + 1))}`) },
    { weight: 1, arbitrary: base.map((v) => `\ud800${v}`) },
  ];
  if (schema.maxLength !== undefined)
    options.push({ weight: 2, arbitrary: fc.constantFrom(schema.maxLength + 1, schema.maxLength * 4, 70_000).map((n) => 'x'.repeat(n)) });
  if ((schema.minLength ?? 0) > 0) options.push({ weight: 1, arbitrary: fc.constantFrom('', ' '.repeat(schema.minLength ?? 1)) });
  if (schema.format === 'uuid')
    options.push({
      weight: 3,
      arbitrary: fc.oneof(
        fc.constantFrom(...BAD_UUIDS),
        fc.uuid().map((u) => u.toUpperCase()),
      ),
    });
  if (schema.format === 'date-time')
    options.push({
      weight: 4,
      arbitrary: fc.oneof(
        fc.constantFrom(...BAD_DATES),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      ),
    });
  if (isCursor(schema, name))
    options.push({
      weight: 4,
      arbitrary: fc.oneof(
        fc.constantFrom(...BAD_CURSORS),
        fc.string({ maxLength: 60 }).map(b64url),
        fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64url')),
      ),
    });
  if (schema.enum) options.push({ weight: 2, arbitrary: fc.constantFrom(...schema.enum.map((v) => `${String(v)}\u0000`), 'other', 'ONLINE') });
  return fc.oneof(...options);
}

/** A value the schema most likely refuses: wrong types, out-of-range numbers and dates, NULs, bad ids and cursors, missing or unknown fields. */
export function invalid(schema: JsonSchema, pools: Pools, kind?: IdKind, name = ''): fc.Arbitrary<unknown> {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => invalid(s, pools, kind, name)));
  if (schema.allOf) return invalid(Object.assign({}, ...schema.allOf) as JsonSchema, pools, kind, name);
  if (schema.enum || isType(schema, 'string')) return invalidString(schema, pools, kind, name);
  if (isType(schema, 'integer') || isType(schema, 'number')) {
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...BAD_NUMBERS) },
      { weight: 1, arbitrary: typeConfusion },
      { weight: 1, arbitrary: fc.double() },
      { weight: 1, arbitrary: fc.constantFrom('1', '1e400', 'NaN') },
    );
  }
  if (isType(schema, 'array')) {
    const items = schema.items ?? {};
    const options: fc.Arbitrary<unknown>[] = [typeConfusion, fc.array(invalid(items, pools, kind, name), { minLength: 1, maxLength: 3 })];
    // A valid array with one bad item: the item's neighbours must not be what fails it.
    options.push(fc.tuple(fc.array(valid(items, pools, kind), { maxLength: 3 }), invalid(items, pools, kind, name)).map(([good, bad]) => [...good, bad]));
    if (schema.maxItems !== undefined && schema.maxItems < 2000)
      options.push(valid(items, pools, kind).map((v) => Array.from({ length: schema.maxItems! + 1 }, () => v)));
    if ((schema.minItems ?? 0) > 0) options.push(fc.constant([]));
    return fc.oneof(...options);
  }
  if (isType(schema, 'object')) {
    const properties = Object.entries(schema.properties ?? {});
    const base = valid(schema, pools) as fc.Arbitrary<Record<string, unknown>>;
    const options: Array<fc.WeightedArbitrary<unknown>> = [
      { weight: 1, arbitrary: typeConfusion },
      { weight: 1, arbitrary: base.map((v) => ({ ...v, unknownField: 'x' })) },
      { weight: 1, arbitrary: base.map((v) => JSON.parse(`{"__proto__":{"admin":true},${JSON.stringify(v).slice(1)}`.replace(',}', '}')) as unknown) },
    ];
    if ((schema.required ?? []).length > 0)
      options.push({
        weight: 1,
        arbitrary: fc.tuple(base, fc.constantFrom(...schema.required!)).map(([v, key]) => Object.fromEntries(Object.entries(v).filter(([k]) => k !== key))),
      });
    // Mostly one bad field in an otherwise valid object: the case that reaches the code behind validation.
    if (properties.length > 0) {
      options.push({
        weight: 8,
        arbitrary: fc
          .tuple(base, fc.constantFrom(...properties))
          .chain(([v, [key, property]]) => invalid(property, pools, idKindOf(key), key).map((bad) => ({ ...v, [key]: bad }))),
      });
    }
    return fc.oneof(...options);
  }
  return typeConfusion;
}

/** How a value travels in a query string or path: numbers and booleans as text, anything else as JSON. */
export const asParameter = (value: unknown): string | string[] =>
  Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')
    ? (value as string[])
    : typeof value === 'string'
      ? value
      : value === undefined
        ? ''
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);

/** Query-string texts a number or time parameter's parser may mishandle. */
export const nastyParameterText = fc.constantFrom(
  '',
  ' ',
  '1e400',
  '-0',
  '0x10',
  'Infinity',
  'NaN',
  '1.5',
  '99999999999999999999',
  '-99999999999999999999',
  '\u0000',
  '1\u0000',
  '%',
  '\ud800',
  'a'.repeat(5000),
);
