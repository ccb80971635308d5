import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import * as addFormatsModule from 'ajv-formats';
import { ERROR_STATUS } from '../../http/errors.js';
import type { Operation } from './requests.js';

// ajv-formats is CommonJS: its function is the module's default export.
const addFormats = addFormatsModule.default as unknown as (ajv: Ajv2020) => void;

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/**
 * Checks answers against the OpenAPI document: no 5xx (except the ones an operation is allowed),
 * the error shape with a matching code on every 4xx, and 2xx bodies valid against the operation's
 * response schema.
 */
export class ResponseChecker {
  readonly #ajv = new Ajv2020({ strict: true, allErrors: false, validateFormats: true });
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #allowed5xx: Record<string, number[]>;

  constructor(allowed5xx: Record<string, number[]> = {}) {
    addFormats(this.#ajv);
    this.#allowed5xx = allowed5xx;
  }

  #validator(key: string, schema: object): ValidateFunction {
    let validate = this.#validators.get(key);
    if (!validate) this.#validators.set(key, (validate = this.#ajv.compile(schema)));
    return validate;
  }

  /** What is wrong with this answer to this operation, or undefined. */
  problem(op: Operation, answer: Answer): string | undefined {
    const name = `${op.method} ${op.path}`;
    const allowed = this.#allowed5xx[name]?.includes(answer.status) ?? false;
    if (answer.status >= 500 && !allowed) return `status ${answer.status}`;
    const isJson = answer.contentType.startsWith('application/json');
    if (answer.status >= 400 && !allowed) {
      if (!isJson) return `status ${answer.status} without a JSON error body (${answer.contentType || 'no content type'})`;
      const schema = op.responses[String(answer.status)]?.content?.['application/json']?.schema ?? op.responses['400']?.content?.['application/json']?.schema;
      if (!schema) return `status ${answer.status}: the document has no error schema`;
      const body = parse(answer.text);
      const validate = this.#validator(`${name} error`, schema);
      if (!validate(body)) return `status ${answer.status}: not the error shape: ${this.#ajv.errorsText(validate.errors)}`;
      const code = (body as { error: { code: string } }).error.code;
      if (ERROR_STATUS[code as keyof typeof ERROR_STATUS] !== answer.status) return `status ${answer.status} with error code ${code}`;
      return undefined;
    }
    if (answer.status === 204) return answer.text === '' ? undefined : 'status 204 with a body';
    const success = Object.entries(op.responses).find(([status]) => status.startsWith('2'));
    const schema = success?.[1].content?.['application/json']?.schema;
    if (!schema) return undefined; // files and metrics: not JSON
    if (!isJson) return `status ${answer.status} is not JSON (${answer.contentType})`;
    const validate = this.#validator(`${name} ${success![0]}`, schema);
    const body = parse(answer.text);
    return validate(body) ? undefined : `status ${answer.status}: the body does not match the document: ${this.#ajv.errorsText(validate.errors)}`;
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return Symbol('not JSON');
  }
}
